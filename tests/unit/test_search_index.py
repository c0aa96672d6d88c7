"""The search index finds what scoring every entity would: exact, prefix, inside, pinyin and typo hits.

``search`` looks a query up in an index and scores only what it finds; here it is checked
against the plain rule (every entry scored, then every unmatched one compared for a close
spelling) on generated names that share words, letters, digits and Chinese characters.
"""

from __future__ import annotations

import difflib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.ontology import Basis, Enterprise, Node, NodeKind, Provenance, Society
from queries import search as search_module
from queries.search import search

P = Provenance(source="test", basis=Basis.STATED)
WORDS = ["society", "societe", "engineering", "co.,", "ltd.", "wenzhou", "a", "ab", "12", "120", "21", "x"]
HAN = "中国机械工程学会温州电气"


def _name(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return "".join(rng.choice(HAN) for _ in range(rng.randint(1, 6)))
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5)))


def _nodes(rng: random.Random) -> list[Node]:
    nodes: list[Node] = []
    for i in range(rng.randint(1, 10)):
        model = rng.choice([Society, Enterprise])
        nodes.append(
            model(
                id=f"{model.kind.value.lower()}:n{i}",
                name=_name(rng),
                name_zh="".join(rng.choice(HAN) for _ in range(rng.randint(1, 6)))
                if rng.random() < 0.3
                else None,
                aliases=tuple(
                    rng.choice([_name(rng), "CMES", "SAE-China"]) for _ in range(rng.randint(0, 2))
                ),
                provenance=P,
            )
        )
    return nodes


def _typo(rng: random.Random, text: str) -> str:
    if not text:
        return rng.choice("ab")
    at, letter = rng.randrange(len(text)), rng.choice("aeiosc1 2中x")
    how = rng.randrange(3)
    if how == 0:
        return text[:at] + letter + text[at + 1 :]
    if how == 1:
        return text[:at] + text[at + 1 :]
    return text[:at] + letter + text[at:]


def _query(rng: random.Random, nodes: list[Node]) -> str:
    """A query made from a node's name: whole, a prefix, a piece, a typo, some of its words, its pinyin,
    or made up."""
    node = rng.choice(nodes)
    name = rng.choice(node.names())
    forms = [form for form, _ in search_module._entry(node).forms if form]
    start, size = rng.randrange(len(name)), rng.randint(1, 12)
    options = [
        name,
        node.id,
        name[:size],
        name[start : start + size],
        _typo(rng, name),
        _typo(rng, _typo(rng, name)),
        "".join(rng.choice("abcesoy12 ") for _ in range(rng.randint(1, 6))),
        # some of its words, in any order, some of them cut short
        " ".join(
            w[: rng.randint(1, len(w))] for w in rng.sample(name.split(), rng.randint(1, len(name.split())))
        )
        if name.split()
        else name,
    ]
    if forms:
        form = rng.choice(forms)
        start %= len(form)
        options += [form, form[:size], form[start : start + size]]
    return rng.choice(options)


def plain_search(store: EmbeddedStore, text: str, kinds: tuple[NodeKind, ...], limit: int) -> list[tuple]:
    """The rule without an index: every entry scored, every unmatched one compared for a typo."""
    query = search_module.normalize_name(text)
    compact = query.replace(" ", "")
    words = search_module._query_words(query)
    entries = search_module._index(store).entries
    hits, unmatched = [], []
    for number, entry in enumerate(entries):
        if kinds and entry.node.kind not in kinds:
            continue
        best = search_module._score(entry, query, compact, words)
        if best is None:
            unmatched.append(number)
        else:
            hits.append((best[0], best[1], number))
    if len(hits) < limit and len(query) >= 3:
        bound = difflib.SequenceMatcher(None, "", query)
        for number in unmatched:
            close = search_module._close_spelling(entries[number], query, bound)
            if close is not None:
                hits.append((close[0], close[1], number))
    degrees = store.degrees([e.node.id for e in entries])
    hits.sort(
        key=lambda h: (-h[0], search_module.tie_order(entries[h[2]].node, degrees[entries[h[2]].node.id]))
    )
    return [(entries[n].node.id, round(s, 1), m) for s, m, n in hits[:limit]]


def _agrees(seed: int) -> None:
    rng = random.Random(seed)  # names and queries made from a seed: quicker than drawing each
    nodes = _nodes(rng)
    store = EmbeddedStore(None)
    store.upsert_nodes(nodes)
    for _ in range(12):
        text = _query(rng, nodes)
        if not search_module.normalize_name(text):
            continue
        kinds = rng.choice([(), (NodeKind.SOCIETY,), (NodeKind.ENTERPRISE,)])
        limit = rng.choice([1, 2, 3, 20])
        found = [
            (h.node.id, h.score, h.matched) for h in search(store, text, kinds=kinds, limit=limit).results
        ]
        assert found == plain_search(store, text, kinds, limit), (text, kinds, limit)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_the_index_finds_what_scoring_every_entry_finds(seed: int) -> None:
    _agrees(seed)


@pytest.mark.parametrize("seed", range(30))
def test_the_other_ways_of_looking_up_find_the_same(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many entries starting with the query are found in order, and rare letters counted in lists:
    at this size only when told to."""
    monkeypatch.setattr(search_module, "_FEW", 0)
    monkeypatch.setattr(search_module, "_COMMON", 0)
    _agrees(seed)


@pytest.mark.parametrize("few", [2000, 0])
def test_many_near_names(few: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hundreds of names share every letter with a typo, or start with the query: the bound must
    not drop the best, nor the search in order skip a neighbour."""
    monkeypatch.setattr(search_module, "_FEW", few)
    store = EmbeddedStore(None)
    store.upsert_nodes(
        [
            Enterprise(id=f"enterprise:e{i}", name=f"Enterprise {i} Co., Ltd.", provenance=P)
            for i in range(400)
        ]
    )
    texts = ["Enterprize 12", "Etnerprise 129 Co., Ltd.", "enterprise 3999", "co., ltx", "ltd. co.,"]
    for text in [*texts, "enterprise 1", "e1c", "enterprise", "1 co"]:
        for limit in (7, 60):
            found = [(h.node.id, h.score, h.matched) for h in search(store, text, limit=limit).results]
            assert found == plain_search(store, text, (), limit), text


def test_searches_arriving_together_build_the_index_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """At province scale an index takes tens of seconds to build: the searches that arrive
    while it is built wait for it rather than each building one of their own."""
    import threading
    import time

    store = EmbeddedStore(None)
    store.upsert_nodes([Society(id=f"society:s{i}", name=f"Society {i}", provenance=P) for i in range(50)])
    builds: list[int] = []
    real_build = search_module._build

    def slow_build(*args: object, **kwargs: object) -> object:
        builds.append(1)
        time.sleep(0.3)  # long enough for every thread below to arrive meanwhile
        return real_build(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(search_module, "_build", slow_build)
    found: list[int] = []
    threads = [
        threading.Thread(target=lambda: found.append(search(store, "Society 7").count)) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert found == [found[0]] * 8 and found[0] >= 1
    store.upsert_nodes([Society(id="society:new", name="Society 7b", provenance=P)])
    assert search(store, "Society 7b").results[0].node.id == "society:new"  # a new graph: built again
    assert len(builds) == 2


def test_a_slip_is_corrected_where_the_name_meant_is_not_already_typed() -> None:
    corrected = search_module.corrected
    assert corrected("电器") == "电气"
    assert corrected("温州电器") == "温州电气"
    assert corrected("ＤＩＡＮ电器") == "dian电气"  # folded as queries are
    assert corrected("电气") is None
    assert corrected("鞋") == "鞋业"
    assert corrected("鞋业") is None  # 鞋 is there, but so is what it would become
    assert corrected("制鞋业") is None
    assert corrected("服装业") == "服装"  # a whole slip is always corrected
    assert corrected("汽车配件") == "汽摩配"
    assert corrected("auto parts") is None
