"""``mfdisco validator train|eval``: the multi-fidelity potential from the command line.

Training data come from the database (every finished label at the configured labeller
settings of each fidelity) or from a reference-pool data file (``--pool``). Structures,
not labels, are split into training and validation sets, so the labels of one structure
at several fidelities never straddle the split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

__all__ = ["validator_app"]

validator_app = typer.Typer(help="Multi-fidelity MACE potential: train and evaluate.", no_args_is_help=True)


def _labelled_pairs(cfg, pool: Path | None) -> list:  # noqa: ANN001 - MfdiscoConfig; returns (Crystal, Label)
    from mfdisco.core import Fidelity

    if pool is not None:
        from mfdisco.labeller.pool_file import entries_at, read_pool_file

        return [(entry.crystal, entry.label) for entry in entries_at(read_pool_file(pool), cfg.labeller.settings_for)]
    from mfdisco.db import done_labels
    from mfdisco.labeller import settings_hash
    from mfdisco.platform.cli import _engine, _upgrade

    _upgrade(cfg)
    engine = _engine(cfg)
    try:
        hashes = {f: settings_hash(f, cfg.labeller.settings_for(f)) for f in Fidelity}
        return [(crystal, label) for _, crystal, label in done_labels(engine, hashes)]
    finally:
        engine.dispose()


def _metrics_table(title: str, metrics: dict) -> Table:
    table = Table(title=title)
    for column in ("fidelity", "n", "MAE (meV/atom)", "ECE"):
        table.add_column(column, justify="right")
    for fidelity, entry in metrics.items():
        ece = entry.get("ece")
        table.add_row(fidelity, f"{entry['n']:.0f}", f"{entry['energy_mae_mev_per_atom']:.1f}", "-" if ece is None else f"{ece:.3f}")
    return table


@validator_app.command("train")
def train_command(
    ctx: typer.Context,
    pool: Annotated[Path | None, typer.Option("--pool", help="Train on a reference-pool data file instead of the database.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Checkpoint file to write.")] = Path("models/validator.pt"),
    schedule: Annotated[str | None, typer.Option("--schedule", help="joint, progressive or transfer.")] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", help="Epochs in all.")] = None,
    ensemble_size: Annotated[int | None, typer.Option("--ensemble-size", help="Members of the ensemble.")] = None,
    valid_fraction: Annotated[float, typer.Option("--valid-fraction", help="Share of structures held out for validation.")] = 0.1,
) -> None:
    """Train the ensemble, save the checkpoint and record it in the models table."""
    from mfdisco.platform.cli import _engine, _guard, _upgrade, console
    from mfdisco.validator.checkpoint import record_model, save_ensemble
    from mfdisco.validator.ensemble import train_ensemble
    from mfdisco.validator.samples import samples_from_labels, split_by_structure

    cfg = ctx.obj
    updates = {k: v for k, v in {"schedule": schedule, "epochs": epochs, "ensemble_size": ensemble_size}.items() if v is not None}
    config = _guard(lambda: _validated(cfg.validator, updates))
    if not 0 <= valid_fraction < 1:
        _fail(f"--valid-fraction must be in [0, 1), got {valid_fraction}")
    samples = samples_from_labels(_guard(lambda: _labelled_pairs(cfg, pool)))
    if not samples:
        _fail("no finished labels to train on (label structures first, or pass --pool)")
    train, valid = split_by_structure(samples, valid_fraction, config.seed)
    console.print(f"training {config.ensemble_size} x MACE ({config.schedule}) on {len(train)} labels, validating on {len(valid)}")
    ensemble = _guard(lambda: train_ensemble(train, config, valid))
    path = save_ensemble(ensemble, out)
    _guard(lambda: _upgrade(cfg))
    engine = _engine(cfg)
    row_id = record_model(engine, ensemble, path)
    engine.dispose()
    console.print(f"saved {path} (models row {row_id})")
    if valid:
        console.print(_metrics_table("validation", {k.removeprefix("valid_"): v for k, v in ensemble.metrics.items() if k.startswith("valid_") and "member" not in k}))


def _fail(message: str) -> None:
    from mfdisco.platform.cli import errors

    errors.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(1)


def _validated(base, updates: dict):  # noqa: ANN001, ANN202 - PotentialConfig
    from pydantic import ValidationError

    from mfdisco.core import MfdiscoError
    from mfdisco.validator.config import PotentialConfig

    try:
        return PotentialConfig(**{**base.model_dump(), **updates})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise MfdiscoError(f"invalid validator option: {problems}") from None


@validator_app.command("eval")
def eval_command(
    ctx: typer.Context,
    model: Annotated[Path, typer.Option("--model", help="Checkpoint written by 'mfdisco validator train'.")],
    pool: Annotated[Path | None, typer.Option("--pool", help="Evaluate on a reference-pool data file instead of the database.")] = None,
) -> None:
    """MAE per fidelity and ECE of the ensemble on labelled data."""
    from mfdisco.platform.cli import _guard, console
    from mfdisco.validator.checkpoint import load_ensemble
    from mfdisco.validator.samples import samples_from_labels

    ensemble = _guard(lambda: _load(model, load_ensemble))
    samples = samples_from_labels(_guard(lambda: _labelled_pairs(ctx.obj, pool)))
    console.print(_metrics_table(f"{model.name} on {len(samples)} labels", ensemble.evaluate(samples)))


def _load(path: Path, loader):  # noqa: ANN001, ANN202
    from mfdisco.core import MfdiscoError

    try:
        return loader(path)
    except ValueError as error:
        raise MfdiscoError(str(error)) from None
