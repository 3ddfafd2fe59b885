"""The campaign report: one static HTML page with PNG figures and CIF downloads.

``write_report`` lays out ``DIR/index.html``, ``DIR/figures/*.png`` and
``DIR/cif/<id>-<formula>.cif`` (one per discovery); every link is relative, so the
folder can be moved, zipped or served as it is.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mfdisco.core.structure_io import write_crystal
from mfdisco.platform.report.data import ReportData
from mfdisco.platform.report.figures import cycles_figure, divergence_figure, hull_figure, parity_figure

__all__ = ["write_report"]

_HULL_FIDELITIES = ("pbe", "ccsd_t")
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
figure { display: inline-block; margin: 0.4em; vertical-align: top; } figcaption { font-size: 0.85em; color: #555; max-width: 520px; }
table { border-collapse: collapse; font-size: 0.9em; } td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f4f4f4; } td.text { text-align: left; } .note { color: #666; font-size: 0.9em; }
"""


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _number(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return html.escape(str(value))


def _figure(path: Path, root: Path, caption: str) -> str:
    relative = path.relative_to(root).as_posix()
    return f'<figure><img src="{html.escape(relative)}" alt="{html.escape(caption)}"><figcaption>{html.escape(caption)}</figcaption></figure>'


def _systems(points: Sequence[Any]) -> dict[str, list[Any]]:
    """Chemical system ('Mg-O') → the labelled structures whose elements lie in it (elements with every system)."""
    compounds = {"-".join(sorted(p.composition)) for p in points if len(p.composition) > 1}
    return {system: [p for p in points if set(p.composition) <= set(system.split("-"))] for system in sorted(compounds)}


def write_report(data: ReportData, out: Path) -> Path:
    """Write the report of ``data`` into the folder ``out``; the path of its ``index.html``."""
    out.mkdir(parents=True, exist_ok=True)
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    sections: list[str] = []

    parity = []
    for fidelity in data.fidelities:
        pairs = data.parity(fidelity)
        path = parity_figure([c for _, c in pairs], [p.predicted_formation[fidelity] for p, _ in pairs], fidelity, figures / f"parity-{fidelity}.png")
        parity.append(_figure(path, out, f"Validator prediction at selection time against the PySCF label, ΔE_f at {fidelity} (eV/atom)."))
    sections.append("<h2>Validator against PySCF</h2>" + "".join(parity))

    scored = [c for c in data.candidates if c.divergence is not None]
    path = divergence_figure([c.divergence for c in scored], [c.selected for c in scored], figures / "divergence.png")
    sections.append("<h2>Divergence</h2>" + _figure(path, out, "Predicted |ΔE_f,pbe − ΔE_f,ccsd_t| of every scored candidate; selected ones in red."))

    selected = {f"{c.formula} #{c.structure_id}" for c in data.candidates if c.selected}
    hulls = []
    for fidelity in _HULL_FIDELITIES:
        for system, points in _systems(data.hull.get(fidelity, [])).items():
            entries = [(p.composition, p.formation_energy, f"{p.formula} #{p.structure_id}") for p in points]
            path = hull_figure(entries, sorted(selected), f"{system} at {fidelity}", figures / f"hull-{_slug(system)}-{fidelity}.png")
            hulls.append(_figure(path, out, f"Convex hull of {system} at {fidelity} from every structure labelled at its settings."))
    sections.append("<h2>Hulls</h2>" + ("".join(hulls) or '<p class="note">No hull computed yet (no cycle evaluated).</p>'))

    path = cycles_figure([c.number for c in data.cycles], [c.n_discoveries for c in data.cycles], [c.hit_rate for c in data.cycles], figures / "cycles.png")
    sections.append("<h2>Cycles</h2>" + _figure(path, out, "Discoveries per cycle and hit rate (discoveries per selected candidate).") + _cycle_table(data))

    sections.append("<h2>Discoveries</h2>" + _discovery_table(data, out))
    page = (
        f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>mfdisco campaign {html.escape(data.campaign)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>Campaign {html.escape(data.campaign)}</h1>{_header(data)}{''.join(sections)}</body></html>\n"
    )
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _header(data: ReportData) -> str:
    s = data.summary
    facts = [
        ("status", data.status), ("elements", "-".join(data.elements)), ("fidelities", ", ".join(data.fidelities)),
        ("cycles", s.get("cycles")), ("labels done", s.get("labels_done")), ("labels failed", s.get("labels_failed")),
        ("CCSD(T) labels", s.get("ccsd_t_done")), ("discoveries", s.get("discoveries")), ("hit rate", s.get("hit_rate")),
        ("discoveries per CCSD(T)", s.get("discoveries_per_ccsd_t")), ("hit threshold (eV/atom)", data.threshold),
    ]
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{_number(v)}</td></tr>" for k, v in facts)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f'<table>{cells}</table><p class="note">Written {stamp} from the database; energies in eV/atom.</p>'


def _cycle_table(data: ReportData) -> str:
    rows = "".join(
        f"<tr><td>{c.number}</td><td class=\"text\">{html.escape(c.status)}</td><td class=\"text\">{html.escape(c.mode)}</td>"
        f"<td>{c.n_selected}</td><td>{c.n_discoveries}</td><td>{_number(c.hit_rate)}</td></tr>"
        for c in data.cycles
    )
    return f"<table><tr><th>cycle</th><th>step</th><th>mode</th><th>selected</th><th>discoveries</th><th>hit rate</th></tr>{rows}</table>"


def _discovery_table(data: ReportData, out: Path) -> str:
    if not data.discoveries:
        return '<p class="note">No discovery yet: no selected candidate lies within the threshold of its CCSD(T) hull.</p>'
    folder = out / "cif"
    folder.mkdir(exist_ok=True)
    columns = ("cycle", "formula", "divergence", "ef_pbe_ev_per_atom", "ef_ccsd_t_ev_per_atom", "e_hull_pbe_ev_per_atom", "e_hull_ccsd_t_ev_per_atom", "pbe_wrong_call")
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns) + "<th>CIF</th>"
    rows = []
    for item in data.discoveries:
        sid = item["structure_id"]
        cif = write_crystal(data.crystals[sid], folder / f"{sid}-{_slug(str(item['formula']))}.cif", "cif")
        cells = "".join(f'<td class="text">{html.escape(str(item[c]))}</td>' if c == "formula" else f"<td>{_number(item.get(c))}</td>" for c in columns)
        rows.append(f'<tr>{cells}<td><a href="{html.escape(cif.relative_to(out).as_posix())}" download>{html.escape(cif.name)}</a></td></tr>')
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"
