"""Finding entities by what a planner types: English, Chinese, pinyin, aliases, abbreviations, typos.

Each name of a node (English, Chinese, aliases) is indexed in several forms: folded
text, pinyin syllables run together, pinyin initials, and the initials of English
words ("CMES" for Chinese Mechanical Engineering Society). A query is scored against
them, best match kept:

=========================================================  =====
exact id                                                      100
exact name, alias or Chinese name                              95
the name's words, punctuation and "and"/"of" aside             90
exact pinyin or initials                                       85
name starts with the query                                     75
each word of the query starts a word of the name               70
query is inside a name                                         65
pinyin/initials start with the query                           60
pinyin holds it as whole syllables of whole words (≥ 4)        58
pinyin/initials contain it (≥ 4 chars)                         55
close spelling (similarity ≥ 0.72)                             30–50
=========================================================  =====

Words count for queries of two words or more: "pumps valves" is "Pumps and valves" (90),
"auto parts" and "motorcycle parts" find "Auto (and motorcycle) parts" (70). Pinyin is
matched by its syllables: "jixie" is 机械 (ji-xie, 58) in 中国机械工程学会, but only letters
(55) in 中国工业设计协会, where it would run from the end of 设计 into 协会. Words are those
of pypinyin's phrase dictionary; characters outside it count as words of their own.

A common slip (:data:`SLIPS`: 电器 for 电气, 汽车配件 for 汽摩配 …) is read as what was meant
too: its hits score 15 less than the same match typed right, so a whole name reached
through a slip (80) still names what was meant, and a name the query really matches
keeps its place.

Ties go to the better-connected entity, then the shorter name, then the id (:func:`tie_order`).

A province holds hundreds of thousands of names, too many to score one by one for each
query, so the index keeps its entries in that tie order and looks the query up instead:
each entity kind's ids, names and forms sorted (equal to, or starting with, the query is a
range), and its names and forms run together into one text that ``str.find`` searches for
what holds the query. Each kind of match is looked up in turn, best first, and the lookup
stops once enough entities have been found: the first ones found of the last kind needed
are the ones that win its ties. Only the entities found are then scored, by the rules above.
A name's words (in order of their letters, "and", "of" … aside) are kept as a hash, sorted, so
the names with just the query's words are a range too; the names whose words the query's start
are those holding its longest word, each checked; whole syllables, those whose pinyin holds it.

A close spelling is looked for only among the names' candidates (whole names, and runs of
as many words as the query has) of about the query's length. For each candidate the index
counts the letters it shares with the query (what difflib's quick ratio counts, an upper
bound of the similarity) in bulk, from per-letter counts of every candidate. Candidates are
taken from the highest bound down; each is checked against a tighter bound (the longest
common subsequence, quick to find) before being compared by difflib, and the taking stops
as soon as no candidate left could reach the entities already found.
"""

from __future__ import annotations

import difflib
import heapq
import re
import threading
import time
import weakref
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate, chain, compress, repeat
from operator import and_, eq, gt

from pydantic import Field

from graph_service.core.errors import InvalidRequest
from graph_service.core.ontology import Node, NodeKind, normalize_name
from graph_service.core.store import GraphStore
from queries.models import NodeRef, ResultModel

__all__ = ["GOOD", "SLIPS", "SearchHit", "SearchResults", "corrected", "search"]

INDEX_TTL_SECONDS = 30.0
"""For a store that cannot say its generation: an index is rebuilt when the graph's counts
change, or after this long."""
MAX_QUERY = 200
CLOSE = 0.72
"""The least similarity of a close spelling."""
_LONGEST = MAX_QUERY + MAX_QUERY // 3
"""No close-spelling candidate longer than this is ever within the length slack of a query."""
_READY_WIDTH = 3
"""Close-spelling candidates are made with the index for queries of up to this many words."""
_FEW = 2000
"""Up to this many entries starting with a query are sorted; more are found in order instead."""
_COMMON = 16
"""A letter held by at least one in this many candidates is counted in a column, not a list."""
GOOD = 70.0
"""A hit this good (each word of the query starting a word of a name, or better) names what
was meant when it stands alone at the top."""
SLIP_PENALTY = 15.0
"""What a hit reached through a slip scores less than the same match typed right."""
_STOP = frozenset({"of", "for", "and", "the", "&"})
"""Words a name's words are counted without."""

SLIPS: dict[str, str] = {
    # the character that sounds the same: 电器 (appliances) for 电气 (electrical)
    "电器": "电气",
    # short forms and near names of the 5+5 industries, each to the list's own wording
    "汽配": "汽摩配",
    "汽车配件": "汽摩配",
    "鞋": "鞋业",
    "制鞋": "鞋业",
    "服饰": "服装",
    "服装业": "服装",
    "阀门": "泵阀",
    "泵": "泵阀",
    "泵业": "泵阀",
    "新材": "新材料",
    "生物医药": "生命健康",
    "医疗健康": "生命健康",
    "大健康": "生命健康",
    "数字产业": "数字经济",
    "数字经济产业": "数字经济",
    "智能制造": "智能装备",
    "新能源汽车": "新能源智能网联汽车",
    "智能汽车": "新能源智能网联汽车",
}
"""Common slips and variants of what planners type, each to the name meant.

A query holding a slip is searched for as typed and as corrected (the slip replaced, where
the name meant is not already there); a query that is the slip whole is always corrected.
Keys and names are folded as queries are (``normalize_name``). The names meant are the
Chinese names of the bundled Wenzhou 5+5 industries; another city's names are found by the
same table when they use the same words, and through their own aliases otherwise."""


class SearchHit(ResultModel):
    """One entity matching the query."""

    node: NodeRef
    score: float
    matched: str = Field(description="The name or form the query matched.")
    corrected: str | None = Field(
        default=None,
        description="The query as read after correcting a common slip (电器 → 电气), when the hit came from it.",
    )


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
    pinyin: tuple[str, ...]  # each Chinese name's pinyin, a space between its words (most have none)


@dataclass
class _Keys:
    """Strings of one kind's entries (ids, names or forms), sorted, each with its entry's number:
    the entries with a string equal to a key, or starting with it, are one range."""

    keys: list[str]
    owners: array[int]

    def equal(self, key: str) -> list[int]:
        return sorted(set(self.owners[bisect_left(self.keys, key) : bisect_right(self.keys, key)]))

    def starting(self, prefix: str) -> list[int] | None:
        """The entries with a string starting with ``prefix``, ascending; ``None`` when there are
        too many to sort for a query (they are then found in order by ``_Texts.holding``)."""
        if prefix[-1] == chr(0x10FFFF):
            return None
        beyond = prefix[:-1] + chr(ord(prefix[-1]) + 1)  # the first string after those starting with it
        lo, hi = bisect_left(self.keys, prefix), bisect_left(self.keys, beyond)
        return sorted(set(self.owners[lo:hi])) if hi - lo <= _FEW else None


@dataclass
class _Hashes:
    """The hashes of strings of one kind's entries, sorted, each with its entry's number: the
    entries whose string may equal a key (a hash can be shared: each must be checked)."""

    keys: array[int]
    owners: array[int]

    def equal(self, key: str) -> list[int]:
        hashed = hash(key)
        return sorted(set(self.owners[bisect_left(self.keys, hashed) : bisect_right(self.keys, hashed)]))


@dataclass
class _Texts:
    """One kind's entries: their ids, names and forms sorted (``_Keys``), and their names and
    forms each run together into one text (every name or form after a line break, which folded
    text never holds) for ``str.find``. ``word_keys`` are the names' words (``_word_key``), for
    the queries naming all of them, kept as hashes (a few bytes a name, not a string).

    ``members`` are the entries' numbers, ascending; ``name_starts[i]`` is where member ``i``'s
    names begin, with the text's length last (the same for forms)."""

    members: list[int]
    ids: _Keys
    name_keys: _Keys
    form_keys: _Keys
    word_keys: _Hashes
    names: str
    name_starts: array[int]
    forms: str
    form_starts: array[int]

    def holding(self, needle: str, *, forms: bool = False) -> Iterator[int]:
        """The entries with a name (or a form) holding ``needle``, ascending, each once."""
        text, starts = (self.forms, self.form_starts) if forms else (self.names, self.name_starts)
        at = text.find(needle)
        while at >= 0:
            member = bisect_right(starts, at) - 1
            yield self.members[member]
            at = text.find(needle, starts[member + 1])  # on to the next entry's names

    def starting(self, prefix: str, *, forms: bool = False) -> Iterable[int]:
        """The entries with a name (or a form) starting with ``prefix``, ascending, each once."""
        found = (self.form_keys if forms else self.name_keys).starting(prefix)
        return self.holding("\n" + prefix, forms=forms) if found is None else found

    def holding_words(self, entries: list[_Entry], words: tuple[str, ...]) -> Iterator[int]:
        """The entries with a name each of whose ``words`` starts a word of its own (:func:`_worded`),
        ascending: those holding the longest word, each checked."""
        if not all(word in self.names for word in words):
            return
        longest = max(words, key=len)
        for number in self.holding(longest):
            if any(
                all(word in name for word in words) and _worded(words, name) is not None
                for name in entries[number].names
            ):
                yield number


@dataclass
class _Spelling:
    """The distinct close-spelling candidates of one kind's entries, shortest first: their
    whole names (``width`` 0), or the runs of ``width`` words of the names that have more.

    ``by_length[n]`` is the first candidate at least ``n`` long; the candidates of one length
    are run together in ``texts[length]``. The numbers of the entries holding candidate ``i``
    are ``owners[owner_starts[i] : owner_starts[i + 1]]``, ascending.

    Each letter a query holds is counted in every candidate of a length when first asked for:
    ``columns`` for a common letter (one byte a candidate), ``rare`` for another (the candidates
    holding it, and the counts), both by letter and length."""

    texts: dict[int, str]
    by_length: list[int]
    owners: array[int]
    owner_starts: array[int]
    columns: dict[tuple[str, int], bytes] = field(default_factory=dict)
    rare: dict[tuple[str, int], tuple[array[int], bytes]] = field(default_factory=dict)

    def first(self, length: int) -> int:
        return self.by_length[min(max(length, 0), len(self.by_length) - 1)]

    def candidate(self, i: int, length: int) -> str:
        at = (i - self.by_length[length]) * length
        return self.texts[length][at : at + length]

    def owners_of(self, i: int) -> array[int]:
        return self.owners[self.owner_starts[i] : self.owner_starts[i + 1]]

    def shared(self, letters: Counter[str], length: int) -> bytearray:
        """For each candidate of a length: how many letters it shares with a query of these
        letter counts (a letter counted as often as both hold it, as difflib's quick ratio does).

        The columns are added as big integers of one byte a candidate: no sum can carry into
        the next byte, as none exceeds the query's length."""
        size = self.by_length[length + 1] - self.by_length[length]
        total = 0
        for letter, times in letters.items():
            if (letter, length) not in self.columns and (letter, length) not in self.rare:
                self._count(letter, length)
            column = self.columns.get((letter, length))
            if column is not None:
                total += int.from_bytes(column.translate(_at_most(times)), "little")
        counts = bytearray(total.to_bytes(size, "little"))
        for letter, times in letters.items():
            if (letter, length) in self.rare:
                holders, held = self.rare[letter, length]
                for i, count in zip(holders, held, strict=True):
                    counts[i] += min(count, times)
        return counts

    def _count(self, letter: str, length: int) -> None:
        """Count a letter in every candidate of a length: a column when common, else a list of
        the candidates (numbered from the length's first) holding it."""
        text = self.texts[length]
        size = self.by_length[length + 1] - self.by_length[length]
        if text.count(letter) * _COMMON < size:
            times: Counter[int] = Counter()
            at = text.find(letter)
            while at >= 0:
                times[at // length] += 1
                at = text.find(letter, at + 1)
            holders = sorted(times)
            self.rare.setdefault(
                (letter, length), (array("i", holders), bytes(min(times[i], 255) for i in holders))
            )
        elif letter.isascii() and letter != "?" and length <= 255 and size >= length:
            # the candidates' k-th letters at a time (the text one byte a letter)
            marks = text.encode("ascii", "replace").translate(_only(letter))
            total = sum(int.from_bytes(marks[k::length], "little") for k in range(length))
            self.columns.setdefault((letter, length), total.to_bytes(size, "little"))
        else:
            counted = (text[at : at + length].count(letter) for at in range(0, len(text), length))
            self.columns.setdefault((letter, length), bytes(min(c, 255) for c in counted))


@dataclass
class _Index:
    entries: list[_Entry]  # in the tie order: shorter name first, then id
    signature: tuple[tuple[str, int], ...] | str
    built: float
    texts: dict[NodeKind, _Texts]
    spellings: dict[tuple[int, NodeKind], _Spelling] = field(default_factory=dict)

    def spelling(self, width: int, kind: NodeKind) -> _Spelling:
        """The close-spelling candidates of a kind for queries of ``width`` words (0: whole
        names); made with the index up to ``_READY_WIDTH``, and when first needed above."""
        made = self.spellings.get((width, kind))
        if made is None:
            made = _spelling(self.entries, self.texts[kind].members, width)
            with _cache_lock:
                made = self.spellings.setdefault((width, kind), made)
        return made


_cache: weakref.WeakKeyDictionary[GraphStore, _Index] = weakref.WeakKeyDictionary()
"""Keyed by the store itself, not its ``id()``: a new store at a freed address must not get its index."""
_cache_lock = threading.Lock()
_builders: weakref.WeakKeyDictionary[GraphStore, threading.Lock] = weakref.WeakKeyDictionary()
"""Per store, held while its index is built."""


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
    hits: dict[int, tuple[float, str, str | None]] = {
        number: (score, matched, None) for score, matched, number in _ranked(index, query, kinds, limit)
    }
    fixed = corrected(query)
    if fixed is not None:
        for score, matched, number in _ranked(index, fixed, kinds, limit):
            score -= SLIP_PENALTY
            if number not in hits or score > hits[number][0]:
                hits[number] = (score, matched, fixed)
    ranked = sorted(hits.items(), key=lambda hit: (-hit[1][0], hit[0]))  # numbered in the tie order
    results = [
        SearchHit(node=NodeRef.of(index.entries[n].node), score=round(s, 1), matched=m, corrected=c)
        for n, (s, m, c) in ranked[:limit]
    ]
    return SearchResults(query=text, count=len(results), results=results)


def corrected(text: str) -> str | None:
    """The text with its common slips (:data:`SLIPS`) corrected, folded; ``None`` when it holds none.

    >>> corrected("电器"), corrected("温州电器"), corrected("电气")
    ('电气', '温州电气', None)
    """
    query = normalize_name(text)
    fixed = query
    for slip in _SLIPS_LONGEST_FIRST:
        meant = _SLIPS_FOLDED[slip]
        if fixed == slip or (slip in fixed and meant not in fixed):
            fixed = fixed.replace(slip, meant)
    return fixed if fixed != query else None


_SLIPS_FOLDED = {normalize_name(slip): normalize_name(meant) for slip, meant in SLIPS.items()}
_SLIPS_LONGEST_FIRST = sorted(_SLIPS_FOLDED, key=lambda slip: (-len(slip), slip))


def _ranked(index: _Index, query: str, kinds: Sequence[NodeKind], limit: int) -> list[tuple[float, str, int]]:
    """The best ``limit`` hits of a folded query, as (score, matched, entry number), best first."""
    compact = query.replace(" ", "")
    words = _query_words(query)
    present = [index.texts[kind] for kind in index.texts if not kinds or kind in kinds]
    found = _matching(present, index.entries, query, compact, words, limit)
    hits: list[tuple[float, str, int]] = []
    for number in found:
        best = _score(index.entries[number], query, compact, words)
        assert best is not None, "the index found an entry that does not match"
        hits.append((best[0], best[1], number))
    # A close spelling scores at most 50, below every other kind of match, and is looked for
    # only where nothing else matched: it can reach the first ``limit`` only when fewer hit.
    if len(hits) < limit and len(query) >= 3:
        width = len(query.split())
        spellings = [
            index.spelling(w, kind) for kind in index.texts if not kinds or kind in kinds for w in (0, width)
        ]
        bound = difflib.SequenceMatcher(None, "", query)
        for number in _close_entries(spellings, query, limit - len(hits), set(found)):
            close = _close_spelling(index.entries[number], query, bound)
            assert close is not None, "the index found an entry not spelled closely"
            hits.append((close[0], close[1], number))
    hits.sort(key=lambda h: (-h[0], h[2]))  # entries are numbered shorter name first, then id
    return hits[:limit]


def _matching(
    texts: list[_Texts], entries: list[_Entry], query: str, compact: str, words: tuple[str, ...], limit: int
) -> list[int]:
    """The entries (numbers) of the first ``limit`` exact, prefix, inside or pinyin matches among
    these kinds' entries, best first, or all of them when fewer.

    The kinds of match are looked up from the best down, each in entry (tie) order. An entry first
    found by one kind has no better match (every better kind was looked through whole), so once
    ``limit`` are found the rest rank below them."""

    def merged(found: list[Iterable[int]]) -> Iterable[int]:
        return found[0] if len(found) == 1 else heapq.merge(*found)

    tiers: list[Iterable[int]] = [
        merged([kind.ids.equal(query) for kind in texts]),  # 100
        merged([kind.name_keys.equal(query) for kind in texts]),  # 95
    ]
    if words:
        same_words = (
            (n for n in kind.word_keys.equal(_word_key(words)) if _same_words(entries[n], words))
            for kind in texts
        )
        tiers.append(merged(list(same_words)))  # 90
    tiers += [
        merged([kind.form_keys.equal(compact) for kind in texts]),  # 85
        merged([kind.starting(query) for kind in texts]),  # 75 (and 95)
    ]
    if words:
        tiers.append(merged([kind.holding_words(entries, words) for kind in texts]))  # 70 (and 90)
    tiers.append(merged([kind.holding(query) for kind in texts]))  # 65 (and better)
    if len(compact) >= 2:
        tiers.append(merged([kind.starting(compact, forms=True) for kind in texts]))  # 60 (and 85)
    if len(compact) >= 4:
        whole = (
            (n for n in kind.holding(compact, forms=True) if _whole_syllables(entries[n], compact))
            for kind in texts
        )
        tiers.append(merged(list(whole)))  # 58 (and better)
        tiers.append(merged([kind.holding(compact, forms=True) for kind in texts]))  # 55 (and better)
    found: list[int] = []
    seen: set[int] = set()
    for tier in tiers:
        for number in tier:
            if number not in seen:
                seen.add(number)
                found.append(number)
                if len(found) == limit:
                    return found
    return found


def _close_entries(spellings: list[_Spelling], query: str, wanted: int, excluded: set[int]) -> list[int]:
    """The entries (numbers) of the best ``wanted`` close spellings of the query among these
    candidates, best first, leaving out the ``excluded`` entries.

    Candidates are grouped by their length and the letters they share with the query, which
    bound their similarity from above (difflib's quick ratio), and the groups are compared
    from the highest bound down: once ``wanted`` entries have a score that no remaining group
    can reach, the rest could not be shown."""
    slack = max(3, len(query) // 3)
    letters = Counter(query)
    # the groups' bounds need no counting: a length's letters are counted when its first group
    # is reached, and the lengths far from the query's are seldom reached
    groups: list[tuple[float, int, int, int]] = []  # (bound, shared letters, length, spelling)
    for which, spelling in enumerate(spellings):
        for length in range(max(1, len(query) - slack), len(query) + slack + 1):
            if spelling.first(length) == spelling.first(length + 1):
                continue
            for shared in range(min(len(query), length), 0, -1):
                most = 2.0 * shared / (len(query) + length)  # as difflib's quick ratio
                if most < CLOSE:
                    break
                groups.append((_close_score(most), shared, length, which))
    groups.sort(key=lambda group: -group[0])
    counted: dict[tuple[int, int], bytearray] = {}
    scored: list[tuple[float, array[int]]] = []  # (score, entries) of the candidates close enough
    # ``floor``: the least score of ``wanted`` entries found (a lower bound of each entry's best
    # score, from the first few entries of each candidate), once there are so many
    top: list[tuple[float, int]] = []
    in_top: set[int] = set()
    floor = -1.0
    enough = wanted + len(excluded)
    positions: dict[str, int] = {}
    for i, letter in enumerate(query):
        positions[letter] = positions.get(letter, 0) | 1 << i
    for most, shared, length, which in groups:
        if most < floor:
            break
        spelling = spellings[which]
        lo = spelling.first(length)
        counts = counted.get((which, length))
        if counts is None:
            counts = counted[which, length] = spelling.shared(letters, length)
        at = counts.find(shared)
        while at >= 0:
            owners = spelling.owners_of(lo + at)
            if len(owners) > len(excluded) or not excluded.issuperset(owners):
                candidate = spelling.candidate(lo + at, length)
                # the longest common subsequence bounds the ratio from above too, more tightly
                # (difflib's matching blocks are one), and is much quicker to find
                at_best = 2.0 * _common(positions, len(query), candidate) / (len(query) + length)
                if at_best >= CLOSE and _close_score(at_best) >= floor:
                    ratio = difflib.SequenceMatcher(None, query, candidate).ratio()
                    if ratio >= CLOSE:
                        score = _close_score(ratio)
                        scored.append((score, owners))
                        for number in owners[:enough]:
                            if (
                                number in in_top
                                or number in excluded
                                or (len(top) == wanted and score <= floor)
                            ):
                                continue
                            if len(top) == wanted:
                                in_top.discard(heapq.heappushpop(top, (score, number))[1])
                            else:
                                heapq.heappush(top, (score, number))
                            in_top.add(number)
                            if len(top) == wanted:
                                floor = top[0][0]
            at = counts.find(shared, at + 1)
    return [number for _, number in _best_owners(scored, wanted, excluded)]


def _common(positions: dict[str, int], size: int, text: str) -> int:
    """The length of the longest common subsequence of ``text`` and a string of ``size`` letters
    whose positions (a bit each) are given by letter, found a bit per letter at once (Hyyrö's
    bit-parallel form of Allison and Dix)."""
    full = (1 << size) - 1
    row = full
    for letter in text:
        match = positions.get(letter)
        if match:
            u = row & match
            row = ((row + u) | (row - u)) & full
    return size - row.bit_count()


def _best_owners(
    scored: list[tuple[float, array[int]]], wanted: int, excluded: set[int]
) -> list[tuple[float, int]]:
    """The best ``wanted`` entries of the scored candidates, as (score, entry number): an entry
    takes its best candidate's score, ties go to the lower number."""
    scored.sort(key=lambda s: -s[0])
    best: list[tuple[float, int]] = []
    seen = set(excluded)
    i = 0
    while i < len(scored) and len(best) < wanted:
        j = i
        while j < len(scored) and scored[j][0] == scored[i][0]:
            j += 1
        for number in heapq.merge(*(owners for _, owners in scored[i:j])):
            if number not in seen:
                seen.add(number)
                best.append((scored[i][0], number))
                if len(best) == wanted:
                    break
        i = j
    return best


def _score(entry: _Entry, query: str, compact: str, words: tuple[str, ...] = ()) -> tuple[float, str] | None:
    """The best exact, prefix, word, inside or pinyin match of an entry, if any; ``words`` are
    the query's (:func:`_query_words`)."""
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
        if words:
            worded = _worded(words, name)
            if worded is not None:
                offer(worded, original)
    for form, original in entry.forms:
        if form == compact:
            offer(85.0, original)
        elif len(compact) >= 2 and form.startswith(compact):
            offer(60.0, original)
        elif len(compact) >= 4 and compact in form:
            offer(55.0, original)
    if len(compact) >= 4 and (best is None or best[0] < 58.0):
        for spaced, original in zip(entry.pinyin, _chinese_names(node.names()), strict=True):
            if _whole_syllables_in(spaced, compact):
                offer(58.0, original)
                break
    return best


def _query_words(query: str) -> tuple[str, ...]:
    """The words of a folded query, "and", "of" … aside, when it is two words or more of
    letters and digits (and punctuation); none otherwise."""
    if any(ch.isalpha() and not ch.isascii() for ch in query):
        return ()
    words = tuple(word for word in _WORD.findall(query) if word not in _STOP)
    return words if len(words) >= 2 else ()


def _worded(words: tuple[str, ...], name: str) -> float | None:
    """How the query's words match a folded name's words, "and", "of" … aside: 90 when they are
    the same words, 70 when each starts a word of its own, ``None`` otherwise."""
    own = _content_words(name)
    if len(own) < len(words):
        return None
    if len(own) == len(words) and sorted(own) == sorted(words):
        return 90.0
    return 70.0 if _each_starts_one(words, own, frozenset()) else None


def _content_words(name: str) -> list[str]:
    """The words of a folded name (letters and digits), "and", "of" … aside."""
    return [word for word in _WORD.findall(name) if word not in _STOP]


def _word_key(words: Sequence[str]) -> str:
    """Words in one string, whatever their order; none (``""``) for fewer than two."""
    return " ".join(sorted(words)) if len(words) >= 2 else ""


def _same_words(entry: _Entry, words: tuple[str, ...]) -> bool:
    """Whether one of an entry's names has the query's words and no others (:func:`_worded`: 90)."""
    return any(_worded(words, name) == 90.0 for name in entry.names)


def _each_starts_one(words: tuple[str, ...], own: list[str], taken: frozenset[int]) -> bool:
    """Whether each of ``words`` starts a different one of ``own`` (tried every way: a few words)."""
    if not words:
        return True
    first, rest = words[0], words[1:]
    return any(
        i not in taken and word.startswith(first) and _each_starts_one(rest, own, taken | {i})
        for i, word in enumerate(own)
    )


def _whole_syllables(entry: _Entry, compact: str) -> bool:
    """Whether one of an entry's Chinese names holds the query as whole syllables of whole words."""
    return any(_whole_syllables_in(spaced, compact) for spaced in entry.pinyin)


def _whole_syllables_in(spaced: str, compact: str) -> bool:
    """Whether pinyin (a space between words) holds ``compact`` from the start of a syllable
    to the end of one, neither inside a word of several syllables.

    >>> _whole_syllables_in("zhongguo ji xie gong cheng xuehui", "jixie")
    True
    >>> _whole_syllables_in("zhongguo gong ye she ji xiehui", "jixie")
    False
    """
    joined = spaced.replace(" ", "")
    at = joined.find(compact)
    if at < 0:
        return False
    bounds = {0}
    end = 0
    for word in spaced.split(" "):
        end += len(word)
        bounds.add(end)
    while at >= 0:
        if at in bounds and at + len(compact) in bounds:
            return True
        at = joined.find(compact, at + 1)
    return False


def _close_spelling(
    entry: _Entry, query: str, bound: difflib.SequenceMatcher[str]
) -> tuple[float, str] | None:
    """The closest spelling of the query among an entry's names and their word runs
    (similarity at least 0.72), scored 30–50; ``bound`` is a matcher holding the query as
    its second sequence. Of equally close ones, the first name (the whole before its runs)."""
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
            if most < CLOSE:
                continue
            ratio = difflib.SequenceMatcher(None, query, candidate).ratio()
            if ratio >= CLOSE and (best is None or _close_score(ratio) > best[0]):
                best = (_close_score(ratio), original)
    return best


def _close_score(similarity: float) -> float:
    """The score of a close spelling: 30 at the least similarity, 50 at the same letters."""
    return 30.0 + 20.0 * (similarity - CLOSE) / 0.28


def _index(store: GraphStore) -> _Index:
    """The store's search index, built again when the graph has changed since (by its
    generation; by its node counts and at most ``INDEX_TTL_SECONDS`` old when it has none).

    One thread builds it at a time per store: a province's index takes tens of seconds of CPU,
    and the searches that arrive meanwhile wait for that build instead of each starting one."""

    def fresh() -> tuple[_Index | None, tuple[tuple[str, int], ...] | str]:
        """The cached index if it is the graph's as it is now, and the graph's signature."""
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
            return cached, signature
        return None, signature

    found, _ = fresh()
    if found is not None:
        return found
    with _cache_lock:
        building = _builders.setdefault(store, threading.Lock())
    with building:
        # read again: another search may have built it while this one waited, or the graph
        # may have changed meanwhile
        found, signature = fresh()
        if found is not None:
            return found
        nodes = list(store.iter_nodes())
        index = _build(nodes, signature, store.degrees([n.id for n in nodes]))
        with _cache_lock:
            _cache[store] = index
    return index


def tie_order(node: Node, degree: int) -> tuple[int, int, str]:
    """How hits of equal score are ordered: the better-connected entity first (what a planner
    most likely means: 中国机械工程学会 before the many firms named 机械), then the shorter
    name, then the id."""
    return (-degree, len(node.name), node.id)


def _build(
    nodes: list[Node], signature: tuple[tuple[str, int], ...] | str, degrees: Mapping[str, int]
) -> _Index:
    """The index of these nodes: entries in the tie order, each kind's keys and texts, and the
    close-spelling candidates of queries of up to ``_READY_WIDTH`` words."""
    nodes.sort(key=lambda node: tie_order(node, degrees.get(node.id, 0)))
    entries = [_entry(node) for node in nodes]
    by_kind: dict[NodeKind, list[int]] = {}
    for number, entry in enumerate(entries):
        by_kind.setdefault(entry.node.kind, []).append(number)
    index = _Index(
        entries=entries,
        signature=signature,
        built=time.monotonic(),
        texts={kind: _texts(entries, members) for kind, members in by_kind.items()},
    )
    for kind in index.texts:
        for width in range(_READY_WIDTH + 1):
            index.spelling(width, kind)
    index.built = time.monotonic()
    return index


def _texts(entries: list[_Entry], members: list[int]) -> _Texts:
    ids = [(_folded(entries[n].node.id), n) for n in members]
    names = [(name, n) for n in members for name in entries[n].names]
    forms = [(form, n) for n in members for form, _ in entries[n].forms]
    hashed = sorted(
        (hash(key), n) for key, n in ((_word_key(_content_words(name)), n) for name, n in names) if key
    )
    return _Texts(
        members=members,
        ids=_keys(ids),
        name_keys=_keys(names),
        form_keys=_keys(forms),
        word_keys=_Hashes(keys=array("q", [h for h, _ in hashed]), owners=array("i", [n for _, n in hashed])),
        names=_joined(names),
        name_starts=_starts(names, members),
        forms=_joined(forms),
        form_starts=_starts(forms, members),
    )


def _keys(pairs: list[tuple[str, int]]) -> _Keys:
    ordered = sorted(pairs)
    return _Keys(keys=[key for key, _ in ordered], owners=array("i", [n for _, n in ordered]))


def _joined(pairs: list[tuple[str, int]]) -> str:
    return "".join("\n" + text for text, _ in pairs)


def _starts(pairs: list[tuple[str, int]], members: list[int]) -> array[int]:
    """Where each member's part of ``_joined(pairs)`` begins (pairs in member order), and its end."""
    starts = array("i")
    at = k = 0
    for number in members:
        starts.append(at)
        while k < len(pairs) and pairs[k][1] == number:
            at += len(pairs[k][0]) + 1
            k += 1
    starts.append(at)
    return starts


def _spelling(entries: list[_Entry], members: list[int], width: int) -> _Spelling:
    """The close-spelling candidates of these entries for queries of ``width`` words.

    Made in bulk (whole lists at a time) rather than candidate by candidate: at a province's
    size there are a million of them for each width."""
    names = [name for n in members for name in entries[n].names]
    holders = [n for n in members for _ in entries[n].names]
    runs, owners = (names, holders) if width == 0 else _runs(names, holders, width)
    strings = sorted(dict.fromkeys(runs), key=len)
    numbered = dict(zip(strings, range(len(strings)), strict=True))
    ids = list(map(numbered.__getitem__, runs))
    del numbered
    # each candidate's holders, ascending (the sort is stable)
    held = array("i", map(owners.__getitem__, sorted(range(len(runs)), key=ids.__getitem__)))
    sizes = Counter(ids)
    owner_starts = array("i", [0])
    owner_starts.extend(accumulate(map(sizes.__getitem__, range(len(strings)))))
    del ids, sizes, runs, owners
    by_length = [0] * (_LONGEST + 2)
    texts: dict[int, str] = {}
    start = 0
    for length in range(1, _LONGEST + 2):
        by_length[length] = start
        end = bisect_right(strings, length, lo=start, key=len)
        if end > start and length <= _LONGEST:
            texts[length] = "".join(strings[start:end])
        start = end
    return _Spelling(texts=texts, by_length=by_length, owners=held, owner_starts=owner_starts)


def _runs(names: list[str], holders: list[int], width: int) -> tuple[list[str], list[int]]:
    """The runs of ``width`` words of the names with more words, and the entry holding each."""
    words = "\n".join(names).split()  # a folded name's words are parted by single spaces
    counts = [name.count(" ") + 1 if name else 0 for name in names]
    name_of = list(chain.from_iterable(map(repeat, range(len(names)), counts)))
    runs = words if width == 1 else list(map(" ".join, zip(*(words[k:] for k in range(width)), strict=False)))
    # a run that stays within one name that has more words than the run
    inside = list(map(eq, name_of, name_of[width - 1 :]))
    longer = map(gt, map(counts.__getitem__, name_of), repeat(width))
    keep = list(map(and_, inside, longer))
    owners = compress(chain.from_iterable(map(repeat, holders, counts)), keep)
    return list(compress(runs, keep)), list(owners)


def _folded(text: str) -> str:
    """``text.casefold()``, the same object when that changes nothing (most ids): half the memory."""
    folded = text.casefold()
    return text if folded == text else folded


@cache
def _at_most(times: int) -> bytes:
    """A ``bytes.translate`` table capping every byte at ``times``."""
    return bytes(min(value, times) for value in range(256))


@cache
def _only(letter: str) -> bytes:
    """A ``bytes.translate`` table marking one ASCII letter 1 and every other byte 0."""
    return bytes(int(value == ord(letter)) for value in range(256))


_NOT_HAN = re.compile(r"[^\u4e00-\u9fff]")
_WORD = re.compile(r"[a-z0-9]+")


def _entry(node: Node) -> _Entry:
    originals = node.names()
    names = [normalize_name(n) for n in originals]
    forms: list[tuple[str, str]] = []
    pinyin: list[str] = []
    for original, name in zip(originals, names, strict=True):
        han = _han(original)
        if han:
            words = _pinyin(han)
            syllables = [s for word in words for s in word]
            forms.append(("".join(syllables), original))
            forms.append(("".join(s[0] for s in syllables if s), original))
            pinyin.append(" ".join("".join(word) for word in words))
        words_of_name = _WORD.findall(name)
        if len(words_of_name) >= 2:
            forms.append(
                ("".join(w[0] for w in words_of_name if w not in ("of", "for", "and", "the")), original)
            )
    return _Entry(node=node, names=names, forms=forms, pinyin=tuple(pinyin))


def _han(name: str) -> str:
    """The Chinese characters of a name, run together."""
    return "" if name.isascii() else _NOT_HAN.sub("", name)


def _chinese_names(names: list[str]) -> list[str]:
    """The names holding Chinese characters, in order (those with an entry's ``pinyin``)."""
    return [name for name in names if _han(name)]


def _pinyin(text: str) -> list[list[str]]:
    """The syllables of Chinese text, by word (pypinyin's phrase dictionary; a character
    outside it is a word of its own)."""
    from pypinyin import lazy_pinyin  # large dictionary: loaded on first search only
    from pypinyin.seg.simpleseg import seg

    words = seg(text)
    syllables = [s.casefold() for s in lazy_pinyin(words)]
    if sum(map(len, words)) != len(syllables):  # a character without pinyin: syllables alone
        return [[s] for s in syllables]
    out: list[list[str]] = []
    at = 0
    for word in words:
        out.append(syllables[at : at + len(word)])
        at += len(word)
    return out
