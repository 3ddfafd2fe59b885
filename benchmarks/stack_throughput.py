"""Labelling throughput of the native stack with 1 and 2 worker nodes (labels per minute, same label set).

For each worker count: start the stack (``mfdisco.platform.stack``: a head with 0 CPUs,
so every label runs on a worker node, and N worker nodes of one CPU each), import the
built-in prototypes into a fresh SQLite file, and time ``mfdisco label`` of the same
structures at the same settings through that cluster (each label a Ray task of one CPU
in its own child process). Target (issue 7): at least 1.8x the 1-worker rate with 2.

    .venv/bin/python benchmarks/stack_throughput.py
    .venv/bin/python benchmarks/stack_throughput.py --workers 1 2 --set kspacing=0.9
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mfdisco.platform.ray_nodes import cluster_token
from mfdisco.platform.stack import StackOptions, stack_down, stack_up

#: The alkaline-earth metals (fcc, bcc, hcp) and rocksalt MgO: 13 closed-shell labels of 10-90 s each at the
#: labeller's Γ defaults, enough of them that two workers stay busy to the end.
DEFAULT_SET = tuple(f"{p}:{m}" for m in ("Mg", "Ca", "Sr", "Ba") for p in ("fcc", "bcc", "hcp")) + ("rocksalt:MgO",)


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "mfdisco", *args], env=env, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"mfdisco {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result


def measure(workers: int, structures: tuple[str, ...], settings: list[str], fidelity: str, port_base: int) -> float:
    """Seconds to label ``structures`` at ``fidelity`` through a stack of ``workers`` one-CPU worker nodes."""
    folder = Path(tempfile.mkdtemp(prefix=f"mfdisco-throughput-{workers}-"))
    token = cluster_token(create=True)
    options = StackOptions(workers=workers, head_cpus=0, worker_cpus=1, gcs_port=port_base, dashboard_port=port_base + 1,
                           metrics_port=port_base + 10, agent_port=port_base + 100)
    state_file = folder / "stack.json"
    stack_up(options, token, state_file)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MFDISCO_")}
        env.update(token.env())
        env.update({"MFDISCO_DB_URL": f"sqlite:///{folder / 'bench.db'}", "RAY_ADDRESS": f"127.0.0.1:{port_base}", "MFDISCO_LOGGING_LEVEL": "WARNING"})
        _run(["data", "import", "--builtin"], env, folder)
        where = "source_id IN (" + ", ".join(f"'{s}'" for s in structures) + ")"
        sets = [item for s in settings for item in ("--set", s)]
        started = time.perf_counter()
        result = _run(["label", "-f", fidelity, "--where", where, *sets], env, folder)
        seconds = time.perf_counter() - started
        summary = [line for line in result.stdout.splitlines() if "│" in line][-1]
        print(f"  {workers} worker node(s): {seconds:.1f} s   ({summary.strip()})", flush=True)
        return seconds
    finally:
        stack_down(state_file, grace_s=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker-node counts to compare")
    parser.add_argument("--structures", nargs="+", default=list(DEFAULT_SET), help="built-in prototype source ids to label")
    parser.add_argument("--fidelity", default="pbe")
    parser.add_argument("--set", dest="settings", action="append", default=None,
                        help="label setting key=value (default: none, the labeller's defaults)")
    parser.add_argument("--port-base", type=int, default=26379, help="GCS port; the stack's other ports follow it")
    args = parser.parse_args()
    settings = args.settings or []
    print(f"labelling {len(args.structures)} structures at {args.fidelity} ({', '.join(settings) or 'default settings'}); "
          "head with 0 CPUs, worker nodes of 1 CPU", flush=True)
    rates = {}
    for workers in args.workers:
        seconds = measure(workers, tuple(args.structures), settings, args.fidelity, args.port_base)
        rates[workers] = len(args.structures) / (seconds / 60)
    base = rates[args.workers[0]]
    print(f"\n| worker nodes | labels | labels/min | speed-up vs {args.workers[0]} |\n|---|---|---|---|")
    for workers, rate in rates.items():
        print(f"| {workers} | {len(args.structures)} | {rate:.2f} | {rate / base:.2f}x |")


if __name__ == "__main__":
    main()
