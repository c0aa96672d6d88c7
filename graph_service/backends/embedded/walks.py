"""Walking typed paths in the embedded graph: one start depth first, or a chain of steps planned
once and walked over whole layers (:class:`_Chain`), and many starts at once (:mod:`.ends`).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

from graph_service.backends.embedded.ends import _many_plan, _ManyEnds, _ManyStep, _Unsure
from graph_service.backends.embedded.graph import _Graph, _Hop, _Packed, _path_of
from graph_service.core.ontology import (
    ALLOWED_PAIRS,
    Basis,
    Node,
    NodeKind,
    Relationship,
    alive,
    in_period,
)
from graph_service.core.store import (
    DEFAULT_LIMIT,
    UNIT_WEIGHTS,
    Path,
    PathsOnRead,
    PathStep,
    PathTally,
)

KEPT_WALKS = 9
"""Walks from many starts an embedded store keeps at most (see ``EmbeddedStore._many_walk``).
A gap analysis over every industry at L fills three backwards (the coverage matrix reads
them too): they hold 14 MB at the present, 37 MB at a date, so at most ~110 MB are kept."""


_Plan = tuple[tuple[str, ...], tuple[bool, ...], tuple[tuple[frozenset[NodeKind] | None, bool], ...]]
"""Per step of a chain: its type's name, whether it is followed forwards, the checks left to make."""


@lru_cache(maxsize=256)
def _chain_plan(start: NodeKind, steps: tuple[PathStep, ...]) -> _Plan | None:
    """How to walk a chain (one type and one direction per step, at least one step) from a
    node of a kind, or ``None`` for other patterns. A kind test is left only where the
    ontology allows kinds the step does not want; a repeat test only where a kind seen
    earlier on the path may come back."""
    if not steps or not all(len(s.types) == 1 and s.direction != "both" for s in steps):
        return None
    names, forwards, checks = [], [], []
    seen_kinds = arriving = {start}
    for step in steps:
        rel_type, forward = step.types[0], step.direction == "out"
        pairs = ALLOWED_PAIRS.get(rel_type, frozenset())
        possible = {t if forward else s for s, t in pairs if (s if forward else t) in arriving}
        wanted = frozenset(step.kinds) if step.kinds else None
        arriving = possible & wanted if wanted is not None else possible
        kind_test = wanted if wanted is not None and not possible <= wanted else None
        checks.append((kind_test, bool(arriving & seen_kinds)))
        seen_kinds = seen_kinds | arriving
        names.append(rel_type.value)
        forwards.append(forward)
    return tuple(names), tuple(forwards), tuple(checks)


class _Chain:
    """A chain pattern walked from one node: per step, the neighbour table to read and the
    checks the ontology leaves to make, and the ids along the path being walked."""

    def __init__(self, store: _Graph, start: Node, plan: _Plan) -> None:
        self.store = store
        self.nodes = store._nodes
        self.unsorted = store._unsorted
        names, forwards, self.checks = plan
        self.last = len(names) - 1
        self.ids: list[str] = [start.id]
        self.hops: list[_Hop] = []
        self.tables = [
            (name, store._layers.get(name), forward) for name, forward in zip(names, forwards, strict=True)
        ]

    def table(self, depth: int) -> dict[str, dict[str, dict[str, Any]]] | None:
        """Step ``depth``'s neighbour lists, by node, in no particular order."""
        _, layer, forward = self.tables[depth]
        if layer is None:
            return None
        table: dict[str, dict[str, dict[str, Any]]] = layer._succ if forward else layer._pred
        return table

    def neighbours(self, depth: int, node_id: str) -> dict[str, dict[str, Any]] | None:
        """The neighbours of step ``depth``, in id order."""
        name, layer, forward = self.tables[depth]
        if layer is None:
            return None
        if self.unsorted:
            return self.store._sorted_adjacency(name, layer, node_id, forward)
        table: dict[str, dict[str, dict[str, Any]]] = layer._succ if forward else layer._pred
        return table.get(node_id)

    def skip(self, node_id: str, kinds: frozenset[NodeKind] | None, repeats: bool) -> bool:
        return (kinds is not None and self.nodes[node_id].kind not in kinds) or (
            repeats and node_id in self.ids
        )


class _Enough(Exception):
    """Raised inside a walk that has met its limit."""


class _Walks(_Graph):
    """The typed path primitives: paths, their tallies and their ends, from one start or many."""

    def match_paths(
        self, start_id: str, steps: Sequence[PathStep], limit: int | None = DEFAULT_LIMIT
    ) -> list[Path]:
        """Every simple path from ``start_id`` that follows the steps in order."""
        walk = self._walk(start_id, steps)
        return [self._path(ids, hops) for ids, hops in itertools.islice(walk, limit)]

    def tally_paths(
        self,
        start_id: str,
        steps: Sequence[PathStep],
        *,
        weights: Mapping[Basis, float],
        as_of: str | None = None,
        limit: int | None = DEFAULT_LIMIT,
        keep: int = 0,
    ) -> dict[str, PathTally]:
        """The paths of :meth:`match_paths` grouped by their last node, counted and weighed on
        the graph's own adjacency: only the ``keep`` paths per end that are returned get built."""
        start = self._nodes.get(start_id)
        if start is None:
            return {}
        plan = _chain_plan(start.kind, tuple(steps)) if as_of is None else None
        if plan is not None:
            return self._tally_chain(_Chain(self, start, plan), weights, limit, keep)
        nodes = self._nodes
        out: dict[str, PathTally] = {}
        kept: dict[str, PathsOnRead] = {}
        for ids, hops in itertools.islice(self._walk(start_id, steps), limit):
            weight = 1.0
            for data, _, _ in hops:
                fact = data["m"]
                if type(fact) is tuple:  # packed: provenance, role, since, until
                    basis, since, until = fact[0].basis, fact[2], fact[3]
                else:
                    basis, since, until = fact.provenance.basis, fact.since, fact.until
                if as_of is not None and not in_period(since, until, as_of):
                    weight = -1.0
                    break
                weight *= weights[basis]
            if weight < 0 or (as_of is not None and not all(alive(nodes[i], as_of) for i in ids)):
                continue
            tally = out.get(ids[-1])
            if tally is None:
                tally = out[ids[-1]] = PathTally(examples=kept.setdefault(ids[-1], PathsOnRead(_path_of)))
            tally.weight += weight
            tally.count += 1
            if len(examples := kept[ids[-1]]) < keep:
                examples.add(tuple(nodes[i] for i in ids), tuple(hops))
        return out

    def path_ends(
        self,
        start_id: str,
        steps: Sequence[PathStep],
        *,
        as_of: str | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> set[str]:
        """Where the paths of :meth:`match_paths` end.

        The order of the paths matters only where the cap cuts them, so at the present the
        paths are first gathered in no order, a chain's last hop a whole neighbour list at a
        time; only when there are more than ``limit`` is the ordered, capped walk needed.
        """
        start = self._nodes.get(start_id)
        if start is None:
            return set()
        if as_of is None:
            plan = _chain_plan(start.kind, tuple(steps))
            found = self._ends_in_any_order(start, steps, plan, limit)
            if found is not None:
                return found
            if plan is not None:
                return self._ends_in_order(_Chain(self, start, plan), limit)
        return set(self.tally_paths(start_id, steps, weights=UNIT_WEIGHTS, as_of=as_of, limit=limit))

    def path_ends_many(
        self,
        start_ids: Iterable[str],
        steps: Sequence[PathStep],
        *,
        as_of: str | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> dict[str, set[str]]:
        """:meth:`path_ends` from many starts, each node that the starts reach walked once.

        Where no node can come twice on a path (the kinds each step may arrive at are new on
        it), the paths onwards from a node do not depend on how the walk came there: so for
        each position along the pattern, every node the starts reach there gets the number
        of paths onwards from it and their ends once, position by position from the last,
        a neighbour list at a time. A start's ends are then the union of its neighbours'.
        Only a start with more than ``limit`` paths needs their order: it takes whole the
        neighbours whose paths all fit in what is left of the cap, in id order, and goes
        into the one that does not. Other patterns are walked start by start. A walk filled
        backwards is kept for the graph's generation (see :meth:`_many_walk`).
        """
        starts = list(dict.fromkeys(start_ids))
        nodes = self._nodes
        kinds = frozenset(nodes[s].kind for s in starts if s in nodes)
        plan = _many_plan(kinds, tuple(steps)) if kinds and (limit is None or limit >= 0) else None
        if plan is None:
            return {s: self.path_ends(s, steps, as_of=as_of, limit=limit) for s in starts}
        present = {s for s in starts if s in nodes and alive(nodes[s], as_of)}
        walk = self._many_walk(plan, present, as_of, counting=limit is not None)
        counts = walk.counts[0]
        out: dict[str, set[str]] = {}
        for start in starts:
            if start not in present:
                out[start] = set()
            elif limit is not None and counts.get(start, 0) > limit:
                try:
                    out[start] = walk.first_ends(self, start, limit)
                except _Unsure:
                    out[start] = self.path_ends(start, steps, as_of=as_of, limit=limit)
            else:
                out[start] = set(walk.ends_of(0, start))
        return out

    def _many_walk(
        self, plan: tuple[_ManyStep, ...], starts: set[str], as_of: str | None, counting: bool
    ) -> _ManyEnds:
        """The walk of a pattern from many starts, kept for the graph's generation when it was
        filled backwards (:class:`_ManyEnds`): such a walk holds the paths onwards from every
        node that may be at each position, whatever the starts, so a later question with the
        same pattern and date reads it instead of walking again. A walk that counts serves one
        that does not. At most ``KEPT_WALKS`` are kept, the least recently used dropped first;
        a write forgets them all (see :meth:`_forget_walks`)."""
        generation = self._generation
        walks = self._walks
        with self._walks_lock:
            for key in ((generation, plan, as_of, True), (generation, plan, as_of, counting)):
                if (kept := walks.pop(key, None)) is not None:
                    walks[key] = kept
                    return kept
        walk = _ManyEnds(self, plan, starts, as_of, counting)
        if walk.complete:
            with self._walks_lock:
                # a walk that a write overlapped may have read the graph half-written
                if generation == self._generation:
                    walks[(generation, plan, as_of, counting)] = walk
                    while len(walks) > KEPT_WALKS:
                        del walks[next(iter(walks))]
        return walk

    def _ends_in_any_order(
        self, start: Node, steps: Sequence[PathStep], plan: _Plan | None, limit: int | None
    ) -> set[str] | None:
        """The ends of all paths, or ``None`` when there are more than ``limit`` paths."""
        if plan is None or plan[2][-1] != (None, False):
            found = [ids[-1] for ids, _ in self._depth_first(start.id, steps, self._id_hops)]
            return set(found) if limit is None or len(found) <= limit else None
        chain = _Chain(self, start, plan)
        ends: set[str] = set()
        counted = [0]
        last_table = chain.table(chain.last)
        if last_table is None:
            return ends

        def visit(depth: int, node_id: str) -> None:
            adjacency = chain.table(depth)
            neighbours = adjacency.get(node_id) if adjacency is not None else None
            if not neighbours:
                return
            kinds, repeats = chain.checks[depth]
            if depth + 1 < chain.last:
                for other in neighbours:
                    if not chain.skip(other, kinds, repeats):
                        chain.ids.append(other)
                        visit(depth + 1, other)
                        chain.ids.pop()
                return
            for other in neighbours:  # the hop before the last: take each last list whole
                if not chain.skip(other, kinds, repeats) and (found := last_table.get(other)):
                    ends.update(found)
                    counted[0] += len(found)
            if limit is not None and counted[0] > limit:
                raise _Enough

        if chain.last == 0:
            only = last_table.get(start.id) or {}
            return set(only) if limit is None or len(only) <= limit else None
        try:
            visit(0, start.id)
        except _Enough:
            return None
        return ends

    def _ends_in_order(self, chain: _Chain, limit: int | None) -> set[str]:
        """The ends of the first ``limit`` paths of a chain, walked in id order."""
        ends: set[str] = set()
        budget = [limit if limit is not None else -1]

        def visit(depth: int, node_id: str) -> None:
            adjacency = chain.neighbours(depth, node_id)
            if not adjacency:
                return
            kinds, repeats = chain.checks[depth]
            if depth < chain.last:
                for other in adjacency:
                    if not chain.skip(other, kinds, repeats):
                        chain.ids.append(other)
                        visit(depth + 1, other)
                        chain.ids.pop()
                return
            for other in adjacency:
                if chain.skip(other, kinds, repeats):
                    continue
                if budget[0] == 0:
                    raise _Enough
                budget[0] -= 1
                ends.add(other)

        with contextlib.suppress(_Enough):
            visit(0, chain.ids[0])
        return ends

    def _tally_chain(
        self, chain: _Chain, weights: Mapping[Basis, float], limit: int | None, keep: int
    ) -> dict[str, PathTally]:
        """:meth:`tally_paths` for a chain at the present: a depth-first walk over the
        neighbour dicts in id order that adds up weights as it goes."""
        ids, hops = chain.ids, chain.hops
        nodes = self._nodes
        out: dict[str, PathTally] = {}
        kept: dict[str, PathsOnRead] = {}
        budget = [limit if limit is not None else -1]
        by_provenance: dict[int, float] = {}  # few distinct provenances, hashed by identity

        def weight_of(fact: Relationship | _Packed) -> float:
            prov = fact[0] if type(fact) is tuple else fact.provenance  # type: ignore[union-attr]
            found = by_provenance.get(id(prov))
            if found is None:
                found = by_provenance[id(prov)] = weights[prov.basis]
            return found

        def visit(depth: int, node_id: str, weight: float) -> None:
            adjacency = chain.neighbours(depth, node_id)
            if not adjacency:
                return
            kinds, repeats = chain.checks[depth]
            checked = kinds is not None or repeats
            name, _, forward = chain.tables[depth]
            deeper = visit_last if depth + 1 == chain.last else visit
            onward = chain.table(depth + 1) or {}  # who has neighbours one step further at all
            for other, data in adjacency.items():
                if other not in onward or (checked and chain.skip(other, kinds, repeats)):
                    continue
                ids.append(other)
                hops.append((data, name, forward))
                deeper(depth + 1, other, weight * weight_of(data["m"]))
                ids.pop()
                hops.pop()

        def visit_last(depth: int, node_id: str, weight: float) -> None:
            adjacency = chain.neighbours(depth, node_id)
            if not adjacency:
                return
            kinds, repeats = chain.checks[depth]
            checked = kinds is not None or repeats
            name, _, forward = chain.tables[depth]
            for other, data in adjacency.items():
                if checked and chain.skip(other, kinds, repeats):
                    continue
                if budget[0] == 0:
                    raise _Enough
                budget[0] -= 1
                tally = out.get(other)
                if tally is None:
                    tally = out[other] = PathTally(examples=kept.setdefault(other, PathsOnRead(_path_of)))
                tally.weight += weight * weight_of(data["m"])
                tally.count += 1
                if len(examples := kept[other]) < keep:
                    examples.add((*map(nodes.__getitem__, ids), nodes[other]), (*hops, (data, name, forward)))

        with contextlib.suppress(_Enough):
            (visit_last if chain.last == 0 else visit)(0, ids[0], 1.0)
        return out

    def _walk(self, start_id: str, steps: Sequence[PathStep]) -> Iterator[tuple[list[str], list[_Hop]]]:
        """The simple paths that follow the steps, in :meth:`match_paths`' order, as the ids
        along each and its hops. The two lists are reused between paths: copy what you keep.

        With one type and one direction per step, each step meets a neighbour once and in id
        order, so paths come out already sorted and lazily: a caller that stops after a few
        pays for a few. Other patterns are collected and sorted first.
        """
        if start_id not in self._nodes:
            return
        if all(len(s.types) == 1 and s.direction != "both" for s in steps):
            yield from self._depth_first(start_id, steps, self._ordered_id_hops)
            return
        found = [(list(ids), list(hops)) for ids, hops in self._depth_first(start_id, steps, self._id_hops)]
        found.sort(key=lambda r: (r[0], [hop[1] for hop in r[1]]))
        yield from found

    def _depth_first(
        self,
        start_id: str,
        steps: Sequence[PathStep],
        hops_of: Callable[[str, PathStep], Iterator[tuple[str, _Hop]]],
    ) -> Iterator[tuple[list[str], list[_Hop]]]:
        nodes = self._nodes
        ids: list[str] = [start_id]
        hops: list[_Hop] = []
        last = len(steps) - 1
        if last < 0:
            yield ids, hops
            return
        stack = [hops_of(start_id, steps[0])]
        while stack:
            depth = len(stack) - 1
            kinds = steps[depth].kinds
            for other, hop in stack[-1]:
                if other in ids or (kinds and nodes[other].kind not in kinds):
                    continue
                ids.append(other)
                hops.append(hop)
                if depth == last:
                    yield ids, hops
                    ids.pop()
                    hops.pop()
                    continue
                stack.append(hops_of(other, steps[depth + 1]))
                break
            else:  # this level is exhausted: back up one
                stack.pop()
                if stack:
                    ids.pop()
                    hops.pop()

    def _ordered_id_hops(self, node_id: str, step: PathStep) -> Iterator[tuple[str, _Hop]]:
        """A step of one type and one direction, neighbours in id order."""
        name = step.types[0].value
        layer = self._layers.get(name)
        forward = step.direction == "out"
        adjacency = self._sorted_adjacency(name, layer, node_id, forward) if layer is not None else None
        if adjacency:
            for other, data in adjacency.items():
                yield other, (data, name, forward)

    def _id_hops(self, node_id: str, step: PathStep) -> Iterator[tuple[str, _Hop]]:
        """A step of any types and directions, neighbours in no particular order."""
        names = [t.value for t in step.types] if step.types else list(self._layers)
        for name in names:
            layer = self._layers.get(name)
            if layer is None:
                continue
            if step.direction != "in" and (succ := layer._succ.get(node_id)):
                for other, data in succ.items():
                    yield other, (data, name, True)
            if step.direction != "out" and (pred := layer._pred.get(node_id)):
                for other, data in pred.items():
                    yield other, (data, name, False)

    def _path(self, ids: list[str], hops: list[_Hop]) -> Path:
        """The path a walk found, its packed relationships built."""
        return _path_of(tuple(self._nodes[i] for i in ids), hops)
