"""``mfdisco generator train`` and ``mfdisco generate``: the diffusion generator from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["generator_app", "generate_command"]

generator_app = typer.Typer(help="DiffCSP-style diffusion generator: train it.", no_args_is_help=True)


def _fail(message: str) -> None:
    from mfdisco.platform.cli import errors

    errors.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(1)


@generator_app.command("train")
def train_command(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Argument(help="Dataset path or URL (as for 'mfdisco data import').")] = None,
    builtin: Annotated[bool, typer.Option("--builtin", help="Train on the built-in prototype set.")] = False,
    properties: Annotated[str | None, typer.Option("--properties", help="Comma-separated dataset properties to condition on.")] = None,
    task: Annotated[str | None, typer.Option("--task", help="csp or denovo.")] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", help="Training epochs.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Checkpoint file to write.")] = Path("models/generator.pt"),
) -> None:
    """Train the generator on a dataset, save it and record it in the models table."""
    from pydantic import ValidationError

    from mfdisco.db import add_model
    from mfdisco.generator.backend import DiffusionGenerator
    from mfdisco.generator.config import GeneratorConfig
    from mfdisco.generator.datasets import CrystalRecord, open_dataset
    from mfdisco.platform.cli import _engine, _guard, _upgrade, console

    cfg = ctx.obj
    if builtin == (source is not None):
        _fail("give either a dataset PATH|URL or --builtin")
    updates = {k: v for k, v in {"task": task, "epochs": epochs}.items() if v is not None}
    if properties is not None:
        updates["properties"] = [p.strip() for p in properties.split(",") if p.strip()]
    try:
        config = GeneratorConfig(**{**cfg.generator.model_dump(), **updates})
    except ValidationError as error:
        _fail("invalid generator option: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()))
    stream = _guard(lambda: open_dataset(source, "builtin" if builtin else "auto", cache_dir=cfg.data.cache_dir, elements=cfg.data.elements))
    records = [item for item in stream.items if isinstance(item, CrystalRecord)]
    generator = DiffusionGenerator(config)
    try:
        generator.fit(records)
    except ValueError as error:
        _fail(str(error))
    path = generator.save(out)
    _guard(lambda: _upgrade(cfg))
    engine = _engine(cfg)
    row_id, version = add_model(
        engine, "generator", "diffcsp", str(path.resolve()), config.model_dump(mode="json"),
        {"final_loss": generator.history[-1]}, len(records), generator.training_set_hash,
    )
    engine.dispose()
    console.print(f"trained on {len(records)} structures of {stream.name}; final loss {generator.history[-1]:.4f}; saved {path} (models row {row_id}, version {version})")


def generate_command(
    ctx: typer.Context,
    n: Annotated[int, typer.Option("--n", help="How many structures to sample.")] = 10,
    model: Annotated[Path, typer.Option("--model", help="Checkpoint written by 'mfdisco generator train'.")] = Path("models/generator.pt"),
    condition: Annotated[list[str], typer.Option("--condition", help="property=value, repeatable.")] = [],  # noqa: B006
    out: Annotated[Path, typer.Option("--out", help="Folder for the CIF files.")] = Path("generated"),
    seed: Annotated[int, typer.Option("--seed", help="Sampler seed.")] = 0,
    steps: Annotated[int | None, typer.Option("--steps", help="Sampler steps (default: the model's config).")] = None,
) -> None:
    """Sample structures, write them as CIF files and store them in the database (source 'generated')."""
    from mfdisco.core import write_crystal
    from mfdisco.db import NewStructure, add_structures
    from mfdisco.generator.backend import DiffusionGenerator
    from mfdisco.generator.metrics import compositional_validity, structural_validity
    from mfdisco.generator.sampler import SamplerSettings
    from mfdisco.platform.cli import _engine, _guard, _upgrade, console

    cfg = ctx.obj
    if n < 1:
        _fail(f"--n must be at least 1, got {n}")
    targets = {}
    for item in condition:
        key, sep, value = item.partition("=")
        try:
            targets[key.strip()] = float(value)
        except ValueError:
            _fail(f"--condition {item!r}: expected property=number")
        if not sep:
            _fail(f"--condition {item!r}: expected property=number")
    try:
        generator = DiffusionGenerator.load(model)
    except (FileNotFoundError, ValueError) as error:
        _fail(str(error))
    config = generator.config
    settings = SamplerSettings(steps or config.sample_steps, config.corrector_steps, config.step_lr, config.guidance, seed)
    try:
        crystals = generator.sample(n, condition=targets or None, settings=settings, progress=True)
    except ValueError as error:
        _fail(str(error))
    out.mkdir(parents=True, exist_ok=True)
    for i, crystal in enumerate(crystals):
        write_crystal(crystal, out / f"sample_{seed}_{i:04d}_{crystal.reduced_formula}.cif")
    _guard(lambda: _upgrade(cfg))
    engine = _engine(cfg)
    valid = [c for c in crystals if structural_validity(c)]
    result = add_structures(engine, [NewStructure(c, "generated", f"{model.name}:{seed}:{i}") for i, c in enumerate(valid)])
    engine.dispose()
    composition_ok = sum(compositional_validity(c) for c in crystals)
    console.print(
        f"sampled {len(crystals)} of {n} (degenerate dropped); structurally valid {len(valid)}, SMACT-valid {composition_ok}; "
        f"CIFs in {out}; stored {result.n_inserted} new ({result.n_duplicates} already known)"
    )
