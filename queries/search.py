"""Finding entities by what a planner types: English, Chinese, pinyin, aliases, abbreviations, typos.

Each name of a node (English, Chinese, aliases) is indexed in several forms: folded
text, pinyin syllables run together, pinyin initials, and the initials of English
words ("CMES" for Chinese Mechanical Engineering Society). A query is scored against
them, best match kept:

======================================  =====
exact id                                 100
exact name, alias or Chinese name         95
exact pinyin or initials                  85
name starts with the query                75
query is inside a name                    65
pinyin starts with / contains the query   60
close spelling (similarity ≥ 0.72)        30–50
======================================  =====

Ties are ordered by the shorter name, then the id.
"""

from __future__ import annotations

import difflib
import re
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import Field

from graph_service.errors import InvalidRequest
from graph_service.ontology import Node, NodeKind, normalize_name
from graph_service.store import GraphStore
from queries.models import NodeRef, ResultModel

__all__ = ["SearchHit", "SearchResults", "search"]

INDEX_TTL_SECONDS = 30.0
"""An index is rebuilt when the graph's counts change, or after this long."""
MAX_QUERY = 200


class SearchHit(ResultModel):
    """One entity matching the query."""

    node: NodeRef
    score: float
    matched: str = Field(description="The name or form the query matched.")


class SearchResults(ResultModel):
    """Entities matching a query, best first."""

    query: str
    count: int
    results: list[SearchHit]


@dataclass
class _Entry:
    node: Node
    names: list[str]  # folded names, aliases, Chinese name
    forms: list[tuple[str, str]]  # (form, the original name it came from): pinyin, initials


@dataclass
class _Index:
    entries: list[_Entry]
    signature: tuple[tuple[str, int], ...]
    built: float


_cache: weakref.WeakKeyDictionary[GraphStore, _Index] = weakref.WeakKeyDictionary()
"""Keyed by the store itself, not its ``id()``: a new store at a freed address must not get its index."""
_cache_lock = threading.Lock()


def search(store: GraphStore, text: str, *, kinds: Sequence[NodeKind] = (), limit: int = 20) -> SearchResults:
    """Entities whose names match ``text``, ranked.

    Raises:
        InvalidRequest: an empty or over-long query, or a limit out of range.
    """
    query = normalize_name(text)
    if not query:
        raise InvalidRequest("the search text is empty")
    if len(query) > MAX_QUERY:
        raise InvalidRequest(f"the search text is over {MAX_QUERY} characters")
    if not 1 <= limit <= 200:
        raise InvalidRequest("limit must be between 1 and 200")
    index = _index(store)
    compact = query.replace(" ", "")
    hits: list[tuple[float, str, Node]] = []
    for entry in index.entries:
        if kinds and entry.node.kind not in kinds:
            continue
        best = _score(entry, query, compact)
        if best is not None:
            hits.append((best[0], best[1], entry.node))
    hits.sort(key=lambda h: (-h[0], len(h[2].name), h[2].id))
    results = [SearchHit(node=NodeRef.of(n), score=round(s, 1), matched=m) for s, m, n in hits[:limit]]
    return SearchResults(query=text, count=len(results), results=results)


def _score(entry: _Entry, query: str, compact: str) -> tuple[float, str] | None:
    node = entry.node
    if query == node.id.casefold():
        return 100.0, node.id
    best: tuple[float, str] | None = None

    def offer(score: float, matched: str) -> None:
        nonlocal best
        if best is None or score > best[0]:
            best = (score, matched)

    for name, original in zip(entry.names, node.names(), strict=True):
        if name == query:
            return 95.0, original
        if name.startswith(query):
            offer(75.0, original)
        elif query in name:
            offer(65.0, original)
    for form, original in entry.forms:
        if form == compact:
            offer(85.0, original)
        elif len(compact) >= 2 and form.startswith(compact):
            offer(60.0, original)
        elif len(compact) >= 4 and compact in form:
            offer(55.0, original)
    if best is None and len(query) >= 3:
        for name, original in zip(entry.names, node.names(), strict=True):
            words = name.split()
            width = len(query.split())
            candidates = [name, *(" ".join(words[i : i + width]) for i in range(len(words) - width + 1))]
            for candidate in candidates:
                if abs(len(candidate) - len(query)) > max(3, len(query) // 3):
                    continue
                ratio = difflib.SequenceMatcher(None, query, candidate).ratio()
                if ratio >= 0.72:
                    offer(30.0 + 20.0 * (ratio - 0.72) / 0.28, original)
    return best


def _index(store: GraphStore) -> _Index:
    counts = store.counts()
    signature = tuple(sorted(counts.nodes.items()))
    with _cache_lock:
        cached = _cache.get(store)
        if cached and cached.signature == signature and time.monotonic() - cached.built < INDEX_TTL_SECONDS:
            return cached
    entries = [_entry(node) for node in store.iter_nodes()]
    index = _Index(entries=entries, signature=signature, built=time.monotonic())
    with _cache_lock:
        _cache[store] = index
    return index


def _entry(node: Node) -> _Entry:
    names = [normalize_name(n) for n in node.names()]
    forms: list[tuple[str, str]] = []
    for original in node.names():
        han = re.sub(r"[^\u4e00-\u9fff]", "", original)
        if han:
            syllables = _pinyin(han)
            forms.append(("".join(syllables), original))
            forms.append(("".join(s[0] for s in syllables if s), original))
        words = re.findall(r"[a-z0-9]+", normalize_name(original))
        if len(words) >= 2:
            forms.append(("".join(w[0] for w in words if w not in ("of", "for", "and", "the")), original))
    return _Entry(node=node, names=names, forms=forms)


def _pinyin(text: str) -> list[str]:
    from pypinyin import lazy_pinyin  # large dictionary: loaded on first search only

    return [s.casefold() for s in lazy_pinyin(text)]
