"""Finding things as a planner types them, on both backends: words across punctuation, pinyin by
whole syllables of whole words, the 5+5 industries' English names and Chinese short forms, common
slips, names that several entities answer to, and scopes that name no taxonomy.

Search is written once over ``GraphStore``: each test states the one answer both backends give.
"""

from __future__ import annotations

import pytest

from graph_service.core.errors import Ambiguous, NotFound
from graph_service.core.ontology import Basis, Enterprise, Industry, NodeKind, Provenance, Society
from graph_service.core.store import GraphStore
from loaders.load import WENZHOU_DATASET, load_dataset
from queries.common import resolve_entity
from queries.gaps import Scope, coverage_matrix, gap_analysis
from queries.search import GOOD, SLIPS, search
from queries.serving import societies_serving

P = Provenance(source="test", basis=Basis.STATED)
FIVE = "industry:wenzhou-5-5:"

# What planners type for each of the 5+5 industries: English names and aliases, Chinese names,
# short forms and slips. Each must come first among the industries and name the industry.
TYPED: dict[str, list[str]] = {
    "electrical": ["electrical equipment", "Electrical appliances", "electric", "电气", "电器", "电气设备"],
    "footwear": ["shoes", "Footwear", "shoemaking", "鞋业", "鞋", "制鞋"],
    "apparel": ["garments", "clothing", "apparel", "clothing apparel", "服装", "服饰", "服装业"],
    "auto-parts": ["auto parts", "Automotive parts", "car parts", "汽摩配", "汽配", "汽车配件", "汽车零部件"],
    "pumps-valves": ["pumps valves", "pumps", "valves", "泵阀", "阀门", "泵"],
    "digital-economy": ["digital economy", "IT", "数字经济", "数字产业"],
    "intelligent-equipment": [
        "intelligent equipment",
        "smart manufacturing equipment",
        "智能装备",
        "智能制造",
    ],
    "life-health": ["life and health", "health", "biomedicine", "生命健康", "生物医药", "医疗健康"],
    "nev-icv": ["NEV", "new energy vehicles", "EV", "新能源汽车", "智能网联汽车", "新能源智能网联汽车"],
    "new-materials": ["new materials", "advanced materials", "新材料", "新材"],
}


@pytest.fixture
def wenzhou(store: GraphStore) -> GraphStore:
    load_dataset(WENZHOU_DATASET, store)
    return store


def test_a_planner_finds_each_5_5_industry_as_typed(wenzhou: GraphStore) -> None:
    for key, typed in TYPED.items():
        for text in typed:
            hits = search(wenzhou, text, kinds=[NodeKind.INDUSTRY]).results
            assert hits and hits[0].node.id == FIVE + key, (text, [h.node.id for h in hits[:3]])
            assert hits[0].score >= GOOD, (text, hits[0].score)
            assert resolve_entity(wenzhou, text, NodeKind.INDUSTRY).id == FIVE + key, text
    # every slip leads to the name of a 5+5 industry
    for meant in set(SLIPS.values()):
        top = search(wenzhou, meant, kinds=[NodeKind.INDUSTRY]).results[0]
        assert top.node.id.startswith(FIVE) and top.score == 95.0, meant
    # and the questions take them as they come
    assert societies_serving(wenzhou, "电器").industry.id == FIVE + "electrical"
    assert societies_serving(wenzhou, "motorcycle parts").industry.id == FIVE + "auto-parts"


def test_a_slip_is_read_as_what_was_meant(wenzhou: GraphStore) -> None:
    top = search(wenzhou, "电器").results[0]  # nothing is named 电器: 电气 was meant
    assert (top.node.id, top.matched, top.corrected, top.score) == (FIVE + "electrical", "电气", "电气", 80.0)
    # a slip's hits rank below what the query matches as typed
    for hit in search(wenzhou, "电气").results:
        assert hit.corrected is None
    found = search(wenzhou, "温州电器").results  # inside a longer query too: "温州电气" finds nothing
    assert all(h.corrected in (None, "温州电气") for h in found)


def test_a_name_holding_the_slip_keeps_its_place(store: GraphStore) -> None:
    store.upsert_nodes(
        [
            Industry(
                id="industry:t:electrical",
                name="Electrical equipment",
                name_zh="电气",
                taxonomy="t",
                provenance=P,
            ),
            Enterprise(id="enterprise:chint", name="Chint Electrics", name_zh="正泰电器", provenance=P),
            Enterprise(id="enterprise:home", name="Home Appliances", name_zh="电器", provenance=P),
        ]
    )
    assert [(h.node.id, h.score) for h in search(store, "正泰电器").results][:1] == [
        ("enterprise:chint", 95.0)
    ]
    # an entity really named 电器 comes before the slip's reading, and names what is typed
    assert [(h.node.id, h.score) for h in search(store, "电器").results] == [
        ("enterprise:home", 95.0),
        ("industry:t:electrical", 80.0),
        ("enterprise:chint", 65.0),
    ]
    assert resolve_entity(store, "电器").id == "enterprise:home"
    assert resolve_entity(store, "电器", NodeKind.INDUSTRY).id == "industry:t:electrical"


def test_words_match_across_punctuation_and_parentheses(store: GraphStore) -> None:
    store.upsert_nodes(
        [
            Industry(id="industry:t:auto", name="Auto (and motorcycle) parts", taxonomy="t", provenance=P),
            Industry(id="industry:t:pumps", name="Pumps and valves", taxonomy="t", provenance=P),
            Industry(id="industry:t:apparel", name="Clothing/apparel", taxonomy="t", provenance=P),
            Industry(id="industry:t:insurance", name="Auto insurance", taxonomy="t", provenance=P),
        ]
    )

    def found(text: str) -> list[tuple[str, float]]:
        return [(h.node.id, h.score) for h in search(store, text).results]

    # every word starting a word of the name, in any order, part of a word as it is typed
    assert found("auto parts") == [("industry:t:auto", 70.0)]
    assert found("motorcycle parts") == [("industry:t:auto", 70.0)]
    assert found("parts, auto") == [("industry:t:auto", 70.0)]
    assert found("auto pa") == [("industry:t:auto", 70.0)]
    # the name's own words, punctuation and "and" aside
    assert found("pumps valves") == [("industry:t:pumps", 90.0)]
    assert found("valves & pumps") == [("industry:t:pumps", 90.0)]
    assert found("clothing apparel") == [("industry:t:apparel", 90.0)]
    assert found("auto motorcycle parts") == [("industry:t:auto", 90.0)]
    assert found("pumps and valves") == [("industry:t:pumps", 95.0)]
    # one word is still found inside names, below a name starting with it
    assert found("auto") == [("industry:t:insurance", 75.0), ("industry:t:auto", 75.0)]
    assert resolve_entity(store, "motorcycle parts").id == "industry:t:auto"
    assert resolve_entity(store, "pumps valves", NodeKind.INDUSTRY).id == "industry:t:pumps"


def test_pinyin_matches_whole_syllables_of_whole_words(store: GraphStore) -> None:
    store.upsert_nodes(
        [
            Society(
                id="society:cmes",
                name="Chinese Mechanical Engineering Society",
                name_zh="中国机械工程学会",
                provenance=P,
            ),
            Society(
                id="society:cida",
                name="China Industrial Design Association",
                name_zh="中国工业设计协会",
                provenance=P,
            ),
        ]
    )

    def found(text: str) -> list[tuple[str, float]]:
        return [(h.node.id, h.score) for h in search(store, text).results]

    # ji-xie is 机械; in 设计协会 it would run from the end of 设计 into 协会
    assert found("jixie") == [("society:cmes", 58.0), ("society:cida", 55.0)]
    assert found("ji xie") == [("society:cmes", 58.0), ("society:cida", 55.0)]
    assert found("xiehui") == [("society:cida", 58.0)]  # 协会, a word
    assert found("gongcheng") == [("society:cmes", 58.0)]
    # a syllable cut short is letters only: the shorter name first, as for any tie
    assert found("jixi") == [("society:cida", 55.0), ("society:cmes", 55.0)]


def test_a_name_several_entities_answer_to_lists_them(wenzhou: GraphStore) -> None:
    for text in ("intelligent", "智能"):
        with pytest.raises(Ambiguous) as caught:
            societies_serving(wenzhou, text)
        assert f"{text!r} could be several industry entries" in caught.value.message
        listed = [s.split(" ", 1)[0] for s in caught.value.suggestions]
        assert listed[0] == FIVE + "intelligent-equipment", listed
        assert FIVE + "nev-icv" in listed
    assert (
        caught.value.suggestions[0]
        == f"{FIVE}intelligent-equipment (Intelligent equipment · 智能装备 · Industry)"
    )
    with pytest.raises(Ambiguous) as caught:
        resolve_entity(wenzhou, "Chinese", NodeKind.SOCIETY)
    assert len(caught.value.suggestions) >= 2
    assert all(s.endswith(" · Society)") for s in caught.value.suggestions)
    # nothing like it: not found, not ambiguous
    with pytest.raises(NotFound) as missing:
        resolve_entity(wenzhou, "造船业XYZ", NodeKind.INDUSTRY)
    assert not isinstance(missing.value, Ambiguous)


def test_a_scope_naming_no_taxonomy_suggests_those_there_are(wenzhou: GraphStore) -> None:
    for ask in (gap_analysis, coverage_matrix):
        with pytest.raises(NotFound) as caught:
            ask(wenzhou, Scope(taxonomy="nope"))
        assert "'nope'" in caught.value.message
        assert sorted(caught.value.suggestions) == ["gbt4754", "local", "wenzhou-5+5"]
    # "wenzhou-5+5" written plainly in a URL arrives as "wenzhou-5 5"
    with pytest.raises(NotFound) as caught:
        gap_analysis(wenzhou, Scope(taxonomy="wenzhou-5 5"))
    assert caught.value.suggestions[0] == "wenzhou-5+5"
    with pytest.raises(NotFound) as caught:
        gap_analysis(wenzhou, Scope(taxonomy="gbt4754", level="divison"))
    assert caught.value.suggestions[0] == "division"
    assert len(gap_analysis(wenzhou, Scope(taxonomy="wenzhou-5+5")).rows) == 10
