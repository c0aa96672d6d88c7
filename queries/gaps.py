"""Where the ecosystem has holes: gap analysis and the coverage matrix over a scope of industries.

A **scope** is a set of industries: a taxonomy (``wenzhou-5+5``, ``gbt4754``), one
level of it (``division``), the industries whose enterprises sit in a region, or an
explicit list of ids.

**Demand** for an industry counts what needs support there: enterprises operating in
it, parks focusing on it, programs focusing on it, national production-base titles held
for it (programs of kind ``production_base``: 中国电器之都, 中国鞋都 …), and whether it is
on a priority list (an industry of level ``cluster``, such as Wenzhou's 5+5). **Supply**
counts who supports it: societies per channel of service, talents (advising its
enterprises or serving it), agreements covering it. Both include sub-industries.

Each figure is the ends of a path pattern (:data:`queries.serving.CHANNELS` for the
societies), read for every industry of the scope and all their sub-industries at once
(``GraphStore.path_ends_many``): the graph is walked once per pattern, not once per industry.

**Status**: ``uncovered`` when no society serves it by any channel, ``thin`` when
fewer than ``thin_below`` do, ``covered`` otherwise.

**Severity** is what a planner ranks by, most severe first::

    severity = (1 + demand score) / (1 + supply score)
    demand score = 1 × enterprises + 2 × parks + 1 × programs + 5 × production-base titles
                   + 5 × priority-list industries (itself and its sub-industries)
    supply score = Σ over serving societies of their strongest channel's weight
                   (direct 1, agreement 1, program 0.75, talent 0.5) + 0.25 × talents

So more demand with the same supply ranks higher, more supply with the same demand ranks
lower, and an uncovered industry never ranks below a served one of equal demand
(``tests/unit/test_gap_severity.py`` holds these as properties). Rows are ordered by
severity, then status (uncovered, thin, covered), then name.

**Data quality**: the agreements that cover no industry (no COVERS), listed so that a
curator can tie them to what they cover; they count nowhere until then.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Literal

from pydantic import Field

from graph_service.core.errors import InvalidRequest, NotFound
from graph_service.core.memory import collector_paused
from graph_service.core.ontology import ALLOWED_PAIRS, Industry, Node, NodeKind, RelType, normalize_name
from graph_service.core.store import GraphStore, PathStep
from queries.common import alive, parts_below, resolve_entity, sub_industry_ids
from queries.models import Channel, NodeRef, ResultModel
from queries.serving import CHANNELS, MAX_PATHS

__all__ = [
    "SUPPORT_KINDS",
    "CoverageMatrix",
    "GapAnalysis",
    "GapRow",
    "Scope",
    "coverage_matrix",
    "gap_analysis",
    "gaps_csv",
    "scope_industries",
]

Status = Literal["uncovered", "thin", "covered"]
_STATUS_ORDER: dict[str, int] = {"uncovered": 0, "thin": 1, "covered": 2}
MAX_SCOPE = 5000
"""Industries a scope may hold at most."""


class Scope(ResultModel):
    """Which industries to analyse; the fields combine (all given conditions must hold)."""

    taxonomy: str | None = Field(default=None, description="e.g. 'wenzhou-5+5' or 'gbt4754'.")
    level: str | None = Field(default=None, description="e.g. 'section', 'division', 'cluster'.")
    region: str | None = Field(
        default=None, description="Only industries with enterprises located in this region (id or name)."
    )
    industries: list[str] = Field(default_factory=list, description="Explicit industry ids or names.")


class Demand(ResultModel):
    """What needs support in an industry."""

    enterprises: int = 0
    parks: int = 0
    programs: int = Field(0, description="Programs focusing on it, production-base titles aside.")
    production_bases: int = Field(0, description="National production-base titles held for it.")
    priority: int = Field(0, description="Industries of a priority list among it and its sub-industries.")

    @property
    def total(self) -> int:
        """All demand, counted: enterprises, parks, programs and production-base titles."""
        return self.enterprises + self.parks + self.programs + self.production_bases

    @property
    def score(self) -> float:
        """Demand as severity weighs it (:data:`DEMAND_WEIGHTS`)."""
        return float(sum(weight * getattr(self, name) for name, weight in DEMAND_WEIGHTS.items()))


DEMAND_WEIGHTS: dict[str, float] = {
    "enterprises": 1.0,
    "parks": 2.0,
    "programs": 1.0,
    "production_bases": 5.0,
    "priority": 5.0,
}
"""How much each kind of demand weighs in severity."""
SUPPLY_WEIGHTS: dict[Channel, float] = {"direct": 1.0, "agreement": 1.0, "program": 0.75, "talent": 0.5}
"""How much a serving society weighs in severity, by its strongest channel."""
TALENT_SUPPLY = 0.25
"""How much each talent advising or serving the industry weighs in severity."""


def severity(demand: Demand, supply_score: float) -> float:
    """The severity of a gap: ``(1 + demand score) / (1 + supply score)``, rounded."""
    return round((1.0 + demand.score) / (1.0 + supply_score), 4)


class Supply(ResultModel):
    """Who supports an industry."""

    societies: int = Field(0, description="Distinct societies by any channel.")
    by_channel: dict[str, int] = Field(default_factory=dict, description="Distinct societies per channel.")
    talents: int = 0
    agreements: int = 0


class GapRow(ResultModel):
    """One industry of the scope: demand beside supply, status and severity."""

    industry: NodeRef
    demand: Demand
    demand_total: int
    demand_score: float = Field(description="Demand as severity weighs it.")
    supply: Supply
    supply_score: float = Field(description="Supply as severity weighs it.")
    status: Status
    severity: float = Field(description="(1 + demand_score) / (1 + supply_score): rank by it.")
    societies: list[NodeRef] = Field(description="The societies serving it, for drill-down.")


class GapAnalysis(ResultModel):
    """The industries of a scope, most severe gap first."""

    scope: Scope
    thin_below: int
    as_of: str | None = None
    count: int
    summary: dict[str, int] = Field(description="Industries per status.")
    rows: list[GapRow]
    agreements_covering_nothing: list[NodeRef] = Field(
        default_factory=list,
        description="Data quality: agreements tied to no industry (no COVERS), which count nowhere.",
    )


SUPPORT_KINDS: dict[str, str] = {
    "society_agreement": "agreements with societies covering it",
    "expert_panel_or_service_group": "expert panels and service groups serving it",
    "workstation": "academician and expert workstations serving it",
    "doctoral_station": "doctoral innovation stations serving it",
    "incubator_or_park": "incubators and parks focusing on it",
    "talent": "talents advising its enterprises or serving it",
}
"""The columns of the coverage matrix."""
_PROGRAM_SUPPORT = {
    "expert_panel": "expert_panel_or_service_group",
    "service_group": "expert_panel_or_service_group",
    "academician_workstation": "workstation",
    "expert_workstation": "workstation",
    "doctoral_station": "doctoral_station",
}


class MatrixCell(ResultModel):
    """A count and the entities behind it."""

    count: int
    entities: list[NodeRef]


class MatrixRow(ResultModel):
    """One industry's support, by kind."""

    industry: NodeRef
    cells: dict[str, MatrixCell]


class CoverageMatrix(ResultModel):
    """Industries of a scope × kinds of support."""

    scope: Scope
    as_of: str | None = None
    columns: dict[str, str] = Field(description="Kind of support → what it counts.")
    rows: list[MatrixRow]


def scope_industries(store: GraphStore, scope: Scope, as_of: str | None = None) -> list[Node]:
    """The industries a scope selects, ordered by taxonomy, code and name.

    Raises:
        InvalidRequest: an empty scope description, or one selecting over ``MAX_SCOPE`` industries.
        NotFound: an industry or region that does not exist; a taxonomy or level that no
            industry has (the error suggests those that exist, nearest first).
    """
    if not (scope.taxonomy or scope.level or scope.region or scope.industries):
        raise InvalidRequest("describe the scope: a taxonomy, a level, a region or a list of industries")
    if scope.industries:
        chosen = [resolve_entity(store, ref, NodeKind.INDUSTRY) for ref in scope.industries]
    else:
        where: dict[str, str] = {}
        if scope.taxonomy:
            where["taxonomy"] = scope.taxonomy
        if scope.level:
            where["level"] = scope.level
        chosen = store.find_nodes(NodeKind.INDUSTRY, where, limit=MAX_SCOPE + 1)
        if not chosen:
            raise _unknown_scope(store, scope)
    if scope.region:
        region = resolve_entity(store, scope.region, NodeKind.REGION)
        in_region = _industries_in_region(store, region.id, as_of)
        chosen = (
            [n for n in chosen if n.id in in_region]
            if (scope.taxonomy or scope.level or scope.industries)
            else [n for n in store.get_nodes(sorted(in_region)).values()]
        )
        if scope.taxonomy:
            chosen = [n for n in chosen if getattr(n, "taxonomy", None) == scope.taxonomy]
    chosen = [n for n in chosen if alive(n, as_of)]
    if len(chosen) > MAX_SCOPE:
        raise InvalidRequest(
            f"the scope holds over {MAX_SCOPE} industries; narrow it with a taxonomy or level"
        )
    unique = {n.id: n for n in chosen}
    return sorted(
        unique.values(),
        key=lambda n: (getattr(n, "taxonomy", ""), getattr(n, "code", None) or "", n.name, n.id),
    )


def _unknown_scope(store: GraphStore, scope: Scope) -> NotFound:
    """The error for a taxonomy, or a level of it, that no industry has: read only then, the
    graph's taxonomies (and levels) are suggested, nearest to what was asked first."""
    industries = [n for n in store.iter_nodes(NodeKind.INDUSTRY) if isinstance(n, Industry)]
    taxonomies = sorted({n.taxonomy for n in industries})
    if scope.taxonomy and scope.taxonomy not in taxonomies:
        return NotFound(
            f"no industry has the taxonomy {scope.taxonomy!r}; known: {', '.join(taxonomies) or 'none'}",
            suggestions=_nearest(scope.taxonomy, taxonomies),
        )
    levels = sorted({n.level for n in industries if not scope.taxonomy or n.taxonomy == scope.taxonomy})
    where = f" in the taxonomy {scope.taxonomy!r}" if scope.taxonomy else ""
    return NotFound(
        f"no industry{where} has the level {scope.level!r}; known: {', '.join(levels) or 'none'}",
        suggestions=_nearest(scope.level or "", levels),
    )


def _nearest(asked: str, known: Iterable[str]) -> list[str]:
    """The known values, the most like what was asked first (then by name)."""
    folded = normalize_name(asked)

    def likeness(value: str) -> float:
        return difflib.SequenceMatcher(None, folded, normalize_name(value)).ratio()

    return sorted(known, key=lambda value: (-likeness(value), value))


@collector_paused()
def gap_analysis(
    store: GraphStore,
    scope: Scope,
    *,
    thin_below: int = 2,
    as_of: str | None = None,
) -> GapAnalysis:
    """Demand beside supply for every industry of a scope, with status and severity.

    Args:
        store: the graph.
        scope: which industries.
        thin_below: an industry served by fewer societies than this (but at least one) is ``thin``.
        as_of: answer as the ecosystem stood on this date.
    """
    if thin_below < 1:
        raise InvalidRequest("thin_below must be at least 1")
    industries = scope_industries(store, scope, as_of)
    families = _families(store, industries, as_of)
    members = list(dict.fromkeys(m for family in families for m in family))
    own = _own_figures(store, members, as_of)
    priority = _on_priority_lists(store, members)
    supplies = []
    for industry, family in zip(industries, families, strict=True):
        mine = [own[m] for m in family]
        demand = Demand(
            enterprises=sum(m.enterprises for m in mine),
            parks=sum(m.parks for m in mine),
            programs=sum(m.programs for m in mine),
            production_bases=sum(m.production_bases for m in mine),
            priority=sum(1 for m in family if m in priority),
        )
        # one union per figure over the whole family (a section has hundreds of members); an
        # industry without sub-industries has its own figures, which nothing changes
        if len(mine) == 1:
            talents, agreements, by_channel = mine[0].talents, mine[0].agreements, mine[0].by_channel
        else:
            talents = set().union(*(m.talents for m in mine))
            agreements = set().union(*(m.agreements for m in mine))
            by_channel = {c: set().union(*(m.by_channel[c] for m in mine)) for c in CHANNELS}
        supplies.append((industry, demand, talents, agreements, by_channel))
    refs = _refs(store, (s for *_, by_channel in supplies for ids in by_channel.values() for s in ids))
    rows = []
    for industry, demand, talents, agreements, by_channel in supplies:
        societies = set().union(*by_channel.values())
        count = len(societies)
        status: Status = "uncovered" if count == 0 else "thin" if count < thin_below else "covered"
        supply_score = _supply_score(by_channel, len(talents))
        rows.append(
            GapRow(
                industry=NodeRef.of(industry),
                demand=demand,
                demand_total=demand.total,
                demand_score=demand.score,
                supply_score=supply_score,
                supply=Supply(
                    societies=count,
                    by_channel={c: len(v) for c, v in by_channel.items()},
                    talents=len(talents),
                    agreements=len(agreements),
                ),
                status=status,
                severity=severity(demand, supply_score),
                societies=[refs[i] for i in sorted(societies) if i in refs],
            )
        )
    rows.sort(key=lambda r: (-r.severity, _STATUS_ORDER[r.status], r.industry.name, r.industry.id))
    summary = {s: sum(1 for r in rows if r.status == s) for s in _STATUS_ORDER}
    return GapAnalysis(
        scope=scope,
        thin_below=thin_below,
        as_of=as_of,
        count=len(rows),
        summary=summary,
        rows=rows,
        agreements_covering_nothing=agreements_covering_nothing(store, as_of),
    )


def _supply_score(by_channel: dict[Channel, set[str]], talents: int) -> float:
    """Supply as severity weighs it: each serving society by its strongest channel, and talents."""
    best: dict[str, float] = {}
    for channel, societies in by_channel.items():
        weight = SUPPLY_WEIGHTS[channel]
        for society in societies:
            if weight > best.get(society, 0.0):
                best[society] = weight
    return round(sum(best.values()) + TALENT_SUPPLY * talents, 4)


def _on_priority_lists(store: GraphStore, industry_ids: list[str]) -> set[str]:
    """The industries among these that are on a priority list (level ``cluster``)."""
    nodes = store.get_nodes(industry_ids)
    return {i for i, node in nodes.items() if getattr(node, "level", None) == "cluster"}


def agreements_covering_nothing(store: GraphStore, as_of: str | None = None) -> list[NodeRef]:
    """The agreements (alive at ``as_of``) that cover no industry: a data-quality list."""
    agreements = [a for a in store.iter_nodes(NodeKind.AGREEMENT) if alive(a, as_of)]
    ids = [a.id for a in agreements]
    covers = store.degrees(ids, direction="out", types=[RelType.COVERS]) if ids else {}
    return sorted((NodeRef.of(a) for a in agreements if not covers.get(a.id)), key=lambda r: (r.name, r.id))


def gaps_csv(analysis: GapAnalysis) -> str:
    """The gap analysis as CSV for a spreadsheet (formula-looking cells neutralised)."""
    from graph_service.core.cells import write_csv

    header = [
        "industry_id", "industry", "industry_zh", "status", "severity", "demand", "demand_score",
        "enterprises", "parks", "programs", "production_bases", "priority", "supply_score", "societies", *[f"societies_{c}" for c in CHANNELS], "talents", "agreements", "society_names",
    ]  # fmt: skip
    rows = [
        [
            r.industry.id,
            r.industry.name,
            r.industry.name_zh or "",
            r.status,
            r.severity,
            r.demand_total,
            r.demand_score,
            r.demand.enterprises,
            r.demand.parks,
            r.demand.programs,
            r.demand.production_bases,
            r.demand.priority,
            r.supply_score,
            r.supply.societies,
            *[r.supply.by_channel.get(c, 0) for c in CHANNELS],
            r.supply.talents,
            r.supply.agreements,
            "; ".join(s.name for s in r.societies),
        ]
        for r in analysis.rows
    ]
    return write_csv(rows, header)


@collector_paused()
def coverage_matrix(store: GraphStore, scope: Scope, *, as_of: str | None = None) -> CoverageMatrix:
    """For each industry of a scope, how many of each kind of support it has, and which."""
    industries = scope_industries(store, scope, as_of)
    families = _families(store, industries, as_of)
    own = _own_cells(store, list(dict.fromkeys(m for family in families for m in family)), as_of)
    tables = []
    for industry, family in zip(industries, families, strict=True):
        mine = [own[m] for m in family]
        cells = {k: set().union(*(m[k] for m in mine)) for k in SUPPORT_KINDS}
        tables.append((industry, cells))
    refs = _refs(store, (i for _, cells in tables for found in cells.values() for i in found))
    rows = [
        MatrixRow(
            industry=NodeRef.of(industry),
            cells={
                k: MatrixCell(count=len(v), entities=[refs[i] for i in sorted(v) if i in refs])
                for k, v in cells.items()
            },
        )
        for industry, cells in tables
    ]
    return CoverageMatrix(scope=scope, as_of=as_of, columns=SUPPORT_KINDS, rows=rows)


def _families(store: GraphStore, industries: list[Node], as_of: str | None) -> list[list[str]]:
    """Each industry's id followed by its sub-industries' (those of ``queries.common.sub_industries``,
    in its order: nearest first, at most 500), the hierarchy read a level at a time for all
    of them together: a whole taxonomy is 1,320 industries at L."""
    below = sub_industry_ids(store, [industry.id for industry in industries], as_of)
    return [[industry.id, *below[industry.id]] for industry in industries]


def _refs(store: GraphStore, ids: Iterable[str]) -> dict[str, NodeRef]:
    """The references to the nodes among these ids that exist, one per node however many rows
    name it."""
    return {i: NodeRef.of(node) for i, node in store.get_nodes(sorted(set(ids))).items()}


def _own_cells(
    store: GraphStore, industry_ids: list[str], as_of: str | None
) -> dict[str, dict[str, set[str]]]:
    """The coverage-matrix cells of each industry by itself, sub-industries excluded: the ids
    behind each cell."""
    agreements = _ends(store, industry_ids, _AGREEMENTS, as_of)
    programs = _ends(store, industry_ids, _SERVING_PROGRAMS, as_of)
    parks = _ends(store, industry_ids, _PARKS, as_of)
    talents = _talents(store, industry_ids, as_of)
    with_society = _with_society_party(store, set().union(*agreements.values()))
    program_nodes = store.get_nodes(sorted(set().union(*programs.values())))
    column_of = {
        i: column
        for i, node in program_nodes.items()
        if (column := _PROGRAM_SUPPORT.get(getattr(node, "program_kind", "")))
    }
    out: dict[str, dict[str, set[str]]] = {}
    for industry_id in industry_ids:
        cells: dict[str, set[str]] = {k: set() for k in SUPPORT_KINDS}
        cells["society_agreement"] = agreements[industry_id] & with_society
        for program in programs[industry_id]:
            if program in column_of:
                cells[column_of[program]].add(program)
        cells["incubator_or_park"] = parks[industry_id]
        cells["talent"] = talents[industry_id]
        out[industry_id] = cells
    return out


def _with_society_party(store: GraphStore, agreement_ids: set[str]) -> set[str]:
    """The agreements among these that a society is party to (at any date), in one walk."""
    parties = store.path_ends_many(sorted(agreement_ids), _SOCIETY_PARTIES, as_of=None, limit=None)
    return {agreement for agreement, societies in parties.items() if societies}


class _Own:
    """What one industry has by itself, sub-industries excluded."""

    __slots__ = (
        "agreements",
        "by_channel",
        "enterprises",
        "parks",
        "production_bases",
        "programs",
        "talents",
    )

    def __init__(
        self,
        enterprises: int,
        parks: int,
        programs: int,
        production_bases: int,
        by_channel: dict[Channel, set[str]],
        agreements: set[str],
        talents: set[str],
    ) -> None:
        self.enterprises, self.parks, self.programs = enterprises, parks, programs
        self.production_bases = production_bases
        self.by_channel = by_channel
        self.agreements = agreements
        self.talents = talents


def _own_figures(store: GraphStore, industry_ids: list[str], as_of: str | None) -> dict[str, _Own]:
    """What each industry has by itself, each pattern walked once for all of them."""
    enterprises = _end_counts(store, industry_ids, _ENTERPRISES, as_of)
    parks = _ends(store, industry_ids, _PARKS, as_of)
    programs = _ends(store, industry_ids, _PROGRAMS, as_of)
    bases = _production_bases(store, set().union(*programs.values()))
    channels = {
        channel: [_ends(store, industry_ids, steps, as_of, limit=MAX_PATHS) for steps in options]
        for channel, options in CHANNELS.items()
    }
    # every agreement of the agreement channel covers the industry, so this holds them all
    agreements = _ends(store, industry_ids, _AGREEMENTS, as_of)
    talents = _talents(store, industry_ids, as_of)
    return {
        industry_id: _Own(
            enterprises[industry_id],
            len(parks[industry_id]),
            len(programs[industry_id] - bases),
            len(programs[industry_id] & bases),
            {
                # each walk's sets are new, the caller's to keep
                channel: found[0][industry_id]
                if len(found) == 1
                else set().union(*(ends[industry_id] for ends in found))
                for channel, found in channels.items()
            },
            agreements[industry_id],
            talents[industry_id],
        )
        for industry_id in industry_ids
    }


def _production_bases(store: GraphStore, program_ids: set[str]) -> set[str]:
    """The programs among these that are production-base titles."""
    if not program_ids:
        return set()
    nodes = store.get_nodes(sorted(program_ids))
    return {i for i, node in nodes.items() if getattr(node, "program_kind", None) == "production_base"}


def _step(rel_type: RelType, kind: NodeKind, *more: RelType) -> PathStep:
    """One hop into the industry, from a node of ``kind``."""
    return PathStep(types=(rel_type, *more), direction="in", kinds=(kind,))


def _ends(
    store: GraphStore,
    industry_ids: list[str],
    steps: tuple[PathStep, ...],
    as_of: str | None,
    limit: int | None = None,
) -> dict[str, set[str]]:
    """For each industry, the nodes the pattern's paths from it end at (paths alive at ``as_of``)."""
    return store.path_ends_many(industry_ids, steps, as_of=as_of, limit=limit)


def _end_counts(
    store: GraphStore, industry_ids: list[str], steps: tuple[PathStep, ...], as_of: str | None
) -> dict[str, int]:
    """For each industry, how many nodes the pattern's paths from it end at (alive at ``as_of``).

    At the present, for one step of one type whose other ends the ontology allows only of the
    step's kinds (every source of OPERATES_IN into an industry is an enterprise), these are the
    industries' degrees: counted without gathering the ends (300k enterprise ids at L)."""
    if as_of is None and len(steps) == 1:
        (step,) = steps
        if step.kinds and len(step.types) == 1 and step.direction in ("in", "out"):
            pairs = ALLOWED_PAIRS.get(step.types[0], frozenset())
            ends = {
                source if step.direction == "in" else target
                for source, target in pairs
                if (target if step.direction == "in" else source) == NodeKind.INDUSTRY
            }
            if ends <= set(step.kinds):
                return store.degrees(industry_ids, direction=step.direction, types=step.types)
    return {i: len(ends) for i, ends in _ends(store, industry_ids, steps, as_of).items()}


_ENTERPRISES = (_step(RelType.OPERATES_IN, NodeKind.ENTERPRISE),)
_PARKS = (_step(RelType.FOCUSES_ON, NodeKind.PARK),)
_PROGRAMS = (_step(RelType.FOCUSES_ON, NodeKind.PROGRAM),)
_SERVING_PROGRAMS = (_step(RelType.SERVES, NodeKind.PROGRAM, RelType.FOCUSES_ON),)
_AGREEMENTS = (_step(RelType.COVERS, NodeKind.AGREEMENT),)
_SERVING_TALENTS = (_step(RelType.SERVES, NodeKind.TALENT),)
_ADVISERS = (*_ENTERPRISES, _step(RelType.ADVISES, NodeKind.TALENT))
_SOCIETY_PARTIES = (_step(RelType.PARTY_TO, NodeKind.SOCIETY),)


def _talents(store: GraphStore, industry_ids: list[str], as_of: str | None) -> dict[str, set[str]]:
    """For each industry, the talents serving it or advising one of its enterprises."""
    serving = _ends(store, industry_ids, _SERVING_TALENTS, as_of)
    advising = _ends(store, industry_ids, _ADVISERS, as_of)
    return {i: serving[i] | advising[i] for i in industry_ids}


def _industries_in_region(store: GraphStore, region_id: str, as_of: str | None) -> set[str]:
    """Industries with an enterprise or park located in a region or any region inside it.

    Read a level of regions, then all their located entities, then all those entities'
    industries, each with one ``neighbor_hops`` (and one ``get_nodes`` or
    ``get_relationships`` for the dates), not one ``neighbors`` per entity: a city region
    of a national graph locates thousands of enterprises."""
    regions = {region_id}
    frontier = [region_id]
    while frontier:
        frontier = parts_below(store, frontier, NodeKind.REGION, regions)
        regions.update(frontier)
    located_hops = store.neighbor_hops(
        sorted(regions), direction="in", types=[RelType.LOCATED_IN], limit=None
    )
    located = list(dict.fromkeys(other for hops in located_hops.values() for other, _, _ in hops))
    if as_of is not None:
        nodes = store.get_nodes(located)
        located = [i for i in located if alive(nodes[i], as_of)]
    served = store.neighbor_hops(
        located, direction="out", types=[RelType.OPERATES_IN, RelType.FOCUSES_ON], limit=None
    )
    keys = [(here, rel_type.value, other) for here, hops in served.items() for other, rel_type, _ in hops]
    if as_of is None:
        return {target for _, _, target in keys}
    rels = store.get_relationships(keys)
    return {key[2] for key in keys if alive(rels[key], as_of)}
