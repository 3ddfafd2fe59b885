"""``mfdisco run`` (the main job) and ``mfdisco status``: the active-learning campaign from the command line."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

__all__ = ["run_command", "status_command", "check_campaign_options"]

logger = logging.getLogger(__name__)

_SHORT = {"metallicity_trap": "trap", "validator_overconfidence": "overconf", "stagnation": "stagnant"}
DISCOVERY_SQL = "SELECT campaign, cycle, formula, e_hull_ccsd_t_ev_per_atom, e_hull_pbe_ev_per_atom, pbe_wrong_call FROM discovered_candidates"


def run_command(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--name", help="Name of a new campaign (default: campaign-<UTC time>).")] = None,
    resume: Annotated[str | None, typer.Option("--resume", help="Continue the campaign of this name from its last finished step.")] = None,
    cycles: Annotated[int | None, typer.Option("--cycles", help="Cycles at most (default: campaign.max_cycles).")] = None,
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="Ray cluster to use (default: $RAY_ADDRESS, else a local one).")] = None,
) -> None:
    """The main job: prepare the database and run an active-learning campaign (or resume one)."""
    from mfdisco.platform.campaign import CampaignRunner
    from mfdisco.platform.cli import _engine, _guard, _import, _print_report, _safe_url, _upgrade, console, errors
    from mfdisco.platform.ray_connection import connect_ray

    cfg = ctx.obj
    check_campaign_options(name, resume, cycles)
    if ray_address:
        cfg.ray.address = ray_address
    revision = _guard(lambda: _upgrade(cfg))
    console.print(f"database {_safe_url(cfg.db.url)} at revision {revision}")
    _print_report(_import(cfg, None, "builtin", None), show_rejects=5)
    engine = _engine(cfg)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:.0f} labels"), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=True) as progress:
        task = progress.add_task("PySCF labels", total=None)
        on_label = lambda _job, _label: progress.advance(task)  # noqa: E731
        runner = _guard(lambda: CampaignRunner.resume(cfg, engine, resume, on_label) if resume else CampaignRunner.start(cfg, engine, name, on_label))
        console.print(f"campaign {runner.name} (id {runner.campaign_id}): elements {'-'.join(runner.campaign.elements)}, "
                      f"{runner.campaign.n_candidates} candidates and {runner.campaign.k_select} labels per cycle")
        connect_ray(runner.cfg.ray)
        _dashboard_hint(runner.cfg)
        outcome = _guard(lambda: runner.run(cycles))
    table = Table(title=f"campaign {outcome.name}: stopped, {outcome.stop_reason} ({outcome.seconds / 60:.1f} min)")
    for column in ("cycle", "mode", "gen", "valid", "novel", "sel", "done", "fail", "hits", "max D", "ECE", "signatures"):
        table.add_column(column, justify="right")
    for c in outcome.cycles:
        table.add_row(
            str(c["number"]), c["mode"][:4], str(c["n_generated"]), str(c["n_valid"]), str(c["n_novel"]), str(c["n_selected"]),
            str(c["n_labelled"]), str(c["n_failed"]), str(c["n_discoveries"]),
            "-" if c["max_divergence_ev_per_atom"] is None else f"{c['max_divergence_ev_per_atom']:.3f}",
            "-" if c["ece"] is None else f"{c['ece']:.3f}",
            ", ".join(_SHORT.get(s["name"], s["name"]) for s in c["failure_signatures"] or []) or "-",
        )
    _wide(table)
    console.print("gen/valid/novel: candidates generated, valid, new after relaxation; sel: selected; done/fail: their labels; "
                  "hits: discoveries; max D: largest predicted |ΔE_f,pbe − ΔE_f,ccsd_t| (eV/atom); mode boot(strap) or sele(ction)")
    engine.dispose()
    console.print("See the discoveries and the campaign with SQL:")
    console.print(f'  mfdisco query "{DISCOVERY_SQL} WHERE campaign = \'{outcome.name}\'"', highlight=False, markup=False)
    console.print("  mfdisco query --view discovered_candidates", highlight=False, markup=False)
    console.print("  mfdisco status", highlight=False, markup=False)


def check_campaign_options(name: str | None, resume: str | None, cycles: int | None) -> None:
    """Exit 2 with the reason when --name and --resume are both given or --cycles is below 1."""
    from mfdisco.platform.cli import errors

    if name is not None and resume is not None:
        errors.print("[red]error:[/red] give either --name (a new campaign) or --resume NAME", highlight=False)
        raise typer.Exit(2)
    if cycles is not None and cycles < 1:
        errors.print(f"[red]error:[/red] --cycles must be >= 1, got {cycles}", highlight=False)
        raise typer.Exit(2)


def _dashboard_hint(cfg) -> None:  # noqa: ANN001 - MfdiscoConfig
    from mfdisco.platform.cli import console

    if cfg.ray.address or os.environ.get("RAY_ADDRESS"):
        return
    if cfg.ray.include_dashboard:
        console.print(f"Ray dashboard: http://{cfg.ray.dashboard_host}:{cfg.ray.dashboard_port} (metrics mfdisco_*; token auth on)")


def status_command(
    ctx: typer.Context,
    campaign: Annotated[str | None, typer.Option("--campaign", help="Show this campaign's cycles (default: the newest).")] = None,
) -> None:
    """Live state of campaigns from the database: cycles, labels, discoveries, hit rate."""
    from mfdisco.db import run_read_only
    from mfdisco.platform.cli import _guard, console

    cfg = ctx.obj
    summary = _guard(lambda: run_read_only(cfg.db.url, "SELECT * FROM campaign_summary ORDER BY campaign_id DESC", max_rows=20))
    if not summary.rows:
        console.print("no campaign yet: start one with 'mfdisco run'")
        return
    table = Table(title="campaigns")
    shown = ("campaign", "status", "last_cycle", "last_cycle_step", "labels_pending", "labels_running", "labels_done", "labels_failed",
             "ccsd_t_done", "discoveries", "hit_rate")
    for column in shown:
        table.add_column(column.replace("labels_", "labels ").replace("last_cycle_step", "step").replace("last_cycle", "cycle"), justify="right")
    index = {name: i for i, name in enumerate(summary.columns)}
    for row in summary.rows:
        table.add_row(*(_cell(row[index[c]]) for c in shown))
    _wide(table)
    name = campaign or summary.rows[0][index["campaign"]]
    sql = (
        "SELECT y.number, y.status, y.mode, y.n_generated, y.n_novel, y.n_selected, y.n_labelled, y.n_failed, y.n_discoveries, "
        "y.max_divergence_ev_per_atom FROM cycles y JOIN campaigns c ON c.id = y.campaign_id "
        f"WHERE c.name = '{name.replace(chr(39), chr(39) * 2)}' ORDER BY y.number"
    )
    cycles = _guard(lambda: run_read_only(cfg.db.url, sql, max_rows=1000))
    table = Table(title=f"cycles of {name}")
    for column in ("cycle", "step", "mode", "generated", "novel", "selected", "labelled", "failed", "discoveries", "max D (eV/atom)"):
        table.add_column(column, justify="right")
    for row in cycles.rows:
        table.add_row(*(_cell(v) for v in row))
    _wide(table)


def _wide(table: Table) -> None:
    """Print a table at 140 columns at least (its columns stay readable in a narrow terminal or a log)."""
    from rich.console import Console

    from mfdisco.platform.cli import console

    Console(width=max(console.width, 140), soft_wrap=True).print(table)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)
