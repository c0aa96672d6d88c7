"""The ``innograph`` command line: load, stats, export, template, and the planners' questions."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from graph_service.backends.bootstrap import make_store
from graph_service.core.errors import Ambiguous, DataError, GraphServiceError, NotFound
from graph_service.core.settings import Settings
from graph_service.core.store import GraphStore
from graph_service.core.text import DATE_FORMS, partial_date

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
            batch_size=batch_size or store.load_batch_size or DEFAULT_BATCH_SIZE,
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
    type=click.Choice(["graphml", "gexf", "json", "nodelink", "cytoscape", "kumu", "csv", "neo4j-import"]),
    default="graphml",
    show_default=True,
    help="graphml/gexf open in Gephi; nodelink is networkx's JSON; cytoscape opens in Cytoscape "
    "and Cytoscape.js; kumu is a workbook Kumu imports (Elements and Connections); csv writes a "
    "re-loadable dataset directory; neo4j-import writes a directory for neo4j-admin database import.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="File to write (a directory for csv and neo4j-import). Default: innograph.<format> here.",
)
@click.option("--force", is_flag=True, help="Replace a directory that already holds files.")
@click.option(
    "--bom/--no-bom",
    default=True,
    show_default=True,
    help="Start csv files with a UTF-8 byte-order mark, so Excel shows Chinese correctly.",
)
@backend_options
def export(
    fmt: str, output: Path | None, force: bool, bom: bool, backend: str | None, data_dir: Path | None
) -> None:
    """Export the whole graph for Gephi, Neo4j, Cytoscape, networkx, scripts or spreadsheets.

    The export is written under a temporary name and renamed when complete: a failed one
    leaves nothing behind. A directory that already holds files is replaced only with --force.

    \b
    Examples:
      innograph export --format gexf -o wenzhou.gexf            # Gephi: File > Open
      innograph export --format neo4j-import -o wz-neo4j/       # then the command in wz-neo4j/README.md
      innograph export --format cytoscape -o wenzhou.cyjs       # Cytoscape: Import > Network from File
      innograph export --format nodelink -o wenzhou.json        # networkx.node_link_graph(json.load(f))
      innograph export --format kumu -o wenzhou-kumu.xlsx       # Kumu: Import > from Excel
      innograph export --format csv -o wenzhou-csv/             # spreadsheets; loads back
    """
    from graph_service.app.interop import DIRECTORY_FORMATS, ExportTargetError, export_whole

    default_names = {
        "nodelink": "innograph-nodelink.json",
        "cytoscape": "innograph.cyjs",
        "kumu": "innograph-kumu.xlsx",
    }
    out = output or Path(
        f"innograph-{fmt}" if fmt in DIRECTORY_FORMATS else default_names.get(fmt, f"innograph.{fmt}")
    )
    try:
        with open_store(backend, data_dir) as store:
            files = export_whole(store, fmt, out, force=force, bom=bom)  # type: ignore[arg-type]
    except ExportTargetError as exc:
        raise UnusableOutput(exc.message) from None
    if fmt in DIRECTORY_FORMATS:
        click.echo(f"wrote {len(files)} file(s) to {out}")
        if fmt == "neo4j-import":
            click.echo(f"import them with the command in {out / 'README.md'}")
    else:
        click.echo(f"wrote {out}")


class UnusableOutput(click.ClickException):
    """An output path that cannot be used; exits 2 like any other bad argument."""

    exit_code = 2


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


@cli.command()
@click.option(
    "--scale",
    type=click.Choice(["XS", "S", "M", "L"]),
    default="S",
    show_default=True,
    help="XS ≈ 2.5k, S ≈ 10k, M ≈ 100k, L ≈ 1M relationships.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same files.")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Dataset directory to write.",
)
def generate(scale: str, seed: int, output: Path) -> None:
    """Write a synthetic ecosystem (every fact marked 'synthetic') as a dataset directory, for benchmarks.

    \b
    Example:
      innograph generate --scale M --seed 7 -o /tmp/eco-m && innograph load /tmp/eco-m --data-dir /tmp/bench
    """
    from loaders.generate import generate_dataset

    written = generate_dataset(output, scale=scale, seed=seed)  # type: ignore[arg-type]
    click.echo(f"wrote {output}: " + ", ".join(f"{n:,} {k}" for k, n in written.items()))


OutputFormat = click.Choice(["table", "json", "csv"])


def emit(rows: Sequence[Sequence[object]], header: list[str], fmt: str, payload: Any) -> None:
    """Print a result: an aligned table, the full JSON result, or CSV for spreadsheets."""
    if fmt == "json":
        deliver(payload.model_dump_json(indent=2) + "\n")
    elif fmt == "csv":
        from graph_service.core.cells import write_csv

        deliver(write_csv(rows, header))
    else:
        deliver(_table(rows, header) + "\n")


def deliver(text: str) -> None:
    """Print a result, or write it to the ``-o`` file. Text starting with a byte-order mark (CSV)
    keeps it in a file, for Excel, unless ``--no-bom``; printed, it never has one."""
    meta = click.get_current_context().meta
    output: Path | None = meta.get("innograph.output")
    if output is None:
        click.echo(text.removeprefix("\ufeff"), nl=False)
        return
    if not meta.get("innograph.bom", True):
        text = text.removeprefix("\ufeff")
    partial = output.with_name(f".partial-{output.name}")
    try:
        partial.write_text(text, encoding="utf-8", newline="")
        partial.replace(output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise UnusableOutput(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {output}", err=True)


def _table(rows: Sequence[Sequence[object]], header: list[str]) -> str:
    if not rows:
        return "(nothing found)"
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c + " " * (w - _width(c)) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _check_date(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A date option read by the text rules (full-width digits as ASCII; exit 2 with the reason)."""
    if value is None:
        return None
    try:
        return partial_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


as_of_option = click.option(
    "--as-of",
    default=None,
    callback=_check_date,
    help=f"As the ecosystem stood on a date: {DATE_FORMS}.",
)
_format_choice = click.option(
    "--format",
    "fmt",
    type=OutputFormat,
    default="table",
    show_default=True,
    help="table for people, json or csv for scripts.",
)


def _keep(key: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        ctx.meta[key] = value
        return value

    return callback


def format_option(func: F) -> F:
    """``--format``, and ``-o``/``--bom`` to write the result to a file (read by :func:`deliver`)."""
    func = click.option(
        "--bom/--no-bom",
        default=True,
        show_default=True,
        expose_value=False,
        callback=_keep("innograph.bom"),
        help="Start a csv file written with -o with a UTF-8 byte-order mark, so Excel shows Chinese "
        "correctly. Printed output never has one.",
    )(func)
    func = click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        expose_value=False,
        callback=_keep("innograph.output"),
        help="Write the result to this file instead of printing it.",
    )(func)
    return _format_choice(func)


@cli.command()
@click.argument("industry")
@click.option(
    "--sub/--no-sub",
    "include_sub",
    default=True,
    show_default=True,
    help="Count societies serving its sub-industries too, as every count of serving does.",
)
@click.option("--evidence", is_flag=True, help="Print every evidence chain under the table.")
@as_of_option
@format_option
@backend_options
def societies(
    industry: str,
    include_sub: bool,
    evidence: bool,
    as_of: str | None,
    fmt: str,
    backend: str | None,
    data_dir: Path | None,
) -> None:
    """Which societies serve an INDUSTRY (id, code, English or Chinese name), by which channels.

    \b
    Examples:
      innograph societies 电气
      innograph societies "Auto (and motorcycle) parts" --sub --evidence
      innograph societies industry:wenzhou-5-5:electrical --format json
    """
    from queries.serving import societies_serving

    with open_store(backend, data_dir) as store:
        result = societies_serving(store, industry, include_sub_industries=include_sub, as_of=as_of)
    rows = [
        [r.society.name, r.society.name_zh or "", f"{r.score:g}", ", ".join(r.channels), r.society.id]
        for r in result.results
    ]
    if fmt == "table":
        click.echo(f"Societies serving {result.industry.name} ({result.industry.id}): {result.total}\n")
    emit(rows, ["society", "name_zh", "score", "channels", "id"], fmt, result)
    if evidence and fmt == "table":
        for r in result.results:
            click.echo(f"\n{r.society.name}:")
            for p in r.paths:
                click.echo(f"  [{p.channel}, {p.weakest_basis}] {p.sentence}")


@cli.command()
@click.option("--taxonomy", default=None, help="Industries of a taxonomy, e.g. wenzhou-5+5 or gbt4754.")
@click.option("--level", default=None, help="Only one level: section, division, cluster …")
@click.option("--region", default=None, help="Only industries with enterprises or parks in a region.")
@click.option("--industry", "industries", multiple=True, help="Explicit industries (repeatable).")
@click.option(
    "--thin-below",
    type=click.IntRange(1, 100),
    default=2,
    show_default=True,
    help="Fewer serving societies than this is 'thin'.",
)
@as_of_option
@format_option
@backend_options
def gaps(
    taxonomy: str | None,
    level: str | None,
    region: str | None,
    industries: tuple[str, ...],
    thin_below: int,
    as_of: str | None,
    fmt: str,
    backend: str | None,
    data_dir: Path | None,
) -> None:
    """Gap analysis: demand beside supply per industry, most severe gap first.

    \b
    Examples:
      innograph gaps --taxonomy wenzhou-5+5
      innograph gaps --taxonomy gbt4754 --level division --format csv -o gaps.csv   # opens in Excel
    """
    from queries.gaps import Scope, gap_analysis, gaps_csv

    if not (taxonomy or level or region or industries):
        taxonomy = "wenzhou-5+5"
    scope = Scope(taxonomy=taxonomy, level=level, region=region, industries=list(industries))
    with open_store(backend, data_dir) as store:
        result = gap_analysis(store, scope, thin_below=thin_below, as_of=as_of)
    if fmt == "csv":
        deliver(gaps_csv(result))
        return
    rows = [
        [
            r.industry.name,
            r.status,
            f"{r.severity:g}",
            r.demand_total,
            r.supply.societies,
            r.supply.talents,
            r.supply.agreements,
            r.industry.id,
        ]
        for r in result.rows
    ]
    if fmt == "table":
        summary = ", ".join(f"{n} {s}" for s, n in result.summary.items())
        click.echo(f"{result.count} industries: {summary}\n")
    emit(
        rows,
        ["industry", "status", "severity", "demand", "societies", "talents", "agreements", "id"],
        fmt,
        result,
    )


@cli.command()
@click.argument("industry")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option(
    "--explain",
    metavar="SOCIETY",
    help="Say why this society (id or name) is, or is not, suggested.",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default="en",
    show_default=True,
    help="Language of the reasons.",
)
@format_option
@backend_options
def recommend(
    industry: str,
    limit: int,
    explain: str | None,
    lang: str,
    fmt: str,
    backend: str | None,
    data_dir: Path | None,
) -> None:
    """Societies worth approaching for an INDUSTRY they do not serve yet, with reasons.

    Candidates come from the societies' fields of expertise (the industry, its division,
    its section), from serving related industries and from member talents; a society
    already party to an agreement ranks above a stranger with the same expertise.

    \b
    Examples:
      innograph recommend 泵阀
      innograph recommend 泵阀 --explain 中国电子学会
      innograph recommend 智能装备 --lang zh --format csv > approach.csv
    """
    from queries.recommend import recommendations

    with open_store(backend, data_dir) as store:
        result = recommendations(store, industry, limit=limit, explain=explain)
    zh = lang == "zh"
    if fmt == "table":
        named = (result.industry.name_zh or result.industry.name) if zh else result.industry.name
        head = (
            f"建议对接{named}的学会：{result.total}个候选"
            if zh
            else f"Societies to approach for {named}: {result.total} candidates"
        )
        click.echo(f"{head} ({result.industry.id})\n")
    rows = [
        [
            r.rank,
            (r.society.name_zh or r.society.name) if zh else r.society.name,
            f"{r.score:g}",
            ("；" if zh else "; ").join(x.text_zh if zh else x.text for x in r.reasons),
            r.society.id,
        ]
        for r in result.results
    ]
    headers = ["排名", "学会", "得分", "理由", "id"] if zh else ["rank", "society", "score", "reasons", "id"]
    emit(rows, headers, fmt, result)
    if result.explanation is not None and fmt == "table":
        click.echo("\n" + (result.explanation.text_zh if zh else result.explanation.text))


@cli.command()
@click.argument("source")
@click.argument("target")
@click.option("-k", type=click.IntRange(1, 20), default=3, show_default=True, help="How many chains.")
@click.option("--max-hops", type=click.IntRange(1, 6), default=4, show_default=True)
@format_option
@backend_options
def path(
    source: str, target: str, k: int, max_hops: int, fmt: str, backend: str | None, data_dir: Path | None
) -> None:
    """The best chains between SOURCE and TARGET, each told as a sentence.

    \b
    Example:
      innograph path "China SAE" 电气
    """
    from queries.explore import paths_between

    with open_store(backend, data_dir) as store:
        result = paths_between(store, source, target, k=k, max_hops=max_hops)
    rows = [[len(p.steps), p.weakest_basis, p.sentence] for p in result.paths]
    emit(rows, ["hops", "weakest basis", "chain"], fmt, result)


@cli.command(name="search")
@click.argument("text")
@click.option("--kind", "kinds", multiple=True, help="Only this kind (repeatable): Society, Industry …")
@click.option("--limit", type=click.IntRange(1, 200), default=10, show_default=True)
@format_option
@backend_options
def search_command(
    text: str, kinds: tuple[str, ...], limit: int, fmt: str, backend: str | None, data_dir: Path | None
) -> None:
    """Find entities by English or Chinese name, pinyin, alias or abbreviation; typos are tolerated.

    \b
    Examples:
      innograph search CMES
      innograph search jixie --kind Society
    """
    from graph_service.core.ontology import NodeKind
    from queries.search import search

    try:
        wanted = [NodeKind(k.capitalize()) for k in kinds]
    except ValueError:
        raise click.BadParameter(f"kinds are {', '.join(NodeKind)}", param_hint="--kind") from None
    with open_store(backend, data_dir) as store:
        result = search(store, text, kinds=wanted, limit=limit)
    rows = [[h.node.name, h.node.kind.value, f"{h.score:g}", h.matched, h.node.id] for h in result.results]
    emit(rows, ["name", "kind", "score", "matched", "id"], fmt, result)


@cli.command()
@click.argument("view", type=click.Choice(["ego", "industry", "gaps", "matrix", "path", "overview"]))
@click.argument("entity", required=False)
@click.argument("target", required=False)
@click.option("--depth", type=click.IntRange(1, 3), default=1, show_default=True, help="Hops of an ego view.")
@click.option(
    "--taxonomy", default="wenzhou-5+5", show_default=True, help="Scope of the gaps and matrix views."
)
@click.option(
    "--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True, help="Label language."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="HTML file to write (default: innograph-<view>.html).",
)
@backend_options
def view(
    view: str,
    entity: str | None,
    target: str | None,
    depth: int,
    taxonomy: str,
    lang: str,
    output: Path | None,
    backend: str | None,
    data_dir: Path | None,
) -> None:
    """Write an interactive network view as one self-contained HTML file that works offline.

    \b
    Examples:
      innograph view ego society:cmes --depth 2 -o cmes.html
      innograph view industry 电气 --lang zh
      innograph view path "China SAE" 电气
      innograph view gaps --taxonomy wenzhou-5+5
    """
    from graph_service.app.web import view_html

    with open_store(backend, data_dir) as store:
        html = view_html(
            store,
            view,
            lang="zh" if lang == "zh" else "en",
            entity=entity,
            target=target,
            depth=depth,
            taxonomy=taxonomy,
        )
    out = output or Path(f"innograph-{view}.html")
    out.write_text(html, encoding="utf-8")
    click.echo(f"wrote {out} ({len(html.encode()) / 1024:.0f} KiB); open it in a browser, no network needed")


@cli.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for all)."
)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 32), default=1, show_default=True)
@click.option("--no-load", is_flag=True, help="Do not load the bundled data into an empty store.")
@backend_options
def serve(
    host: str, port: int, workers: int, no_load: bool, backend: str | None, data_dir: Path | None
) -> None:
    """Start the API and the planners' web pages; loads the bundled Wenzhou data into an empty store first.

    \b
    Examples:
      innograph serve
      INNOGRAPH_API_KEY=secret innograph serve --host 0.0.0.0 --port 8080
    """
    import os

    import uvicorn

    settings = settings_from(backend, data_dir)
    from graph_service.app.api.deps import key_problem

    problem = key_problem(settings)
    if problem:  # a key that can never match would leave the write routes silently unusable
        click.echo(f"error: {problem}", err=True)
        sys.exit(2)
    if not no_load:
        with open_store(backend, data_dir) as store:
            if store.counts().total_nodes == 0:
                from loaders.load import WENZHOU_DATASET, load_dataset

                click.echo("The store is empty: loading the bundled Wenzhou data …")
                report = load_dataset(WENZHOU_DATASET, store)
                click.echo(f"Loaded the bundled Wenzhou data ({report.summary.changed:,} items).")
            else:
                counts = store.counts()
                click.echo(
                    f"Serving the store as it is: {counts.total_nodes:,} nodes, "
                    f"{counts.total_relationships:,} relationships (`innograph load` adds data)."
                )
    os.environ["INNOGRAPH_BACKEND"] = settings.backend
    os.environ["INNOGRAPH_DATA_DIR"] = str(settings.data_dir)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - only for the printed address
    click.echo(f"innograph is serving at http://{shown}:{port}/  (API docs: http://{shown}:{port}/docs)")
    uvicorn.run(
        "graph_service.app.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


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
    except Ambiguous as exc:
        # a name several entities answer to: the candidates, best first, one a line
        click.echo(f"error: {exc.message}:", err=True)
        for rank, candidate in enumerate(exc.suggestions, 1):
            click.echo(f"  {rank}. {candidate}", err=True)
        sys.exit(2)
    except NotFound as exc:
        hint = f"; did you mean {', '.join(exc.suggestions[:3])}?" if exc.suggestions else ""
        click.echo(f"error: {exc.message}{hint}", err=True)
        sys.exit(2)
    except GraphServiceError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
