"""Shared resources of the API, each behind one dependency: settings, the store, the API key."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request

from graph_service.backends.bootstrap import make_store
from graph_service.core.errors import Unauthorized
from graph_service.core.memory import keep_out_of_collections
from graph_service.core.settings import Settings
from graph_service.core.store import GraphStore

__all__ = [
    "ApiKeyDep",
    "LoadClaim",
    "Loads",
    "SettingsDep",
    "StoreDep",
    "StoreHolder",
    "has_key",
    "key_problem",
    "writes_enabled",
]

T = TypeVar("T")


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


class Loads:
    """Runs uploads' loads one at a time, on a thread of their own.

    Request workers never run a load, so reads go on while one runs; an upload arriving while
    one is claimed is refused at once (:meth:`claim` gives ``None``), never queued.
    """

    def __init__(self) -> None:
        self._busy = threading.Lock()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, work: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``work`` on the loads' thread (started on first use, and again after :meth:`close`)."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="innograph-load")
            return self._pool.submit(work, *args)

    def claim(self) -> LoadClaim | None:
        """The right to run the next load, or ``None`` while another upload holds it."""
        return LoadClaim(self._busy) if self._busy.acquire(blocking=False) else None

    @property
    def busy(self) -> bool:
        """Whether an upload holds the right to load now."""
        return self._busy.locked()

    def close(self) -> None:
        """Let the loads' thread end once the load running (if any) has finished."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


class LoadClaim:
    """One upload's right to load: released when its load ends, or when its request ends without one."""

    def __init__(self, busy: threading.Lock) -> None:
        self._busy = busy
        self._lock = threading.Lock()
        self._released = False
        self._started = False

    async def run(self, loads: Loads, work: Callable[..., T], *args: Any) -> T:
        """Run ``work`` on the loads' thread; the claim is released when it finishes, even if the
        request waiting for it has gone."""
        future = loads.submit(work, *args)
        self._started = True
        future.add_done_callback(lambda _: self.release())
        return await asyncio.wrap_future(future)

    def end_of_request(self) -> None:
        """The request is answered: release the claim unless a load it started still runs."""
        if not self._started:
            self.release()

    def release(self) -> None:
        """Give the right to load back (once)."""
        with self._lock:
            if not self._released:
                self._released = True
                self._busy.release()


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


def key_problem(settings: Settings) -> str | None:
    """What is wrong with the configured key for serving writes, or ``None`` when it is usable (or unset).

    A request header arrives as ASCII, so a key with other characters could never match; an
    empty key (or one of spaces) would leave the writes off without saying so.
    """
    if settings.api_key is None:
        return None
    key = settings.api_key.get_secret_value()
    if not key.strip():
        return (
            "INNOGRAPH_API_KEY is set but empty: unset it to serve without the write routes, "
            "or set it to a key of printable ASCII characters (letters, digits, punctuation)"
        )
    if not all(" " < c < "\x7f" for c in key):
        return (
            "INNOGRAPH_API_KEY holds characters no X-API-Key header can carry (non-ASCII, spaces or "
            "control characters), so no request could ever match it; use printable ASCII only "
            "(for example the output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    return None


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
