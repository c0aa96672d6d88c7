"""Views a planner can trust: safe, self-contained, offline HTML drawn from the query catalog's answers.

Each view takes the result of one query (never the store) and returns one HTML document
that opens with no network: vis-network (pyvis's bundled copy) inlined, data as escaped
JSON, plain-text tooltips, a legend, filters, search, a layout computed in Python.

Example:
    >>> from queries.explore import neighborhood
    >>> from visualizations import ego_view
    >>> html = ego_view(neighborhood(store, "society:cmes", depth=2), lang="zh")  # doctest: +SKIP
"""

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
