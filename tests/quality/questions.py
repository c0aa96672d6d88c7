"""The planner's questions: what a Wenzhou planner asks of the bundled data, and what the sources say.

Each question names the source that settles its expected answer (a key of the bundled
dataset's manifest and the clause, or the reference list), asks the query catalog as the
API and the pages do, and checks the answer. ``check`` returns ``None`` when the answer is
right, else what is wrong, in words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graph_service.core.errors import NotFound
from graph_service.core.ontology import RelType
from graph_service.core.store import GraphStore
from queries.explore import drawn_neighborhood, neighborhood, paths_between
from queries.gaps import Scope, coverage_matrix, gap_analysis
from queries.plans import plan_progress
from queries.recommend import recommendations
from queries.search import search
from queries.serving import industries_served_by, societies_serving

DEMAND = (
    "the demand layer of the bundled data (production-base titles and leading enterprises, each row cited)"
)
EXPERTISE = "the expertise layer of the bundled data (CAST member societies' fields, cited or inferred)"

ELECTRICAL = "industry:wenzhou-5-5:electrical"
AUTO_PARTS = "industry:wenzhou-5-5:auto-parts"
PUMPS = "industry:wenzhou-5-5:pumps-valves"
FOOTWEAR = "industry:wenzhou-5-5:footwear"
APPAREL = "industry:wenzhou-5-5:apparel"
EQUIPMENT = "industry:wenzhou-5-5:intelligent-equipment"
DIGITAL = "industry:wenzhou-5-5:digital-economy"
LIFE = "industry:wenzhou-5-5:life-health"
NEV = "industry:wenzhou-5-5:nev-icv"
MATERIALS = "industry:wenzhou-5-5:new-materials"
FIVE_PLUS_FIVE = (DIGITAL, EQUIPMENT, LIFE, NEV, MATERIALS, ELECTRICAL, FOOTWEAR, APPAREL, AUTO_PARTS, PUMPS)
CMES, CSAE, CSEE, CIE = "society:cmes", "society:csae", "society:csee", "society:cie"
WYSS_SIX = {"society:cses", "society:cie", "society:ctes", "society:csbm", "society:gsc", "society:c-mrs"}
"""The six national societies of the WYSS 2021 agreements."""
ARTICLE = "wenzhou-2021-09-27"
PLATFORMS = "wenzhou-platforms"


@dataclass(frozen=True)
class Question:
    """One question a planner asks, its source, how it is asked, and how its answer is judged."""

    qid: str
    text: str
    text_zh: str
    source: str
    ask: Callable[[GraphStore], Any]
    check: Callable[[Any], str | None]


def expect(condition: bool, otherwise: str) -> str | None:
    return None if condition else otherwise


def serving_ids(answer: Any) -> list[str]:
    return [r.society.id for r in answer.results]


def channels_of(answer: Any, society: str) -> list[str]:
    return next((list(r.channels) for r in answer.results if r.society.id == society), [])


def gap_row(analysis: Any, industry: str) -> Any:
    return next(r for r in analysis.rows if r.industry.id == industry)


def not_found(ask: Callable[[], Any]) -> str | None:
    try:
        ask()
    except NotFound as exc:
        return None if exc.suggestions else "NotFound without suggestions"
    return "answered instead of saying it does not know the name"


def _gaps(store: GraphStore) -> Any:
    return gap_analysis(store, Scope(taxonomy="wenzhou-5+5"))


QUESTIONS: list[Question] = [
    Question(
        "serves-electrical",
        "Which societies serve the electrical industry (电气)?",
        "哪些学会服务电气产业？",
        f"{PLATFORMS}: CMES brought in for the Yueqing electrical industry (2018); {ARTICLE}: expert panels "
        "serving Wenzhou's electrical industry",
        lambda s: societies_serving(s, "电气"),
        lambda a: expect({CMES, CSEE} <= set(serving_ids(a)), f"got {serving_ids(a)}"),
    ),
    Question(
        "electrical-cmes-direct",
        "Through which channel does CMES serve 电气?",
        "中国机械工程学会通过什么渠道服务电气？",
        f"{PLATFORMS}: 'Chinese Mechanical Engineering Society for the Yueqing electrical industry'",
        lambda s: societies_serving(s, ELECTRICAL),
        lambda a: expect("direct" in channels_of(a, CMES), f"CMES channels {channels_of(a, CMES)}"),
    ),
    Question(
        "electrical-cmes-first",
        "Who serves 电气 most strongly?",
        "谁对电气的服务最强？",
        f"{PLATFORMS}: CMES serves it directly and through the 2018 demonstration project",
        lambda s: societies_serving(s, ELECTRICAL),
        lambda a: expect(serving_ids(a)[:1] == [CMES], f"first is {serving_ids(a)[:1]}"),
    ),
    Question(
        "serves-auto-parts",
        "Which societies serve auto parts (汽摩配)?",
        "哪些学会服务汽摩配产业？",
        f"{PLATFORMS}: 'China SAE for the Rui'an auto-parts industry'",
        lambda s: societies_serving(s, "汽摩配"),
        lambda a: expect(serving_ids(a)[:1] == [CSAE], f"got {serving_ids(a)}"),
    ),
    Question(
        "auto-parts-csae-direct",
        "Through which channels does China SAE serve auto parts?",
        "中国汽车工程学会通过什么渠道服务汽摩配？",
        f"{PLATFORMS}: China SAE for Rui'an's auto-parts industry, a CAST demonstration project",
        lambda s: societies_serving(s, AUTO_PARTS),
        lambda a: expect(
            {"direct", "program"} <= set(channels_of(a, CSAE)), f"China SAE channels {channels_of(a, CSAE)}"
        ),
    ),
    Question(
        "digital-through-panels",
        "Who serves the digital economy, and how?",
        "谁服务数字经济，如何服务？",
        f"{ARTICLE}: expert panels for Wenzhou's industrial Internet industry",
        lambda s: societies_serving(s, DIGITAL),
        lambda a: expect(
            all("program" in channels_of(a, x) for x in (CMES, CSEE, CSAE)), f"got {serving_ids(a)}"
        ),
    ),
    Question(
        "footwear-nobody",
        "Does any society serve footwear (鞋业)?",
        "有学会服务鞋业吗？",
        f"{ARTICLE}: no society is named for footwear",
        lambda s: societies_serving(s, FOOTWEAR),
        lambda a: expect(a.total == 0, f"{a.total} societies"),
    ),
    Question(
        "pumps-nobody",
        "Does any society serve pumps and valves (泵阀)?",
        "有学会服务泵阀吗？",
        f"{ARTICLE}: no society is named for pumps and valves",
        lambda s: societies_serving(s, PUMPS),
        lambda a: expect(a.total == 0, f"{a.total} societies"),
    ),
    Question(
        "cmes-industries",
        "Which industries does CMES serve?",
        "中国机械工程学会服务哪些产业？",
        f"{PLATFORMS} and {ARTICLE}: Yueqing electrical (2018); the expert panels' three industries",
        lambda s: industries_served_by(s, "CMES"),
        lambda a: expect(
            a.results[0].industry.id == ELECTRICAL and a.total >= 4,
            f"got {[r.industry.id for r in a.results]}",
        ),
    ),
    Question(
        "serving-counts-subs",
        "Does 电气's count include Wenzhou's own electrical industry below it?",
        "电气的服务学会数是否包含其下属的温州电气产业？",
        f"{ARTICLE}: panels serve 'Wenzhou's electrical industry', which is part of 电气",
        lambda s: (
            societies_serving(s, ELECTRICAL).total,
            societies_serving(s, ELECTRICAL, include_sub_industries=False).total,
        ),
        lambda a: expect(a[0] > a[1], f"with sub-industries {a[0]}, without {a[1]}"),
    ),
    Question(
        "one-count-gaps",
        "Do the gaps and the societies answer agree on 电气?",
        "缺口分析与服务学会的数量一致吗？",
        "one definition of serving: sub-industries included everywhere",
        lambda s: (gap_row(_gaps(s), ELECTRICAL).supply.societies, societies_serving(s, ELECTRICAL).total),
        lambda a: expect(a[0] == a[1], f"gaps {a[0]}, societies {a[1]}"),
    ),
    Question(
        "as-of-before-wyss",
        "Before September 2021, did CIE serve the digital economy by agreement?",
        "2021年9月以前，中国电子学会是否通过合作协议服务数字经济？",
        f"{ARTICLE}: the WYSS agreements were signed 'recently' (2021-09)",
        lambda s: societies_serving(s, DIGITAL, as_of="2021-08"),
        lambda a: expect(CIE not in serving_ids(a), "CIE serves it before the agreement"),
    ),
    Question(
        "as-of-after-wyss",
        "After September 2021, does CIE serve the digital economy?",
        "2021年9月以后，中国电子学会是否服务数字经济？",
        f"{ARTICLE}: the agreement with the Chinese Institute of Electronics",
        lambda s: societies_serving(s, DIGITAL, as_of="2021-10"),
        lambda a: expect(channels_of(a, CIE) == ["agreement"], f"CIE channels {channels_of(a, CIE)}"),
    ),
    Question(
        "gaps-uncovered",
        "Which 5+5 industries does no society serve?",
        "哪些5+5产业没有学会服务？",
        f"{ARTICLE} and {PLATFORMS}: nobody is named for footwear, pumps and valves, intelligent equipment, NEV",
        lambda s: _gaps(s),
        lambda a: expect(
            {r.industry.id for r in a.rows if r.status == "uncovered"} == {FOOTWEAR, PUMPS, EQUIPMENT, NEV},
            f"uncovered {[r.industry.id for r in a.rows if r.status == 'uncovered']}",
        ),
    ),
    Question(
        "gaps-no-ties",
        "Can the uncovered 5+5 industries be ranked?",
        "5+5中的空白产业能排出先后吗？",
        "demand layer: enterprises and production-base titles per industry",
        lambda s: _gaps(s),
        lambda a: expect(
            len({r.severity for r in a.rows if r.status == "uncovered"})
            == sum(1 for r in a.rows if r.status == "uncovered"),
            f"severities {[r.severity for r in a.rows if r.status == 'uncovered']}",
        ),
    ),
    Question(
        "gaps-worst-is-uncovered",
        "Is the worst gap of the 5+5 an industry nobody serves?",
        "5+5中缺口最严重的是否为空白产业？",
        "severity: uncovered industries with demand come first",
        lambda s: _gaps(s),
        lambda a: expect(
            a.rows[0].status == "uncovered", f"worst is {a.rows[0].industry.id} ({a.rows[0].status})"
        ),
    ),
    Question(
        "gaps-ordered",
        "Are the gaps listed most severe first?",
        "缺口是否按严重程度排列？",
        "severity is what a planner ranks by",
        lambda s: _gaps(s),
        lambda a: expect(
            [r.severity for r in a.rows] == sorted((r.severity for r in a.rows), reverse=True), "out of order"
        ),
    ),
    Question(
        "gaps-demand",
        "Does every 5+5 industry show its enterprises?",
        "每个5+5产业都显示其企业吗？",
        "demand layer: at least five named enterprises per 5+5 industry",
        lambda s: _gaps(s),
        lambda a: expect(
            all(r.demand.enterprises >= 5 for r in a.rows),
            f"{[(r.industry.id, r.demand.enterprises) for r in a.rows if r.demand.enterprises < 5]}",
        ),
    ),
    Question(
        "agreements-covering-nothing",
        "Which agreements cover no industry yet?",
        "哪些合作协议尚未对应任何产业？",
        f"{ARTICLE}: the CIESC and CMES agreements name no industry",
        lambda s: _gaps(s),
        lambda a: expect(
            {"agreement:wenzhou-ciesc", "agreement:wenzhou-cmes"}
            <= {r.id for r in a.agreements_covering_nothing},
            f"got {[r.id for r in a.agreements_covering_nothing]}",
        ),
    ),
    Question(
        "coverage-agreements-life",
        "Which agreements cover life and health?",
        "哪些合作协议涵盖生命健康？",
        f"{ARTICLE}: the Chinese Society for Biomaterials agreement; {PLATFORMS}: China Eye Valley",
        lambda s: coverage_matrix(s, Scope(industries=[LIFE])),
        lambda a: expect(
            "agreement:wenzhou-csbm-wyss-2021"
            in {e.id for e in a.rows[0].cells["society_agreement"].entities},
            "the biomaterials agreement is missing",
        ),
    ),
    Question(
        "recommend-three-each",
        "Is there someone to approach for every 5+5 industry?",
        "每个5+5产业都有可对接的学会吗？",
        "expertise layer: CAST member societies' fields",
        lambda s: [recommendations(s, i).total for i in FIVE_PLUS_FIVE],
        lambda a: expect(min(a) >= 3, f"candidates per industry {a}"),
    ),
    Question(
        "recommend-pumps-cmes",
        "Whom to approach for 泵阀? Is CMES, already a partner, near the top?",
        "泵阀产业应对接哪些学会？已签约的中国机械工程学会是否靠前？",
        f"{ARTICLE}: Wenzhou signed an agreement with CMES; expertise: mechanical engineering covers C34",
        lambda s: recommendations(s, "泵阀"),
        lambda a: expect(
            CMES in [r.society.id for r in a.results[:3]], f"top 3 {[r.society.id for r in a.results[:3]]}"
        ),
    ),
    Question(
        "recommend-equipment-cmes",
        "Whom to approach for intelligent equipment (智能装备)?",
        "智能装备产业应对接哪些学会？",
        f"{ARTICLE}: the CMES agreement; expertise: mechanical engineering covers C34",
        lambda s: recommendations(s, "智能装备"),
        lambda a: expect(
            CMES in [r.society.id for r in a.results[:3]], f"top 3 {[r.society.id for r in a.results[:3]]}"
        ),
    ),
    Question(
        "recommend-electrical-not-cie",
        "Why is CIE not suggested for 泵阀?",
        "为什么中国电子学会不在泵阀的建议之列？",
        "expertise layer: electronics is division 39, not 34",
        lambda s: recommendations(s, "泵阀", explain="中国电子学会").explanation,
        lambda a: expect(a is not None and not a.suggested and "not" in a.text, "no explanation"),
    ),
    Question(
        "recommend-reasons-bilingual",
        "Does every recommendation say why, in both languages, with evidence?",
        "每条建议都有中英文理由和证据吗？",
        "answers carry their evidence",
        lambda s: [r for i in FIVE_PLUS_FIVE for r in recommendations(s, i).results],
        lambda a: expect(
            bool(a) and all(x.text and x.text_zh and x.evidence for r in a for x in r.reasons),
            "a bare reason",
        ),
    ),
    Question(
        "recommend-unknown-society",
        "Explaining an unknown society",
        "解释一个不存在的学会",
        "bad input: a clear error with suggestions",
        lambda s: not_found(lambda: recommendations(s, "泵阀", explain="中国电子学回")),
        lambda a: a,
    ),
    Question(
        "unknown-industry",
        "Asking about an industry the graph does not know",
        "询问图谱中没有的产业",
        "bad input: a clear error with suggestions",
        lambda s: not_found(lambda: societies_serving(s, "Electrcal equipment")),
        lambda a: a,
    ),
    Question(
        "search-chinese",
        "Find 中国机械工程学会 by its Chinese name",
        "按中文名查找中国机械工程学会",
        "cast-societies-2018: 中国机械工程学会",
        lambda s: search(s, "中国机械工程学会"),
        lambda a: expect(
            a.results[0].node.id == CMES, f"first {a.results[0].node.id if a.results else None}"
        ),
    ),
    Question(
        "search-abbreviation",
        "Find China SAE by its abbreviation",
        "按简称查找中国汽车工程学会",
        f"{ARTICLE}: 'China SAE'",
        lambda s: search(s, "China SAE"),
        lambda a: expect(
            a.results[0].node.id == CSAE, f"first {a.results[0].node.id if a.results else None}"
        ),
    ),
    Question(
        "search-auto-parts",
        "Find the industry by typing 'auto parts'",
        "输入“auto parts”查找汽摩配",
        "wenzhou-5+5: 汽摩配, Auto (and motorcycle) parts",
        lambda s: search(s, "auto parts"),
        lambda a: expect(
            bool(a.results) and a.results[0].node.id == AUTO_PARTS,
            f"first {a.results[0].node.id if a.results else None}",
        ),
    ),
    Question(
        "search-slip",
        "Find 电气 by the usual slip 电器",
        "输入常见错字“电器”查找电气",
        "wenzhou-5+5: 电气",
        lambda s: search(s, "电器"),
        lambda a: expect(
            ELECTRICAL in [h.node.id for h in a.results[:3]], f"got {[h.node.id for h in a.results[:3]]}"
        ),
    ),
    Question(
        "search-pinyin",
        "Find CMES by typing 'jixie' (机械)",
        "输入拼音“jixie”查找中国机械工程学会",
        "cast-societies-2018: 中国机械工程学会",
        lambda s: search(s, "jixie", kinds=[]),
        lambda a: expect(
            CMES in [h.node.id for h in a.results[:3]], f"got {[h.node.id for h in a.results[:3]]}"
        ),
    ),
    Question(
        "path-csae-electrical",
        "How is China SAE tied to 电气?",
        "中国汽车工程学会与电气有什么联系？",
        f"{ARTICLE}: China SAE takes part in the expert panels serving Wenzhou's electrical industry",
        lambda s: paths_between(s, "China SAE", "电气", k=3),
        lambda a: expect(
            bool(a.paths) and "program:wenzhou-expert-panels" in [n.id for n in a.paths[0].nodes],
            f"top chain: {a.paths[0].sentence if a.paths else None}",
        ),
    ),
    Question(
        "path-not-through-cast",
        "Is the top chain between China SAE and 电气 free of the CAST membership hub?",
        "中国汽车工程学会与电气之间的首条链是否绕开了中国科协会员关系？",
        "hubs fold: membership of CAST says little about a tie",
        lambda s: paths_between(s, "China SAE", "电气", k=1),
        lambda a: expect(
            bool(a.paths) and "organization:cast" not in [n.id for n in a.paths[0].nodes],
            f"top chain: {a.paths[0].sentence if a.paths else None}",
        ),
    ),
    Question(
        "wyss-agreements",
        "Which six societies signed WYSS agreements with Wenzhou?",
        "哪六个学会与温州签署了支持世界青年科学家峰会的合作协议？",
        f"{ARTICLE}: 'The six societies are ...'",
        lambda s: {
            n.id for n in neighborhood(s, "region:330300", depth=2, limit=500).nodes if n.kind == "Society"
        },
        lambda a: expect(a >= WYSS_SIX, f"missing {sorted(WYSS_SIX - a)}"),
    ),
    Question(
        "plan-targets",
        "What does the three-year plan aim for?",
        "三年行动计划的目标是什么？",
        f"{ARTICLE}: 50 academician workstations and 100 doctoral innovation stations",
        lambda s: plan_progress(s, "program:wenzhou-three-year-action-plan-2021-2023"),
        lambda a: expect(
            {t.program_kind: t.target for t in a.targets}
            == {"academician_workstation": 50, "doctoral_station": 100},
            f"targets {[(t.program_kind, t.target) for t in a.targets]}",
        ),
    ),
    Question(
        "cmes-view-size",
        "Can CMES's neighbourhood at depth 2 be read?",
        "中国机械工程学会的二度关系图是否可读？",
        "hubs fold: a view draws at most 60 shapes by default",
        lambda s: drawn_neighborhood(s, "CMES", depth=2),
        lambda a: expect(len(a.nodes) + len(a.groups) <= 60, f"{len(a.nodes)} nodes, {len(a.groups)} groups"),
    ),
    Question(
        "worst-gap",
        "Which 5+5 industry has the worst gap?",
        "5+5中哪个产业缺口最严重？",
        f"{DEMAND}: pumps and valves hold three national titles (中国泵阀之乡 …) and seven named firms, "
        "and no society serves them",
        lambda s: _gaps(s),
        lambda a: expect(a.rows[0].industry.id == PUMPS, f"worst is {a.rows[0].industry.id}"),
    ),
    Question(
        "shoe-capital-where",
        "Where is the Shoe Capital of China, and for which industry?",
        "“中国鞋都”在哪里，属于哪个产业？",
        f"{DEMAND}: 中国鞋都, Wenzhou",
        lambda s: {
            (h.relationship.type.value, h.node.id)
            for h in s.neighbors("program:base-china-shoe-capital", direction="out", limit=None)
        },
        lambda a: expect(
            {("LOCATED_IN", "region:330300"), ("FOCUSES_ON", FOOTWEAR)} <= a, f"got {sorted(a)}"
        ),
    ),
    Question(
        "electrical-leaders",
        "Which enterprises lead the electrical industry, and where are they?",
        "电气产业的龙头企业有哪些，位于何处？",
        f"{DEMAND}: Chint and Tengen in Yueqing",
        lambda s: {
            h.node.id
            for h in s.neighbors(ELECTRICAL, direction="in", types=[RelType.OPERATES_IN], limit=None)
        },
        lambda a: expect(
            {"enterprise:zhejiang-chint-electrics", "enterprise:zhejiang-tengen-electric"} <= a
            and len(a) >= 5,
            f"got {sorted(a)}",
        ),
    ),
    Question(
        "electrical-titles",
        "How many national production-base titles does the electrical industry hold?",
        "电气产业拥有几个国家级产业基地称号？",
        f"{DEMAND}: 中国电器之都 and the other Yueqing titles",
        lambda s: gap_row(_gaps(s), ELECTRICAL).demand.production_bases,
        lambda a: expect(a >= 3, f"{a} titles"),
    ),
    Question(
        "talent-electrical",
        "Which named expert guides Yueqing's electrical industry?",
        "哪位专家指导乐清电气产业？",
        f"{DEMAND}: 严晓浪, invited to guide Yueqing's electrical cluster",
        lambda s: gap_row(_gaps(s), ELECTRICAL).supply.talents,
        lambda a: expect(a >= 1, f"{a} talents"),
    ),
    Question(
        "expertise-electrical",
        "Whose field covers electrical machinery (C38)?",
        "哪些学会的专业领域涵盖电气机械和器材制造业（C38）？",
        f"{EXPERTISE}: 中国电工技术学会's charter",
        lambda s: societies_serving(s, "industry:gbt4754:c38", channels=("expertise",)),
        lambda a: expect(
            "society:cast-b-06" in serving_ids(a) and channels_of(a, "society:cast-b-06") == ["expertise"],
            f"got {serving_ids(a)}",
        ),
    ),
    Question(
        "expertise-not-service",
        "Does expertise alone make pumps and valves covered?",
        "仅凭专业领域能否使泵阀产业算作已覆盖？",
        f"{EXPERTISE}: expertise says who could serve, not who does",
        lambda s: gap_row(_gaps(s), PUMPS).status,
        lambda a: expect(a == "uncovered", f"status {a}"),
    ),
    Question(
        "recommend-pumps-first",
        "Who is the first to approach for 泵阀?",
        "泵阀产业首先应对接谁？",
        f"{ARTICLE}: the CMES agreement; {EXPERTISE}: CMES's published scope covers C34",
        lambda s: recommendations(s, PUMPS),
        lambda a: expect(
            a.results[0].society.id == CMES
            and [r.kind for r in a.results[0].reasons] == ["expertise", "partner"],
            f"first {a.results[0].society.id if a.results else None}",
        ),
    ),
    Question(
        "recommend-electrical-ces",
        "Whom to approach for 电气 beyond those already serving it?",
        "电气产业还可对接哪些学会？",
        f"{EXPERTISE}: 中国电工技术学会 (China Electrotechnical Society), electrical engineering",
        lambda s: recommendations(s, ELECTRICAL),
        lambda a: expect(
            a.results[0].society.id == "society:cast-b-06",
            f"first {a.results[0].society.id if a.results else None}",
        ),
    ),
    Question(
        "recommend-reason-zh",
        "Is the reason to approach CMES for 泵阀 given in Chinese?",
        "建议对接中国机械工程学会的理由是否有中文？",
        f"{EXPERTISE}: 通用设备制造业 (C34)",
        lambda s: recommendations(s, PUMPS).results[0].reasons[0].text_zh,
        lambda a: expect("通用设备制造业" in a and "泵阀" in a, a),
    ),
    Question(
        "english-name-ces",
        "What is 中国电工技术学会 called in English?",
        "中国电工技术学会的英文名是什么？",
        "the society's English name, cited in the bundled data",
        lambda s: search(s, "中国电工技术学会").results[0].node.name,
        lambda a: expect(a == "China Electrotechnical Society", a),
    ),
    Question(
        "search-shoes",
        "Find footwear by typing 'shoes'",
        "输入“shoes”查找鞋业",
        "wenzhou-5+5: 鞋业, with its English aliases",
        lambda s: search(s, "shoes"),
        lambda a: expect(
            FOOTWEAR in [h.node.id for h in a.results[:3]], f"got {[h.node.id for h in a.results[:3]]}"
        ),
    ),
    Question(
        "cmes-view-group",
        "Are CAST's members folded into one group in CMES's neighbourhood?",
        "中国机械工程学会的关系图中，中国科协的会员学会是否折叠为一组？",
        "cast-societies-2018: every society is a member of CAST",
        lambda s: neighborhood(s, "CMES", depth=2).groups,
        lambda a: expect(
            any(g.hub == "organization:cast" and g.count >= 200 for g in a),
            f"groups {[(g.hub, g.count) for g in a]}",
        ),
    ),
    Question(
        "unknown-taxonomy",
        "Gaps of a taxonomy that does not exist",
        "不存在的分类体系的缺口分析",
        "bad input: a clear error, never an empty answer",
        lambda s: not_found(lambda: gap_analysis(s, Scope(taxonomy="nope"))),
        lambda a: a,
    ),
]
"""The catalog of planner questions; tests/quality runs each on both backends."""

SCORES: dict[str, dict[str, str | None]] = {}
"""backend → question id → ``None`` (right) or what was wrong, as the suite found; the score
table printed after the run reads it."""
