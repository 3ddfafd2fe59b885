"""Run a label in a child process with a hard wall-clock timeout and memory cap.

A calculation that hangs, exhausts memory or crashes the interpreter (a segfault in a
C extension) ends as a ``failed`` label with the reason; the caller carries on. The
child is started with ``spawn`` (a fresh interpreter: safe inside Ray workers and
threaded callers) and its address space is capped with ``RLIMIT_AS``. The child dies
with its parent: a caller killed by ``kill -9`` (a Ray worker, a stopped benchmark)
leaves no orphan calculation burning a CPU that the retried task needs.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection

from mfdisco.core import Crystal, Fidelity, Label
from mfdisco.labeller.label import failed_label, label
from mfdisco.labeller.settings import LabelSettings

__all__ = ["label_isolated", "die_with_parent", "MEMORY_HEADROOM_MB"]

logger = logging.getLogger(__name__)

#: Address space on top of ``max_memory_mb`` for the interpreter, libraries and thread stacks.
MEMORY_HEADROOM_MB: int = 3000
_KILL_GRACE_S = 5.0
#: How often the fallback watchdog checks that the parent is alive (s).
_PARENT_POLL_S = 1.0
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """End this process when ``parent_pid`` exits, however it exits (``kill -9`` included).

    On Linux the kernel delivers SIGKILL on the parent's death (``prctl(PR_SET_PDEATHSIG)``);
    elsewhere, or if that call fails, a daemon thread polls the parent pid. A parent that
    died before this call is noticed at once: the process is then already re-parented.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent_pid:
                    os.kill(os.getpid(), signal.SIGKILL)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(_PARENT_POLL_S)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def _child(connection: Connection, crystal: Crystal, fidelity: Fidelity, settings: LabelSettings, cap_bytes: int, parent_pid: int) -> None:
    die_with_parent(parent_pid)
    resource.setrlimit(resource.RLIMIT_AS, (cap_bytes, cap_bytes))
    try:
        result = label(crystal, fidelity, settings)
    except MemoryError as error:
        result = failed_label(fidelity, settings, f"out of memory under the cap of {cap_bytes // 2**20} MB: {error}", 0.0)
    connection.send(result)
    connection.close()


def label_isolated(crystal: Crystal, fidelity: Fidelity | str, settings: LabelSettings | None = None) -> Label:
    """:func:`~mfdisco.labeller.label.label` in a child process, limited by ``settings.timeout_s``
    (wall clock) and ``settings.max_memory_mb`` + :data:`MEMORY_HEADROOM_MB` (address space).

    Returns:
        The child's label; a ``failed`` label naming the timeout, the memory cap or the
        child's exit code when it did not return one.
    """
    fidelity = Fidelity.parse(fidelity)
    settings = settings or LabelSettings()
    cap_bytes = (settings.max_memory_mb + MEMORY_HEADROOM_MB) * 2**20
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(sender, crystal, fidelity, settings, cap_bytes, os.getpid()), daemon=True)
    start = time.perf_counter()
    child.start()
    sender.close()
    result: Label | None = None
    timed_out = False
    try:
        if receiver.poll(settings.timeout_s):
            try:
                result = receiver.recv()
            except EOFError:
                pass  # the child died before sending; reported below
        else:
            timed_out = True
    finally:
        receiver.close()
        if timed_out:
            child.kill()
        child.join(timeout=_KILL_GRACE_S)
        if child.is_alive():
            child.kill()
            child.join()
    elapsed = time.perf_counter() - start
    if result is not None:
        return result
    if timed_out:
        logger.warning("label of %s at %s timed out after %g s", crystal.reduced_formula, fidelity.value, settings.timeout_s)
        return failed_label(fidelity, settings, f"timed out after {settings.timeout_s:g} s (timeout_s)", elapsed)
    reason = f"the calculation process died (exit code {child.exitcode})"
    if child.exitcode is not None and child.exitcode < 0:
        reason += f": killed by signal {-child.exitcode}"
    return failed_label(fidelity, settings, reason + f"; memory cap {cap_bytes // 2**20} MB", elapsed)
