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
import heapq
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
"""For a store that cannot say its generation: an index is rebuilt when the graph's counts
change, or after this long."""
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
    signature: tuple[tuple[str, int], ...] | str
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
    unmatched: list[_Entry] = []
    for entry in index.entries:
        if kinds and entry.node.kind not in kinds:
            continue
        best = _score(entry, query, compact)
        if best is not None:
            hits.append((best[0], best[1], entry.node))
        else:
            unmatched.append(entry)
    # A close spelling scores at most 50, below every other kind of match, and is looked for
    # only where nothing else matched: it can reach the first ``limit`` only when fewer hit.
    if len(hits) < limit and len(query) >= 3:
        bound = difflib.SequenceMatcher(None, "", query)
        wanted = limit - len(hits)
        kept: list[float] = []  # the best ``wanted`` close-spelling scores so far (a min-heap)
        for entry in unmatched:
            floor = kept[0] if len(kept) == wanted else 0.0
            best = _close_spelling(entry, query, bound, floor)
            if best is not None:
                hits.append((best[0], best[1], entry.node))
                (heapq.heappush if len(kept) < wanted else heapq.heappushpop)(kept, best[0])
    hits.sort(key=lambda h: (-h[0], len(h[2].name), h[2].id))
    results = [SearchHit(node=NodeRef.of(n), score=round(s, 1), matched=m) for s, m, n in hits[:limit]]
    return SearchResults(query=text, count=len(results), results=results)


def _score(entry: _Entry, query: str, compact: str) -> tuple[float, str] | None:
    """The best exact, prefix, inside or pinyin match of an entry, if any."""
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
    return best


def _close_spelling(
    entry: _Entry, query: str, bound: difflib.SequenceMatcher[str], floor: float = 0.0
) -> tuple[float, str] | None:
    """The closest spelling of the query among an entry's names and their word runs
    (similarity at least 0.72), scored 30–50; ``bound`` is a matcher holding the query as
    its second sequence. Candidates that cannot score ``floor`` (the lowest of the best hits
    already found, when there are enough) are not compared letter by letter: they could not
    be shown."""
    best: tuple[float, str] | None = None
    width = len(query.split())
    slack = max(3, len(query) // 3)
    for name, original in zip(entry.names, entry.node.names(), strict=True):
        words = name.split()
        candidates = [name, *(" ".join(words[i : i + width]) for i in range(len(words) - width + 1))]
        for candidate in candidates:
            if abs(len(candidate) - len(query)) > slack:
                continue
            # the quick ratio (shared letters, either way round) bounds the ratio from above:
            # most candidates stop there, against the query's letter counts made once
            bound.set_seq1(candidate)
            most = bound.quick_ratio()
            if most < 0.72 or 30.0 + 20.0 * (most - 0.72) / 0.28 < floor:
                continue
            ratio = difflib.SequenceMatcher(None, query, candidate).ratio()
            if ratio >= 0.72 and (best is None or 30.0 + 20.0 * (ratio - 0.72) / 0.28 > best[0]):
                best = (30.0 + 20.0 * (ratio - 0.72) / 0.28, original)
    return best


def _index(store: GraphStore) -> _Index:
    """The store's search index, built again when the graph has changed since (by its
    generation; by its node counts and at most ``INDEX_TTL_SECONDS`` old when it has none)."""
    generation = store.generation()
    signature: tuple[tuple[str, int], ...] | str = (
        generation if generation is not None else tuple(sorted(store.counts().nodes.items()))
    )
    with _cache_lock:
        cached = _cache.get(store)
        if (
            cached
            and cached.signature == signature
            and (generation is not None or time.monotonic() - cached.built < INDEX_TTL_SECONDS)
        ):
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
