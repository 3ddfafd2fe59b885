"""The report's figures as PNG files: pure functions of plain values (matplotlib, no display).

Energies in eV/atom. Each function writes one PNG and returns its path; with nothing to
draw it still writes a figure that says so, so the page never shows a broken image.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

__all__ = ["parity_figure", "divergence_figure", "hull_figure", "cycles_figure"]

_DPI = 110


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=_DPI)
    return path


def _empty(ax, message: str) -> None:  # noqa: ANN001 - matplotlib Axes
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=10, color="0.4", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def parity_figure(computed: Sequence[float], predicted: Sequence[float], fidelity: str, path: Path) -> Path:
    """Predicted (validator, at selection) against computed (PySCF) ΔE_f, with the y = x line and the MAE."""
    figure = Figure(figsize=(4.2, 4.0))
    ax = figure.add_subplot()
    x, y = np.asarray(computed, float), np.asarray(predicted, float)
    if len(x) == 0:
        _empty(ax, f"no labelled candidate has a\n{fidelity} prediction yet")
        ax.set_title(f"parity at {fidelity}")
        return _save(figure, path)
    low, high = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
    pad = 0.05 * (high - low or 1.0)
    ax.plot([low - pad, high + pad], [low - pad, high + pad], color="0.6", lw=1, ls="--")
    ax.scatter(x, y, s=28, color="tab:blue", edgecolor="k", lw=0.4)
    ax.set_xlim(low - pad, high + pad)
    ax.set_ylim(low - pad, high + pad)
    ax.set_xlabel(f"PySCF ΔE_f at {fidelity} (eV/atom)")
    ax.set_ylabel("validator ΔE_f at selection (eV/atom)")
    mae = float(np.mean(np.abs(x - y)))
    ax.set_title(f"parity at {fidelity}: MAE {1000 * mae:.0f} meV/atom (n = {len(x)})", fontsize=9)
    return _save(figure, path)


def divergence_figure(divergence: Sequence[float], selected: Sequence[bool], path: Path) -> Path:
    """Histogram of D = |ΔE_f,pbe − ΔE_f,ccsd_t| over all candidates, the selected ones stacked in another colour."""
    figure = Figure(figsize=(5.2, 3.6))
    ax = figure.add_subplot()
    d = np.asarray(divergence, float)
    chosen = np.asarray(selected, bool)
    if len(d) == 0:
        _empty(ax, "no scored candidate yet")
        return _save(figure, path)
    bins = np.histogram_bin_edges(d, bins=min(30, max(5, len(d) // 2)))
    ax.hist([d[~chosen], d[chosen]], bins=bins, stacked=True, color=["0.7", "tab:red"], label=["not selected", "selected"])
    for value in d[chosen]:
        ax.axvline(value, color="tab:red", lw=0.8, alpha=0.6)
    ax.set_xlabel("predicted divergence D (eV/atom)")
    ax.set_ylabel("candidates")
    ax.set_title(f"divergence of {len(d)} candidates, {int(chosen.sum())} selected", fontsize=9)
    ax.legend(fontsize=8)
    return _save(figure, path)


def hull_figure(entries: Sequence[tuple[dict[str, int], float, str]], highlight: Sequence[str], title: str, path: Path) -> Path:
    """The convex hull of one binary or ternary chemical system from formation energies.

    The hull is pymatgen's ``PhaseDiagram`` of the entries; binary systems are drawn as
    ΔE_f against composition with the hull line, ternary ones on the composition
    triangle with the hull's tie lines. Structures are coloured by their energy above
    the hull (eV/atom).

    Args:
        entries: (composition, ΔE_f in eV/atom, label) of each labelled structure; the
            elements are added at ΔE_f = 0 where missing (ΔE_f is defined against them).
        highlight: labels of entries to ring in red (the campaign's selected candidates).
        title: the figure's title.
        path: PNG to write.
    """
    from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
    from pymatgen.core import Composition

    figure = Figure(figsize=(5.4, 4.4))
    ax = figure.add_subplot()
    elements = sorted({el for c, _, _ in entries for el, n in c.items() if n > 0})
    if not 2 <= len(elements) <= 3:
        _empty(ax, f"{'-'.join(elements)}: hulls are drawn for binary and ternary systems only")
        ax.set_title(title, fontsize=9)
        return _save(figure, path)
    pd_entries = [PDEntry(Composition(c), e * sum(c.values()), name=name) for c, e, name in entries]
    pd_entries += [PDEntry(Composition({el: 1}), 0.0, name=el) for el in elements]
    diagram = PhaseDiagram(pd_entries)
    fractions = np.array([[e.composition.get_atomic_fraction(el) for el in elements] for e in pd_entries])  # [n, k]
    formation = np.array([diagram.get_form_energy_per_atom(e) for e in pd_entries])
    above = np.array([diagram.get_e_above_hull(e) for e in pd_entries])
    stable = above < 1e-6
    if len(elements) == 2:
        x, y = fractions[:, 1], formation
        order = np.argsort(x[stable])
        ax.plot(x[stable][order], y[stable][order], "-", color="k", lw=1.2, zorder=1)
        ax.set_xlabel(f"x in {elements[0]}(1-x){elements[1]}(x)")
        ax.set_ylabel("ΔE_f (eV/atom)")
        ax.axhline(0, color="0.8", lw=0.8, zorder=0)
    else:
        corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])
        xy = fractions @ corners  # [n, 2]
        x, y = xy[:, 0], xy[:, 1]
        for facet in diagram.facets:
            points = np.array([np.array([e.composition.get_atomic_fraction(el) for el in elements]) @ corners for e in (diagram.qhull_entries[i] for i in facet)])
            ax.fill(points[:, 0], points[:, 1], fill=False, edgecolor="k", lw=0.8, zorder=1)
        for corner, element in zip(corners, elements, strict=True):
            ax.annotate(element, corner, textcoords="offset points", xytext=(0, -12 if corner[1] == 0 else 5), ha="center", fontsize=9)
        ax.set_aspect("equal")
        ax.axis("off")
    points = ax.scatter(x, y, c=np.minimum(above, 1.0), cmap="viridis_r", vmin=0, vmax=1.0, s=36, edgecolor="k", lw=0.4, zorder=2)
    ring = np.array([e.name in set(highlight) for e in pd_entries])
    if ring.any():
        ax.scatter(x[ring], y[ring], s=120, facecolor="none", edgecolor="tab:red", lw=1.5, zorder=3, label="selected candidates")
        ax.legend(fontsize=8, loc="best")
    for i in np.flatnonzero(stable):
        if len(pd_entries[i].composition.elements) > 1:
            ax.annotate(pd_entries[i].composition.reduced_formula, (x[i], y[i]), textcoords="offset points", xytext=(4, 4), fontsize=8)
    figure.colorbar(points, ax=ax, label="E above hull (eV/atom, capped at 1)")
    ax.set_title(title, fontsize=9)
    return _save(figure, path)


def cycles_figure(numbers: Sequence[int], discoveries: Sequence[int], hit_rates: Sequence[float | None], path: Path) -> Path:
    """Discoveries per cycle (bars) and hit rate (discoveries per selected candidate, line)."""
    figure = Figure(figsize=(5.2, 3.4))
    ax = figure.add_subplot()
    if len(numbers) == 0:
        _empty(ax, "no cycle yet")
        return _save(figure, path)
    ax.bar(numbers, discoveries, color="tab:green", alpha=0.7, label="discoveries")
    ax.set_xlabel("cycle")
    ax.set_ylabel("discoveries")
    ax.set_xticks(list(numbers))
    rates = ax.twinx()
    rates.plot(numbers, [np.nan if r is None else r for r in hit_rates], "o-", color="tab:purple", label="hit rate")
    rates.set_ylabel("hit rate")
    rates.set_ylim(0, 1.05)
    ax.set_title(f"{int(np.sum(discoveries))} discoveries in {len(numbers)} cycles", fontsize=9)
    return _save(figure, path)
