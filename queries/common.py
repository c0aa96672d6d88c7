"""What the catalog's questions share: finding an entity, dating facts, and putting chains into words."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from graph_service.core.errors import Ambiguous, InvalidRequest, NotFound
from graph_service.core.ontology import (
    Basis,
    Node,
    NodeKind,
    Relationship,
    RelType,
    alive,
    kind_of_id,
    normalize_name,
)
from graph_service.core.store import GraphStore, Path
from queries.models import Channel, EvidencePath, EvidenceStep, NodeRef
from queries.words import chain_sentence, rel_phrase

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
    "suggestion",
]

BASIS_WEIGHT: dict[Basis, float] = {
    Basis.STATED: 1.0,
    Basis.REFERENCE: 0.9,
    Basis.SYNTHETIC: 0.9,
    Basis.INFERRED: 0.5,
}
"""How much a fact counts in a score, by how it is known."""
CLOSE_CALL = 5.0
"""Two search hits nearer in score than this name an entity equally well: neither resolves a name."""
MAX_CANDIDATES = 10
"""At most this many entities are listed when a name is ambiguous."""
_BASIS_ORDER = [Basis.INFERRED, Basis.SYNTHETIC, Basis.REFERENCE, Basis.STATED]


def resolve_entity(store: GraphStore, ref: str, kind: NodeKind | None = None) -> Node:
    """Find one entity by id, code (industries), English or Chinese name, alias, or what search
    finds for it when one hit stands out (a name starting with it, its words, a common slip).

    Raises:
        Ambiguous: when several entities match about as well; the error lists them, best first.
        NotFound: when nothing matches well; the error suggests near names.
        InvalidRequest: an empty reference.
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
        ordered = sorted(candidates, key=lambda n: n.id)
        raise Ambiguous(
            f"{ref!r} names several {what} entries; give one of their ids",
            suggestions=[suggestion(NodeRef.of(n)) for n in ordered[:MAX_CANDIDATES]],
        )
    from queries.search import GOOD, search  # the index is built only when an exact lookup fails

    text = ref.split(":", 1)[1].replace("-", " ") if looks_like_id else ref
    hits = search(store, text[:200], kinds=[kind] if kind else (), limit=MAX_CANDIDATES).results
    good = [h for h in hits if h.score >= GOOD]
    if good and (len(good) == 1 or good[1].score <= good[0].score - CLOSE_CALL):
        found = store.get_node(good[0].node.id)
        if found is not None:
            return found
    if len(good) > 1:
        raise Ambiguous(
            f"{ref!r} could be several {what} entries; give one of their ids",
            suggestions=[suggestion(h.node) for h in good],
        )
    raise NotFound(f"no {what} matches {ref!r}", suggestions=[suggestion(h.node) for h in hits[:5]])


def suggestion(node: NodeRef) -> str:
    """How an error names an entity it suggests: id first, then its names and kind.

    >>> suggestion(NodeRef(id="industry:wz:electrical", kind="Industry", name="Electrical equipment", name_zh="电气"))
    'industry:wz:electrical (Electrical equipment · 电气 · Industry)'
    """
    names = [node.name, node.name_zh] if node.name_zh and node.name_zh != node.name else [node.name]
    return f"{node.id} ({' · '.join([*names, node.kind.value])})"


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
