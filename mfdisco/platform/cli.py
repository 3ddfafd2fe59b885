"""The ``mfdisco`` command line."""

from __future__ import annotations

import csv
import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mfdisco import __version__
from mfdisco.core import MfdiscoError
from mfdisco.platform.config import MfdiscoConfig, load_config
from mfdisco.platform.cli_campaign import run_command, status_command
from mfdisco.platform.cli_generator import generate_command, generator_app
from mfdisco.platform.cli_stack import down_command, node_app, submit_command, up_command
from mfdisco.platform.cli_validator import validator_app
from mfdisco.platform.logging_setup import setup_logging

__all__ = ["app", "main"]

logger = logging.getLogger(__name__)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

app = typer.Typer(
    name="mfdisco",
    help="Multi-fidelity discovery of crystals where standard DFT goes wrong.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations shipped with mfdisco).", no_args_is_help=True)
data_app = typer.Typer(help="Datasets: import structures into the database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(data_app, name="data")
app.add_typer(validator_app, name="validator")
app.add_typer(generator_app, name="generator")
app.add_typer(node_app, name="node")
app.command("generate")(generate_command)


def _version(value: bool) -> None:
    if value:
        console.print(f"mfdisco {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file (default: $MFDISCO_CONFIG).")] = None,
    db_url: Annotated[str | None, typer.Option("--db-url", help="Database URL (default: $MFDISCO_DB_URL or sqlite:///mfdisco.db).")] = None,
    log_level: Annotated[str | None, typer.Option("--log-level", help="DEBUG, INFO, WARNING or ERROR.")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """Load and validate the configuration shared by every command."""
    overrides: dict[str, Any] = {}
    if db_url:
        overrides["db.url"] = db_url
    if log_level:
        overrides["logging.level"] = log_level
    cfg = _guard(lambda: load_config(config, overrides=overrides))
    setup_logging(cfg.logging.level)
    ctx.obj = cfg


def _guard(action):  # noqa: ANN001, ANN202 - any callable
    """Run ``action``; an mfdisco error ends the command with its message and exit code 1."""
    try:
        return action()
    except (MfdiscoError, FileNotFoundError, NotADirectoryError) as error:
        errors.print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(1) from None


def _engine(cfg: MfdiscoConfig):  # noqa: ANN202 - SQLAlchemy Engine
    from mfdisco.db import make_engine

    return make_engine(cfg.db.url, busy_timeout_s=cfg.db.busy_timeout_s, echo=cfg.db.echo)


def _upgrade(cfg: MfdiscoConfig, revision: str = "head") -> str | None:
    from mfdisco.db import current_revision, upgrade

    engine = _engine(cfg)
    try:
        upgrade(engine, revision)
        return current_revision(engine)
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------- db
@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context, revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Create or upgrade the schema (tables and views) to REVISION."""
    cfg: MfdiscoConfig = ctx.obj
    current = _guard(lambda: _upgrade(cfg, revision))
    console.print(f"database {_safe_url(cfg.db.url)} at revision {current}")


@db_app.command("downgrade")
def db_downgrade(ctx: typer.Context, revision: Annotated[str, typer.Argument(help="Target revision; 'base' drops everything.")]) -> None:
    """Downgrade the schema to REVISION."""
    from mfdisco.db import current_revision, downgrade

    cfg: MfdiscoConfig = ctx.obj
    engine = _engine(cfg)
    _guard(lambda: downgrade(engine, revision))
    console.print(f"database {_safe_url(cfg.db.url)} at revision {current_revision(engine) or 'base'}")


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Print the schema revision of the database and the newest one shipped."""
    from mfdisco.db import current_revision, head_revision

    cfg: MfdiscoConfig = ctx.obj
    current = _guard(lambda: current_revision(_engine(cfg)))
    console.print(f"database {_safe_url(cfg.db.url)}: revision {current or 'none (empty)'}; newest {head_revision()}")


# ---------------------------------------------------------------------------- data
@data_app.command("import")
def data_import(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Argument(help="Path (file or folder) or URL of the dataset.")] = None,
    builtin: Annotated[bool, typer.Option("--builtin", help="Import the built-in prototype set.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="auto, cdvae-csv, folder, structure-file or mgmno.")] = "auto",
    name: Annotated[str | None, typer.Option("--name", help="Dataset name stored as the structures' source.")] = None,
    show_rejects: Annotated[int, typer.Option("--show-rejects", help="List this many rejected entries.")] = 10,
) -> None:
    """Import structures from PATH|URL or --builtin; bad entries are reported and skipped."""
    from mfdisco.generator.datasets import DATASET_FORMATS

    cfg: MfdiscoConfig = ctx.obj
    if builtin == (source is not None):
        errors.print("[red]error:[/red] give either a dataset PATH|URL or --builtin", highlight=False)
        raise typer.Exit(2)
    if fmt not in DATASET_FORMATS:
        errors.print(f"[red]error:[/red] --format {fmt!r} is not one of {', '.join(DATASET_FORMATS)}", highlight=False)
        raise typer.Exit(2)
    _guard(lambda: _upgrade(cfg))
    report = _import(cfg, source, "builtin" if builtin else fmt, name)
    _print_report(report, show_rejects)


def _import(cfg: MfdiscoConfig, source: str | None, fmt: str, name: str | None):  # noqa: ANN202 - ImportReport
    from mfdisco.generator.datasets import open_dataset
    from mfdisco.platform.importing import import_dataset

    stream = _guard(lambda: open_dataset(source, fmt, cache_dir=cfg.data.cache_dir, name=name, elements=cfg.data.elements))  # type: ignore[arg-type]
    engine = _engine(cfg)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=False) as progress:
        task = progress.add_task(f"importing {stream.name}", total=stream.total)
        report = _guard(
            lambda: import_dataset(
                engine,
                stream,
                batch_size=cfg.data.batch_size,
                min_distance=cfg.data.min_distance_angstrom,
                on_progress=lambda n: progress.advance(task, n),
            )
        )
    engine.dispose()
    return report


def _print_report(report, show_rejects: int) -> None:  # noqa: ANN001 - ImportReport
    table = Table(title=f"import of {report.source}")
    for column in ("read", "new", "duplicates", "rejected", "seconds", "structures/s"):
        table.add_column(column, justify="right")
    table.add_row(
        str(report.read), str(report.inserted), str(report.duplicates), str(report.rejected),
        f"{report.seconds:.1f}", f"{report.rate:.1f}",
    )
    console.print(table)
    for reason, count in report.rejection_reasons():
        console.print(f"  rejected {count} x {reason}", highlight=False)
    for rejection in report.rejections[:show_rejects]:
        console.print(f"  - {rejection}", highlight=False, markup=False)
    if report.rejected > show_rejects:
        console.print(f"  ... and {report.rejected - show_rejects} more (--show-rejects N lists more)")


# ---------------------------------------------------------------------------- query
@app.command("query")
def query(
    ctx: typer.Context,
    sql: Annotated[str | None, typer.Argument(help="One read-only SQL statement (SELECT, WITH, VALUES, EXPLAIN).")] = None,
    view: Annotated[str | None, typer.Option("--view", help="Show a view: discovered_candidates or campaign_summary.")] = None,
    example: Annotated[str | None, typer.Option("--example", help="Run a named example query (--examples lists them).")] = None,
    examples: Annotated[bool, typer.Option("--examples", help="List the example queries and their SQL.")] = False,
    output: Annotated[str, typer.Option("--output", "-o", help="table, csv or json.")] = "table",
    max_rows: Annotated[int, typer.Option("--max-rows", help="Show at most this many rows.")] = 1000,
) -> None:
    """Run a read-only SQL query, a view or an example query; write statements are refused."""
    from mfdisco.db import VIEWS, query_view, run_read_only
    from mfdisco.db.examples import example_queries

    cfg: MfdiscoConfig = ctx.obj
    if examples:
        for item in example_queries().values():
            console.print(f"[bold]{item.name}[/bold]: {item.description}", highlight=False)
            console.print(item.sql + ";\n", highlight=False, markup=False)
        return
    if sum(x is not None for x in (sql, view, example)) != 1:
        views = "\n".join(f"  {name}: {about}" for name, about in VIEWS.items())
        names = ", ".join(example_queries())
        errors.print(f"[red]error:[/red] give one of SQL, --view NAME or --example NAME; the views are:\n{views}\nthe examples: {names}", highlight=False)
        raise typer.Exit(2)
    if output not in ("table", "csv", "json"):
        errors.print(f"[red]error:[/red] --output {output!r} is not one of table, csv, json", highlight=False)
        raise typer.Exit(2)
    if example is not None and example not in example_queries():
        errors.print(f"[red]error:[/red] --example {example!r} is not one of {', '.join(example_queries())}", highlight=False)
        raise typer.Exit(2)
    if view is not None:
        result = _guard(lambda: query_view(cfg.db.url, view, max_rows=max_rows))
    else:
        text = example_queries()[example].sql if example is not None else sql
        result = _guard(lambda: run_read_only(cfg.db.url, text, max_rows=max_rows))
    if output == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(result.columns)
        writer.writerows(result.rows)
    elif output == "json":
        sys.stdout.write(json.dumps([dict(zip(result.columns, row, strict=True)) for row in result.rows], default=str, indent=1) + "\n")
    else:
        table = Table(*result.columns)
        for row in result.rows:
            table.add_row(*("" if value is None else str(value) for value in row))
        console.print(table)
        console.print(f"{len(result.rows)} rows" + (f" (first {max_rows}; more exist)" if result.truncated else ""))


# ---------------------------------------------------------------------------- label
@app.command("label")
def label_command(
    ctx: typer.Context,
    fidelity: Annotated[list[str], typer.Option("--fidelity", "-f", help="pbe, scan, hse06 or ccsd_t; repeatable.")],
    where: Annotated[str, typer.Option("--where", help="SQL condition on the structures table, e.g. \"elements = 'Mg-O'\".")] = "TRUE",
    limit: Annotated[int | None, typer.Option("--limit", help="Label at most this many structures.")] = None,
    set_: Annotated[list[str], typer.Option("--set", help="Label setting key=value (JSON value), repeatable.")] = [],  # noqa: B006
    with_references: Annotated[bool, typer.Option("--with-references", help="Also label the elemental references these structures need.")] = False,
) -> None:
    """Label stored structures with PySCF as Ray tasks; stored labels are not recomputed."""
    from mfdisco.core import Fidelity
    from mfdisco.db import run_read_only
    from mfdisco.labeller.distributed import LabelJob, label_many
    from mfdisco.platform.config import LabellerConfig
    from mfdisco.platform.ray_connection import connect_ray

    cfg: MfdiscoConfig = ctx.obj
    fidelities = _guard(lambda: [Fidelity.parse(f) for f in fidelity])
    overrides = _guard(lambda: dict(_parse_assignment(item) for item in set_))
    labeller = _guard(lambda: LabellerConfig(**{**cfg.labeller.model_dump(), "settings": {**cfg.labeller.settings, **overrides}}))
    _guard(lambda: _upgrade(cfg))
    sql = f"SELECT id FROM structures WHERE {where} ORDER BY id" + (f" LIMIT {int(limit)}" if limit else "")
    ids = [row[0] for row in _guard(lambda: run_read_only(cfg.db.url, sql, max_rows=10**7)).rows]
    jobs = [LabelJob(i, f, labeller.settings_for(f)) for i in ids for f in fidelities]
    if with_references and ids:
        jobs += _reference_jobs(cfg, ids, fidelities, labeller)
    if not jobs:
        console.print("no structure matches --where; nothing to label")
        return
    connect_ray(cfg.ray)
    engine = _engine(cfg)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=errors) as progress:
        task = progress.add_task(f"labelling ({', '.join(f.value for f in fidelities)})", total=len(jobs))
        report = label_many(
            engine, jobs, cpus_per_task=labeller.cpus_per_task, max_retries=labeller.max_retries,
            on_finished=lambda _job, _label: progress.advance(task),
        )
    engine.dispose()
    table = Table(title="labels")
    for column in ("structures", "fidelities", "already stored", "done", "failed", "refused"):
        table.add_column(column, justify="right")
    outcomes = report.outcomes
    table.add_row(str(len(ids)), str(len(fidelities)), str(report.skipped), str(outcomes["done"]), str(outcomes["failed"]), str(outcomes["refused"]))
    console.print(table)
    for structure_id, name, error in report.errors:
        console.print(f"  structure {structure_id} {name}: {error}", highlight=False, markup=False)


def _reference_jobs(cfg: MfdiscoConfig, ids: list[int], fidelities: list, labeller) -> list:  # noqa: ANN001
    """Label jobs of the elemental references of the structures ``ids``."""
    from mfdisco.db import get_structure
    from mfdisco.labeller.distributed import LabelJob
    from mfdisco.labeller.references import reference_jobs

    engine = _engine(cfg)
    elements = sorted({e for i in ids for e in get_structure(engine, i).elements.split("-")})
    jobs = [LabelJob(sid, f, s) for f in fidelities for sid, s in reference_jobs(engine, elements, f, labeller.settings_for(f))]
    engine.dispose()
    return jobs


def _parse_assignment(item: str) -> tuple[str, Any]:
    if "=" not in item:
        raise MfdiscoError(f"--set {item!r}: expected key=value")
    key, value = item.split("=", 1)
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


# ---------------------------------------------------------------------------- report
@app.command("report")
def report_command(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Argument(help="The campaign's name.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write index.html, figures/ and cif/ into.")],
) -> None:
    """Write an HTML report of a campaign: parity, divergence, hulls, cycles and discoveries (CIF downloads)."""
    from mfdisco.platform.report import gather_report, write_report

    cfg: MfdiscoConfig = ctx.obj
    if out.exists() and not out.is_dir():
        errors.print(f"[red]error:[/red] --out {out} exists and is not a folder", highlight=False)
        raise typer.Exit(2)
    engine = _engine(cfg)
    data = _guard(lambda: gather_report(engine, campaign))
    engine.dispose()
    index = _guard(lambda: write_report(data, out))
    console.print(f"report of campaign {campaign}: {index} ({len(list((out / 'figures').glob('*.png')))} figures, {len(data.discoveries)} discoveries)")


# ---------------------------------------------------------------------------- run, status
app.command("run")(run_command)
app.command("status")(status_command)
app.command("submit")(submit_command)
app.command("up")(up_command)
app.command("down")(down_command)


def _safe_url(url: str) -> str:
    from mfdisco.db import normalise_url

    return normalise_url(url).render_as_string(hide_password=True)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
