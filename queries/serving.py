"""Which societies serve an industry, through which channels, on what evidence — and the inverse.

The four channels, each a typed path pattern from the industry back to a society:

=========  ==============================================================================
direct     Society ─SERVES→ Industry
agreement  Society ─PARTY_TO→ Agreement ─COVERS→ Industry
program    Society ─PARTICIPATES_IN→ Program ─SERVES|FOCUSES_ON→ Industry
talent     Society ←MEMBER_OF─ Talent ─ADVISES→ Enterprise ─OPERATES_IN→ Industry,
           or Society ←MEMBER_OF─ Talent ─SERVES→ Industry
=========  ==============================================================================

These four define *serving*: every count of societies serving an industry, on every page,
in gap analysis and through the API, is the societies these channels reach from the
industry and its sub-industries.

A fifth channel, ``expertise`` (Society ─EXPERT_IN→ Industry: the society's field covers the
industry), is asked for by name. It says who *could* serve, not who does: it never makes an
industry covered, weighs least, and is what recommendations start from.

**Score.** Each evidence path adds ``CHANNEL_WEIGHT[channel] × w`` where ``w`` is the
product of the basis weights of its relationships (stated 1.0, reference 0.9,
inferred 0.5), times ``SUB_INDUSTRY_FACTOR`` when the path reaches a sub-industry
rather than the industry asked about. Societies are ranked by score, then by the
number of channels, then by name and id, so ties come out in a stable order.

Example:
    >>> societies_serving(store, "Electrical equipment").results[0].society.name  # doctest: +SKIP
    'Chinese Mechanical Engineering Society'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from graph_service.core.ontology import Node, NodeKind, RelType
from graph_service.core.store import GraphStore, Path, PathStep, PathTally
from queries.common import BASIS_WEIGHT, EvidenceWords, path_alive, resolve_entity, sub_industries
from queries.models import Channel, EvidencePath, NodeRef, ResultModel

__all__ = [
    "ALL_CHANNELS",
    "CHANNELS",
    "CHANNEL_WEIGHT",
    "EXPERTISE",
    "MAX_EVIDENCE",
    "IndustriesServed",
    "IndustryServed",
    "SocietiesServing",
    "SocietyServing",
    "industries_served_by",
    "serving_paths",
    "societies_serving",
]

CHANNEL_WEIGHT: dict[Channel, float] = {
    "direct": 3.0,
    "agreement": 3.0,
    "program": 2.0,
    "talent": 1.0,
    "expertise": 0.5,
}
"""How much one evidence path of each channel adds to a society's score."""
SUB_INDUSTRY_FACTOR = 0.8
"""A path that reaches a sub-industry counts this much of one reaching the industry itself."""
MAX_PATHS = 5000
"""Evidence paths read per industry and channel at most."""

MAX_EVIDENCE = 20
"""Evidence paths shown per society (or industry) at most: the strongest channels first.
Every path found still counts in the score and in ``paths_total``."""

_S, _T, _E, _A, _P, _I = (
    NodeKind.SOCIETY,
    NodeKind.TALENT,
    NodeKind.ENTERPRISE,
    NodeKind.AGREEMENT,
    NodeKind.PROGRAM,
    NodeKind.INDUSTRY,
)
R = RelType
CHANNELS: dict[Channel, list[tuple[PathStep, ...]]] = {
    "direct": [(PathStep(types=(R.SERVES,), direction="in", kinds=(_S,)),)],
    "agreement": [
        (
            PathStep(types=(R.COVERS,), direction="in", kinds=(_A,)),
            PathStep(types=(R.PARTY_TO,), direction="in", kinds=(_S,)),
        )
    ],
    "program": [
        (
            PathStep(types=(R.SERVES, R.FOCUSES_ON), direction="in", kinds=(_P,)),
            PathStep(types=(R.PARTICIPATES_IN,), direction="in", kinds=(_S,)),
        )
    ],
    "talent": [
        (
            PathStep(types=(R.OPERATES_IN,), direction="in", kinds=(_E,)),
            PathStep(types=(R.ADVISES,), direction="in", kinds=(_T,)),
            PathStep(types=(R.MEMBER_OF,), direction="out", kinds=(_S,)),
        ),
        (
            PathStep(types=(R.SERVES,), direction="in", kinds=(_T,)),
            PathStep(types=(R.MEMBER_OF,), direction="out", kinds=(_S,)),
        ),
    ],
}
"""The path patterns of each channel of service, read from the industry towards the society."""

EXPERTISE: list[tuple[PathStep, ...]] = [(PathStep(types=(R.EXPERT_IN,), direction="in", kinds=(_S,)),)]
"""The pattern of the expertise channel: a society whose field covers the industry."""
ALL_CHANNELS: dict[Channel, list[tuple[PathStep, ...]]] = {**CHANNELS, "expertise": EXPERTISE}
"""Every channel an answer may be asked to follow: the four of service, then expertise."""


class SocietyServing(ResultModel):
    """A society that serves the industry, with its channels and the evidence for each."""

    society: NodeRef
    score: float = Field(description="Sum over evidence paths of channel weight × basis weights.")
    channels: list[Channel]
    paths_total: int = Field(0, description="Evidence paths found; `paths` shows the first few.")
    paths: list[EvidencePath] = Field(
        description=f"Up to {MAX_EVIDENCE} evidence paths, direct and agreement channels first."
    )


class SocietiesServing(ResultModel):
    """The answer to 'which societies serve this industry?'."""

    industry: NodeRef
    industries: list[NodeRef] = Field(description="The industry and, on request, its sub-industries.")
    as_of: str | None = None
    total: int = Field(description="Societies found in all.")
    count: int = Field(description="Societies in this page.")
    results: list[SocietyServing]


class IndustryServed(ResultModel):
    """An industry a society serves, with its channels and evidence."""

    industry: NodeRef
    score: float
    channels: list[Channel]
    paths_total: int = Field(0, description="Evidence paths found; `paths` shows the first few.")
    paths: list[EvidencePath] = Field(
        description=f"Up to {MAX_EVIDENCE} evidence paths, direct and agreement channels first."
    )


class IndustriesServed(ResultModel):
    """The answer to 'which industries does this society serve?'."""

    society: NodeRef
    as_of: str | None = None
    total: int = Field(description="Industries found in all.")
    count: int = Field(description="Industries in this page.")
    results: list[IndustryServed]


def serving_paths(
    store: GraphStore,
    industry_id: str,
    channels: tuple[Channel, ...] = tuple(CHANNELS),
    as_of: str | None = None,
) -> list[tuple[Channel, Path]]:
    """Every evidence path from a society to one industry (without sub-industries), by channel."""
    out: list[tuple[Channel, Path]] = []
    for channel in channels:
        for steps in ALL_CHANNELS[channel]:
            for path in store.match_paths(industry_id, steps, limit=MAX_PATHS):
                if path_alive(path, as_of):
                    out.append((channel, path))
    return out


@dataclass(slots=True)
class _Found:
    """What the channels found for one society (or industry), before it is ranked."""

    node: Node
    score: float = 0.0
    count: int = 0
    channels: list[Channel] = field(default_factory=list)
    shown: int = 0
    sources: list[tuple[Channel, Sequence[Path], int]] = field(default_factory=list)
    """Where the evidence shown comes from: so many of the first paths of each tally, read
    (and so built, where the store builds them on reading) only for the page asked for."""

    def add(self, channel: Channel, tally: PathTally, factor: float) -> None:
        self.score += CHANNEL_WEIGHT[channel] * tally.weight * factor
        self.count += tally.count
        if channel not in self.channels:
            self.channels.append(channel)
        taken = min(MAX_EVIDENCE - self.shown, len(tally.examples))
        if taken > 0:
            self.sources.append((channel, tally.examples, taken))
            self.shown += taken

    def examples(self) -> list[tuple[Channel, Path]]:
        """The evidence paths shown, strongest channels first."""
        return [(channel, path) for channel, paths, taken in self.sources for path in paths[:taken]]

    def by_score_then_channels(self) -> tuple[float, int, str, str]:
        return (-round(self.score, 9), -len(self.channels), self.node.name, self.node.id)

    def by_score(self) -> tuple[float, str, str]:
        return (-round(self.score, 9), self.node.name, self.node.id)


def _tally(
    store: GraphStore,
    start_id: str,
    patterns: list[tuple[Channel, tuple[PathStep, ...]]],
    as_of: str | None,
    found: dict[str, _Found],
    factor: float = 1.0,
) -> None:
    """Add the evidence paths of each (channel, pattern) from ``start_id`` to ``found``, by end node."""
    for channel, steps in patterns:
        tallies = store.tally_paths(
            start_id, steps, weights=BASIS_WEIGHT, as_of=as_of, limit=MAX_PATHS, keep=MAX_EVIDENCE
        )
        for end_id, tally in tallies.items():
            entry = found.get(end_id)
            if entry is None:
                entry = found[end_id] = _Found(node=tally.examples[0].nodes[-1])
            entry.add(channel, tally, factor)


def _ranked(
    found: dict[str, _Found], key: Callable[[_Found], tuple[Any, ...]], offset: int, limit: int | None
) -> tuple[int, list[_Found]]:
    """The total and one page of the findings, best first."""
    ranked = sorted(found.values(), key=key)
    return len(ranked), ranked[offset : None if limit is None else offset + limit]


def _channels(entry: _Found) -> list[Channel]:
    return sorted(entry.channels, key=list(ALL_CHANNELS).index)


def societies_serving(
    store: GraphStore,
    industry: str,
    *,
    include_sub_industries: bool = True,
    channels: tuple[Channel, ...] = tuple(CHANNELS),
    as_of: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> SocietiesServing:
    """The societies that serve an industry, through every channel, ranked, with evidence.

    Paths are counted and weighed where they lie; evidence is put into words only for the
    societies of the page asked for.

    Args:
        store: the graph.
        industry: an id, a code, an English or Chinese name, or an alias.
        include_sub_industries: also count societies serving industries below it (PART_OF), as
            every count of serving does; ``False`` for the industry by itself.
        channels: which channels to follow: the four of service unless told; ``expertise`` adds
            the societies whose field covers the industry.
        as_of: answer as the ecosystem stood on this date (``2021``, ``2021-09``, ``2021-09-30``).
        offset: skip this many of the ranked societies (pagination).
        limit: at most this many societies.

    Raises:
        NotFound: no such industry (with suggestions).
    """
    target = resolve_entity(store, industry, NodeKind.INDUSTRY)
    industries = [target]
    if include_sub_industries:
        industries += sub_industries(store, target.id, as_of)
    patterns = [(channel, steps) for channel in channels for steps in ALL_CHANNELS[channel]]
    found: dict[str, _Found] = {}
    for ind in industries:
        _tally(store, ind.id, patterns, as_of, found, 1.0 if ind.id == target.id else SUB_INDUSTRY_FACTOR)
    total, page = _ranked(found, _Found.by_score_then_channels, offset, limit)
    words = EvidenceWords()
    results = [
        SocietyServing(
            society=NodeRef.of(entry.node),
            score=round(entry.score, 4),
            channels=_channels(entry),
            paths_total=entry.count,
            paths=[words.path(path, channel, reverse=True) for channel, path in entry.examples()],
        )
        for entry in page
    ]
    return SocietiesServing(
        industry=NodeRef.of(target),
        industries=[NodeRef.of(i) for i in industries],
        as_of=as_of,
        total=total,
        count=len(results),
        results=results,
    )


def industries_served_by(
    store: GraphStore, society: str, *, as_of: str | None = None, offset: int = 0, limit: int | None = None
) -> IndustriesServed:
    """The industries a society serves, through every channel, ranked, with evidence (the inverse).

    Raises:
        NotFound: no such society (with suggestions).
    """
    origin = resolve_entity(store, society, NodeKind.SOCIETY)
    patterns = [
        (channel, _reverse(steps, NodeKind.INDUSTRY))
        for channel, options in CHANNELS.items()
        for steps in options
    ]
    found: dict[str, _Found] = {}
    _tally(store, origin.id, patterns, as_of, found)
    total, page = _ranked(found, _Found.by_score, offset, limit)
    words = EvidenceWords()
    results = [
        IndustryServed(
            industry=NodeRef.of(entry.node),
            score=round(entry.score, 4),
            channels=_channels(entry),
            paths_total=entry.count,
            paths=[words.path(path, channel) for channel, path in entry.examples()],
        )
        for entry in page
    ]
    return IndustriesServed(
        society=NodeRef.of(origin), as_of=as_of, total=total, count=len(results), results=results
    )


def _reverse(steps: tuple[PathStep, ...], end_kind: NodeKind) -> tuple[PathStep, ...]:
    """The same pattern walked from the society end: steps reversed, directions flipped,
    each step arriving at the kind the original step left from."""
    flip = {"in": "out", "out": "in", "both": "both"}
    arrive: list[tuple[NodeKind, ...]] = [s.kinds for s in steps[:-1]]
    arrive.reverse()
    arrive.append((end_kind,))
    return tuple(
        PathStep(types=step.types, direction=flip[step.direction], kinds=kinds)
        for step, kinds in zip(reversed(steps), arrive, strict=True)
    )
