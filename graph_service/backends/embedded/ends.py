"""The ends of a typed path from many starts at once: walks done a level at a time over whole
layers, kept per generation, with ends as bit masks when they are few enough (``MASKED_ENDS``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from itertools import compress
from typing import Any

import networkx as nx

from graph_service.backends.embedded.graph import _Graph
from graph_service.core.ontology import (
    ALLOWED_PAIRS,
    NodeKind,
    RelType,
    alive,
    in_period,
)
from graph_service.core.store import (
    PathStep,
)

_ManyStep = tuple[
    tuple[tuple[str, bool], ...], frozenset[NodeKind] | None, frozenset[NodeKind], frozenset[NodeKind] | None
]
"""A step of a pattern walked from many starts: its neighbour tables as (type name, followed
forwards); the kinds to test the arriving nodes against (``None``: the ontology allows no
others there); the kinds that may arrive; and the kinds to test a node that the step is
walked back to against (``None``: only the kinds that may be there can be)."""


@lru_cache(maxsize=256)
def _many_plan(starts: frozenset[NodeKind], steps: tuple[PathStep, ...]) -> tuple[_ManyStep, ...] | None:
    """How to walk a pattern from nodes of the given kinds where no node can come twice on a
    path: the kinds the ontology lets each step arrive at are new on the path. ``None`` when
    a node might come back, or for an empty pattern."""
    if not steps:
        return None
    seen = set(starts)
    arriving: frozenset[NodeKind] = starts
    plan: list[_ManyStep] = []
    for step in steps:
        types = step.types or tuple(RelType)
        ways = {"out": (True,), "in": (False,)}.get(step.direction, (True, False))
        pairs = [  # (here, there) along the step
            (source, target) if forward else (target, source)
            for rel_type in types
            for source, target in ALLOWED_PAIRS.get(rel_type, ())
            for forward in ways
        ]
        possible = {there for here, there in pairs if here in arriving}
        wanted = frozenset(step.kinds) if step.kinds else None
        leaving, arriving = arriving, frozenset(possible & wanted if wanted is not None else possible)
        if arriving & seen:
            return None
        seen |= arriving
        test = wanted if wanted is not None and not possible <= wanted else None
        back = {here for here, there in pairs if there in arriving}
        plan.append(
            (
                tuple((t.value, forward) for t in types for forward in ways),
                test,
                arriving,
                leaving if not back <= leaving else None,
            )
        )
    return tuple(plan)


KEPT_CAPPED = 256
"""Starts over a cap whose first paths' ends a kept walk keeps at most (4 on the talent channel
at L, each at most ``limit`` ends)."""


_DIGIT_VALUES = bytes.maketrans(b"01", b"\x00\x01")
"""Binary digits as the values they stand for."""


MASKED_ENDS = 4096
"""Nodes that may end a pattern up to which a walk from many starts keeps the ends as bit masks."""


class _Unsure(Exception):
    """Raised where the cap cuts between paths that differ only in their relationships."""


class _ManyEnds:
    """A repeat-free pattern walked from many starts: per position along it, for each node
    met there, the number of paths onwards from it (alive or not: a cap counts them all) and
    the ends of those alive at ``as_of``, the node itself taken as alive (its parent checks).

    The positions are filled either forwards, for the nodes the starts reach (:meth:`fill`),
    or, when the starts' first hops alone outnumber the later steps' relationships, backwards
    (:meth:`fill_backwards`): every node that may be at the last position, then each
    relationship of the steps before read once against its direction, from the nodes that
    have paths onwards, down to every node that may be at the first position, whatever the
    starts (so that the walk can be kept, see ``EmbeddedStore._many_walk``). A gap analysis
    over every industry reaches every enterprise, but only the few with an adviser lead
    anywhere on the talent channel: backwards, the others are never touched. At the present,
    when the nodes that may end a path are few, a node's ends are the bits of an integer
    (:meth:`fill_backwards_in_bits`).
    """

    def __init__(
        self,
        store: _Graph,
        plan: tuple[_ManyStep, ...],
        starts: set[str],
        as_of: str | None,
        counting: bool,
    ) -> None:
        # no reference to the store itself: a walk kept in the store's cache must not make a
        # cycle with it (the store is frozen out of the cycle collector's sight, see _settle)
        self.nodes = store._nodes
        self.by_kind = store._by_kind
        self.rel_counts = store._rel_counts
        self.plan = plan
        self.as_of = as_of
        self.counting = counting
        """Whether to count the paths (for a cap); without, only the ends are gathered."""
        self.last = len(plan) - 1
        self.tables: list[list[tuple[str, bool, nx.DiGraph, dict[str, dict[str, dict[str, Any]]]]]] = [
            [
                (name, forward, layer, layer._succ if forward else layer._pred)
                for name, forward in step[0]
                if (layer := store._layers.get(name)) is not None
            ]
            for step in plan
        ]
        self.counts: list[dict[str, int]] = [{} for _ in plan]
        """Per position, the number of paths onwards from each node met there that has any."""
        self.ends: list[dict[str, Collection[str]]] = [{} for _ in plan]
        """Per position, the ends of the paths onwards that are alive, for the nodes that have
        any. A collection may be shared (a neighbour list, or the ends of the one neighbour
        that has any): never change one in place."""
        self.lengths = False
        """Whether the last position's ends are the last step's neighbour lists themselves (their
        lengths the counts): at the present, when no kind is left to test there."""
        self.order: list[str] | None = None
        """When the ends are kept as bit masks (:meth:`fill_backwards_in_bits`), the end each
        bit stands for, lowest first; ``None`` when they are kept as collections."""
        self.masks: list[dict[str, int]] = [{} for _ in plan]
        """Per position, the ends of the paths onwards as bit masks, for the nodes that have any
        (when :attr:`order` is not ``None``; :attr:`ends` is then left empty)."""
        self.capped: dict[tuple[str, int], frozenset[str]] = {}
        """The ends of the first paths from a start, by start and cap, as :meth:`first_ends` found
        them, when the walk is kept (:attr:`complete`): a later question reads them too."""
        self.complete = self.last > 0 and self.cheaper_backwards(starts)
        """Whether the walk was filled backwards, for every node that may be at each position
        (the first included, whatever the starts): then it answers for any starts."""
        if self.complete:
            if as_of is None and sum(len(self.by_kind[k]) for k in plan[-1][2]) <= MASKED_ENDS:
                self.fill_backwards_in_bits()
            else:
                self.fill_backwards()
        else:
            self.fill(0, starts)

    def ends_of(self, depth: int, node_id: str) -> Collection[str]:
        """The ends of the alive paths onwards from a node at position ``depth`` (possibly shared:
        never change it)."""
        if self.order is None:
            return self.ends[depth].get(node_id, ())
        return self.ids_of(self.masks[depth].get(node_id, 0))

    def ids_of(self, mask: int) -> list[str]:
        """The ends whose bits a mask has (see :attr:`order`): its binary digits, lowest first,
        as bytes of 0 and 1 that select from the ends in order, all in C."""
        return list(compress(self.order or (), bin(mask)[:1:-1].encode().translate(_DIGIT_VALUES)))

    def cheaper_backwards(self, starts: set[str]) -> bool:
        """Whether the starts' first hops alone are more than all the later steps' relationships."""
        reached = sum(len(nb) for *_, table in self.tables[0] for s in starts if (nb := table.get(s)))
        rel_counts = self.rel_counts
        return reached > sum(rel_counts.get(name, 0) for tables in self.tables[1:] for name, *_ in tables)

    def of_kinds(self, kinds: frozenset[NodeKind]) -> set[str]:
        """Every node of these kinds."""
        by_kind = self.by_kind
        if len(kinds) == 1:
            return by_kind[next(iter(kinds))]
        return set().union(*(by_kind[k] for k in kinds))

    def fill(self, depth: int, node_ids: set[str]) -> None:
        """Count the paths onwards from these nodes at position ``depth``, and gather their ends.

        Only the nodes with neighbours at this step are looked at one by one (a set
        intersection finds them): a node left out has no paths onwards. At the present a
        neighbour list is read as a whole (its keys), at a date hop by hop."""
        counts, ends, as_of = self.counts[depth], self.ends[depth], self.as_of
        wanted = self.plan[depth][1]
        if depth == self.last and as_of is None and len(self.tables[depth]) == 1:
            table = self.tables[depth][0][3]
            met = table.keys() & node_ids
            last_ends: dict[str, Collection[str]]
            if wanted is None:
                last_ends = {x: nb for x in met if (nb := table[x])}
            else:
                of_kind = self.of_kinds(wanted)
                last_ends = {x: kept for x in met if (kept := table[x].keys() & of_kind)}
            ends.update(last_ends)
            if self.counting:
                counts.update(zip(last_ends, map(len, last_ends.values()), strict=True))
            return
        # per node, its neighbour list in each table: dicts of hops, or at the present, once
        # the kinds are tested, sets of ids
        lists: dict[str, list[Any]] = {}
        for _, _, _, table in self.tables[depth]:
            for x in table.keys() & node_ids:
                if nb := table[x]:
                    lists.setdefault(x, []).append(nb)
        if wanted is not None:
            if as_of is None:
                of_kind = self.of_kinds(wanted)
                for x, found in lists.items():
                    lists[x] = [kept for nb in found if (kept := nb.keys() & of_kind)]
            else:
                nodes = self.nodes
                for x, found in lists.items():
                    lists[x] = [
                        hops
                        for nb in found
                        if (hops := {y: d for y, d in nb.items() if nodes[y].kind in wanted})
                    ]
        if depth == self.last:
            for x, found in lists.items():
                if not (total := sum(map(len, found))):
                    continue
                counts[x] = total
                if as_of is None:
                    ends[x] = found[0] if len(found) == 1 else set().union(*found)
                elif alive_ends := {y for nb in found for y, data in nb.items() if self.alive(y, data)}:
                    ends[x] = alive_ends
            return
        onward: set[str] = set()
        for found in lists.values():
            for nb in found:
                onward.update(nb)
        self.fill(depth + 1, onward)
        next_counts, next_ends = self.counts[depth + 1], self.ends[depth + 1]
        count_of, ends_of = next_counts.__getitem__, next_ends.__getitem__
        counting = self.counting
        for x, found in lists.items():
            total = 0
            parts: list[Collection[str]] = []
            for nb in found:
                if as_of is None:  # at the present every node with paths has their ends
                    reached = nb & (next_counts if counting else next_ends).keys()
                    if counting:
                        total += sum(map(count_of, reached))
                    parts.extend(map(ends_of, reached))
                else:
                    if counting:
                        total += sum(map(count_of, nb.keys() & next_counts.keys()))
                    parts.extend(
                        ends_of(y) for y, data in nb.items() if y in next_ends and self.alive(y, data)
                    )
            if total:
                counts[x] = total
            if parts:
                ends[x] = parts[0] if len(parts) == 1 else set().union(*parts)

    def fill_backwards(self) -> None:
        """Fill the last position for every node of the kinds that may be there, then each
        position before it by walking its step back from the nodes after it that have paths
        onwards."""
        last_tables, (_, last_test, _, _), (_, before_test, arriving, _) = (
            self.tables[self.last],
            self.plan[self.last],
            self.plan[self.last - 1],
        )
        if self.as_of is None and len(last_tables) == 1 and last_test is None and before_test is None:
            # the last step's neighbour lists are the ends as they stand, their lengths the counts;
            # a node of another kind there is never walked back to a node that may come before it
            self.ends[self.last] = last_tables[0][3]  # type: ignore[assignment]
            self.lengths = True
        else:
            self.fill(self.last, self.of_kinds(arriving))
        for depth in range(self.last - 1, -1, -1):
            if self.as_of is None:
                self.step_back(depth)
            else:
                self.step_back_at_a_date(depth)

    def fill_backwards_in_bits(self) -> None:
        """:meth:`fill_backwards` at the present when the nodes that may end a path are few (the
        210 societies of the talent channel at L): each end gets a bit, and a node's ends are
        the bits of an integer. Walking a relationship back is then one ``|`` into the node it
        comes from, where sets would each be made, filled and joined: at L the talent channel
        reaches 54k enterprises and their 1,300 industries, each with a handful of societies."""
        last = self.last
        order: list[str] = []
        self.order = order
        # the last step is read from its ends, each given its bit once: only the relationships
        # into the kinds wanted there are met, and no end is looked up per relationship
        maybe_here = self.of_kinds(self.plan[last - 1][2])
        masks, counts = self.masks[last], self.counts[last]
        mask_of, count_of = masks.get, counts.get
        back_tables = [
            (layer._pred if forward else layer._succ) for _, forward, layer, _ in self.tables[last]
        ]
        for there in tuple(self.of_kinds(self.plan[last][2])):  # the store's own set: a copy
            one = 0
            for back_table in back_tables:
                if not (back := back_table.get(there)):
                    continue
                if not one:
                    one = 1 << len(order)
                    order.append(there)
                for here in back:
                    if here in maybe_here:
                        masks[here] = mask_of(here, 0) | one
                        counts[here] = count_of(here, 0) + 1
        for depth in range(last - 1, -1, -1):
            self.step_back_in_bits(depth)

    def step_back_in_bits(self, depth: int) -> None:
        """:meth:`step_back` with the ends as bit masks: each relationship of the step is read
        once, its later end's mask joined into and its count added to its earlier end's."""
        nodes, test = self.nodes, self.plan[depth][3]
        next_counts, next_masks = self.counts[depth + 1], self.masks[depth + 1]
        counts, masks = self.counts[depth], self.masks[depth]
        mask_of, count_of = masks.get, counts.get
        counting = self.counting
        for _, forward, layer, _ in self.tables[depth]:
            back_of = (layer._pred if forward else layer._succ).get
            for there, mask in next_masks.items():
                if not (back := back_of(there)):
                    continue
                paths = next_counts[there] if counting else 0
                for here in back:
                    if test is not None and nodes[here].kind not in test:
                        continue
                    masks[here] = mask_of(here, 0) | mask
                    if counting:
                        counts[here] = count_of(here, 0) + paths

    def step_back(self, depth: int) -> None:
        """Fill position ``depth`` from the one after it, at the present: each relationship of
        the step is read once, the ends (and the count of paths) of the node after it noted for
        the node before it; then per node the ends are joined. The ends are taken as the
        relationship is read, not looked up again afterwards: at L that second look into the
        54k advised enterprises cost as much as the walk itself."""
        nodes, counting = self.nodes, self.counting
        next_counts, next_ends = self.counts[depth + 1], self.ends[depth + 1]
        lengths = self.lengths and depth + 1 == self.last
        test = self.plan[depth][3]
        parts: defaultdict[str, list[Collection[str]]] = defaultdict(list)
        counts = self.counts[depth]
        count_of = counts.get
        for _, forward, layer, _ in self.tables[depth]:
            back_of = (layer._pred if forward else layer._succ).get
            # at the present, the nodes with paths onwards are those with ends
            for there, onward in next_ends.items():
                if not (back := back_of(there)):
                    continue
                paths = (len(onward) if lengths else next_counts[there]) if counting else 0
                for here in back:
                    if test is not None and nodes[here].kind not in test:
                        continue
                    parts[here].append(onward)
                    if counting:
                        counts[here] = count_of(here, 0) + paths
        ends = self.ends[depth]
        for here, found in parts.items():
            ends[here] = found[0] if len(found) == 1 else set().union(*found)

    def step_back_at_a_date(self, depth: int) -> None:
        """:meth:`step_back` at a date: every path counts, but only the ends of those whose
        relationships and nodes are alive are kept."""
        nodes, as_of, counting = self.nodes, self.as_of, self.counting
        next_counts, next_ends = self.counts[depth + 1], self.ends[depth + 1]
        counts = self.counts[depth]
        parts: dict[str, list[Collection[str]]] = {}
        test = self.plan[depth][3]
        for _, forward, layer, _ in self.tables[depth]:
            back_table = layer._pred if forward else layer._succ
            for there in next_counts if counting else next_ends:
                if not (back := back_table.get(there)):
                    continue
                onward = next_ends.get(there)
                paths = next_counts[there] if counting else 0
                for here, data in back.items():
                    if test is not None and nodes[here].kind not in test:
                        continue
                    if counting:
                        counts[here] = counts.get(here, 0) + paths
                    if onward is not None and (as_of is None or self.alive(there, data)):
                        parts.setdefault(here, []).append(onward)
        ends = self.ends[depth]
        for here, found in parts.items():
            ends[here] = found[0] if len(found) == 1 else set().union(*found)

    def paths_from(self, depth: int, node_id: str) -> int:
        """How many paths there are onwards from a node at position ``depth``."""
        if self.lengths and depth == self.last:
            return len(self.ends[depth].get(node_id) or ())
        return self.counts[depth].get(node_id, 0)

    def alive(self, node_id: str, data: dict[str, Any]) -> bool:
        """Whether a hop's relationship and the node it arrives at are alive at ``as_of``."""
        as_of = self.as_of
        if as_of is None:
            return True
        fact = data["m"]
        since, until = (fact[2], fact[3]) if type(fact) is tuple else (fact.since, fact.until)
        return in_period(since, until, as_of) and alive(self.nodes[node_id], as_of)

    def first_ends(self, store: _Graph, start_id: str, limit: int) -> set[str]:
        """The ends of the first ``limit`` paths from a start in the order of
        :meth:`EmbeddedStore.match_paths` (by the ids along them, then their types): the
        neighbours are met in id order, and one whose paths all fit in what is left of the
        cap is taken whole. A step of one type reads the neighbour list in its own order (the
        store keeps it in id order) only as far as the cap: a hub industry of the talent
        channel at L has 67k enterprises, of which the first 15k hold its first 5,000 paths.

        Raises:
            _Unsure: the cap cuts between paths through the same nodes over different
                relationships, at a date (one may be alive and the other not).
        """
        if (taken := self.capped.get((start_id, limit))) is not None:
            return set(taken)
        found: set[str] = set()
        whole: list[tuple[int, str]] = []
        """The nodes (and their positions) whose paths onwards are all taken."""
        nodes, as_of = self.nodes, self.as_of

        def take(depth: int, node_id: str, budget: int, times: int) -> int:
            last = depth == self.last
            onward: Mapping[str, object] = (
                {}
                if last
                else self.ends[depth + 1]
                if self.lengths and depth + 1 == self.last
                else self.counts[depth + 1]
            )
            met: Iterable[str]
            if len(tables := self.tables[depth]) == 1:
                name, forward, layer, _ = tables[0]
                nb = store._sorted_adjacency(name, layer, node_id, forward)
                lists = [nb] if nb else []
                met = tuple(nb) if nb else ()  # the store's own dict: a copy, as writes may go on
            else:
                lists = [nb for *_, table in tables if (nb := table.get(node_id))]
                if last:
                    met = sorted(set().union(*lists))
                else:  # only the neighbours with paths onwards count
                    met = sorted(set().union(*(nb.keys() & onward.keys() for nb in lists)))
            wanted = self.plan[depth][1]
            for other in met:
                if not last and other not in onward:
                    continue
                if wanted is not None and nodes[other].kind not in wanted:
                    continue
                ways = [nb[other] for nb in lists if other in nb]
                each = times * len(ways)
                paths = each if last else each * self.paths_from(depth + 1, other)
                live = as_of is None or any(self.alive(other, data) for data in ways)
                if paths <= budget:
                    budget -= paths
                    if live:
                        if last:
                            found.add(other)
                        else:
                            whole.append((depth + 1, other))
                    if budget == 0:
                        return 0
                    continue
                if as_of is not None and len(ways) > 1:
                    raise _Unsure
                if live:
                    if last:
                        found.add(other)
                    else:
                        take(depth + 1, other, budget, each)
                return 0
            return budget

        if limit > 0:
            take(0, start_id, limit, 1)
        if self.order is None:
            found.update(*(self.ends[depth].get(node_id, ()) for depth, node_id in whole))
        else:
            mask = 0
            for depth, node_id in whole:
                mask |= self.masks[depth].get(node_id, 0)
            found.update(self.ids_of(mask))
        if self.complete and len(self.capped) < KEPT_CAPPED:
            self.capped[(start_id, limit)] = frozenset(found)
        return found
