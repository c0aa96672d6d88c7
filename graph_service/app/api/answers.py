"""Repeated questions answered from memory until the graph changes.

:class:`CachedAnswers` is ASGI middleware in front of the routes. A ``GET /api/...``
answered 200 is kept, as the bytes that were sent, under (the graph's generation, the
path, the query parameters sorted by name); the same question at the same generation is
answered with those bytes without touching the store. Every write that changes the graph
gives it a new generation (:meth:`graph_service.core.store.GraphStore.generation`), so an
answer is never served after the graph it came from has changed:

- embedded: the generation is an attribute of the store in this process; a load through
  the API loads a clone and swaps it in, and the clone takes a new generation as it is
  written, so readers hit the old answers until the swap and miss right after it.
- Neo4j: other processes may write, so the generation is read from the database (one
  small read transaction) for every question: a question waits for a read that started
  after it arrived, so it sees every write committed before it arrived (a write advances
  the generation again once its commit has been applied in full, so the generation read
  names the whole write: :meth:`graph_service.backends.neo4j.store.Neo4jStore.generation`). Reads are
  coalesced: one at a time, each serving every question that arrived while the previous
  one ran. There is no staleness window; the cost is that round trip (a few ms).

A question that is being answered when the same one arrives is not asked twice: the
newcomer waits for the first answer and is sent it (whatever its status), so fifty
planners opening the same page right after a load cost one query, not fifty.

Not kept: ``/api/health`` (it must say whether the store answers now), requests carrying
an ``X-API-Key`` (key holders may see private fields), anything but a 200, and any
answer when the generation cannot be read (the request then runs as if there were no
cache, and fails as it would have). Memory is bounded by ``INNOGRAPH_ANSWER_CACHE_BYTES``
(default 64 MiB; 0 turns the cache off) and ``INNOGRAPH_ANSWER_CACHE_ENTRIES``, least
recently used first out; an answer over a quarter of the byte budget is not kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph_service.app.api.deps import StoreHolder

__all__ = ["AnswerCache", "CachedAnswers", "Generations"]

log = logging.getLogger("innograph.api")

NOT_KEPT = frozenset({"/api/health"})
"""Paths always asked of the store."""
ENTRY_OVERHEAD = 256
"""Bytes counted per kept answer beyond its body and headers (key, tuples, dict slot)."""

Key = tuple[str, str, tuple[tuple[str, str], ...]]
Headers = list[tuple[bytes, bytes]]
Sent = tuple[int, Headers, bytes]
"""An answer as sent: status, headers, body."""


class AnswerCache:
    """Answers by key, least recently used out first, bounded in entries and in bytes."""

    def __init__(self, max_bytes: int, max_entries: int) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.bytes = 0
        self._entries: OrderedDict[Key, tuple[Headers, bytes, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key) -> tuple[Headers, bytes] | None:
        """The kept answer, now the most recently used; ``None`` when there is none."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0], entry[1]

    def put(self, key: Key, headers: Headers, body: bytes) -> None:
        """Keep an answer, dropping the least recently used ones to stay within the bounds."""
        size = len(body) + sum(len(k) + len(v) for k, v in headers) + len(key[1]) + ENTRY_OVERHEAD
        if size > self.max_bytes // 4:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old[2]
        self._entries[key] = (headers, body, size)
        self.bytes += size
        while self.bytes > self.max_bytes or len(self._entries) > self.max_entries:
            _, (_, _, dropped) = self._entries.popitem(last=False)
            self.bytes -= dropped


class Generations:
    """The generation of the holder's store, as fresh as each question needs it.

    A store whose generation is local (embedded) is read on the spot. Any other is read in a
    thread of its own, one read at a time: a question waits for a read that starts after it
    arrived, so it sees every write committed before that; the questions arriving during a read
    share the next one.
    ``None`` when it cannot be read.
    """

    def __init__(self, holder: StoreHolder) -> None:
        self._holder = holder
        self._next: asyncio.Future[str | None] | None = None
        self._reading = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread: ThreadPoolExecutor | None = None
        """A thread of its own: reads never queue behind slow questions in the shared pool."""

    async def current(self) -> str | None:
        """The generation as of some moment after this call began."""
        store = self._holder.opened()
        if store is not None and store.local_generation:
            return store.generation()
        pending = self._next
        if pending is None:
            pending = self._next = asyncio.get_running_loop().create_future()
            if not self._reading:
                self._start()
        return await asyncio.shield(pending)  # a question given up must not cancel the others' read

    def _start(self) -> None:
        future, self._next = self._next, None
        assert future is not None
        self._reading = True
        task = asyncio.ensure_future(self._read(future))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, future: asyncio.Future[str | None]) -> None:
        value: str | None = None
        try:
            if self._thread is None:
                self._thread = ThreadPoolExecutor(1, thread_name_prefix="innograph-generation")
            value = await asyncio.get_running_loop().run_in_executor(self._thread, self._read_now)
        finally:
            if not future.done():
                future.set_result(value)
            self._reading = False
            if self._next is not None:
                self._start()

    def _read_now(self) -> str | None:
        try:
            read = getattr(self._holder.get(), "generation", None)
            return read() if read is not None else None
        except Exception:  # unreachable store: the request itself will say so
            log.debug("could not read the graph's generation", exc_info=True)
            return None


class CachedAnswers:
    """ASGI middleware: repeated ``GET /api/...`` questions answered from an :class:`AnswerCache`.

    A question already being answered is not asked of the store a second time: those asking
    it meanwhile wait for that answer and are sent the same (whatever its status).
    """

    def __init__(self, app: ASGIApp, holder: StoreHolder, max_bytes: int, max_entries: int) -> None:
        self.app = app
        self.cache = AnswerCache(max_bytes, max_entries)
        self.generations = Generations(holder)
        self._asking: dict[Key, asyncio.Future[Sent | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer from the cache, or ask the app and keep its 200 answer."""
        if not _kept(scope):
            await self.app(scope, receive, send)
            return
        generation = await self.generations.current()
        if generation is None:
            await self.app(scope, receive, send)
            return
        pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        key: Key = (generation, scope["path"], tuple(sorted(pairs, key=lambda kv: kv[0])))
        hit = self.cache.get(key)
        if hit is not None:
            await _replay(send, 200, *hit)
            return
        asking = self._asking.get(key)
        if asking is not None:
            answer = await asyncio.shield(asking)
            if answer is not None:
                await _replay(send, *answer)
                return
        future: asyncio.Future[Sent | None] = asyncio.get_running_loop().create_future()
        self._asking.setdefault(key, future)
        start: Message | None = None
        headers: Headers = []
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal start, headers
            if message["type"] == "http.response.start":
                start = message
                headers = list(message.get("headers", []))  # a copy: outer middleware adds to the list
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    body = b"".join(chunks)
                    if start["status"] == 200:
                        self.cache.put(key, headers, body)
                    if not future.done():
                        future.set_result((start["status"], headers, body))
            await send(message)

        try:
            await self.app(scope, receive, keep)
        finally:
            if self._asking.get(key) is future:
                del self._asking[key]
            if not future.done():
                future.set_result(None)  # no whole answer: those waiting ask for themselves


async def _replay(send: Send, status: int, headers: Headers, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": list(headers)})
    await send({"type": "http.response.body", "body": body})


def _kept(scope: Scope) -> bool:
    """Whether the request's answer may come from, and go to, the cache."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    path: str = scope["path"]
    if not path.startswith("/api/") or path in NOT_KEPT:
        return False
    return not any(name == b"x-api-key" for name, _ in scope["headers"])
