"""The HTTP API: an app factory, one router per area, one error handler."""

from graph_service.app.api.app import create_app

__all__ = ["create_app"]
