"""Shared resources of the API, each behind one dependency: settings, the store, the API key."""

from __future__ import annotations

import hashlib
import hmac
import threading
from typing import Annotated

from fastapi import Depends, Header, Request

from graph_service.bootstrap import make_store
from graph_service.errors import Unauthorized
from graph_service.memory import keep_out_of_collections
from graph_service.settings import Settings
from graph_service.store import GraphStore

__all__ = ["ApiKeyDep", "SettingsDep", "StoreDep", "StoreHolder", "has_key", "writes_enabled"]


class StoreHolder:
    """Opens the store on first use (so the API starts even while Neo4j is down) and can swap it.

    A failed open is retried on the next request, so the service recovers without a restart.
    """

    def __init__(self, settings: Settings, store: GraphStore | None = None) -> None:
        self.settings = settings
        self._store = store
        self._lock = threading.Lock()
        self.write_lock = threading.Lock()
        """Held by a dataset load, so two uploads never interleave."""

    def get(self) -> GraphStore:
        """The open store; raises ``BackendUnavailable`` when it cannot be reached."""
        store = self._store
        if store is None:
            with self._lock:
                if self._store is None:
                    self._store = make_store(self.settings)
                    keep_out_of_collections()
                store = self._store
        return store

    def opened(self) -> GraphStore | None:
        """The store if it is open, without opening it."""
        return self._store

    def swap(self, store: GraphStore) -> None:
        """Replace the store at once: readers see the old graph or the new one, never a mix."""
        with self._lock:
            self._store = store
        keep_out_of_collections()

    def close(self) -> None:
        """Close the store if it was opened."""
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


def get_holder(request: Request) -> StoreHolder:
    """The app's store holder."""
    holder: StoreHolder = request.app.state.holder
    return holder


def get_store(holder: Annotated[StoreHolder, Depends(get_holder)]) -> GraphStore:
    """The store for one request."""
    return holder.get()


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StoreDep = Annotated[GraphStore, Depends(get_store)]
HolderDep = Annotated[StoreHolder, Depends(get_holder)]


def writes_enabled(settings: Settings) -> bool:
    """Whether a key is configured: without one the write routes are not registered at all."""
    return settings.api_key is not None and bool(settings.api_key.get_secret_value())


def has_key(settings: Settings, key: str | None) -> bool:
    """Whether a request's key matches the configured one.

    Both sides are hashed to equal-length digests before a constant-time compare, so
    the time taken says nothing about the key's content or its length.
    """
    expected = settings.api_key.get_secret_value() if settings.api_key else ""
    if not expected or not key:
        return False
    digest = hashlib.sha256(key.encode()).digest()
    return hmac.compare_digest(hashlib.sha256(expected.encode()).digest(), digest)


def require_key(
    settings: SettingsDep,
    x_api_key: Annotated[
        str | None,
        Header(
            description="The key set in INNOGRAPH_API_KEY.",
        ),
    ] = None,
) -> None:
    """Refuse a write without the right key.

    Without a configured key the write routes are not registered; should one be reached
    all the same, every request is refused.
    """
    if not writes_enabled(settings) or not has_key(settings, x_api_key):
        raise Unauthorized("missing or wrong X-API-Key header")


def optional_key(
    settings: SettingsDep,
    x_api_key: Annotated[
        str | None,
        Header(
            description="Optional: shows private fields to key holders.",
        ),
    ] = None,
) -> bool:
    """Whether the request carries the right key (for private fields); never refuses."""
    return has_key(settings, x_api_key)


ApiKeyDep = Annotated[None, Depends(require_key)]
KeyHolderDep = Annotated[bool, Depends(optional_key)]
