"""The ``innograph`` command line: load, stats, export, template, and the planners' questions."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from graph_service.bootstrap import make_store
from graph_service.errors import DataError, GraphServiceError
from graph_service.settings import Settings
from graph_service.store import GraphStore

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])


def backend_options(func: F) -> F:
    """The options every command that opens the store shares."""
    func = click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Where the embedded store keeps its snapshot (env INNOGRAPH_DATA_DIR).",
    )(func)
    func = click.option(
        "--backend",
        type=click.Choice(["embedded", "neo4j"]),
        default=None,
        help="Store to use (env INNOGRAPH_BACKEND; default embedded). Neo4j reads NEO4J_URI, "
        "NEO4J_USER, NEO4J_PASSWORD, NEO4J_DATABASE.",
    )(func)
    return func


def settings_from(backend: str | None, data_dir: Path | None) -> Settings:
    """Settings from the environment, with the command line's choices on top."""
    overrides: dict[str, Any] = {}
    if backend:
        overrides["backend"] = backend
    if data_dir:
        overrides["data_dir"] = data_dir
    return Settings(**overrides)


@contextmanager
def open_store(backend: str | None, data_dir: Path | None) -> Iterator[GraphStore]:
    """Open the configured store for one command and close it afterwards."""
    store = make_store(settings_from(backend, data_dir))
    try:
        yield store
    finally:
        store.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="innograph")
def cli() -> None:
    """innograph: a knowledge graph of a city's innovation ecosystem.

    Load what you know about societies, talents, enterprises, parks, industries and
    agreements, then ask which societies serve an industry, where the gaps are,
    and explore the connections.

    \b
    Quick start:
      innograph load            # the bundled Wenzhou dataset
      innograph stats
      innograph export --format graphml -o wenzhou.graphml
    """


@cli.command()
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--partial", is_flag=True, help="Write the good rows and put the bad ones in a rejects file.")
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where --partial writes rejected rows (default: <dataset>-rejects.csv here).",
)
@click.option("--encoding", default=None, help="Force the encoding of CSV files (e.g. gbk, gb18030, utf-8).")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=None, help="Records per write batch.")
@click.option("--json", "as_json", is_flag=True, help="Print the load report as JSON.")
@backend_options
def load(
    path: Path | None,
    partial: bool,
    rejects: Path | None,
    encoding: str | None,
    batch_size: int | None,
    as_json: bool,
    backend: str | None,
    data_dir: Path | None,
) -> None:
    """Load a dataset directory or an .xlsx workbook (default: the bundled Wenzhou data).

    By default the load is all-or-nothing: every row is checked first, and if any
    is bad nothing is written and each problem is listed with its file, row and
    column. Loading the same data twice changes nothing.

    \b
    Examples:
      innograph load
      innograph load my-city/ --encoding gbk
      innograph load workbook.xlsx --partial --rejects rejects.csv
      innograph load my-city/ --backend neo4j
    """
    from loaders.load import DEFAULT_BATCH_SIZE, WENZHOU_DATASET, load_dataset

    source = path or WENZHOU_DATASET
    settings = settings_from(backend, data_dir)
    if partial and rejects is None:
        rejects = Path(f"{source.stem or 'dataset'}-rejects.csv")
    with open_store(backend, data_dir) as store, _progress_bar() as progress:
        report = load_dataset(
            source,
            store,
            partial=partial,
            encoding=encoding,
            batch_size=batch_size
            or (settings.neo4j.batch_size if store.name == "neo4j" else DEFAULT_BATCH_SIZE),
            progress=progress,
            rejects_path=rejects,
            max_file_bytes=settings.max_file_bytes,
        )
    click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if as_json else report.render())


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@backend_options
def stats(as_json: bool, backend: str | None, data_dir: Path | None) -> None:
    """Count the nodes per kind and the relationships per type.

    \b
    Example:
      innograph stats --json
    """
    with open_store(backend, data_dir) as store:
        counts = store.counts()
    if as_json:
        click.echo(json.dumps(counts.model_dump(), indent=2))
        return
    click.echo(
        f"{counts.total_nodes:,} nodes, {counts.total_relationships:,} relationships ({store.name} store)"
    )
    for title, group in (("nodes", counts.nodes), ("relationships", counts.relationships)):
        click.echo(f"\n{title}:")
        for key, n in sorted(group.items()):
            click.echo(f"  {key:<18}{n:>9,}")
    if not counts.total_nodes:
        click.echo("\nThe store is empty: run `innograph load` to load the bundled Wenzhou data.")


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["graphml", "gexf", "json", "csv"]),
    default="graphml",
    show_default=True,
    help="graphml/gexf open in Gephi; csv writes a re-loadable dataset directory.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="File to write (a directory for csv). Default: innograph.<format> here.",
)
@backend_options
def export(fmt: str, output: Path | None, backend: str | None, data_dir: Path | None) -> None:
    """Export the whole graph for Gephi, scripts or spreadsheets.

    \b
    Examples:
      innograph export --format graphml -o wenzhou.graphml   # open in Gephi
      innograph export --format csv -o wenzhou-csv/          # spreadsheets; loads back
    """
    from graph_service.exports import export_graph

    out = output or Path("innograph-csv" if fmt == "csv" else f"innograph.{fmt}")
    with open_store(backend, data_dir) as store:
        files = export_graph(store, fmt, out)  # type: ignore[arg-type]
    for file in files:
        click.echo(f"wrote {file}")


@cli.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("innograph-template.xlsx"),
    show_default=True,
    help="Workbook to write.",
)
def template(output: Path) -> None:
    """Write an empty workbook to fill in: a sheet per kind, relationships, sources, README.

    \b
    Example:
      innograph template -o my-city.xlsx && innograph load my-city.xlsx
    """
    from loaders.template import write_template

    click.echo(f"wrote {write_template(output)}; fill it in, then run `innograph load {output}`")


@contextmanager
def _progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback drawing a bar on a terminal for loads of a few thousand rows or more."""
    state: dict[str, Any] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if total < 5000 or not sys.stderr.isatty():
            return
        bar = state.get("bar")
        if bar is None:
            bar = click.progressbar(length=total, label="writing", file=sys.stderr)
            bar.__enter__()
            state["bar"] = bar
            state["done"] = 0
        bar.label = f"writing {stage}"
        bar.update(done - state["done"])
        state["done"] = done

    try:
        yield progress
    finally:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)


def main() -> None:
    """Run the command line; errors print as one line and exit non-zero, without a traceback."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DataError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    except GraphServiceError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
