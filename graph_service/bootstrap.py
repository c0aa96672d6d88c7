"""The composition root: the one place that turns settings into a store."""

from __future__ import annotations

from graph_service.settings import Settings
from graph_service.store import GraphStore

__all__ = ["make_store"]


def make_store(settings: Settings) -> GraphStore:
    """Open the backend the settings choose.

    Raises:
        BackendUnavailable: when the backend cannot be reached.
    """
    if settings.backend == "neo4j":
        from graph_service.neo4j_store import Neo4jStore  # the driver is imported only when used

        store: GraphStore = Neo4jStore(settings.neo4j)
        return store
    from graph_service.embedded import EmbeddedStore

    return EmbeddedStore(settings.snapshot_path)
