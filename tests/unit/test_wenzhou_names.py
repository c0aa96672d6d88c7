"""The bundled Wenzhou data names things in both languages, and says where an English name comes from."""

from __future__ import annotations

import re

import pytest

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.ontology import Node, NodeKind
from loaders.load import WENZHOU_DATASET, load_dataset

HAN = re.compile(r"[\u3400-\u9fff]")
URL = re.compile(r"https?://\S+")


@pytest.fixture(scope="module")
def store() -> EmbeddedStore:
    store = EmbeddedStore(None)
    load_dataset(WENZHOU_DATASET, store)
    return store


def nodes(store: EmbeddedStore, kind: NodeKind) -> list[Node]:
    found = list(store.iter_nodes(kind))
    assert found, f"the bundled dataset has no {kind.value} nodes"
    return found


@pytest.mark.parametrize("kind", [NodeKind.AGREEMENT, NodeKind.PROGRAM, NodeKind.ORGANIZATION, NodeKind.PARK])
def test_every_agreement_program_organization_and_park_has_a_chinese_name(
    store: EmbeddedStore, kind: NodeKind
) -> None:
    missing = [n.id for n in nodes(store, kind) if not n.name_zh or not HAN.search(n.name_zh)]
    assert missing == []


@pytest.mark.parametrize("kind", [NodeKind.AGREEMENT, NodeKind.PROGRAM])
def test_a_chinese_name_says_where_it_comes_from(store: EmbeddedStore, kind: NodeKind) -> None:
    """Either a cited page or the curator's own rendering, never silence."""
    unexplained = [n.id for n in nodes(store, kind) if "Chinese name" not in n.description]
    assert unexplained == []


def test_every_society_with_an_english_name_cites_a_page_for_it(store: EmbeddedStore) -> None:
    english = [n for n in nodes(store, NodeKind.SOCIETY) if not HAN.search(n.name)]
    assert len(english) >= 30
    uncited = [n.id for n in english if not re.search(r"English name per https?://", n.description)]
    assert uncited == []
    assert all(n.name_zh and HAN.search(n.name_zh) for n in english), "the Chinese name is kept"


def test_a_society_without_a_published_english_name_keeps_its_chinese_one(store: EmbeddedStore) -> None:
    for society in nodes(store, NodeKind.SOCIETY):
        if HAN.search(society.name):
            assert society.name == society.name_zh
            assert not society.description.startswith("English name per"), society.id


@pytest.mark.parametrize(
    ("society_id", "english", "chinese", "abbreviation"),
    [
        ("society:cmes", "Chinese Mechanical Engineering Society", "中国机械工程学会", "CMES"),
        ("society:cast-b-06", "China Electrotechnical Society", "中国电工技术学会", "CES"),
        ("society:csae", "China Society of Automotive Engineers", "中国汽车工程学会", "China SAE"),
    ],
)
def test_anchor_societies_are_found_by_either_name_or_abbreviation(
    store: EmbeddedStore, society_id: str, english: str, chinese: str, abbreviation: str
) -> None:
    society = store.get_node(society_id)
    assert society is not None
    assert (society.name, society.name_zh) == (english, chinese)
    assert abbreviation in society.aliases
    assert URL.search(society.description)
    found = store.ids_by_name([english, chinese, abbreviation])
    assert all(society_id in ids for ids in found.values()), found
