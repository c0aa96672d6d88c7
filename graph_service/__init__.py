"""graph_service."""
