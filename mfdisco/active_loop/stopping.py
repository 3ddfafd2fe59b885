"""When a campaign stops: max cycles, CCSD(T) budget, or patience without discoveries (pure)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["stop_reason"]


def stop_reason(
    discoveries_per_cycle: Sequence[int], ccsd_t_used: int, ccsd_t_budget: int, k_select: int, max_cycles: int, patience: int
) -> str | None:
    """Why the campaign stops after the finished cycles, or None to go on.

    Args:
        discoveries_per_cycle: discoveries of each finished cycle, in order.
        ccsd_t_used: CCSD(T) calculations spent so far (done or failed).
        ccsd_t_budget: CCSD(T) calculations allowed.
        k_select: CCSD(T) calculations the next cycle would need.
        max_cycles: cycles at most.
        patience: consecutive cycles without a discovery that end the campaign.
    """
    finished = len(discoveries_per_cycle)
    if finished >= max_cycles:
        return f"reached max_cycles ({max_cycles})"
    if ccsd_t_used + k_select > ccsd_t_budget:
        return f"CCSD(T) budget spent ({ccsd_t_used} of {ccsd_t_budget} used; a cycle needs {k_select})"
    recent = list(discoveries_per_cycle[-patience:])
    if len(recent) == patience and not any(recent):
        return f"no discovery in the last {patience} cycles"
    return None
