"""Deterministic layouts computed in Python: the same data always gives the same picture, at once.

vis-network's physics is the usual cause of "the graph takes minutes to settle" and
"the picture changes each time". Every view here places its nodes itself, in
O(n log n), and the browser draws them with physics off:

- :func:`radial_layout`: a centre and rings by distance, each ring ordered by the
  angle of its neighbours in the rings inside it (a radial tree), split into
  several concentric rings when crowded;
- :func:`sector_fill`: nodes in an angular sector, ring after ring outward;
- :func:`cluster_layout`: one sunflower disc per group (such as a kind), discs on a circle;
- :func:`column_layout`: columns, each ordered by the mean position of its neighbours;
- :func:`chain_layout`: chains laid left to right, one row per chain.

Example:
    >>> pos = radial_layout([["a"], ["b", "c"]], {"b": ["a"], "c": ["a"]})
    >>> pos["a"]
    (0.0, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "Point",
    "chain_layout",
    "cluster_layout",
    "column_layout",
    "radial_layout",
    "sector_fill",
]

Point = tuple[float, float]
TAU = 2.0 * math.pi
GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
_TOP = -math.pi / 2.0  # angle 0 of our rings is at the top of the screen (y grows downward)


def radial_layout(
    layers: Sequence[Sequence[str]],
    neighbours: Mapping[str, Iterable[str]],
    *,
    spacing: float = 70.0,
    first_gap: float = 220.0,
) -> dict[str, Point]:
    """Place layers of nodes on concentric rings around the first layer.

    Args:
        layers: node ids by distance from the centre; ``layers[0]`` is the centre
            (one node, or a few placed on a small circle). Within a layer, the given
            order breaks ties.
        neighbours: for each node, the nodes it is joined to (any direction).
        spacing: the least distance between two nodes of a ring, and between rings.
        first_gap: the radius of the first ring.

    Returns:
        A position per node id, rounded to a tenth of a pixel.
    """
    pos: dict[str, Point] = {}
    angle: dict[str, float] = {}
    if not layers:
        return pos
    centre = list(layers[0])
    if len(centre) == 1:
        pos[centre[0]] = (0.0, 0.0)
        radius = 0.0
    else:
        radius = max(spacing, spacing * len(centre) / TAU)
        for i, node in enumerate(centre):
            a = TAU * i / len(centre)
            angle[node] = a
            pos[node] = _polar(radius, a)
    gap = first_gap
    for layer in layers[1:]:
        if not layer:
            continue
        wanted: list[tuple[float, int, str]] = []
        for order, node in enumerate(layer):
            sx = sy = 0.0
            for other in neighbours.get(node, ()):
                seen = angle.get(other)
                if seen is not None:
                    sx += math.cos(seen)
                    sy += math.sin(seen)
            desired = math.atan2(sy, sx) % TAU if (sx or sy) else -1.0
            wanted.append((desired, order, node))
        has_hint = any(w[0] >= 0 for w in wanted)
        if has_hint:
            wanted.sort(key=lambda w: (w[0] if w[0] >= 0 else TAU, w[1]))
        start = radius + gap if radius else gap
        slots, radius = _ring_slots(len(wanted), start, spacing)
        offset = _best_offset([w[0] for w in wanted], [s[1] for s in slots]) if has_hint else 0.0
        for (_, _, node), (r, a) in zip(wanted, slots, strict=True):
            angle[node] = (a + offset) % TAU
            pos[node] = _polar(r, angle[node])
        gap = max(spacing * 2.0, 160.0)
    return {k: (round(x, 1), round(y, 1)) for k, (x, y) in pos.items()}


def sector_fill(
    ids: Sequence[str], start: float, end: float, radius: float, spacing: float
) -> tuple[dict[str, Point], float]:
    """Fill the angular sector ``[start, end)`` (radians, 0 at the top, clockwise) ring by ring outward.

    Args:
        ids: nodes in the order to place them (inner ring first).
        start: where the sector begins.
        end: where it ends.
        radius: the radius of the first ring.
        spacing: the least distance between nodes, and between rings.

    Returns:
        The positions, and the radius of the outermost ring used.
    """
    pos: dict[str, Point] = {}
    width = max(end - start, 1e-6)
    i = 0
    r = radius
    while i < len(ids):
        capacity = max(1, int(width * r / spacing))
        batch = ids[i : i + capacity]
        for m, node in enumerate(batch):
            a = start + width * (m + 0.5) / len(batch)
            x, y = _polar(r, a)
            pos[node] = (round(x, 1), round(y, 1))
        i += len(batch)
        if i < len(ids):
            r += spacing
    return pos, r


def cluster_layout(groups: Sequence[Sequence[str]], *, spacing: float = 40.0) -> dict[str, Point]:
    """One sunflower disc per group (first ids at its centre), the discs on a circle.

    Args:
        groups: the node ids of each group, most central first.
        spacing: the mean distance between neighbouring nodes of a disc.
    """
    pos: dict[str, Point] = {}
    groups = [g for g in groups if g]
    if not groups:
        return pos
    radii = [spacing * math.sqrt(len(g) / math.pi) + spacing for g in groups]
    margin = spacing * 3.0
    if len(groups) == 1:
        centres = [(0.0, 0.0)]
    else:
        widths = [2.0 * r + margin for r in radii]
        big = max(sum(widths) / TAU, max(radii) + margin)
        centres = []
        run = 0.0
        for w in widths:
            a = TAU * (run + w / 2.0) / sum(widths)
            centres.append(_polar(big, a))
            run += w
    for group, (cx, cy) in zip(groups, centres, strict=True):
        for i, node in enumerate(group):
            r = spacing * math.sqrt((i + 0.5) / math.pi) if len(group) > 1 else 0.0
            a = i * GOLDEN_ANGLE
            pos[node] = (round(cx + r * math.cos(a), 1), round(cy + r * math.sin(a), 1))
    return pos


def column_layout(
    columns: Sequence[Sequence[str]],
    neighbours: Mapping[str, Iterable[str]],
    *,
    dx: float = 320.0,
    dy: float = 60.0,
) -> dict[str, Point]:
    """Columns left to right; the first keeps its order, the others follow their neighbours.

    Each node after the first column is placed at the mean height of its neighbours
    already placed, then the column is spread so no two nodes are closer than ``dy``.
    """
    pos: dict[str, Point] = {}
    for c, column in enumerate(columns):
        if c == 0:
            top = -dy * (len(column) - 1) / 2.0
            for i, node in enumerate(column):
                pos[node] = (0.0, round(top + i * dy, 1))
            continue
        wanted: list[tuple[float, int, str]] = []
        for order, node in enumerate(column):
            ys = [pos[o][1] for o in neighbours.get(node, ()) if o in pos]
            wanted.append((sum(ys) / len(ys) if ys else 0.0, order, node))
        wanted.sort()
        placed: list[float] = []
        for y, _, _ in wanted:
            placed.append(max(y, placed[-1] + dy) if placed else y)
        if placed:
            # centre the column on its wishes, so a long column does not run off downward
            shift = (sum(w[0] for w in wanted) - sum(placed)) / len(placed)
            for (_, _, node), y in zip(wanted, placed, strict=True):
                pos[node] = (round(c * dx, 1), round(y + shift, 1))
    return pos


def chain_layout(
    chains: Sequence[Sequence[str]], *, dx: float = 300.0, dy: float = 120.0
) -> dict[str, Point]:
    """Chains from a common source to a common target, left to right, one row per chain.

    The first and last nodes of the chains sit at mid-height on the left and right;
    a node shared by several chains keeps the place of its first appearance.
    """
    pos: dict[str, Point] = {}
    if not chains:
        return pos
    last = max(len(c) for c in chains) - 1
    rows = len(chains)
    for row, chain in enumerate(chains):
        y = (row - (rows - 1) / 2.0) * dy
        for i, node in enumerate(chain):
            if node in pos:
                continue
            if i == 0:
                pos[node] = (0.0, 0.0)
            elif i == len(chain) - 1:
                pos[node] = (round(last * dx, 1), 0.0)
            else:
                # stretch short chains across the full width
                x = i * last * dx / (len(chain) - 1)
                pos[node] = (round(x, 1), round(y, 1))
    return pos


def _polar(r: float, a: float) -> Point:
    return r * math.cos(a + _TOP), r * math.sin(a + _TOP)


def _ring_slots(n: int, start: float, spacing: float) -> tuple[list[tuple[float, float]], float]:
    """``n`` slots (radius, angle) on as few rings from ``start`` outward as keep ``spacing``,
    sorted by angle; and the outermost radius."""
    rings = [start]
    capacity = max(1, int(TAU * start / spacing))
    while capacity < n:
        rings.append(rings[-1] + spacing)
        capacity += max(1, int(TAU * rings[-1] / spacing))
    if len(rings) == 1:
        return [(start, TAU * m / n) for m in range(n)], start
    total = sum(rings)
    counts = [int(n * r / total) for r in rings]
    for j in range(n - sum(counts)):  # hand the remainder to the outer rings
        counts[-1 - (j % len(rings))] += 1
    slots: list[tuple[float, float]] = []
    for j, (r, c) in enumerate(zip(rings, counts, strict=True)):
        stagger = 0.5 * (j % 2)
        step = TAU / c if c else 0.0
        slots.extend((r, step * (m + stagger)) for m in range(c))
    slots.sort(key=lambda s: (s[1], s[0]))
    return slots, rings[-1]


def _best_offset(desired: Sequence[float], slots: Sequence[float]) -> float:
    """The rotation that brings slots closest (circular mean) to the angles their nodes want."""
    sx = sy = 0.0
    for want, got in zip(desired, slots, strict=True):
        if want >= 0:
            sx += math.cos(want - got)
            sy += math.sin(want - got)
    return math.atan2(sy, sx) if (sx or sy) else 0.0
