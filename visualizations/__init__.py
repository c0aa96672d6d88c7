"""Views a planner can trust: safe, self-contained, offline HTML drawn from the query catalog's answers.

Each view takes the result of one query (never the store) and returns one HTML document
that opens with no network: vis-network (pyvis's bundled copy) inlined, data as escaped
JSON, plain-text tooltips, a legend, filters, search, a layout computed in Python.

The views are imported when first used, so that the phrase book (:mod:`visualizations.i18n`)
can be read without loading pyvis.

May import: :mod:`graph_service.core` and ``queries`` (the answers they draw, and the verbs of
:mod:`queries.words`). Never the store, a backend, the loaders or the app.

Example:
    >>> from queries.explore import neighborhood
    >>> from visualizations import ego_view
    >>> html = ego_view(neighborhood(store, "society:cmes", depth=2), lang="zh")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from visualizations.model import Links
    from visualizations.views import (
        AGGREGATE_ABOVE,
        coverage_view,
        ego_view,
        gap_map_view,
        matrix_view,
        overview_view,
        path_view,
    )

__all__ = [
    "AGGREGATE_ABOVE",
    "Links",
    "coverage_view",
    "ego_view",
    "gap_map_view",
    "matrix_view",
    "overview_view",
    "path_view",
]


def __getattr__(name: str) -> Any:
    """The views and their models, imported on first use."""
    if name == "Links":
        from visualizations import model

        return model.Links
    if name in __all__:
        from visualizations import views

        return getattr(views, name)
    raise AttributeError(f"module 'visualizations' has no attribute {name!r}")
