"""Turning a :class:`~visualizations.model.View` into one self-contained, safe HTML file.

Our own Jinja2 template (autoescape on) replaces pyvis 0.3.2's, which inserts the
heading unescaped, switches tooltips to ``innerHTML`` when a title contains "href",
and fetches CDN scripts even in its "local" and "in_line" modes. What we take from
pyvis is its bundled copy of vis-network 9.1.2, inlined into the file, so the page
opens with no network at all.

The graph travels as JSON inside ``<script type="application/json">``, with ``<``,
``>``, ``&`` and the line separators U+2028/U+2029 escaped, so no data string can
close the script element; the page's script reads it with ``JSON.parse`` and never
builds markup from it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from visualizations.i18n import UI, basis_label, t
from visualizations.model import View, safe_href
from visualizations.style import KIND_STYLES, STATUS_COLORS, KindStyle, swatch_svg

__all__ = ["BIG_GRAPH", "VIS_VERSION", "json_for_script", "render", "vis_assets"]

VIS_VERSION = "9.1.2"
BIG_GRAPH = 1500
"""From this many nodes (or four times as many edges) on, hover effects, arrows and labels
while dragging are turned off so that the view stays responsive."""
_HERE = Path(__file__).resolve().parent
_FONT = '"Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", system-ui, sans-serif'


def render(view: View, *, nonce: str | None = None) -> str:
    """The view as a complete HTML document (UTF-8, no external resource of any kind).

    Args:
        view: what to draw.
        nonce: the Content-Security-Policy nonce to put on the inline scripts (served pages).

    Raises:
        ValueError: a link that is neither relative nor http(s), or a malformed nonce.
    """
    if nonce is not None and not (nonce.isascii() and nonce.replace("-", "").replace("_", "").isalnum()):
        raise ValueError("a nonce is letters, digits, '-' and '_' only")
    links = view.links.checked()
    big = len(view.nodes) >= BIG_GRAPH or len(view.edges) >= 4 * BIG_GRAPH
    nodes = [n.to_json() for n in view.nodes]
    data: dict[str, Any] = {
        "view": view.kind,
        "nodes": nodes,
        "pinned": view.pinned,
        "options": vis_options(view, big),
        "links": {
            "entity": links.entity,
            "industry": links.industry or links.entity,
            "recentre": links.recentre,
        },
        "text": {
            key: t(key, view.lang)
            for key in (
                "no_match",
                "keep_one",
                "open_page",
                "recentre",
                "details_hint",
                "evidence",
                "source",
                "basis",
                "since",
                "relationships_by_type",
                "more_lines",
            )
        },
        "big": big,
    }
    if big:
        data["edges"] = []
        data["lines"] = compact_lines(view, {n.id: i for i, n in enumerate(view.nodes)})
    else:
        labels = {n.id: n.label for n in view.nodes}
        data["edges"] = [e.to_json(i, labels, view.lang) for i, e in enumerate(view.edges)]
    css, js = vis_assets()
    api_href = None
    if view.api_path:
        api_href = safe_href(links.api_base.rstrip("/") + view.api_path if links.api_base else view.api_path)
    node_swatches = {e.key: swatch_svg(e.shape, e.color, e.border) for e in view.legend}
    edge_swatches = {e.key: swatch_svg(e.shape, e.color, e.border) for e in view.edge_legend}
    depth_links = {d: safe_href(u) for d, u in links.depth.items()}
    return _template().render(
        view=view,
        lang_tag="zh-CN" if view.lang == "zh" else "en",
        ui={key: t(key, view.lang) for key in UI if "{" not in UI[key][0]},
        data_json=json_for_script(data),
        vis_css=css,
        vis_js=js,
        view_css=_asset("static/view.css"),
        view_js=_asset("static/view.js"),
        nonce=nonce,
        api_href=api_href,
        node_swatches=node_swatches,
        edge_swatches=edge_swatches,
        depth_minus=depth_links.get((view.depth or 0) - 1),
        depth_plus=depth_links.get((view.depth or 0) + 1),
        big=big,
        node_count=sum(1 for n in view.nodes if not n.caption and not n.member_of),
        edge_count=sum(1 for e in view.edges if not e.member_of),
    )


def compact_lines(view: View, index: dict[str, int]) -> dict[str, Any]:
    """The relationships of a big view as parallel arrays, drawn by the page itself on the canvas.

    vis-network spends about a tenth of a millisecond setting up each edge object; at
    twenty thousand that alone would take seconds. The page draws these lines in one
    pass per type instead, and composes a relationship's text only when its node is
    selected. Strings stay strings: the page shows them with ``textContent``.
    """
    types: dict[str, int] = {}
    docs: dict[str, int] = {}
    bases: dict[str, int] = {}
    out: dict[str, list[Any]] = {"f": [], "t": [], "y": [], "e": [], "d": [], "b": [], "s": []}
    meta: list[dict[str, str]] = []
    for e in view.edges:
        a, b = index.get(e.source), index.get(e.target)
        if a is None or b is None:
            continue
        y = types.get(e.type)
        if y is None:
            y = types[e.type] = len(types)
            meta.append({"key": e.type, "verb": e.verb, "color": e.color})
        out["f"].append(a)
        out["t"].append(b)
        out["y"].append(y)
        out["e"].append(e.evidence if e.title is None else e.title)
        out["d"].append(docs.setdefault(e.document, len(docs)))
        out["b"].append(bases.setdefault(e.basis, len(bases)))
        out["s"].append(e.since or "")
    out_any: dict[str, Any] = dict(out)
    out_any["types"] = meta
    out_any["docs"] = list(docs)
    out_any["bases"] = [basis_label(b, view.lang) if b else "" for b in bases]
    return out_any


def json_for_script(value: object) -> str:
    """JSON safe to place inside a ``<script type="application/json">`` element.

    >>> json_for_script({"name": "</script><b>"})
    '{"name":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    """
    raw = (
        orjson.dumps(value)
        .replace(b"&", b"\\u0026")
        .replace(b"<", b"\\u003c")
        .replace(b">", b"\\u003e")
        .replace("\u2028".encode(), b"\\u2028")
        .replace("\u2029".encode(), b"\\u2029")
    )
    return raw.decode("utf-8")


def vis_options(view: View, big: bool) -> dict[str, Any]:
    """vis-network options: physics off (positions come from Python), groups per kind and status."""
    groups: dict[str, Any] = {}
    for key, style in [*KIND_STYLES.items(), *((f"status:{k}", v) for k, v in STATUS_COLORS.items())]:
        groups[key] = _group(style)
    groups["caption"] = {"shape": "text", "font": {"size": 20, "color": "#52606d", "face": _FONT}}
    return {
        "autoResize": True,
        "physics": {"enabled": False, "stabilization": {"enabled": False}},
        "layout": {"improvedLayout": False, "randomSeed": 4754},
        "interaction": {
            "hover": not big,
            "tooltipDelay": 200,
            "dragNodes": not big,
            "hideEdgesOnDrag": big,
            "hideEdgesOnZoom": big,
            "navigationButtons": False,
            "keyboard": False,
            "multiselect": False,
            "zoomSpeed": 0.8,
        },
        "nodes": {
            "size": 14,
            "borderWidth": 1,
            "font": {
                "size": 14,
                "face": _FONT,
                "color": "#1f2933",
                "strokeWidth": 3,
                "strokeColor": "#ffffff",
            },
            "scaling": {"label": {"drawThreshold": 7 if big else 3}},
        },
        "edges": {
            "smooth": False,
            "width": 1,
            "selectionWidth": 2,
            "arrows": {"to": {"enabled": not big, "scaleFactor": 0.45}},
            "font": {
                "size": 11,
                "face": _FONT,
                "align": "middle",
                "strokeWidth": 3,
                "strokeColor": "#ffffff",
            },
        },
        "groups": groups,
    }


@lru_cache(maxsize=1)
def vis_assets() -> tuple[str, str]:
    """vis-network's CSS and JavaScript, from the copy bundled inside the installed pyvis package.

    Raises:
        FileNotFoundError: when pyvis is installed without its bundled vis-network.
    """
    import pyvis  # only this package imports pyvis: its bundled vis-network is what we take from it

    lib = Path(pyvis.__file__).resolve().parent / "templates" / "lib" / f"vis-{VIS_VERSION}"
    css = (lib / "vis-network.css").read_text(encoding="utf-8")
    js = (lib / "vis-network.min.js").read_text(encoding="utf-8")
    for name, text, closer in (("css", css, "</style"), ("js", js, "</script")):
        if closer in text.lower():
            raise ValueError(f"the bundled vis-network {name} contains {closer!r}; it cannot be inlined")
    return css, js


def _group(style: KindStyle) -> dict[str, Any]:
    return {
        "shape": style.shape,
        "color": {
            "background": style.color,
            "border": style.border,
            "highlight": {"background": style.color, "border": "#111111"},
            "hover": {"background": style.color, "border": "#111111"},
        },
    }


@lru_cache(maxsize=8)
def _asset(name: str) -> str:
    return (_HERE / name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _template() -> Template:
    env = Environment(
        loader=FileSystemLoader(str(_HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["href"] = safe_href
    return env.get_template("view.html.j2")
