"""The campaign report: figures and discoveries from the database, rendered by headless Chromium.

The test builds a campaign's rows (candidates, labels' hull distances, a discovery) with
the db functions the campaign runner uses, writes the report, opens it in Debian's
Chromium (``--headless --no-sandbox --disable-gpu``) and checks that every image loaded
(decoded, non-zero size), not merely that files exist. The full-page screenshot is kept
under ``$MFDISCO_TEST_ARTIFACTS`` (default ``test-artifacts/``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from mfdisco.core import Crystal, Fidelity, read_crystals
from mfdisco.db import CandidateRecord, create_campaign, open_cycle, replace_hull_distances, store_candidates, update_cycle
from mfdisco.generator.datasets import builtin_prototypes
from mfdisco.generator.datasets.prototypes import rocksalt
from mfdisco.platform.cli import app
from mfdisco.platform.report import gather_report, write_report
from tests.tools import missing_tool

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("MFDISCO_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _candidate(crystal: Crystal, ef_pbe: float, ef_cc: float, selected: bool, rank: int) -> CandidateRecord:
    predictions = {"pbe": {"mean": -5.0, "std": 0.1, "formation": ef_pbe}, "ccsd_t": {"mean": -6.0, "std": 0.1, "formation": ef_cc}}
    return CandidateRecord(crystal, predictions, ef_pbe, ef_cc, 0.1, abs(ef_pbe - ef_cc), 0.3, 0.5, rank, selected)


@pytest.fixture
def campaign(engine: Engine) -> Engine:
    """Two cycles in Mg-O: three candidates each, one selected; the first one is a discovery PBE calls unstable."""
    campaign_id = create_campaign(engine, "report-test", {"campaign": {"elements": ["Mg", "O"], "fidelities": ["pbe", "ccsd_t"]}}, 0.1)
    references = {r.source_id: r.crystal for r in builtin_prototypes(["Mg", "O"])}
    hull = {"pbe": {}, "ccsd_t": {}}
    for number, bonds in ((1, (2.05, 2.2, 2.4)), (2, (1.95, 2.3, 2.6))):
        cycle = open_cycle(engine, campaign_id, number)
        records = [_candidate(rocksalt("Mg", "O", b), -2.5 + 0.3 * i, -2.9 + 0.2 * i, i == 0, i + 1) for i, b in enumerate(bonds)]
        records += [_candidate(references["hcp:Mg"], 0.0, 0.0, False, 4), _candidate(references["molecular:O2"], 0.0, 0.0, False, 5)]
        ids = store_candidates(engine, campaign_id, cycle.id, records, {"n_generated": 5, "n_selected": 1, "mode": "selection"})
        computed = {"pbe": (-2.6, 0.25) if number == 1 else (-2.2, 0.6), "ccsd_t": (-3.1, 0.0) if number == 1 else (-2.5, 0.6)}
        for fidelity, value in computed.items():
            hull[fidelity][ids[0]] = value
            hull[fidelity].update({sid: (0.0, 0.0) for sid in ids[3:]})  # the elemental references
            replace_hull_distances(engine, campaign_id, cycle.id, Fidelity.parse(fidelity), "h", dict(hull[fidelity]))
        update_cycle(engine, cycle.id, status="finished", n_discoveries=int(number == 1), hit_rate=float(number == 1))
    return engine


def _render(index: Path, screenshot: Path) -> list[list]:
    """Open the page in headless Chromium; (src, complete, naturalWidth) of every image."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
    if not Path(CHROMIUM).is_file():
        missing_tool("chromium", "apt-get install chromium")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(index.resolve().as_uri())
            page.wait_for_load_state("load")
            images = page.evaluate("Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth, i.naturalHeight])")
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return images


def test_report_renders_every_figure_and_links_the_discoveries(campaign: Engine, db_url: str, tmp_path: Path) -> None:
    data = gather_report(campaign, "report-test")
    assert [c.number for c in data.cycles] == [1, 2] and len(data.discoveries) == 1
    assert len(data.parity("ccsd_t")) == 2 and {len(points) for points in data.hull.values()} == {4}
    index = write_report(data, tmp_path / "report")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    backend = db_url.split(":", 1)[0].split("+")[0]
    screenshot = ARTIFACTS / f"report-{backend}.png"
    images = _render(index, screenshot)
    expected = {"figures/parity-pbe.png", "figures/parity-ccsd_t.png", "figures/divergence.png", "figures/hull-Mg-O-pbe.png",
                "figures/hull-Mg-O-ccsd_t.png", "figures/cycles.png"}
    assert {src for src, *_ in images} == expected
    broken = [src for src, complete, width, height in images if not (complete and width > 100 and height > 100)]
    assert not broken, f"images that did not load: {broken}"
    assert screenshot.stat().st_size > 20_000
    html = index.read_text()
    assert "MgO" in html and 'download' in html
    (cif,) = (tmp_path / "report" / "cif").glob("*.cif")
    (crystal,) = read_crystals(cif)
    assert crystal.reduced_formula == "MgO"


def test_report_command_names_bad_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MFDISCO_CONFIG", raising=False)
    db = ["--db-url", f"sqlite:///{tmp_path / 'r.db'}"]
    runner = CliRunner()
    assert runner.invoke(app, [*db, "db", "upgrade"]).exit_code == 0
    missing = runner.invoke(app, [*db, "report", "nope", "--out", str(tmp_path / "out")])
    assert missing.exit_code == 1 and "no campaign named 'nope'" in missing.output
    (tmp_path / "file").write_text("x")
    not_folder = runner.invoke(app, [*db, "report", "nope", "--out", str(tmp_path / "file")])
    assert not_folder.exit_code == 2 and "is not a folder" in not_folder.output
