"""How each kind looks: a colour and a shape per node kind, a colour per relationship type and status.

The colours start from the Okabe–Ito palette (distinguishable with the common forms
of colour blindness); kinds that share a colour family differ in shape, and the
legend of every view shows both.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph_service.core.ontology import NodeKind, RelType

__all__ = [
    "EDGE_COLORS",
    "KIND_STYLES",
    "STATUS_COLORS",
    "KindStyle",
    "swatch_svg",
]


@dataclass(frozen=True)
class KindStyle:
    """The colour and vis-network shape of one node kind."""

    color: str
    shape: str
    border: str


KIND_STYLES: dict[str, KindStyle] = {
    NodeKind.SOCIETY.value: KindStyle("#0072B2", "dot", "#004d7a"),
    NodeKind.TALENT.value: KindStyle("#E69F00", "triangle", "#a87400"),
    NodeKind.ENTERPRISE.value: KindStyle("#009E73", "square", "#006b4e"),
    NodeKind.PARK.value: KindStyle("#56B4E9", "hexagon", "#2a86bb"),
    NodeKind.INDUSTRY.value: KindStyle("#D55E00", "diamond", "#933f00"),
    NodeKind.AGREEMENT.value: KindStyle("#CC79A7", "star", "#9b4a78"),
    NodeKind.REGION.value: KindStyle("#8C8C8C", "triangleDown", "#5e5e5e"),
    NodeKind.ORGANIZATION.value: KindStyle("#7B4EA3", "dot", "#55327a"),
    NodeKind.PROGRAM.value: KindStyle("#B59B00", "square", "#7d6b00"),
}
"""Colour and shape per node kind (keys are the kind names)."""
FALLBACK_STYLE = KindStyle("#555555", "dot", "#333333")

STATUS_COLORS: dict[str, KindStyle] = {
    "uncovered": KindStyle("#D62728", "diamond", "#8f1a1b"),
    "thin": KindStyle("#F2A900", "diamond", "#a87600"),
    "covered": KindStyle("#2CA02C", "diamond", "#1d6b1d"),
}
"""Colour of an industry in the gap map, by coverage status."""

EDGE_COLORS: dict[str, str] = {
    RelType.SERVES.value: "#0072B2",
    RelType.PARTY_TO.value: "#CC79A7",
    RelType.COVERS.value: "#D55E00",
    RelType.PARTICIPATES_IN.value: "#B59B00",
    RelType.MEMBER_OF.value: "#9aa6b2",
    RelType.ADVISES.value: "#E69F00",
    RelType.HOSTS.value: "#7B4EA3",
    RelType.LOCATED_IN.value: "#b0b0b0",
    RelType.OPERATES_IN.value: "#009E73",
    RelType.FOCUSES_ON.value: "#56B4E9",
    RelType.PART_OF.value: "#c8c8c8",
    RelType.EXPERT_IN.value: "#8fb3d9",
}
"""Colour of a relationship line, by type."""
FALLBACK_EDGE = "#9aa6b2"


def style_of(kind: str) -> KindStyle:
    """The style of a kind (a neutral grey dot for anything unknown)."""
    return KIND_STYLES.get(kind, FALLBACK_STYLE)


_SHAPES: dict[str, str] = {
    "dot": '<circle cx="8" cy="8" r="6.5"/>',
    "square": '<rect x="2" y="2" width="12" height="12"/>',
    "triangle": '<polygon points="8,1.5 15,14.5 1,14.5"/>',
    "triangleDown": '<polygon points="1,1.5 15,1.5 8,14.5"/>',
    "diamond": '<polygon points="8,1 15,8 8,15 1,8"/>',
    "hexagon": '<polygon points="4.5,2 11.5,2 15,8 11.5,14 4.5,14 1,8"/>',
    "star": '<polygon points="8,1 9.8,6 15,6 10.8,9.2 12.4,14.5 8,11.3 3.6,14.5 5.2,9.2 1,6 6.2,6"/>',
    "line": '<line x1="1" y1="8" x2="15" y2="8" stroke-width="3"/>',
}


def swatch_svg(shape: str, color: str, border: str) -> str:
    """A 16×16 inline SVG of a legend entry.

    Only our own constants reach it (shape names and ``#rrggbb`` colours are checked),
    so the result is safe to insert as markup.

    Raises:
        ValueError: for an unknown shape or a colour that is not ``#rrggbb``.
    """
    for value in (color, border):
        if not (
            len(value) == 7 and value[0] == "#" and all(c in "0123456789abcdefABCDEF" for c in value[1:])
        ):
            raise ValueError(f"not a #rrggbb colour: {value!r}")
    body = _SHAPES.get(shape)
    if body is None:
        raise ValueError(f"no swatch for shape {shape!r}")
    paint = f'stroke="{color}"' if shape == "line" else f'fill="{color}" stroke="{border}" stroke-width="1"'
    return (
        f'<svg class="swatch" width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">'
        f"<g {paint}>{body}</g></svg>"
    )
