"""The phrase book: both languages for every phrase, chains in words, errors, names without English."""

from __future__ import annotations

import re

import pytest

from graph_service.core.ontology import NodeKind, RelType
from visualizations import i18n
from visualizations.i18n import (
    chain_sentence,
    error_message,
    lang_from_accept,
    pick_name,
    pinyin_name,
    validation_problem,
)

HAN = re.compile(r"[\u4e00-\u9fff]")
TABLES = [
    "KIND_LABELS",
    "REL_LABELS",
    "REL_PASSIVE_LABELS",
    "CHANNEL_LABELS",
    "STATUS_LABELS",
    "BASIS_LABELS",
    "SUPPORT_LABELS",
    "PROPERTY_LABELS",
    "VALUE_LABELS",
    "TAXONOMY_LABELS",
    "ERROR_HEADINGS",
    "VALIDATION",
    "UI",
    "PAGE",
]


@pytest.mark.parametrize("table", TABLES)
def test_every_phrase_has_its_chinese(table: str) -> None:
    for key, (english, chinese) in getattr(i18n, table).items():
        if (table, key) == ("PAGE", "language"):
            continue  # the switch to the other language names it in its own words
        assert HAN.search(chinese), f"{table}[{key!r}] has no Chinese: {chinese!r}"
        assert set(re.findall(r"\{(\w+)", english)) <= set(re.findall(r"\{(\w+)", chinese)) or not english, (
            f"{table}[{key!r}]: the Chinese drops a value the English names"
        )


def test_every_kind_and_relationship_has_words() -> None:
    assert set(i18n.KIND_LABELS) == set(NodeKind)
    assert set(i18n.REL_LABELS) == set(RelType) == set(i18n.REL_PASSIVE_LABELS)


def test_a_chain_reads_in_both_languages() -> None:
    steps = [(RelType.MEMBER_OF, True), (RelType.PARTICIPATES_IN, True), (RelType.SERVES, False)]
    names = ["Wang Fang", "CMES", "Expert panels", "Electrical"]
    assert chain_sentence(names, steps, "en") == (
        "Wang Fang — is a member of — CMES — takes part in — Expert panels — is served by — Electrical"
    )
    zh = chain_sentence(["王芳", "中国机械工程学会", "专家团", "电气"], steps, "zh")
    assert zh == "王芳 —隶属于→ 中国机械工程学会 —参与→ 专家团 ←服务— 电气"


def test_a_name_without_english_is_spoken_in_pinyin_and_says_so() -> None:
    assert (
        pick_name("中国数学会", "中国数学会", "en")
        == "Zhongguo Shuxue Hui (中国数学会; no published English name)"
    )
    assert pick_name("中国数学会", "中国数学会", "zh") == "中国数学会"
    assert pick_name("Chinese Mechanical Engineering Society", "中国机械工程学会", "en") == (
        "Chinese Mechanical Engineering Society"
    )
    assert pick_name("China Eye Valley", None, "zh") == "China Eye Valley"
    assert pick_name("<img src=x>", None, "en") == "<img src=x>"
    assert pinyin_name("农、林、牧、渔业") == "Nong, Lin, Mu, Yuye"


def test_errors_are_worded_in_chinese_and_keep_their_values() -> None:
    assert error_message("no industry matches 'shoes'", "zh") == "没有与 'shoes' 匹配的产业"
    assert error_message("no industry matches 'shoes'", "en") == "no industry matches 'shoes'"
    assert error_message("depth must be between 1 and 3", "zh") == "depth 必须在 1 到 3 之间"
    several = error_message("'CMES' names several society entries: a (A), b (B); use the id", "zh")
    assert several == "'CMES' 对应多个学会：a (A), b (B)；请改用编号"
    unknown = error_message("a problem nobody worded", "zh", "Conflict")
    assert unknown.startswith("更改与图谱内容冲突") and "a problem nobody worded" in unknown


def test_validation_problems_in_both_languages() -> None:
    error = {
        "loc": ("query", "thin_below"),
        "type": "greater_than_equal",
        "msg": "Input should be …",
        "ctx": {"ge": 1},
    }
    assert validation_problem(error, "en") == "thin_below: Input should be …"
    assert validation_problem(error, "zh") == "thin_below 应大于或等于 1"
    odd = {"loc": ("query", "x"), "type": "a_type_nobody_worded", "msg": "odd"}
    assert HAN.search(validation_problem(odd, "zh"))


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR, zh;q=0.5", "zh"),
        ("zh;q=0, en;q=0.1", "en"),
        ("", "en"),
        (None, "en"),
        ("de", "en"),
    ],
)
def test_accept_language_picks_the_preferred_of_the_two(header: str | None, lang: str) -> None:
    assert lang_from_accept(header) == lang
