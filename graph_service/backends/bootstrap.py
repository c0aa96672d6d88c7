"""The composition root: the one place that turns settings into a store."""

from __future__ import annotations

from graph_service.core.settings import Settings
from graph_service.core.store import GraphStore

__all__ = ["make_store"]


def make_store(settings: Settings) -> GraphStore:
    """Open the backend the settings choose.

    Raises:
        BackendUnavailable: when the backend cannot be reached.
    """
    if settings.backend == "neo4j":
        from graph_service.backends.neo4j.store import Neo4jStore  # the driver is imported only when used

        store: GraphStore = Neo4jStore(settings.neo4j)
        return store
    from graph_service.backends.embedded import EmbeddedStore

    return EmbeddedStore(settings.snapshot_path)
