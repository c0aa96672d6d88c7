"""What the catalog's questions share: finding an entity, dating facts, and putting chains into words."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from graph_service.errors import InvalidRequest, NotFound
from graph_service.ontology import (
    Basis,
    Node,
    NodeKind,
    Relationship,
    RelType,
    alive,
    kind_of_id,
    normalize_name,
)
from graph_service.store import GraphStore, Path
from queries.models import Channel, EvidencePath, EvidenceStep, NodeRef
from visualizations.i18n import chain_sentence, rel_phrase

__all__ = [
    "BASIS_WEIGHT",
    "EvidenceWords",
    "alive",
    "evidence_path",
    "parts_below",
    "phrase",
    "resolve_entity",
    "sub_industries",
    "sub_industry_ids",
]

BASIS_WEIGHT: dict[Basis, float] = {
    Basis.STATED: 1.0,
    Basis.REFERENCE: 0.9,
    Basis.SYNTHETIC: 0.9,
    Basis.INFERRED: 0.5,
}
"""How much a fact counts in a score, by how it is known."""
PREFIX_SCORE = 75.0
"""A search hit this good (a name starting with the text), when it is the only one, resolves a name."""
_BASIS_ORDER = [Basis.INFERRED, Basis.SYNTHETIC, Basis.REFERENCE, Basis.STATED]


def resolve_entity(store: GraphStore, ref: str, kind: NodeKind | None = None) -> Node:
    """Find one entity by id, code (industries), English or Chinese name, or alias.

    Raises:
        NotFound: when nothing matches; the error suggests near names.
        InvalidRequest: when several entities match; the message lists their ids.
    """
    ref = ref.strip()
    if not ref:
        raise InvalidRequest("give an id or a name")
    try:
        looks_like_id = kind_of_id(ref) is not None
    except InvalidRequest:
        looks_like_id = False
    if looks_like_id:
        node = store.get_node(ref)
        if node is not None and (kind is None or node.kind is kind):
            return node
    ids = store.ids_by_name([ref]).get(normalize_name(ref), [])
    candidates = list(store.get_nodes(ids).values())
    if kind is NodeKind.INDUSTRY or kind is None:
        candidates += [
            n for n in store.find_nodes(NodeKind.INDUSTRY, {"code": ref}, limit=10) if n not in candidates
        ]
    if kind is not None:
        candidates = [n for n in candidates if n.kind is kind]
    if len(candidates) == 1:
        return candidates[0]
    what = kind.value.lower() if kind else "entity"
    if len(candidates) > 1:
        listed = ", ".join(f"{n.id} ({n.name})" for n in sorted(candidates, key=lambda n: n.id)[:10])
        raise InvalidRequest(f"{ref!r} names several {what} entries: {listed}; use the id")
    from queries.search import search  # the index is built only when an exact lookup fails

    text = ref.split(":", 1)[1].replace("-", " ") if looks_like_id else ref
    hits = search(store, text[:200], kinds=[kind] if kind else (), limit=5).results
    if hits and hits[0].score >= PREFIX_SCORE and (len(hits) == 1 or hits[1].score < hits[0].score):
        found = store.get_node(hits[0].node.id)
        if found is not None:
            return found
    raise NotFound(f"no {what} matches {ref!r}", suggestions=[f"{h.node.id} ({h.node.name})" for h in hits])


def sub_industries(
    store: GraphStore, industry_id: str, as_of: str | None = None, limit: int = 500
) -> list[Node]:
    """Industries below one in the PART_OF hierarchy, nearest first (the industry itself excluded)."""
    ids = sub_industry_ids(store, [industry_id], as_of, limit)[industry_id]
    nodes = store.get_nodes(ids)
    return [nodes[i] for i in ids]


def parts_below(store: GraphStore, ids: Sequence[str], kind: NodeKind, known: Collection[str]) -> list[str]:
    """The nodes of ``kind`` PART_OF one of ``ids`` and not ``known``, once each, in the order
    read: one level of a hierarchy, read for all of ``ids`` with one ``neighbor_hops``."""
    hops = store.neighbor_hops(ids, direction="in", types=[RelType.PART_OF], limit=None)
    return list(
        dict.fromkeys(
            other
            for here in ids
            for other, _, _ in hops.get(here, ())
            if other not in known and kind_of_id(other) is kind
        )
    )


def sub_industry_ids(
    store: GraphStore, industry_ids: Iterable[str], as_of: str | None = None, limit: int = 500
) -> dict[str, list[str]]:
    """The ids of :func:`sub_industries` of each industry given, the hierarchy read a level at
    a time for all of them together: one ``neighbor_hops`` per level for the nodes not read
    yet, not one ``neighbors`` per industry and level (on Neo4j, a round trip each)."""
    starts = list(dict.fromkeys(industry_ids))
    found: dict[str, list[str]] = {s: [] for s in starts}
    seen: dict[str, set[str]] = {s: {s} for s in starts}
    frontier: dict[str, list[str]] = {s: [s] for s in starts}
    children: dict[str, list[str]] = {}
    while frontier:
        unread = sorted({here for ids in frontier.values() for here in ids if here not in children})
        if unread:
            hops = store.neighbor_hops(
                unread, direction="in", types=[RelType.PART_OF], as_of=as_of, limit=None
            )
            children.update(
                (
                    here,
                    [other for other, _, _ in hops.get(here, ()) if kind_of_id(other) is NodeKind.INDUSTRY],
                )
                for here in unread
            )
        onward: dict[str, list[str]] = {}
        for start, ids in frontier.items():
            below, known, level = found[start], seen[start], []
            for here in ids:
                for other in children[here]:
                    if other not in known:
                        known.add(other)
                        below.append(other)
                        level.append(other)
            if level and len(below) < limit:
                onward[start] = level
        frontier = onward
    return {start: ids[:limit] for start, ids in found.items()}


def phrase(rel_type: RelType, forward: bool) -> str:
    """The English verb of a relationship read from its source (forward) or from its target."""
    return rel_phrase(rel_type, forward, "en")


def evidence_path(
    path: Path, channel: Channel | None = None, reverse: bool = False, words: EvidenceWords | None = None
) -> EvidencePath:
    """An evidence path from a store path, read from its last node when ``reverse``.

    ``words``: the builder of one answer, so that the paths it shows share the references
    to the nodes and relationships they have in common."""
    return (words or EvidenceWords()).path(path, channel, reverse)


class EvidenceWords:
    """Puts the evidence paths of one answer into words. The paths of an answer share most
    of their nodes and relationships (the industry asked about, its busiest enterprises), so
    each node's reference and each relationship's step is made once and shared."""

    __slots__ = ("_refs", "_steps")

    def __init__(self) -> None:
        self._refs: dict[str, NodeRef] = {}
        self._steps: dict[int, tuple[Relationship, EvidenceStep]] = {}

    def ref(self, node: Node) -> NodeRef:
        """The reference to a node."""
        found = self._refs.get(node.id)
        if found is None:
            found = self._refs[node.id] = NodeRef.of(node)
        return found

    def step(self, rel: Relationship) -> EvidenceStep:
        """The evidence step of a relationship (kept by identity, with the relationship
        itself, so that a relationship made and dropped cannot pass its step to another)."""
        found = self._steps.get(id(rel))
        if found is None:
            found = self._steps[id(rel)] = (rel, EvidenceStep.of(rel))
        return found[1]

    def path(self, path: Path, channel: Channel | None = None, reverse: bool = False) -> EvidencePath:
        """An evidence path from a store path, read from its last node when ``reverse``."""
        nodes = list(path.nodes)
        rels = list(path.relationships)
        if reverse:
            nodes.reverse()
            rels.reverse()
        steps = [(rel.type, rel.source == nodes[i].id) for i, rel in enumerate(rels)]
        return EvidencePath.trusted(
            channel=channel,
            nodes=[self.ref(n) for n in nodes],
            steps=[self.step(r) for r in rels],
            sentence=chain_sentence([n.name for n in nodes], steps, "en"),
            sentence_zh=chain_sentence([n.name_zh or n.name for n in nodes], steps, "zh"),
            weakest_basis=weakest(r.provenance.basis for r in rels),
        )


def weakest(bases: Iterable[Basis]) -> Basis:
    """The least certain of some bases (stated when there are none)."""
    found = list(bases)
    return min(found, key=_BASIS_ORDER.index) if found else Basis.STATED


def path_weight(path: Path) -> float:
    """The weight of a chain: the product of its facts' basis weights."""
    weight = 1.0
    for rel in path.relationships:
        weight *= BASIS_WEIGHT[rel.provenance.basis]
    return weight


def path_alive(path: Path, as_of: str | None) -> bool:
    """Whether every node and relationship of a path existed at ``as_of``."""
    return all(alive(n, as_of) for n in path.nodes) and all(alive(r, as_of) for r in path.relationships)


def dedupe(nodes: Sequence[Node]) -> list[Node]:
    """Nodes without repeats, in first-seen order."""
    seen: set[str] = set()
    out = []
    for node in nodes:
        if node.id not in seen:
            seen.add(node.id)
            out.append(node)
    return out
