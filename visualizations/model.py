"""What a view is before it becomes HTML: nodes and edges with positions and plain-text tooltips,
a legend, filters, notices, side panels, and where its links point.

Every string here is data, never markup: the template escapes it, and the graph
travels to the browser as JSON that is read with ``JSON.parse`` and shown with
``textContent`` (vis-network renders a string ``title`` as text).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graph_service.core.ontology import Basis
from visualizations.i18n import Lang, basis_label, kind_label, pick_name, t

__all__ = [
    "Cell",
    "Item",
    "LegendEntry",
    "Links",
    "Section",
    "Table",
    "VEdge",
    "VNode",
    "View",
    "edge_tooltip",
    "node_tooltip",
    "safe_href",
]

MAX_VALUE = 280
"""Longest property value shown in a tooltip, in characters (the details panel shows the same)."""
MAX_LABEL = 34
"""Longest label drawn on the canvas, in characters."""
HIDDEN_PROPS = frozenset({"id", "name", "name_zh", "kind", "source", "evidence", "basis"})
"""Properties the tooltip shows in its own lines rather than as ``key: value``."""


@dataclass
class VNode:
    """A node as drawn: where, how, and what its tooltip says."""

    id: str
    label: str
    group: str
    """The legend entry and filter it belongs to: a kind, or a status in the gap map."""
    title: str
    x: float
    y: float
    kind: str = ""
    size: float | None = None
    names: str = ""
    """Other names to search by (newline-separated)."""
    ref: str | None = None
    """The entity id behind the node, for links; ``None`` for aggregates and captions."""
    caption: bool = False
    """A text label placed on the canvas (a sector caption), not an entity."""
    font_size: int | None = None
    members: tuple[str, ...] = ()
    """A folded group: the ids of the members the page shows when it is expanded."""
    member_of: str | None = None
    """A member of a folded group: the group's id (hidden until the group is expanded)."""

    def to_json(self) -> dict[str, Any]:
        """The vis-network item (plus our own short keys: k kind, n names, r ref, c caption, f full
        label, g a group's members, m the group of a member).

        Long labels are shortened on the canvas; the full one stays searchable and in the tooltip.
        """
        label = (
            self.label if len(self.label) <= MAX_LABEL or self.caption else self.label[: MAX_LABEL - 1] + "…"
        )
        out: dict[str, Any] = {"id": self.id, "label": label, "group": self.group, "x": self.x, "y": self.y}
        if label != self.label:
            out["f"] = self.label
        if self.title:
            out["title"] = self.title
        if self.kind:
            out["k"] = self.kind
        if self.size is not None:
            out["size"] = self.size
        if self.names:
            out["n"] = self.names
        if self.ref:
            out["r"] = self.ref
        if self.caption:
            out["c"] = 1
            out["shape"] = "text"
        if self.font_size is not None:
            out["font"] = {"size": self.font_size}
        if self.members:
            out["g"] = list(self.members)
            out["borderWidth"] = 3
            out["shapeProperties"] = {"borderDashes": [4, 3]}
        if self.member_of:
            out["m"] = self.member_of
            out["hidden"] = True
        return out


@dataclass
class VEdge:
    """A line between two nodes: its filter key, its look, and the facts its tooltip tells.

    The tooltip is composed when the view is drawn (:meth:`tooltip`), with the names of
    both ends; a big view sends the facts instead and the page composes the text.
    """

    source: str
    target: str
    type: str
    """The relationship type (or other key) the filters act on."""
    verb: str
    color: str
    evidence: str = ""
    document: str = ""
    basis: str = ""
    since: str | None = None
    type_text: str | None = None
    """The second line of the tooltip (default: the type)."""
    title: str | None = None
    """A ready tooltip, used instead of the composed one."""
    label: str | None = None
    width: float | None = None
    dashes: bool = False
    curve: float = 0.0
    """0 for a straight line; otherwise the roundness of a curve (for parallel lines)."""
    arrow: bool = True
    member_of: str | None = None
    """The line of a folded group's member: the group's id (hidden until the group is expanded)."""

    def tooltip(self, labels: Mapping[str, str], lang: Lang) -> str:
        """The plain-text tooltip, naming both ends by their labels."""
        if self.title is not None:
            return self.title
        return edge_tooltip(
            labels.get(self.source, self.source),
            self.verb,
            labels.get(self.target, self.target),
            self.type_text or self.type,
            lang,
            evidence=self.evidence,
            document=self.document,
            basis=self.basis,
            since=self.since,
        )

    def to_json(self, index: int, labels: Mapping[str, str], lang: Lang) -> dict[str, Any]:
        """The vis-network item (plus ``t``, the filter key)."""
        out: dict[str, Any] = {"id": index, "from": self.source, "to": self.target, "t": self.type}
        out["color"] = {"color": self.color, "highlight": self.color, "hover": self.color, "opacity": 0.75}
        out["title"] = self.tooltip(labels, lang)
        if self.label:
            out["label"] = self.label
        if self.width is not None:
            out["width"] = self.width
        if self.dashes:
            out["dashes"] = True
        if self.curve:
            out["smooth"] = {"enabled": True, "type": "curvedCW", "roundness": self.curve}
        if not self.arrow:
            out["arrows"] = {"to": {"enabled": False}}
        if self.member_of:
            out["m"] = self.member_of
            out["hidden"] = True
        return out


@dataclass(frozen=True)
class LegendEntry:
    """One row of the legend: a swatch, a label and a count; a node entry is also a filter."""

    key: str
    label: str
    color: str
    shape: str
    border: str
    count: int


@dataclass(frozen=True)
class Item:
    """A line of a side list: text, an optional link, and smaller lines under it."""

    text: str
    href: str | None = None
    notes: tuple[str, ...] = ()
    badge: str | None = None


@dataclass(frozen=True)
class Section:
    """A titled list in the side panel."""

    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, a hover text, a shade level (0 none … 3 strong), and a link."""

    text: str
    title: str = ""
    level: int | None = None
    href: str | None = None


@dataclass(frozen=True)
class Table:
    """A table shown beside the graph."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Links:
    """Where a view's links point. A standalone file needs none; the web app fills them in.

    Templates contain ``{id}``, replaced in the browser by the URL-encoded entity id.
    """

    api_base: str = ""
    """Put before the API path in the link (``http://host:8000``); empty for the same server."""
    entity: str | None = None
    """Template of an entity's page, e.g. ``/entities/{id}?lang=zh``."""
    industry: str | None = None
    """Template of an industry's page (default: its entity page)."""
    recentre: str | None = None
    """Template of the ego view around another entity."""
    depth: Mapping[int, str] = field(default_factory=dict)
    """Ego view: the URL of the same view at each depth."""

    def checked(self) -> Links:
        """These links, refused if any is not a relative URL or an http(s) one.

        Raises:
            ValueError: for ``javascript:``, ``data:`` or any other scheme.
        """
        for url in [self.entity, self.industry, self.recentre, *self.depth.values()]:
            if url is not None:
                safe_href(url)
        if self.api_base:
            safe_href(self.api_base)
        return self


@dataclass
class View:
    """Everything the template needs to draw one view."""

    kind: str
    """ego, industry, gaps, matrix, path or overview."""
    lang: Lang
    title: str
    subtitle: str
    nodes: list[VNode]
    edges: list[VEdge]
    legend: list[LegendEntry]
    edge_legend: list[LegendEntry]
    pinned: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    api_path: str | None = None
    links: Links = field(default_factory=Links)
    sections: list[Section] = field(default_factory=list)
    table: Table | None = None
    depth: int | None = None
    max_depth: int | None = None
    aggregated: bool = False


def safe_href(url: str) -> str:
    """The URL if it is relative (``/x``, ``?x``) or http(s); anything else is refused.

    Raises:
        ValueError: for any other scheme, such as ``javascript:``.
    """
    low = url.strip().lower()
    if low.startswith(("http://", "https://")) or (low.startswith(("/", "?")) and not low.startswith("//")):
        return url
    raise ValueError(f"refusing link {url[:60]!r}: only relative or http(s) links are allowed")


def node_tooltip(
    name: str,
    name_zh: str | None,
    kind: str,
    node_id: str,
    lang: Lang,
    props: Mapping[str, object] | None = None,
    extra: tuple[str, ...] = (),
) -> str:
    """The plain-text tooltip of an entity: names, kind and id, key properties, evidence.

    The result is text; the browser shows it with ``innerText``, so markup in it is inert.
    """
    first = pick_name(name, name_zh, lang)
    lines = [first]
    other = name if first != name else (name_zh or "")
    if other and other != first:
        lines.append(other)
    lines.append(f"{kind_label(kind, lang)} · {node_id}")
    lines.extend(extra)
    if props:
        for key in sorted(props):
            if key in HIDDEN_PROPS:
                continue
            value = props[key]
            if value is None or value == "" or value == []:
                continue
            text = ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
            lines.append(f"{key}: {_clip(text)}")
        evidence = str(props.get("evidence") or "")
        if evidence:
            lines.append(f"{t('evidence', lang)}: {_clip(evidence)}")
        source = props.get("source")
        basis = props.get("basis")
        if source or basis:
            lines.append(
                f"{t('source', lang)}: {source or '—'} · {t('basis', lang)}: {basis_label(str(basis or ''), lang)}"
            )
    return "\n".join(lines)


def edge_tooltip(
    source_label: str,
    verb: str,
    target_label: str,
    rel_type: str,
    lang: Lang,
    *,
    evidence: str = "",
    document: str = "",
    basis: Basis | str | None = None,
    since: str | None = None,
    extra: tuple[str, ...] = (),
) -> str:
    """The plain-text tooltip of a relationship: who, the verb, whom, and the evidence."""
    words = _words(lang)
    lines = [f"{source_label} — {verb} → {target_label}", rel_type, *extra]
    if evidence:
        lines.append(f"{words['evidence']}: {_clip(evidence)}")
    if document or basis:
        lines.append(
            f"{words['source']}: {document or '—'} · {words['basis']}: {basis_label(basis or '', lang)}"
        )
    if since:
        lines.append(f"{words['since']} {since}")
    return "\n".join(lines)


@lru_cache(maxsize=2)
def _words(lang: Lang) -> dict[str, str]:
    return {key: t(key, lang) for key in ("evidence", "source", "basis", "since")}


def _clip(text: str) -> str:
    if len(text) > MAX_VALUE:
        text = text[: MAX_VALUE * 2]
    if "\n" in text or "  " in text or "\t" in text or "\r" in text:
        text = " ".join(text.split())
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"
