"""The six views, each drawn from the answer of one query (never from the store itself).

========  ===========================  =============================================================
view      drawn from                    what it shows
========  ===========================  =============================================================
ego       ``Neighborhood``              an entity and its neighbours, ring by ring (depth 1–3)
industry  ``SocietiesServing``          an industry, its societies in one sector per channel, and the
                                        agreements, programs and talents that carry the evidence
gaps      ``GapAnalysis``               the industries of a scope coloured by status, sized by demand
matrix    ``CoverageMatrix``            industries × kinds of support, as a graph beside a table
path      ``Paths``                     the chains between two entities, left to right
overview  nodes + relationships lists   the whole graph; aggregated by kind above a threshold
========  ===========================  =============================================================

Each function returns a complete, self-contained HTML document (see :mod:`visualizations.render`).

Example:
    >>> html = ego_view(neighborhood(store, "society:cmes", depth=2), lang="zh")  # doctest: +SKIP
    >>> Path("cmes.html").write_text(html, encoding="utf-8")  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import quote, urlencode

from graph_service.core.memory import collector_paused
from graph_service.core.ontology import Basis, NodeKind, RelType
from queries.explore import GraphEdge, GraphGroup, GraphNode, Neighborhood, Paths
from queries.gaps import CoverageMatrix, GapAnalysis, Scope
from queries.models import EvidencePath, EvidenceStep, NodeRef
from queries.serving import SocietiesServing
from visualizations.i18n import (
    Lang,
    channel_label,
    check_lang,
    kind_label,
    pick_name,
    rel_label,
    status_label,
    support_label,
    t,
)
from visualizations.layout import (
    TAU,
    chain_layout,
    cluster_layout,
    column_layout,
    radial_layout,
    sector_fill,
)
from visualizations.model import (
    Cell,
    Item,
    LegendEntry,
    Links,
    Section,
    Table,
    VEdge,
    View,
    VNode,
    node_tooltip,
)
from visualizations.render import render
from visualizations.style import EDGE_COLORS, FALLBACK_EDGE, KIND_STYLES, STATUS_COLORS, style_of

__all__ = [
    "AGGREGATE_ABOVE",
    "coverage_view",
    "ego_view",
    "gap_map_view",
    "matrix_view",
    "overview_view",
    "path_view",
]

AGGREGATE_ABOVE = 2000
"""The overview draws up to this many entities one by one; above it, one node per kind."""
MAX_EGO_DEPTH = 3
_KIND_ORDER = {kind.value: i for i, kind in enumerate(NodeKind)}
_REL_ORDER = {name: i for i, name in enumerate(EDGE_COLORS)}
_CHANNELS = ("direct", "agreement", "program", "talent")
_SUPPORT_COLORS = ("#CC79A7", "#7B4EA3", "#B59B00", "#8c6d00", "#56B4E9", "#E69F00", "#0072B2", "#009E73")


@collector_paused()
def ego_view(
    result: Neighborhood,
    *,
    lang: str = "en",
    links: Links | None = None,
    api_path: str | None = None,
    max_depth: int = MAX_EGO_DEPTH,
    nonce: str | None = None,
) -> str:
    """An entity and its neighbours, ring by ring, with +/- depth links when ``links.depth`` has them.

    Args:
        result: the answer of ``queries.explore.neighborhood``.
        lang: ``en`` or ``zh`` for labels (each name falls back to the other language).
        links: where the page's links point (entity pages, re-centring, other depths, the API).
        api_path: the API call returning the same data (default: the neighbourhood route).
        max_depth: the deepest depth the page may step to.
        nonce: a Content-Security-Policy nonce for the inline scripts.

    Returns:
        The HTML document.
    """
    language = check_lang(lang)
    centre = result.center
    layers: dict[int, list[GraphNode]] = defaultdict(list)
    for node in result.nodes:
        layers[node.depth].append(node)
    for members in layers.values():
        members.sort(
            key=lambda n: (_KIND_ORDER.get(n.kind.value, 99), pick_name(n.name, n.name_zh, language), n.id)
        )
    neighbours = _neighbours(
        [*((e.source, e.target) for e in result.edges), *((g.id, g.hub) for g in result.groups)]
    )
    rings = [[n.id for n in layers[d]] for d in sorted(layers)]
    for group in result.groups:  # a group sits on the ring of its members, beside its hub's other ties
        while len(rings) <= group.depth:
            rings.append([])
        rings[group.depth].append(group.id)
    pos = radial_layout([ring for ring in rings if ring], neighbours)
    labels = {n.id: pick_name(n.name, n.name_zh, language) for n in result.nodes}
    nodes = [
        VNode(
            id=n.id,
            label=labels[n.id],
            group=n.kind.value,
            kind=n.kind.value,
            title=node_tooltip(n.name, n.name_zh, n.kind.value, n.id, language, n.properties),
            x=pos[n.id][0],
            y=pos[n.id][1],
            size=26.0 if n.depth == 0 else 16.0 if n.depth == 1 else 11.0,
            names=_other_names(labels[n.id], n.name, n.name_zh, n.properties.get("aliases")),
            ref=n.id,
        )
        for n in result.nodes
    ]
    edges = [_step_edge(e.evidence, language) for e in result.edges]
    group_nodes, group_edges = _folded_groups(result.groups, labels, pos, language)
    nodes += group_nodes
    edges += group_edges
    _curve_parallels(edges)
    name = labels.get(centre.id, pick_name(centre.name, centre.name_zh, language))
    notices = [t("truncated", language, limit=len(result.nodes))] if result.truncated else []
    view = View(
        kind="ego",
        lang=language,
        title=t("ego_title", language, name=name),
        subtitle=t("ego_subtitle", language, depth=result.depth, name=name),
        nodes=nodes,
        edges=edges,
        legend=_legend(nodes, language),
        edge_legend=_edge_legend(edges, language),
        pinned=[centre.id],
        notices=notices,
        api_path=api_path
        or f"/api/entities/{quote(centre.id, safe='')}/neighborhood?{urlencode({'depth': result.depth})}",
        links=links or Links(),
        depth=result.depth,
        max_depth=max_depth,
    )
    return render(view, nonce=nonce)


@collector_paused()
def coverage_view(
    result: SocietiesServing,
    *,
    lang: str = "en",
    links: Links | None = None,
    api_path: str | None = None,
    nonce: str | None = None,
) -> str:
    """An industry at the centre, and around it one sector per channel: the societies serving it
    through that channel on the outside, the agreements, programs, talents and enterprises that
    carry the evidence between them.

    Args:
        result: the answer of ``queries.serving.societies_serving``.
        lang: ``en`` or ``zh``.
        links: where the page's links point.
        api_path: the API call returning the same data (default: the societies-serving route).
        nonce: a Content-Security-Policy nonce for the inline scripts.
    """
    language = check_lang(lang)
    industry = result.industry
    refs: dict[str, NodeRef] = {industry.id: industry}
    for sub in result.industries:
        refs.setdefault(sub.id, sub)
    # each node's sector is the first channel it appears in; its ring, its distance from the industry
    sector_of: dict[str, str] = {}
    ring_of: dict[str, int] = {}
    steps: dict[tuple[str, str, str], EvidenceStep] = {}
    by_channel: dict[str, list[tuple[NodeRef, EvidencePath]]] = defaultdict(list)
    societies: set[str] = set()
    for entry in result.results:
        societies.add(entry.society.id)
        for path in entry.paths:
            by_channel[path.channel or "direct"].append((entry.society, path))
    industry_ids = result_ids(result.industries)
    for name in _CHANNELS:
        for _, path in by_channel.get(name, []):
            last = len(path.nodes) - 1
            for index, ref in enumerate(path.nodes):
                refs.setdefault(ref.id, ref)
                if ref.id in industry_ids:
                    continue
                if ref.id not in sector_of:
                    sector_of[ref.id] = name
                if sector_of[ref.id] == name:
                    ring_of[ref.id] = min(ring_of.get(ref.id, 99), last - index)
            for step in path.steps:
                steps.setdefault((step.source, step.type.value, step.target), step)
    channels = [c for c in _CHANNELS if any(s == c for s in sector_of.values())]
    labels = {i: pick_name(r.name, r.name_zh, language) for i, r in refs.items()}
    pos: dict[str, tuple[float, float]] = {industry.id: (0.0, 0.0)}
    subs = [r.id for r in result.industries if r.id != industry.id]
    if subs:
        pos.update(sector_fill(subs, 0.0, TAU, 110.0, 70.0)[0])
    captions: list[VNode] = []
    width = TAU / max(1, len(channels))
    for c_index, sector in enumerate(channels):
        start, end = c_index * width + 0.06, (c_index + 1) * width - 0.06
        members = [i for i, ch in sector_of.items() if ch == sector]
        outer = max(ring_of[i] for i in members)
        for i in members:
            if i in societies:
                ring_of[i] = outer  # societies on the outside of their sector
        radius = 230.0
        for ring in range(1, outer + 1):
            ids = sorted(
                (i for i in members if ring_of[i] == ring),
                key=lambda i: (_KIND_ORDER.get(refs[i].kind.value, 99), labels[i], i),
            )
            if not ids:
                continue
            placed, last_radius = sector_fill(ids, start, end, radius, 75.0)
            pos.update(placed)
            radius = last_radius + 170.0
        count = len({society.id for society, _ in by_channel[sector]})
        mid = (start + end) / 2.0
        r = radius + 10.0
        captions.append(
            VNode(
                id=f"caption:{sector}",
                label=f"{channel_label(sector, language)} ({count})",
                group="caption",
                title="",
                x=round(r * math.cos(mid - math.pi / 2.0), 1),
                y=round(r * math.sin(mid - math.pi / 2.0), 1),
                caption=True,
            )
        )
    nodes: list[VNode] = []
    for node_id in sorted(pos, key=lambda i: (i != industry.id, _KIND_ORDER.get(refs[i].kind.value, 99), i)):
        ref = refs[node_id]
        extra = (channel_label(sector_of[node_id], language),) if node_id in sector_of else ()
        nodes.append(
            VNode(
                id=node_id,
                label=labels[node_id],
                group=ref.kind.value,
                kind=ref.kind.value,
                title=node_tooltip(ref.name, ref.name_zh, ref.kind.value, ref.id, language, extra=extra),
                x=pos[node_id][0],
                y=pos[node_id][1],
                size=28.0 if node_id == industry.id else 17.0 if node_id in societies else 12.0,
                names=_other_names(labels[node_id], ref.name, ref.name_zh, None),
                ref=node_id,
            )
        )
    edges = [_step_edge(step, language) for _, step in sorted(steps.items())]
    _curve_parallels(edges)
    sections = [
        Section(
            title=f"{channel_label(channel, language)} ({len({s.id for s, _ in by_channel[channel]})})",
            items=tuple(_society_items(by_channel[channel], labels, language, links)),
        )
        for channel in _CHANNELS
        if by_channel.get(channel)
    ]
    name = labels[industry.id]
    notices = [] if result.results else [t("empty", language)]
    view = View(
        kind="industry",
        lang=language,
        title=t("coverage_title", language, name=name),
        subtitle=t("coverage_subtitle", language, count=result.total),
        nodes=[*nodes, *captions],
        edges=edges,
        legend=_legend(nodes, language),
        edge_legend=_edge_legend(edges, language),
        pinned=[industry.id],
        notices=notices,
        api_path=api_path or f"/api/industries/{quote(industry.id, safe='')}/societies",
        links=links or Links(),
        sections=sections,
    )
    return render(view, nonce=nonce)


@collector_paused()
def gap_map_view(
    result: GapAnalysis,
    *,
    lang: str = "en",
    links: Links | None = None,
    api_path: str | None = None,
    nonce: str | None = None,
) -> str:
    """The industries of a scope coloured by status (uncovered, thin, covered), sized by demand,
    joined to the societies that serve them by any channel.

    Args:
        result: the answer of ``queries.gaps.gap_analysis``.
        lang: ``en`` or ``zh``.
        links: where the page's links point.
        api_path: the API call returning the same data (default: the gaps route for the scope).
        nonce: a Content-Security-Policy nonce for the inline scripts.
    """
    language = check_lang(lang)
    industries = [row.industry.id for row in result.rows]
    society_refs: dict[str, NodeRef] = {}
    pairs: list[tuple[str, str]] = []
    for row in result.rows:
        for society in row.societies:
            society_refs.setdefault(society.id, society)
            pairs.append((society.id, row.industry.id))
    neighbours = _neighbours(pairs)
    society_ids = sorted(
        society_refs, key=lambda i: (pick_name(society_refs[i].name, society_refs[i].name_zh, language), i)
    )
    pos = radial_layout([industries, society_ids], neighbours, spacing=130.0, first_gap=260.0)
    labels: dict[str, str] = {}
    nodes: list[VNode] = []
    for row in result.rows:
        ref = row.industry
        labels[ref.id] = pick_name(ref.name, ref.name_zh, language)
        channels = ", ".join(
            f"{channel_label(c, language)} {row.supply.by_channel.get(c, 0)}" for c in _CHANNELS
        )
        extra = (
            f"{t('status', language)}: {status_label(row.status, language)} · severity {row.severity:g}",
            f"{t('demand', language)}: {row.demand_total} (enterprises {row.demand.enterprises}, "
            f"parks {row.demand.parks}, programs {row.demand.programs})",
            f"{t('societies', language)}: {row.supply.societies} ({channels})",
            f"talents {row.supply.talents} · agreements {row.supply.agreements}",
        )
        nodes.append(
            VNode(
                id=ref.id,
                label=labels[ref.id],
                group=f"status:{row.status}",
                kind=ref.kind.value,
                title=node_tooltip(ref.name, ref.name_zh, ref.kind.value, ref.id, language, extra=extra),
                x=pos[ref.id][0],
                y=pos[ref.id][1],
                size=round(min(60.0, 14.0 + 6.0 * math.sqrt(row.demand_total)), 1),
                names=_other_names(labels[ref.id], ref.name, ref.name_zh, None),
                ref=ref.id,
            )
        )
    for society_id in society_ids:
        ref = society_refs[society_id]
        labels[ref.id] = pick_name(ref.name, ref.name_zh, language)
        nodes.append(
            VNode(
                id=ref.id,
                label=labels[ref.id],
                group=ref.kind.value,
                kind=ref.kind.value,
                title=node_tooltip(ref.name, ref.name_zh, ref.kind.value, ref.id, language),
                x=pos[ref.id][0],
                y=pos[ref.id][1],
                size=11.0,
                names=_other_names(labels[ref.id], ref.name, ref.name_zh, None),
                ref=ref.id,
            )
        )
    verb = t("serving_any", language)
    edges = [
        VEdge(
            source=s,
            target=i,
            type="serving",
            verb=verb,
            type_text="SERVES | PARTY_TO→COVERS | PARTICIPATES_IN→SERVES | MEMBER_OF←ADVISES",
            color=EDGE_COLORS["SERVES"],
        )
        for s, i in pairs
    ]
    sections = []
    for status in ("uncovered", "thin", "covered"):
        rows = [r for r in result.rows if r.status == status]
        if rows:
            sections.append(
                Section(
                    title=f"{status_label(status, language)} ({len(rows)})",
                    items=tuple(
                        Item(
                            text=labels[r.industry.id],
                            href=_href(links, r.industry.id, industry=True),
                            badge=f"{t('demand', language)} {r.demand_total} · {t('societies', language)} {r.supply.societies}",
                        )
                        for r in rows
                    ),
                )
            )
    view = View(
        kind="gaps",
        lang=language,
        title=t("gaps_title", language) + _scope_words(result.scope),
        subtitle=t("gaps_subtitle", language),
        nodes=nodes,
        edges=edges,
        legend=_legend(nodes, language),
        edge_legend=[
            LegendEntry("serving", verb, EDGE_COLORS["SERVES"], "line", EDGE_COLORS["SERVES"], len(edges))
        ]
        if edges
        else [],
        notices=[] if result.rows else [t("empty", language)],
        api_path=api_path or f"/api/gaps?{_scope_query(result.scope, thin_below=result.thin_below)}",
        links=links or Links(),
        sections=sections,
    )
    return render(view, nonce=nonce)


@collector_paused()
def matrix_view(
    result: CoverageMatrix,
    *,
    lang: str = "en",
    links: Links | None = None,
    api_path: str | None = None,
    nonce: str | None = None,
) -> str:
    """Industries × kinds of support: a table of counts beside a graph joining each industry to the
    agreements, programs, parks and talents behind the counts (one column per kind of support).

    Args:
        result: the answer of ``queries.gaps.coverage_matrix``.
        lang: ``en`` or ``zh``.
        links: where the page's links point.
        api_path: the API call returning the same data (default: the coverage route for the scope).
        nonce: a Content-Security-Policy nonce for the inline scripts.
    """
    language = check_lang(lang)
    columns = list(result.columns)
    colors = {c: _SUPPORT_COLORS[i % len(_SUPPORT_COLORS)] for i, c in enumerate(columns)}
    refs: dict[str, NodeRef] = {}
    column_of: dict[str, str] = {}
    pairs: list[tuple[str, str, str]] = []
    for row in result.rows:
        refs[row.industry.id] = row.industry
        for column in columns:
            cell = row.cells.get(column)
            if cell is None:
                continue
            for entity in cell.entities:
                refs.setdefault(entity.id, entity)
                column_of.setdefault(entity.id, column)
                pairs.append((entity.id, column, row.industry.id))
    labels = {i: pick_name(r.name, r.name_zh, language) for i, r in refs.items()}
    industry_ids = [row.industry.id for row in result.rows]
    by_column = [
        sorted((i for i, c in column_of.items() if c == column), key=lambda i: (labels[i], i))
        for column in columns
    ]
    neighbours = _neighbours((s, i) for s, _, i in pairs)
    pos = column_layout([industry_ids, *[col for col in by_column if col]], neighbours)
    industry_set = set(industry_ids)
    nodes = [
        VNode(
            id=i,
            label=labels[i],
            group=refs[i].kind.value,
            kind=refs[i].kind.value,
            title=node_tooltip(
                refs[i].name,
                refs[i].name_zh,
                refs[i].kind.value,
                i,
                language,
                extra=() if i in industry_set else (support_label(column_of[i], language),),
            ),
            x=pos[i][0],
            y=pos[i][1],
            size=18.0 if i in industry_set else 12.0,
            names=_other_names(labels[i], refs[i].name, refs[i].name_zh, None),
            ref=i,
        )
        for i in [*industry_ids, *[i for col in by_column for i in col]]
    ]
    captions = []
    used = [c for c, col in zip(columns, by_column, strict=True) if col]
    for n, column in enumerate(used, start=1):
        top = min(pos[i][1] for i in by_column[columns.index(column)])
        captions.append(
            VNode(
                id=f"caption:{column}",
                label=support_label(column, language),
                group="caption",
                title="",
                x=round(n * 320.0, 1),
                y=round(min(top, min((pos[i][1] for i in industry_ids), default=0.0)) - 70.0, 1),
                caption=True,
            )
        )
    edges = [
        VEdge(
            source=s,
            target=i,
            type=column,
            verb=support_label(column, language),
            color=colors[column],
        )
        for s, column, i in pairs
    ]
    _curve_parallels(edges)
    table = Table(
        caption=t("matrix_table", language),
        columns=(t("industry", language), *(support_label(c, language) for c in columns)),
        rows=tuple(
            (
                Cell(text=labels[row.industry.id], href=_href(links, row.industry.id, industry=True)),
                *(
                    Cell(
                        text=str(row.cells[c].count) if c in row.cells else "–",
                        title=", ".join(
                            pick_name(e.name, e.name_zh, language) for e in row.cells[c].entities[:20]
                        )
                        if c in row.cells
                        else "",
                        level=_level(row.cells[c].count) if c in row.cells else None,
                    )
                    for c in columns
                ),
            )
            for row in result.rows
        ),
    )
    edge_counts = Counter(e.type for e in edges)
    view = View(
        kind="matrix",
        lang=language,
        title=t("matrix_title", language) + _scope_words(result.scope),
        subtitle=t("matrix_subtitle", language),
        nodes=[*nodes, *captions],
        edges=edges,
        legend=_legend(nodes, language),
        edge_legend=[
            LegendEntry(c, support_label(c, language), colors[c], "line", colors[c], edge_counts[c])
            for c in columns
            if edge_counts[c]
        ],
        notices=[] if result.rows else [t("empty", language)],
        api_path=api_path or f"/api/coverage?{_scope_query(result.scope)}",
        links=links or Links(),
        table=table,
    )
    return render(view, nonce=nonce)


@collector_paused()
def path_view(
    result: Paths,
    *,
    lang: str = "en",
    links: Links | None = None,
    api_path: str | None = None,
    nonce: str | None = None,
) -> str:
    """The chains between two entities, left to right, each line labelled with its verb.

    Args:
        result: the answer of ``queries.explore.paths_between``.
        lang: ``en`` or ``zh``.
        links: where the page's links point.
        api_path: the API call returning the same data (default: the paths route).
        nonce: a Content-Security-Policy nonce for the inline scripts.
    """
    language = check_lang(lang)
    refs: dict[str, NodeRef] = {result.source.id: result.source, result.target.id: result.target}
    steps: dict[tuple[str, str, str], EvidenceStep] = {}
    for path in result.paths:
        for ref in path.nodes:
            refs.setdefault(ref.id, ref)
        for step in path.steps:
            steps.setdefault((step.source, step.type.value, step.target), step)
    chains = [[n.id for n in p.nodes] for p in result.paths] or [[result.source.id, result.target.id]]
    pos = chain_layout(chains)
    labels = {i: pick_name(r.name, r.name_zh, language) for i, r in refs.items()}
    ends = {result.source.id, result.target.id}
    nodes = [
        VNode(
            id=i,
            label=labels[i],
            group=refs[i].kind.value,
            kind=refs[i].kind.value,
            title=node_tooltip(refs[i].name, refs[i].name_zh, refs[i].kind.value, i, language),
            x=pos[i][0],
            y=pos[i][1],
            size=24.0 if i in ends else 15.0,
            names=_other_names(labels[i], refs[i].name, refs[i].name_zh, None),
            ref=i,
        )
        for i in sorted(pos, key=lambda i: (pos[i][0], pos[i][1], i))
    ]
    edges = []
    for _, step in sorted(steps.items()):
        edge = _step_edge(step, language)
        edge.label = rel_label(step.type, language)
        edges.append(edge)
    _curve_parallels(edges)
    source, target = labels[result.source.id], labels[result.target.id]
    sections = [
        Section(
            title=t("chains", language),
            items=tuple(
                Item(
                    text=_sentence(p, labels, language),
                    notes=(
                        f"{t('basis', language)}: {p.weakest_basis.value} · {len(p.steps)} hop(s)"
                        + (
                            f" · {t('score', language)} {result.scores[i]:.3g}"
                            if i < len(result.scores)
                            else ""
                        ),
                    ),
                )
                for i, p in enumerate(result.paths)
            ),
        )
    ]
    query = urlencode({"source": result.source.id, "target": result.target.id, "max_hops": result.max_hops})
    view = View(
        kind="path",
        lang=language,
        title=t("path_title", language, source=source, target=target),
        subtitle=t("path_subtitle_ranked", language, count=result.count),
        nodes=nodes,
        edges=edges,
        legend=_legend(nodes, language),
        edge_legend=_edge_legend(edges, language),
        pinned=sorted(ends),
        notices=[] if result.paths else [t("no_path", language, hops=result.max_hops)],
        api_path=api_path or f"/api/paths?{query}",
        links=links or Links(),
        sections=sections if result.paths else [],
    )
    return render(view, nonce=nonce)


@collector_paused()
def overview_view(
    nodes: Sequence[GraphNode],
    edges: Sequence[GraphEdge],
    *,
    lang: str = "en",
    links: Links | None = None,
    api_path: str | None = "/api/stats",
    aggregate_above: int = AGGREGATE_ABOVE,
    nonce: str | None = None,
) -> str:
    """The whole graph: every entity grouped by kind, or, above ``aggregate_above`` entities,
    one node per kind and one line per (kind, relationship type, kind) with its count — and the
    page says so.

    Args:
        nodes: every node of the projection (``depth`` is ignored).
        edges: every relationship among them.
        lang: ``en`` or ``zh``.
        links: where the page's links point.
        api_path: the API call returning related data (default: the counts route).
        aggregate_above: the most entities drawn one by one.
        nonce: a Content-Security-Policy nonce for the inline scripts.
    """
    language = check_lang(lang)
    if len(nodes) > aggregate_above:
        return _aggregated_overview(
            nodes, edges, language, links or Links(), api_path, aggregate_above, nonce
        )
    degree: Counter[str] = Counter()
    for e in edges:
        degree[e.source] += 1
        degree[e.target] += 1
    groups: dict[str, list[GraphNode]] = defaultdict(list)
    for n in nodes:
        groups[n.kind.value].append(n)
    ordered = [
        sorted(groups[k], key=lambda n: (-degree[n.id], n.id))
        for k in sorted(groups, key=lambda k: _KIND_ORDER.get(k, 99))
    ]
    pos = cluster_layout([[n.id for n in g] for g in ordered], spacing=45.0)
    labels = {n.id: pick_name(n.name, n.name_zh, language) for n in nodes}
    vnodes = [
        VNode(
            id=n.id,
            label=labels[n.id],
            group=n.kind.value,
            kind=n.kind.value,
            title=node_tooltip(n.name, n.name_zh, n.kind.value, n.id, language, n.properties),
            x=pos[n.id][0],
            y=pos[n.id][1],
            size=round(10.0 + min(20.0, 2.0 * math.sqrt(degree[n.id])), 1),
            names=_other_names(labels[n.id], n.name, n.name_zh, n.properties.get("aliases")),
            ref=n.id,
        )
        for g in ordered
        for n in g
    ]
    vedges = [_step_edge(e.evidence, language) for e in edges if e.source in labels and e.target in labels]
    _curve_parallels(vedges)
    view = View(
        kind="overview",
        lang=language,
        title=t("overview_title", language),
        subtitle=t("overview_subtitle", language),
        nodes=vnodes,
        edges=vedges,
        legend=_legend(vnodes, language),
        edge_legend=_edge_legend(vedges, language),
        notices=[] if nodes else [t("empty", language)],
        api_path=api_path,
        links=links or Links(),
    )
    return render(view, nonce=nonce)


def result_ids(refs: Iterable[NodeRef]) -> set[str]:
    """The ids of some node references."""
    return {r.id for r in refs}


# ---------------------------------------------------------------------------
# helpers


def _aggregated_overview(
    nodes: Sequence[GraphNode],
    edges: Sequence[GraphEdge],
    lang: Lang,
    links: Links,
    api_path: str | None,
    threshold: int,
    nonce: str | None,
) -> str:
    kind_of = {n.id: n.kind.value for n in nodes}
    counts = Counter(kind_of.values())
    triples: Counter[tuple[str, str, str]] = Counter()
    for e in edges:
        sk, tk = kind_of.get(e.source), kind_of.get(e.target)
        if sk and tk:
            triples[(sk, e.type.value, tk)] += 1
    by_rel: Counter[str] = Counter()
    for (_, rel, _), c in triples.items():
        by_rel[rel] += c
    kinds = sorted(counts, key=lambda k: _KIND_ORDER.get(k, 99))
    radius = max(260.0, 90.0 * len(kinds) / math.pi)
    biggest = max(counts.values())
    vnodes = []
    for i, kind in enumerate(kinds):
        a = TAU * i / len(kinds) - math.pi / 2.0
        by_type = [
            f"{rel_label(r, lang)} ({r}): {c:,}"
            for (sk, r, tk), c in sorted(triples.items())
            if kind in (sk, tk)
        ]
        vnodes.append(
            VNode(
                id=f"kind:{kind}",
                label=f"{kind_label(kind, lang)} ({counts[kind]:,})",
                group=kind,
                kind=kind,
                title="\n".join(
                    [
                        f"{kind_label(kind, lang)} · {counts[kind]:,}",
                        t("relationships_by_type", lang),
                        *by_type,
                    ]
                ),
                x=round(radius * math.cos(a), 1),
                y=round(radius * math.sin(a), 1),
                size=round(14.0 + 36.0 * math.sqrt(counts[kind] / biggest), 1),
            )
        )
    vedges = []
    for (sk, rel, tk), c in sorted(triples.items()):
        verb = rel_label(rel, lang)
        vedges.append(
            VEdge(
                source=f"kind:{sk}",
                target=f"kind:{tk}",
                type=rel,
                verb=verb,
                title=f"{kind_label(sk, lang)} — {verb} → {kind_label(tk, lang)}\n{rel}: {c:,}",
                color=EDGE_COLORS.get(rel, FALLBACK_EDGE),
                label=f"{c:,}",
                width=round(1.0 + 2.0 * math.log10(c), 1),
            )
        )
    _curve_parallels(vedges)
    view = View(
        kind="overview",
        lang=lang,
        title=t("overview_title", lang),
        subtitle=t("overview_aggregated", lang, nodes=f"{len(nodes):,}", edges=f"{len(edges):,}"),
        nodes=vnodes,
        edges=vedges,
        legend=[
            LegendEntry(
                k, kind_label(k, lang), style_of(k).color, style_of(k).shape, style_of(k).border, counts[k]
            )
            for k in kinds
        ],
        edge_legend=[
            LegendEntry(
                r,
                rel_label(r, lang),
                EDGE_COLORS.get(r, FALLBACK_EDGE),
                "line",
                EDGE_COLORS.get(r, FALLBACK_EDGE),
                c,
            )
            for r, c in sorted(by_rel.items(), key=lambda rc: (_REL_ORDER.get(rc[0], 99), rc[0]))
        ],
        notices=[
            t(
                "aggregated",
                lang,
                nodes=f"{len(nodes):,}",
                edges=f"{len(edges):,}",
                threshold=f"{threshold:,}",
            )
        ],
        api_path=api_path,
        links=links,
        aggregated=True,
    )
    return render(view, nonce=nonce)


def _folded_groups(
    groups: Sequence[GraphGroup],
    labels: Mapping[str, str],
    pos: Mapping[str, tuple[float, float]],
    lang: Lang,
) -> tuple[list[VNode], list[VEdge]]:
    """Each folded group as one node joined to its hub, and its listed members (placed outward
    from the group, hidden until the page expands it) with their lines to the hub."""
    nodes: list[VNode] = []
    edges: list[VEdge] = []
    placed: set[str] = set(labels)
    for group in groups:
        hub = labels.get(group.hub, group.hub)
        label = _group_label(group, lang)
        verb = rel_label(group.type, lang)
        x, y = pos[group.id]
        title = "\n".join(
            [
                label,
                t(
                    "group_hint",
                    lang,
                    count=group.count,
                    hub=hub,
                    separate=group.count - group.folded,
                    shown=len(group.members),
                ),
            ]
        )
        nodes.append(
            VNode(
                id=group.id,
                label=label,
                group=group.kind.value,
                kind=group.kind.value,
                title=title,
                x=x,
                y=y,
                size=24.0,
                members=tuple(m.id for m in group.members),
            )
        )
        ends = (group.id, group.hub) if group.direction == "in" else (group.hub, group.id)
        edges.append(
            VEdge(
                source=ends[0],
                target=ends[1],
                type=group.type.value,
                verb=verb,
                title=f"{labels.get(ends[0], label)} — {verb} → {labels.get(ends[1], label)}",
                color=EDGE_COLORS.get(group.type.value, FALLBACK_EDGE),
                label=f"{group.count}",
                width=3.0,
            )
        )
        angle = math.atan2(x, -y)  # 0 at the top, clockwise, as the layouts measure it
        fresh = [m for m in group.members if m.id not in placed]
        spots, _ = sector_fill(
            [m.id for m in fresh], angle - 0.45, angle + 0.45, math.hypot(x, y) + 110.0, 55.0
        )
        for member in fresh:
            placed.add(member.id)
            member_label = pick_name(member.name, member.name_zh, lang)
            nodes.append(
                VNode(
                    id=member.id,
                    label=member_label,
                    group=member.kind.value,
                    kind=member.kind.value,
                    title=node_tooltip(
                        member.name, member.name_zh, member.kind.value, member.id, lang, member.properties
                    ),
                    x=spots[member.id][0],
                    y=spots[member.id][1],
                    size=9.0,
                    names=_other_names(
                        member_label, member.name, member.name_zh, member.properties.get("aliases")
                    ),
                    ref=member.id,
                    member_of=group.id,
                )
            )
        for member in group.members:
            ends = (member.id, group.hub) if group.direction == "in" else (group.hub, member.id)
            edges.append(
                VEdge(
                    source=ends[0],
                    target=ends[1],
                    type=group.type.value,
                    verb=verb,
                    color=EDGE_COLORS.get(group.type.value, FALLBACK_EDGE),
                    member_of=group.id,
                )
            )
    return nodes, edges


def _group_label(group: GraphGroup, lang: Lang) -> str:
    """ "209 member societies", "209 个会员学会": the group's count and what its members are."""
    kinds = t(f"plural_{group.kind.value}", lang)
    if group.type is RelType.MEMBER_OF and group.direction == "in":
        return t("group_member_of", lang, count=group.count, kinds=kinds)
    key = "group_in" if group.direction == "in" else "group_out"
    return t(key, lang, count=group.count, kinds=kinds, verb=rel_label(group.type, lang))


def _neighbours(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for a, b in pairs:
        out[a].append(b)
        out[b].append(a)
    return out


def _other_names(label: str, name: str, name_zh: str | None, aliases: object) -> str:
    names = [name, name_zh or ""]
    if isinstance(aliases, list | tuple):
        names.extend(str(a) for a in aliases)
    seen = {label}
    out = []
    for n in names:
        if n and n not in seen:
            seen.add(n)
            out.append(n)
    return "\n".join(out)


def _step_edge(step: EvidenceStep, lang: Lang) -> VEdge:
    rel = step.type
    return VEdge(
        source=step.source,
        target=step.target,
        type=rel,
        verb=rel_label(rel, lang),
        evidence=step.evidence,
        document=step.document,
        basis=step.basis,
        since=step.since,
        color=EDGE_COLORS.get(rel, FALLBACK_EDGE),
        dashes=step.basis is Basis.INFERRED,
    )


def _curve_parallels(edges: list[VEdge]) -> None:
    """Bend the second and later lines between the same two nodes, so none hides another."""
    seen: dict[tuple[str, str], int] = {}
    for edge in edges:
        a, b = edge.source, edge.target
        pair = (a, b) if a < b else (b, a)
        k = seen.get(pair, 0)
        seen[pair] = k + 1
        if k:
            edge.curve = round(0.15 * k, 2)


def _legend(nodes: Sequence[VNode], lang: Lang) -> list[LegendEntry]:
    counts = Counter(n.group for n in nodes if not n.caption and not n.member_of)
    entries = []
    for group in sorted(counts, key=_group_order):
        if group.startswith("status:"):
            status = group.split(":", 1)[1]
            style = STATUS_COLORS[status]
            label = t(f"status_{status}", lang)
        else:
            style = KIND_STYLES.get(group) or style_of(group)
            label = kind_label(group, lang)
        entries.append(LegendEntry(group, label, style.color, style.shape, style.border, counts[group]))
    return entries


def _group_order(group: str) -> tuple[int, str]:
    if group.startswith("status:"):
        return (-10 + ["uncovered", "thin", "covered"].index(group.split(":", 1)[1]), group)
    return (_KIND_ORDER.get(group, 99), group)


def _edge_legend(edges: Sequence[VEdge], lang: Lang) -> list[LegendEntry]:
    counts = Counter(e.type for e in edges if not e.member_of)
    order = _REL_ORDER
    return [
        LegendEntry(
            rel,
            rel_label(rel, lang),
            EDGE_COLORS.get(rel, FALLBACK_EDGE),
            "line",
            EDGE_COLORS.get(rel, FALLBACK_EDGE),
            counts[rel],
        )
        for rel in sorted(counts, key=lambda r: (order.get(r, 99), r))
    ]


def _society_items(
    entries: Sequence[tuple[NodeRef, EvidencePath]],
    labels: Mapping[str, str],
    lang: Lang,
    links: Links | None,
) -> list[Item]:
    grouped: dict[str, list[EvidencePath]] = defaultdict(list)
    refs: dict[str, NodeRef] = {}
    for society, path in entries:
        grouped[society.id].append(path)
        refs[society.id] = society
    return [
        Item(
            text=labels.get(sid, refs[sid].name),
            href=_href(links, sid),
            notes=tuple(_sentence(p, labels, lang) for p in grouped[sid][:5]),
        )
        for sid in grouped
    ]


def _sentence(path: EvidencePath, labels: Mapping[str, str], lang: Lang) -> str:
    """A chain read aloud in the page's language, arrows showing each relationship's direction."""
    words = [labels.get(path.nodes[0].id, path.nodes[0].name)]
    for i, step in enumerate(path.steps):
        verb = rel_label(step.type, lang)
        words.append(f" —{verb}→ " if step.source == path.nodes[i].id else f" ←{verb}— ")
        nxt = path.nodes[i + 1]
        words.append(labels.get(nxt.id, nxt.name))
    return "".join(words)


def _href(links: Links | None, node_id: str, *, industry: bool = False) -> str | None:
    if links is None:
        return None
    template = (links.industry or links.entity) if industry else links.entity
    return template.replace("{id}", quote(node_id, safe="")) if template else None


def _level(count: int) -> int:
    return 0 if count == 0 else 1 if count == 1 else 2 if count <= 3 else 3


def _scope_query(scope: Scope, **extra: object) -> str:
    pairs: list[tuple[str, object]] = []
    for key in ("taxonomy", "level", "region"):
        value = getattr(scope, key)
        if value:
            pairs.append((key, value))
    pairs.extend(("industries", i) for i in scope.industries)
    pairs.extend((k, v) for k, v in extra.items() if v is not None)
    return urlencode(pairs)


def _scope_words(scope: Scope) -> str:
    parts = [p for p in (scope.taxonomy, scope.level, scope.region) if p]
    if scope.industries:
        parts.append(", ".join(scope.industries[:5]) + (" …" if len(scope.industries) > 5 else ""))
    return f" · {' · '.join(parts)}" if parts else ""
