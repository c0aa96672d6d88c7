"""The query catalog on both backends: answers worked out by hand from tests/data/mini and small built graphs.

Every test here runs once on the embedded store and once on a real Neo4j server
(the ``store`` fixture); each states the one answer both must give.

The mini dataset, as the scores below read it (weights: direct 3, agreement 3,
program 2, talent 1; stated 1.0, reference 0.9, inferred 0.5; sub-industry 0.8):

- CMES SERVES Electrical (2018); China SAE SERVES Auto parts (2018).
- CMES, CSEE, China SAE take part in the expert panels (2021-06), which serve
  Electrical, Industrial Internet and Intelligent auto parts.
- CIE is party to the CIE–Wenzhou agreement (2021-09-15), which COVERS the Digital
  economy (inferred).
- Zhang Wei (member of CSEE) advises Yueqing Electric (since 2022), which operates
  in Electrical.
- Industrial Internet is PART_OF Digital economy; Intelligent auto parts PART_OF Auto parts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import pytest

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.errors import Ambiguous, InvalidRequest, NotFound
from graph_service.core.ontology import (
    Agreement,
    Basis,
    Enterprise,
    Industry,
    Node,
    NodeKind,
    Organization,
    Park,
    Program,
    Provenance,
    Region,
    Relationship,
    RelType,
    Society,
    Talent,
)
from graph_service.core.store import GraphStore
from loaders.load import WENZHOU_DATASET, load_dataset
from queries.analytics import brokers, communities
from queries.explore import neighborhood, paths_between
from queries.gaps import Scope, coverage_matrix, gap_analysis, gaps_csv
from queries.plans import changes, plan_progress
from queries.recommend import recommendations
from queries.search import search
from queries.serving import industries_served_by, societies_serving

R = RelType
CMES = "society:cmes"
CSAE = "society:csae"
CSEE = "society:csee"
CIE = "society:cie"
GSC = "society:gsc"
ELECTRICAL = "industry:wz:electrical"
AUTO = "industry:wz:auto-parts"
DIGITAL = "industry:wz:digital"
FOOTWEAR = "industry:wz:footwear"
INTERNET = "industry:local:industrial-internet"
SMART_AUTO = "industry:local:smart-auto-parts"


@pytest.fixture
def mini(store: GraphStore, mini_dataset: Path) -> GraphStore:
    """The store under test, holding the mini dataset."""
    load_dataset(mini_dataset, store)
    return store


# -- building small graphs by hand ------------------------------------------------------------------


def _prov(basis: Basis = Basis.STATED) -> Provenance:
    return Provenance(source="hand", evidence="built by the test", basis=basis)


def soc(key: str, name: str, **extra: object) -> Society:
    return Society(id=f"society:{key}", name=name, provenance=_prov(), **extra)  # type: ignore[arg-type]


def ind(key: str, name: str, **extra: object) -> Industry:
    return Industry(id=f"industry:t:{key}", name=name, taxonomy="t", provenance=_prov(), **extra)  # type: ignore[arg-type]


def tal(key: str, name: str) -> Talent:
    return Talent(id=f"talent:{key}", name=name, provenance=_prov())


def ent(key: str, name: str) -> Enterprise:
    return Enterprise(id=f"enterprise:{key}", name=name, provenance=_prov())


def org(key: str, name: str) -> Organization:
    return Organization(id=f"organization:{key}", name=name, provenance=_prov())


def prog(key: str, name: str, **extra: object) -> Program:
    return Program(id=f"program:{key}", name=name, provenance=_prov(), **extra)  # type: ignore[arg-type]


def agr(key: str, name: str) -> Agreement:
    return Agreement(id=f"agreement:{key}", name=name, provenance=_prov())


def rel(
    source: str, rel_type: RelType, target: str, basis: Basis = Basis.STATED, since: str | None = None
) -> Relationship:
    return Relationship(source=source, type=rel_type, target=target, provenance=_prov(basis), since=since)


def build(store: GraphStore, nodes: Sequence[Node], rels: Sequence[Relationship]) -> GraphStore:
    store.upsert_nodes(nodes)
    store.upsert_relationships(rels)
    store.persist()
    return store


def ranked(result: object) -> list[tuple[str, float, list[str]]]:
    """(society id, score, channels) of a societies_serving answer, in rank order."""
    return [(r.society.id, r.score, list(r.channels)) for r in result.results]  # type: ignore[attr-defined]


# -- societies serving an industry ----------------------------------------------------------------


def test_societies_serving_electrical_through_every_channel(mini: GraphStore) -> None:
    result = societies_serving(mini, ELECTRICAL)
    # CMES: direct 3 + program 2; CSEE: program 2 + talent 1; China SAE: program 2
    assert ranked(result) == [
        (CMES, 5.0, ["direct", "program"]),
        (CSEE, 3.0, ["program", "talent"]),
        (CSAE, 2.0, ["program"]),
    ]
    assert result.total == result.count == 3
    assert result.industry.id == ELECTRICAL
    assert [i.id for i in result.industries] == [ELECTRICAL]
    cmes, csee, _ = result.results
    assert [(p.channel, p.sentence) for p in cmes.paths] == [
        ("direct", "Chinese Mechanical Engineering Society — serves — Electrical equipment"),
        (
            "program",
            "Chinese Mechanical Engineering Society — takes part in — Science and technology expert panels"
            " — serves — Electrical equipment",
        ),
    ]
    talent_path = next(p for p in csee.paths if p.channel == "talent")
    assert talent_path.sentence == (
        "Chinese Society for Electrical Engineering — has as member — Zhang Wei — advises — "
        "Yueqing Electric Co. — operates in — Electrical equipment"
    )
    assert [n.id for n in talent_path.nodes] == [
        CSEE,
        "talent:zhang-wei",
        "enterprise:yq-electric",
        ELECTRICAL,
    ]
    assert [(s.source, s.type, s.target) for s in talent_path.steps] == [
        ("talent:zhang-wei", R.MEMBER_OF, CSEE),
        ("talent:zhang-wei", R.ADVISES, "enterprise:yq-electric"),
        ("enterprise:yq-electric", R.OPERATES_IN, ELECTRICAL),
    ]
    direct_step = cmes.paths[0].steps[0]
    assert (direct_step.evidence, direct_step.document, direct_step.basis, direct_step.since) == (
        "CMES serves the electrical industry",
        "notes",
        Basis.STATED,
        "2018",
    )


def test_societies_serving_agreement_channel_is_weighted_by_basis(mini: GraphStore) -> None:
    result = societies_serving(mini, DIGITAL, include_sub_industries=False)
    # PARTY_TO is stated (1.0), COVERS inferred (0.5): 3 × 1.0 × 0.5
    assert ranked(result) == [(CIE, 1.5, ["agreement"])]
    (path,) = result.results[0].paths
    assert path.sentence == (
        "Chinese Institute of Electronics — is party to — Strategic cooperation agreement between CIE and "
        "Wenzhou — covers — Digital economy"
    )
    assert path.weakest_basis == Basis.INFERRED


def test_societies_serving_nobody_serves_footwear(mini: GraphStore) -> None:
    result = societies_serving(mini, FOOTWEAR)
    assert (result.total, result.count, result.results) == (0, 0, [])


def test_sub_industries_count_at_eight_tenths(mini: GraphStore) -> None:
    without = societies_serving(mini, AUTO, include_sub_industries=False)
    assert ranked(without) == [(CSAE, 3.0, ["direct"])]
    with_sub = societies_serving(mini, AUTO, include_sub_industries=True)
    assert [i.id for i in with_sub.industries] == [AUTO, SMART_AUTO]
    # the panels serve Intelligent auto parts: 2 × 0.8 = 1.6 each; CMES and CSEE tie, ordered by name
    assert ranked(with_sub) == [
        (CSAE, 4.6, ["direct", "program"]),
        (CMES, 1.6, ["program"]),
        (CSEE, 1.6, ["program"]),
    ]


def test_three_way_tie_is_ordered_by_name(mini: GraphStore) -> None:
    result = societies_serving(mini, DIGITAL, include_sub_industries=True)
    assert ranked(result) == [
        (CSAE, 1.6, ["program"]),  # "China Society of Automotive Engineers"
        (CMES, 1.6, ["program"]),  # "Chinese Mechanical Engineering Society"
        (CSEE, 1.6, ["program"]),  # "Chinese Society for Electrical Engineering"
        (CIE, 1.5, ["agreement"]),
    ]


@pytest.mark.parametrize(
    "ref",
    ["industry:wz:electrical", "electrical", "Electrical equipment", "electrical  EQUIPMENT", "电气"],
    ids=["id", "code", "English", "folded English", "Chinese"],
)
def test_industry_given_by_id_code_or_name(mini: GraphStore, ref: str) -> None:
    assert societies_serving(mini, ref).industry.id == ELECTRICAL


def test_unknown_industry_is_not_found_with_suggestions(mini: GraphStore) -> None:
    with pytest.raises(NotFound) as caught:
        societies_serving(mini, "Electrcal equipment")
    assert "Electrcal equipment" in caught.value.message
    assert caught.value.suggestions[0] == "industry:wz:electrical (Electrical equipment · 电气 · Industry)"
    with pytest.raises(NotFound):
        societies_serving(mini, "industry:wz:shipbuilding")
    with pytest.raises(NotFound):  # a society is not an industry
        societies_serving(mini, CMES)


def test_as_of_leaves_out_what_came_later(mini: GraphStore) -> None:
    # before the panels (2021-06): only CMES's own SERVES (2018)
    assert ranked(societies_serving(mini, ELECTRICAL, as_of="2021-05", include_sub_industries=False)) == [
        (CMES, 3.0, ["direct"])
    ]
    # in 2021 the panels exist, Zhang Wei's advice (2022) does not: CSEE and China SAE tie at 2
    assert ranked(societies_serving(mini, ELECTRICAL, as_of="2021", include_sub_industries=False)) == [
        (CMES, 5.0, ["direct", "program"]),
        (CSAE, 2.0, ["program"]),
        (CSEE, 2.0, ["program"]),
    ]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2021-09-14", []),
        ("2021-08", []),
        ("2021", [(CIE, 1.5, ["agreement"])]),
        ("2021-09", [(CIE, 1.5, ["agreement"])]),
        ("2021-09-15", [(CIE, 1.5, ["agreement"])]),
        (None, [(CIE, 1.5, ["agreement"])]),
    ],
)
def test_as_of_and_the_agreement_signed_on_2021_09_15(
    mini: GraphStore, as_of: str | None, expected: list[tuple[str, float, list[str]]]
) -> None:
    result = societies_serving(mini, DIGITAL, as_of=as_of, include_sub_industries=False)
    assert ranked(result) == expected
    assert result.as_of == as_of


def test_channels_filter(mini: GraphStore) -> None:
    assert ranked(
        societies_serving(mini, ELECTRICAL, channels=("talent",), include_sub_industries=False)
    ) == [(CSEE, 1.0, ["talent"])]
    assert ranked(
        societies_serving(mini, ELECTRICAL, channels=("direct", "agreement"), include_sub_industries=False)
    ) == [(CMES, 3.0, ["direct"])]
    assert (
        ranked(
            societies_serving(
                mini, DIGITAL, channels=("direct", "program", "talent"), include_sub_industries=False
            )
        )
        == []
    )


def test_pagination_keeps_the_total(mini: GraphStore) -> None:
    page = societies_serving(mini, ELECTRICAL, offset=1, limit=1, include_sub_industries=False)
    assert (page.total, page.count, [r.society.id for r in page.results]) == (3, 1, [CSEE])
    past = societies_serving(mini, ELECTRICAL, offset=5, limit=10, include_sub_industries=False)
    assert (past.total, past.count, past.results) == (3, 0, [])


# -- industries served by a society -------------------------------------------------------------


def test_industries_served_by_cmes(mini: GraphStore) -> None:
    result = industries_served_by(mini, "CMES")
    assert result.society.id == CMES
    assert [(r.industry.id, r.score, r.channels) for r in result.results] == [
        (ELECTRICAL, 5.0, ["direct", "program"]),
        (INTERNET, 2.0, ["program"]),  # "Industrial Internet" before "Intelligent auto parts"
        (SMART_AUTO, 2.0, ["program"]),
    ]
    assert result.results[0].paths[0].sentence == (
        "Chinese Mechanical Engineering Society — serves — Electrical equipment"
    )


def test_industries_served_by_csee_and_cie(mini: GraphStore) -> None:
    csee = industries_served_by(mini, "中国电机工程学会")
    assert [(r.industry.id, r.score, r.channels) for r in csee.results] == [
        (ELECTRICAL, 3.0, ["program", "talent"]),
        (INTERNET, 2.0, ["program"]),
        (SMART_AUTO, 2.0, ["program"]),
    ]
    talent = next(p for p in csee.results[0].paths if p.channel == "talent")
    assert talent.sentence == (
        "Chinese Society for Electrical Engineering — has as member — Zhang Wei — advises — "
        "Yueqing Electric Co. — operates in — Electrical equipment"
    )
    cie = industries_served_by(mini, CIE)
    assert [(r.industry.id, r.score) for r in cie.results] == [(DIGITAL, 1.5)]
    assert industries_served_by(mini, CIE, as_of="2021-09-14").total == 0
    assert industries_served_by(mini, "Geological Society of China").results == []


def test_industries_served_by_is_the_inverse(mini: GraphStore) -> None:
    forward: dict[tuple[str, str], tuple[float, list[str]]] = {}
    for industry in (ELECTRICAL, AUTO, DIGITAL, FOOTWEAR, INTERNET, SMART_AUTO):
        for r in societies_serving(mini, industry, include_sub_industries=False).results:
            forward[(r.society.id, industry)] = (r.score, list(r.channels))
    backward: dict[tuple[str, str], tuple[float, list[str]]] = {}
    for society in (CMES, CSAE, CSEE, CIE, GSC):
        for r in industries_served_by(mini, society).results:
            backward[(society, r.industry.id)] = (r.score, list(r.channels))
    assert forward == backward
    assert (
        len(forward) == 11
    )  # Electrical 3, Auto parts 1, Digital 1, Industrial Internet 3, Intelligent auto parts 3


def test_industries_served_by_an_unknown_society(mini: GraphStore) -> None:
    with pytest.raises(NotFound) as caught:
        industries_served_by(mini, "Chinese Mechanicl Engineering Society")
    assert caught.value.suggestions[0].startswith("society:cmes ")
    with pytest.raises(NotFound):
        industries_served_by(mini, ELECTRICAL)  # an industry is not a society


# -- gap analysis and coverage ------------------------------------------------------------------


def _rows(analysis: object) -> list[tuple[str, str, float]]:
    return [(r.industry.id, r.status, r.severity) for r in analysis.rows]  # type: ignore[attr-defined]


def test_gap_analysis_of_the_four_clusters(mini: GraphStore) -> None:
    analysis = gap_analysis(mini, Scope(taxonomy="wz"))
    # severity = (1 + demand score) / (1 + supply score), most severe first; each cluster is on
    # the priority list (+5)
    assert _rows(analysis) == [
        (FOOTWEAR, "uncovered", 7.0),  # 1 enterprise + 5, nobody
        (AUTO, "covered", 2.0),  # 6 / (1 + CSAE direct 1 + two panel societies 0.75 each)
        (DIGITAL, "covered", 1.8824),  # 1 park (2) + 5; CIE by agreement 1 + three panel societies
        (ELECTRICAL, "covered", 1.8667),  # 6 / (1 + 1 + 0.75 + 0.75 + one talent 0.25)
    ]
    assert analysis.summary == {"uncovered": 1, "thin": 0, "covered": 3}
    assert analysis.count == 4
    assert analysis.thin_below == 2
    by_id = {r.industry.id: r for r in analysis.rows}
    electrical = by_id[ELECTRICAL]
    assert electrical.demand.model_dump() == {
        "enterprises": 1,
        "parks": 0,
        "programs": 0,
        "production_bases": 0,
        "priority": 1,
    }
    assert electrical.demand_total == 1
    assert (electrical.demand_score, electrical.supply_score) == (6.0, 2.75)
    assert electrical.supply.model_dump() == {
        "societies": 3,
        "by_channel": {"direct": 1, "agreement": 0, "program": 3, "talent": 1},
        "talents": 1,
        "agreements": 0,
    }
    assert [s.id for s in electrical.societies] == [CMES, CSAE, CSEE]
    digital = by_id[DIGITAL]
    assert digital.demand.model_dump() == {
        "enterprises": 0,
        "parks": 1,
        "programs": 0,
        "production_bases": 0,
        "priority": 1,
    }
    assert digital.supply.model_dump() == {
        "societies": 4,
        "by_channel": {"direct": 0, "agreement": 1, "program": 3, "talent": 0},
        "talents": 0,
        "agreements": 1,
    }
    auto = by_id[AUTO]  # its enterprise sits in the sub-industry Intelligent auto parts
    assert auto.demand.enterprises == 1
    assert auto.supply.by_channel == {"direct": 1, "agreement": 0, "program": 3, "talent": 0}
    footwear = by_id[FOOTWEAR]
    assert (footwear.demand.enterprises, footwear.supply.societies, footwear.societies) == (1, 0, [])


@pytest.mark.parametrize(
    ("thin_below", "expected", "summary"),
    [
        (
            1,
            [
                (FOOTWEAR, "uncovered", 7.0),
                (AUTO, "covered", 2.0),
                (DIGITAL, "covered", 1.8824),
                (ELECTRICAL, "covered", 1.8667),
            ],
            {"uncovered": 1, "thin": 0, "covered": 3},
        ),
        (
            4,
            [
                (FOOTWEAR, "uncovered", 7.0),
                (AUTO, "thin", 2.0),
                (DIGITAL, "covered", 1.8824),
                (ELECTRICAL, "thin", 1.8667),
            ],
            {"uncovered": 1, "thin": 2, "covered": 1},
        ),
        (
            5,
            [
                (FOOTWEAR, "uncovered", 7.0),
                (AUTO, "thin", 2.0),
                (DIGITAL, "thin", 1.8824),
                (ELECTRICAL, "thin", 1.8667),
            ],
            {"uncovered": 1, "thin": 3, "covered": 0},
        ),
    ],
)
def test_gap_status_thresholds(
    mini: GraphStore, thin_below: int, expected: list[tuple[str, str, float]], summary: dict[str, int]
) -> None:
    analysis = gap_analysis(mini, Scope(taxonomy="wz"), thin_below=thin_below)
    assert _rows(analysis) == expected
    assert analysis.summary == summary


def test_gap_analysis_as_of_before_the_panels(mini: GraphStore) -> None:
    analysis = gap_analysis(mini, Scope(taxonomy="wz"), as_of="2021-05")
    assert _rows(analysis) == [
        (DIGITAL, "uncovered", 8.0),  # the agreement is not signed yet: a park (2) + 5, nobody
        (FOOTWEAR, "uncovered", 7.0),
        (AUTO, "thin", 3.5),  # China SAE alone: 6 / (1 + 1)
        (ELECTRICAL, "thin", 3.5),  # CMES alone; ties with Auto parts, name first
    ]
    electrical = next(r for r in analysis.rows if r.industry.id == ELECTRICAL)
    assert electrical.supply.talents == 0  # Zhang Wei advises only from 2022


def test_gap_analysis_scopes(mini: GraphStore) -> None:
    explicit = gap_analysis(mini, Scope(industries=["电气", "Footwear"]))
    assert _rows(explicit) == [(FOOTWEAR, "uncovered", 7.0), (ELECTRICAL, "covered", 1.8667)]
    # Rui'an holds the auto parts maker, which operates in Intelligent auto parts
    ruian = gap_analysis(mini, Scope(region="Rui'an"))
    assert [r.industry.id for r in ruian.rows] == [SMART_AUTO]
    # Wenzhou includes Yueqing and Rui'an; with the taxonomy only its clusters stay
    wenzhou = gap_analysis(mini, Scope(region="region:330300", taxonomy="wz"))
    assert {r.industry.id for r in wenzhou.rows} == {ELECTRICAL, DIGITAL, FOOTWEAR}
    with pytest.raises(InvalidRequest):
        gap_analysis(mini, Scope())
    with pytest.raises(InvalidRequest):
        gap_analysis(mini, Scope(taxonomy="wz"), thin_below=0)
    with pytest.raises(NotFound):
        gap_analysis(mini, Scope(industries=["shipbuilding"]))
    # a taxonomy or level that no industry has is an error suggesting those that exist, not an empty answer
    with pytest.raises(NotFound) as caught:
        gap_analysis(mini, Scope(taxonomy="no-such-taxonomy"))
    assert "'no-such-taxonomy'" in caught.value.message
    assert sorted(caught.value.suggestions) == ["local", "wz"]
    with pytest.raises(NotFound) as caught:
        coverage_matrix(mini, Scope(taxonomy="w z"))
    assert caught.value.suggestions[0] == "wz"
    with pytest.raises(NotFound) as caught:
        gap_analysis(mini, Scope(taxonomy="wz", level="divison"))
    assert "'divison'" in caught.value.message and "'wz'" in caught.value.message


def test_gaps_csv_content(mini: GraphStore) -> None:
    text = gaps_csv(gap_analysis(mini, Scope(taxonomy="wz")))
    assert text.startswith("\ufeff")  # so spreadsheets read UTF-8
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == [
        "industry_id", "industry", "industry_zh", "status", "severity", "demand", "demand_score",
        "enterprises", "parks", "programs", "production_bases", "priority", "supply_score", "societies",
        "societies_direct", "societies_agreement", "societies_program", "societies_talent", "talents",
        "agreements", "society_names",
    ]  # fmt: skip
    assert rows[1] == [
        FOOTWEAR,
        "Footwear",
        "鞋业",
        "uncovered",
        "7.0",  # severity
        "1",  # demand: one enterprise
        "6.0",  # demand score: the enterprise and the priority list
        "1",
        "0",
        "0",
        "0",
        "1",  # on the priority list
        "0.0",  # supply score
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "",
    ]
    assert rows[4] == [
        ELECTRICAL, "Electrical equipment", "电气", "covered", "1.8667", "1", "6.0", "1", "0", "0", "0", "1",
        "2.75", "3", "1", "0", "3", "1", "1", "0",
        "Chinese Mechanical Engineering Society; China Society of Automotive Engineers; "
        "Chinese Society for Electrical Engineering",
    ]  # fmt: skip
    assert [r[0] for r in rows[1:]] == [FOOTWEAR, AUTO, DIGITAL, ELECTRICAL]


def test_gaps_csv_neutralises_formulas(store: GraphStore) -> None:
    build(
        store,
        [
            ind("evil", '=HYPERLINK("http://example.org","x")', name_zh="+1 行业"),
            soc("at", "@SUM(1+1)"),
            soc("minus", "-2 Society"),
        ],
        [rel("society:at", R.SERVES, "industry:t:evil"), rel("society:minus", R.SERVES, "industry:t:evil")],
    )
    text = gaps_csv(gap_analysis(store, Scope(taxonomy="t")))
    header, row = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    cells = dict(zip(header, row, strict=True))
    assert cells["industry"] == '\'=HYPERLINK("http://example.org","x")'
    assert cells["industry_zh"] == "'+1 行业"
    assert cells["society_names"] == "'@SUM(1+1); -2 Society"  # by id: society:at, society:minus
    assert cells["societies"] == "2"  # numbers stay numbers


def test_coverage_matrix_cells_and_drill_down(mini: GraphStore) -> None:
    matrix = coverage_matrix(mini, Scope(taxonomy="wz"))
    assert list(matrix.columns) == [
        "society_agreement", "expert_panel_or_service_group", "workstation", "doctoral_station",
        "incubator_or_park", "talent",
    ]  # fmt: skip
    cells = {
        row.industry.id: {k: [e.id for e in c.entities] for k, c in row.cells.items()} for row in matrix.rows
    }
    assert [row.industry.id for row in matrix.rows] == [AUTO, DIGITAL, ELECTRICAL, FOOTWEAR]  # by code
    empty: dict[str, list[str]] = {k: [] for k in matrix.columns}
    assert cells[ELECTRICAL] == {
        **empty,
        "expert_panel_or_service_group": ["program:panel"],
        "workstation": ["program:ws-1"],
        "talent": ["talent:zhang-wei"],
    }
    assert cells[AUTO] == {
        **empty,
        "expert_panel_or_service_group": ["program:panel"],
    }  # via Intelligent auto parts
    assert cells[DIGITAL] == {
        **empty,
        "society_agreement": ["agreement:cie-wenzhou"],
        "expert_panel_or_service_group": ["program:panel"],
        "incubator_or_park": ["park:incubator"],
    }
    assert cells[FOOTWEAR] == empty
    for row in matrix.rows:
        for cell in row.cells.values():
            assert cell.count == len(cell.entities)
    before = coverage_matrix(mini, Scope(industries=[ELECTRICAL]), as_of="2022-02")
    assert before.rows[0].cells["workstation"].count == 0  # the workstation opened 2022-03
    assert before.rows[0].cells["talent"].count == 1  # Zhang Wei advises from "2022", which holds in 2022-02
    before = coverage_matrix(mini, Scope(industries=[ELECTRICAL]), as_of="2021-12")
    assert before.rows[0].cells["talent"].count == 0


# -- recommendations ------------------------------------------------------------------------------


def _recs(result: object) -> list[tuple[str, float, list[str]]]:
    return [
        (r.society.id, r.score, [x.text for x in r.reasons])
        for r in result.results  # type: ignore[attr-defined]
    ]


def test_recommendations_never_come_from_the_spelling_of_names(mini: GraphStore) -> None:
    # the Chinese Institute of Electronics has "electr" in its name, and nothing else: no expertise,
    # no related service, no talent; it is not suggested for Electrical equipment
    result = recommendations(mini, "Electrical equipment")
    assert [s.id for s in result.already_serving] == [CMES, CSAE, CSEE]
    assert (result.results, result.count, result.total) == ([], 0, 0)
    why = recommendations(
        mini, "Electrical equipment", explain="Chinese Institute of Electronics"
    ).explanation
    assert why is not None and not why.suggested and why.rank is None
    assert why.text == (
        "Chinese Institute of Electronics is not suggested: its field does not cover Electrical equipment, "
        "it serves no related industry and no member talent advises enterprises there; "
        "the graph records no field of expertise for it."
    )
    assert why.text_zh.startswith("中国电子学会不在建议之列：其专业领域不涵盖电气")


def test_recommendations_related_industry_reason_and_the_partner_bonus(mini: GraphStore) -> None:
    result = recommendations(mini, INTERNET)
    assert [s.id for s in result.already_serving] == [CMES, CSAE, CSEE]
    assert _recs(result) == [
        (
            CIE,
            4.5,
            [
                "already serves the related industry Digital economy (agreement)",
                "already a partner: party to Strategic cooperation agreement between CIE and Wenzhou, "
                "signed 2021-09-15",
            ],
        )
    ]
    related, partner = result.results[0].reasons
    assert related.text_zh == "已服务相关产业数字经济（合作协议）"
    assert [n.id for n in related.evidence[0].nodes] == [CIE, "agreement:cie-wenzhou", DIGITAL]
    assert partner.text_zh.startswith("已是合作伙伴：签有")
    assert [n.id for n in partner.evidence[0].nodes] == [CIE, "agreement:cie-wenzhou"]
    # before the agreement was signed, neither reason holds
    assert recommendations(mini, INTERNET, as_of="2021-09-14").results == []


def test_recommendations_leave_out_every_serving_society(mini: GraphStore) -> None:
    result = recommendations(mini, DIGITAL)  # all but the Geological Society serve it
    assert [s.id for s in result.already_serving] == [CIE, CMES, CSAE, CSEE]
    assert result.results == []
    why = recommendations(mini, DIGITAL, explain="CIE").explanation
    assert why is not None and not why.suggested
    assert (
        why.text
        == "Chinese Institute of Electronics is not suggested because it already serves Digital economy."
    )
    assert [r.kind for r in why.reasons] == ["serving"]


def test_recommendations_as_of_before_the_panels(mini: GraphStore) -> None:
    result = recommendations(mini, ELECTRICAL, as_of="2021-05")
    assert [s.id for s in result.already_serving] == [CMES]
    # Zhang Wei (CSEE) advises Yueqing Electric only from 2022: nothing yet ties CSEE to it
    assert result.results == []


def test_recommendations_follow_expertise_and_rank_partners_first(store: GraphStore) -> None:
    """Expertise in the industry's division makes a candidate; of two societies with the same
    expertise, the one already party to an agreement ranks first; expertise in the industry
    itself counts more than in its division, a stated scope more than an inferred one."""
    build(
        store,
        [
            ind("c34", "General equipment", code="C34"),
            ind("pumps", "Pumps and valves"),
            ind("c", "Manufacturing", code="C"),
            soc("mech", "Mechanical Society"),
            soc("fluid", "Fluid Society"),
            soc("valve", "Valve Society"),
            soc("stranger", "Zeta Society"),
            soc("broad", "Broad Society"),
            Agreement(
                id="agreement:city-mech", name="City and Mechanical Society agreement", provenance=_prov()
            ),
            Region(id="region:330300", name="Wenzhou", provenance=_prov()),
        ],
        [
            rel("industry:t:pumps", R.PART_OF, "industry:t:c34"),
            rel("industry:t:c34", R.PART_OF, "industry:t:c"),
            rel("society:mech", R.EXPERT_IN, "industry:t:c34", basis=Basis.INFERRED),
            rel("society:stranger", R.EXPERT_IN, "industry:t:c34", basis=Basis.INFERRED),
            rel("society:fluid", R.EXPERT_IN, "industry:t:c34", basis=Basis.REFERENCE),
            rel("society:valve", R.EXPERT_IN, "industry:t:pumps", basis=Basis.REFERENCE),
            rel("society:broad", R.EXPERT_IN, "industry:t:c", basis=Basis.REFERENCE),
            rel("society:mech", R.PARTY_TO, "agreement:city-mech"),
            rel("region:330300", R.PARTY_TO, "agreement:city-mech"),
        ],
    )
    result = recommendations(store, "Pumps and valves")
    assert [(r.society.id, r.score) for r in result.results] == [
        ("society:mech", 4.0),  # the division, inferred: 3 × 0.5, and a partner by agreement: 2.5
        ("society:valve", 3.6),  # its published scope names the industry itself: 4 × 0.9
        ("society:fluid", 2.7),  # the division, its published scope: 3 × 0.9
        ("society:stranger", 1.5),  # the division, inferred, no agreement
        ("society:broad", 1.35),  # the section above: 1.5 × 0.9
    ]
    mech = next(r for r in result.results if r.society.id == "society:mech")
    assert [x.kind for x in mech.reasons] == ["expertise", "partner"]
    assert mech.reasons[0].text == (
        "its field covers General equipment (C34), of which Pumps and valves is part "
        "(inferred from its name and discipline)"
    )
    assert [n.id for n in mech.reasons[0].evidence[0].nodes] == ["society:mech", "industry:t:c34"]
    # the partner ranks above the stranger with the same expertise
    ranks = {r.society.id: r.rank for r in result.results}
    assert ranks["society:mech"] < ranks["society:stranger"]
    why = recommendations(store, "Pumps and valves", limit=2, explain="Zeta Society").explanation
    assert why is not None and (why.suggested, why.rank) == (False, 4)
    assert why.text.startswith("Zeta Society ranks 4 of 5 (score 1.5): its field covers General equipment")
    assert why.text.endswith("Only the first 2 are shown.")
    with pytest.raises(NotFound):
        recommendations(store, "Pumps and valves", explain="No Such Society")


def test_recommendations_talent_reason(store: GraphStore) -> None:
    build(
        store,
        [
            ind("bev", "Beverages"),
            ind("tea", "Tea"),
            ind("coffee", "Coffee"),
            soc("agri", "Agronomy Society"),
            tal("li", "Li Na"),
            ent("farm", "Green Farm"),
        ],
        [
            rel("industry:t:tea", R.PART_OF, "industry:t:bev"),
            rel("industry:t:coffee", R.PART_OF, "industry:t:bev"),
            rel("talent:li", R.MEMBER_OF, "society:agri"),
            rel("talent:li", R.ADVISES, "enterprise:farm", since="2023"),
            rel("enterprise:farm", R.OPERATES_IN, "industry:t:coffee"),
        ],
    )
    result = recommendations(store, "Tea")
    assert result.already_serving == []
    # Coffee is Tea's sibling: its member advising a coffee farm serves Coffee (talent, +2) and shares a talent (+1)
    assert _recs(result) == [
        (
            "society:agri",
            3.0,
            [
                "already serves the related industry Coffee (talent)",
                "its member Li Na advises Green Farm in Coffee",
            ],
        )
    ]
    assert recommendations(store, "Tea", as_of="2022").results == []  # the advice starts in 2023
    coffee = recommendations(store, "Coffee")
    assert [s.id for s in coffee.already_serving] == ["society:agri"]  # serving already: left out
    assert coffee.results == []


def test_recommendations_count_a_talent_however_many_enterprises_come_before(store: GraphStore) -> None:
    """The talent reason reads every enterprise of a related industry, not a first page of them."""
    farms = [ent(f"farm-{i:04d}", f"Farm {i}") for i in range(1200)]
    build(
        store,
        [ind("bev", "Beverages"), ind("tea", "Tea"), ind("coffee", "Coffee"), soc("agri", "Agronomy Society"),
         tal("li", "Li Na"), *farms],
        [
            rel("industry:t:tea", R.PART_OF, "industry:t:bev"),
            rel("industry:t:coffee", R.PART_OF, "industry:t:bev"),
            rel("talent:li", R.MEMBER_OF, "society:agri"),
            rel("talent:li", R.ADVISES, "enterprise:farm-1150"),
            *(rel(f.id, R.OPERATES_IN, "industry:t:coffee") for f in farms),
        ],
    )  # fmt: skip
    (found,) = recommendations(store, "Tea").results
    assert (found.society.id, found.score) == ("society:agri", 3.0)
    assert found.reasons[-1].text == "its member Li Na advises Farm 1150 in Coffee"


# -- neighbourhood ------------------------------------------------------------------------------


def test_neighborhood_depth_one_and_two(mini: GraphStore) -> None:
    one = neighborhood(mini, "CMES")
    assert one.center.id == CMES
    assert [(n.id, n.depth) for n in one.nodes] == [
        (CMES, 0),
        (ELECTRICAL, 1),
        ("organization:cast", 1),
        ("program:panel", 1),
    ]
    assert [(e.source, e.type, e.target) for e in one.edges] == [
        (CMES, R.MEMBER_OF, "organization:cast"),
        (CMES, R.PARTICIPATES_IN, "program:panel"),
        (CMES, R.SERVES, ELECTRICAL),
    ]
    assert one.truncated is False
    two = neighborhood(mini, CMES, depth=2)
    assert {n.id for n in two.nodes if n.depth == 2} == {
        CSAE, CSEE, CIE, GSC, "organization:wast", "enterprise:yq-electric", "program:ws-1", INTERNET, SMART_AUTO,
    }  # fmt: skip
    assert len(two.nodes) == 13
    assert len(two.edges) == 15
    assert all(
        e.source in {n.id for n in two.nodes} and e.target in {n.id for n in two.nodes} for e in two.edges
    )


def test_neighborhood_filters(mini: GraphStore) -> None:
    members = neighborhood(mini, CMES, depth=2, types=[R.MEMBER_OF])
    assert [(n.id, n.depth) for n in members.nodes] == [
        (CMES, 0),
        ("organization:cast", 1),
        ("organization:wast", 2),
        (CIE, 2),
        (CSAE, 2),
        (CSEE, 2),
        (GSC, 2),
    ]
    assert {e.type for e in members.edges} == {R.MEMBER_OF}
    kinds = neighborhood(mini, CMES, depth=2, kinds=[NodeKind.PROGRAM, NodeKind.INDUSTRY])
    assert [(n.id, n.depth) for n in kinds.nodes] == [
        (CMES, 0),
        (ELECTRICAL, 1),
        ("program:panel", 1),
        (INTERNET, 2),
        (SMART_AUTO, 2),
        ("program:ws-1", 2),
    ]
    assert neighborhood(mini, CMES, depth=3, kinds=[NodeKind.SOCIETY]).nodes[0].id == CMES
    assert len(neighborhood(mini, CMES, depth=3, kinds=[NodeKind.SOCIETY]).nodes) == 1


def test_neighborhood_truncates_at_the_limit(mini: GraphStore) -> None:
    capped = neighborhood(mini, CMES, limit=3)
    assert capped.truncated is True
    # neighbours come by (type, id): MEMBER_OF, PARTICIPATES_IN, then SERVES is cut
    assert [n.id for n in capped.nodes] == [CMES, "organization:cast", "program:panel"]
    assert [(e.source, e.target) for e in capped.edges] == [
        (CMES, "organization:cast"),
        (CMES, "program:panel"),
    ]
    assert neighborhood(mini, CMES, limit=4).truncated is False


def test_neighborhood_as_of_and_limits(mini: GraphStore) -> None:
    early = neighborhood(mini, CMES, as_of="2021-05")
    assert [n.id for n in early.nodes] == [CMES, ELECTRICAL, "organization:cast"]
    with pytest.raises(InvalidRequest, match="depth"):
        neighborhood(mini, CMES, depth=4)
    with pytest.raises(InvalidRequest, match="depth"):
        neighborhood(mini, CMES, depth=0)
    with pytest.raises(InvalidRequest, match="limit"):
        neighborhood(mini, CMES, limit=0)
    with pytest.raises(NotFound):
        neighborhood(mini, "society:nobody")


def test_neighborhood_shows_no_private_fields(mini: GraphStore) -> None:
    around = neighborhood(mini, CSEE)
    zhang = next(n for n in around.nodes if n.id == "talent:zhang-wei")
    assert zhang.properties["title"] == "academician"
    assert zhang.properties["field"] == "power electronics"
    assert "email" not in zhang.properties
    assert "phone" not in zhang.properties


# -- paths --------------------------------------------------------------------------------------


def test_k_shortest_paths_with_sentences(mini: GraphStore) -> None:
    result = paths_between(mini, "China SAE", "电气", k=3)
    assert (result.source.id, result.target.id, result.count, result.max_hops) == (CSAE, ELECTRICAL, 3, 4)
    assert [p.sentence for p in result.paths] == [
        "China Society of Automotive Engineers — takes part in — Science and technology expert panels"
        " — serves — Electrical equipment",
        # two chains of three hops sharing a node with CMES: the panels (stated, few ties) before
        # CAST (reference member lists, more ties)
        "China Society of Automotive Engineers — takes part in — Science and technology expert panels"
        " — has as participant — Chinese Mechanical Engineering Society — serves — Electrical equipment",
        "China Society of Automotive Engineers — is a member of — China Association for Science and Technology"
        " — has as member — Chinese Mechanical Engineering Society — serves — Electrical equipment",
    ]
    assert [len(p.steps) for p in result.paths] == [2, 3, 3]
    assert result.scores == sorted(result.scores, reverse=True) and len(set(result.scores)) == 3
    assert [n.id for n in result.paths[2].nodes] == [CSAE, "organization:cast", CMES, ELECTRICAL]
    assert result.paths[2].weakest_basis == Basis.REFERENCE  # the member lists are reference data


def test_wenzhou_chains_rank_alike_on_both_backends(store: GraphStore) -> None:
    """The Wenzhou data's hub (CAST, with every society a member): the stated panel chain comes
    first, with the same scores everywhere; and CMES's neighbourhood folds CAST's members."""
    load_dataset(WENZHOU_DATASET, store)
    result = paths_between(store, "China SAE", "电气", k=5)
    assert [n.id for n in result.paths[0].nodes] == [
        CSAE,
        "program:wenzhou-expert-panels",
        "industry:local:wenzhou-electrical",
        "industry:wenzhou-5-5:electrical",
    ]
    assert [round(x, 12) for x in result.scores] == sorted(
        (round(x, 12) for x in result.scores), reverse=True
    )
    assert len(result.scores) == 5
    embedded = EmbeddedStore(None)
    load_dataset(WENZHOU_DATASET, embedded)
    reference = paths_between(embedded, "China SAE", "电气", k=5)
    assert [p.sentence for p in result.paths] == [p.sentence for p in reference.paths]
    assert result.scores == reference.scores
    around = neighborhood(store, CMES, depth=2)
    assert around == neighborhood(embedded, CMES, depth=2)
    (group,) = around.groups
    assert (group.hub, group.type, group.direction, group.kind) == (
        "organization:cast",
        R.MEMBER_OF,
        "in",
        NodeKind.SOCIETY,
    )
    assert len(around.nodes) + 1 <= 60


def test_paths_hop_limit_and_k(mini: GraphStore) -> None:
    assert paths_between(mini, CSAE, ELECTRICAL, max_hops=1).paths == []
    assert paths_between(mini, CSAE, ELECTRICAL, max_hops=1).count == 0
    assert [len(p.steps) for p in paths_between(mini, CSAE, ELECTRICAL, max_hops=2, k=10).paths] == [2]
    assert paths_between(mini, CSAE, ELECTRICAL, k=1).count == 1
    only_members = paths_between(mini, CSAE, CMES, types=[R.MEMBER_OF])
    assert [p.sentence for p in only_members.paths] == [
        "China Society of Automotive Engineers — is a member of — China Association for Science and Technology"
        " — has as member — Chinese Mechanical Engineering Society"
    ]
    with pytest.raises(InvalidRequest, match="max_hops"):
        paths_between(mini, CSAE, ELECTRICAL, max_hops=7)
    with pytest.raises(InvalidRequest, match="max_hops"):
        paths_between(mini, CSAE, ELECTRICAL, max_hops=0)
    with pytest.raises(InvalidRequest, match="k must"):
        paths_between(mini, CSAE, ELECTRICAL, k=0)
    with pytest.raises(InvalidRequest, match="same entity"):
        paths_between(mini, CSAE, "China SAE")
    with pytest.raises(NotFound):
        paths_between(mini, CSAE, "society:nobody")


def test_paths_as_of(mini: GraphStore) -> None:
    # before the panels, China SAE reaches Electrical only through CAST and CMES
    early = paths_between(mini, CSAE, ELECTRICAL, k=1, as_of="2021-05")
    assert [n.id for n in early.paths[0].nodes] == [CSAE, "organization:cast", CMES, ELECTRICAL]


@pytest.fixture
def capped_hub(store: GraphStore) -> GraphStore:
    """An industry served by four societies, three of them members of one organisation. With a
    fanout of two, the industry's hops reach only societies a and b, the organisation's only a and c."""
    return build(
        store,
        [soc(key, f"Society {key.upper()}") for key in "abcz"]
        + [ind("i", "Hub Industry"), org("o", "Org O")],
        [rel(f"society:{key}", R.SERVES, "industry:t:i") for key in "abcz"]
        + [rel(f"society:{key}", R.MEMBER_OF, "organization:o") for key in "acz"],
    )


def test_paths_follow_only_the_first_hops_of_each_node(capped_hub: GraphStore) -> None:
    a, c, z, o, i = "society:a", "society:c", "society:z", "organization:o", "industry:t:i"

    def chains(source: str, **options: int) -> list[list[str]]:
        found = paths_between(capped_hub, source, i, k=3, **options)
        return [[n.id for n in p.nodes] for p in found.paths]

    assert chains(c) == [[c, i], [c, o, a, i], [c, o, z, i]]
    assert chains(a) == [[a, i], [a, o, c, i], [a, o, z, i]]
    # walking out from the industry, c is three hops away (i → a → o → c): no shorter chain is taken
    assert chains(c, fanout=2) == [[c, o, a, i]]
    # the industry's hops do not reach c, so c is not one hop from it, and a → o → c → i is not taken
    assert chains(a, fanout=2) == [[a, i]]
    # nothing the walk from the industry reaches has z among its first two hops
    assert chains(z, fanout=2) == []
    assert chains(z, fanout=2, max_hops=6) == []


# -- search -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "top", "score", "matched"),
    [
        ("Chinese Mechanical Engineering Society", CMES, 95.0, "Chinese Mechanical Engineering Society"),
        ("中国机械工程学会", CMES, 95.0, "中国机械工程学会"),
        ("CMES", CMES, 95.0, "CMES"),
        ("china sae", CSAE, 95.0, "China SAE"),
        ("SAE-China", CSAE, 95.0, "SAE-China"),
        ("CSAE", CSAE, 85.0, "China Society of Automotive Engineers"),  # initials of the English name
        ("zgjxgcxh", CMES, 85.0, "中国机械工程学会"),  # pinyin initials
        ("zhongguojixiegongchengxuehui", CMES, 85.0, "中国机械工程学会"),  # full pinyin
        ("jixie", CMES, 58.0, "中国机械工程学会"),  # pinyin inside the name: ji-xie, the word 机械
        ("society:cmes", CMES, 100.0, "society:cmes"),
        ("中国科协", "organization:cast", 95.0, "中国科协"),
        ("温州", "region:330300", 75.0, "温州市"),
    ],
)
def test_search_finds(mini: GraphStore, text: str, top: str, score: float, matched: str) -> None:
    result = search(mini, text)
    assert result.results[0].node.id == top
    assert result.results[0].score == score
    assert result.results[0].matched == matched


def test_search_tolerates_a_typo(mini: GraphStore) -> None:
    result = search(mini, "Mechanicl")
    assert [h.node.id for h in result.results] == [CMES]
    assert 30.0 <= result.results[0].score < 50.0
    assert result.results[0].matched == "Chinese Mechanical Engineering Society"


def test_search_ranking(mini: GraphStore) -> None:
    chinese = search(mini, "Chinese")
    # three names start with it (75); ties go to the better connected (CMES and CSEE have three
    # relationships each, CIE two), then to the shorter name
    assert [(h.node.id, h.score) for h in chinese.results] == [(CMES, 75.0), (CSEE, 75.0), (CIE, 75.0)]
    wenzhou = search(mini, "Wenzhou")
    assert [(h.node.id, h.score) for h in wenzhou.results[:4]] == [
        ("region:330300", 95.0),
        ("enterprise:wz-shoes", 75.0),  # as connected as the association, and its name is shorter
        ("organization:wast", 75.0),
        ("agreement:cie-wenzhou", 65.0),  # the name holds it
    ]
    assert [h.node.id for h in search(mini, "Wenzhou", kinds=[NodeKind.ORGANIZATION]).results] == [
        "organization:wast"
    ]
    assert search(mini, "Wenzhou", limit=2).count == 2
    assert search(mini, "qqqqzzzz").results == []
    with pytest.raises(InvalidRequest):
        search(mini, "   ")
    with pytest.raises(InvalidRequest):
        search(mini, "x" * 201)
    with pytest.raises(InvalidRequest):
        search(mini, "CMES", limit=0)


def test_search_sees_nodes_added_later(mini: GraphStore) -> None:
    assert search(mini, "Shipbuilding").results == []
    mini.upsert_nodes([ind("ships", "Shipbuilding", name_zh="船舶")])
    assert [h.node.id for h in search(mini, "Shipbuilding").results] == ["industry:t:ships"]
    assert search(mini, "chuanbo").results[0].node.id == "industry:t:ships"


# -- brokers and communities --------------------------------------------------------------------


@pytest.fixture
def two_hubs(store: GraphStore) -> GraphStore:
    """Hub One with talents A, B, E; Hub Two with talent C; both members of the Umbrella organisation.

    A tree of 7 nodes: betweenness (normalised by (n-1)(n-2)/2 = 15) is the number of
    pairs a node separates: Hub One 12/15, Umbrella 8/15 (4 × 2), Hub Two 5/15 (1 × 5).
    """
    return build(
        store,
        [
            soc("one", "Hub One"),
            soc("two", "Hub Two"),
            org("umbrella", "Umbrella"),
            *(tal(k, f"Talent {k.upper()}") for k in "abce"),
        ],
        [
            rel("talent:a", R.MEMBER_OF, "society:one"),
            rel("talent:b", R.MEMBER_OF, "society:one"),
            rel("talent:e", R.MEMBER_OF, "society:one"),
            rel("talent:c", R.MEMBER_OF, "society:two"),
            rel("society:one", R.MEMBER_OF, "organization:umbrella"),
            rel("society:two", R.MEMBER_OF, "organization:umbrella"),
        ],
    )


def test_brokers_by_hand(two_hubs: GraphStore) -> None:
    result = brokers(two_hubs)
    assert result.exact is True
    assert [(b.node.id, b.betweenness, b.degree) for b in result.results] == [
        ("society:one", 0.8, 4),
        ("organization:umbrella", 0.533333, 2),
        ("society:two", 0.333333, 2),
        ("talent:a", 0.0, 1),  # the rest tie at 0: by name
        ("talent:b", 0.0, 1),
        ("talent:c", 0.0, 1),
        ("talent:e", 0.0, 1),
    ]
    only_societies = brokers(two_hubs, kinds=[NodeKind.SOCIETY], limit=1)
    assert [b.node.id for b in only_societies.results] == ["society:one"]
    assert only_societies.count == 1
    with pytest.raises(InvalidRequest):
        brokers(two_hubs, limit=0)


def test_brokers_on_mini_repeat_and_keep_to_kinds(mini: GraphStore) -> None:
    first = brokers(mini)
    assert first == brokers(mini)
    assert {b.node.kind for b in first.results} <= {
        NodeKind.SOCIETY, NodeKind.ORGANIZATION, NodeKind.PROGRAM, NodeKind.TALENT,
    }  # fmt: skip
    # CAST joins the five societies and the city association; the panels join three societies
    # and three industries: they are the two best-placed go-betweens
    assert {b.node.id for b in first.results[:2]} == {"organization:cast", "program:panel"}
    assert [b.betweenness for b in first.results] == sorted(
        (b.betweenness for b in first.results), reverse=True
    )
    industries = brokers(mini, kinds=[NodeKind.INDUSTRY], limit=3)
    assert {b.node.kind for b in industries.results} == {NodeKind.INDUSTRY}


def test_communities_of_two_separate_stars(store: GraphStore) -> None:
    build(
        store,
        [
            soc("big", "Big"),
            soc("small", "Small"),
            *(tal(f"b{i}", f"B{i}") for i in range(4)),
            *(tal(f"s{i}", f"S{i}") for i in range(3)),
        ],
        [
            *(rel(f"talent:b{i}", R.MEMBER_OF, "society:big") for i in range(4)),
            *(rel(f"talent:s{i}", R.MEMBER_OF, "society:small") for i in range(3)),
        ],
    )
    result = communities(store)
    assert result.count == 2
    assert [(c.id, c.size, c.kinds) for c in result.results] == [
        (1, 5, {"Society": 1, "Talent": 4}),
        (2, 4, {"Society": 1, "Talent": 3}),
    ]
    assert [n.id for n in result.results[0].top] == [
        "society:big",
        "talent:b0",
        "talent:b1",
        "talent:b2",
        "talent:b3",
    ]
    # Q = Σ (internal / m − (degrees / 2m)²) = 4/7 − (8/14)² + 3/7 − (6/14)² = 96/196
    assert result.modularity == pytest.approx(96 / 196, abs=1e-6)
    with pytest.raises(InvalidRequest):
        communities(store, resolution=0)


def test_communities_on_mini_are_deterministic(mini: GraphStore) -> None:
    first = communities(mini)
    assert first == communities(mini)
    assert sum(c.size for c in first.results) == 25  # every entity in exactly one community
    # seeded Louvain over the same projection (nodes and relationships in id order) on either backend
    assert [c.size for c in first.results] == [8, 5, 5, 4, 3]
    assert first.count == len(first.results)
    assert [c.size for c in first.results] == sorted((c.size for c in first.results), reverse=True)
    assert 0 < first.modularity < 1


# -- plans and changes --------------------------------------------------------------------------


def test_plan_progress(mini: GraphStore) -> None:
    progress = plan_progress(mini, "三年行动方案")
    assert progress.plan.id == "program:plan"
    assert (progress.since, progress.until) == ("2021", "2023")
    assert [
        (t.program_kind, t.target, t.achieved, t.ratio, [p.id for p in t.programs]) for t in progress.targets
    ] == [
        ("academician_workstation", 2, 1, 0.5, ["program:ws-1"]),
        ("doctoral_station", 3, 0, 0.0, []),
    ]
    before = plan_progress(mini, "program:plan", as_of="2022-02")  # ws-1 opened 2022-03
    assert [(t.program_kind, t.achieved) for t in before.targets] == [
        ("academician_workstation", 0),
        ("doctoral_station", 0),
    ]
    with pytest.raises(InvalidRequest, match="no numeric targets"):
        plan_progress(mini, "program:panel")
    with pytest.raises(NotFound):
        plan_progress(mini, "program:nothing")


def test_plan_progress_counts_every_member_of_a_large_plan(store: GraphStore) -> None:
    """A national plan may hold more programs than a page of neighbours: every one counts."""
    stations = [prog(f"d{i:04d}", f"Station {i}", program_kind="doctoral_station") for i in range(1050)]
    build(
        store,
        [prog("plan", "Plan", program_kind="plan", targets={"doctoral_station": 1100}), *stations],
        [rel(s.id, R.PART_OF, "program:plan") for s in stations],
    )
    (target,) = plan_progress(store, "Plan").targets
    assert (target.target, target.achieved) == (1100, 1050)


def test_plan_progress_counts_programs_in_the_period_and_nested(store: GraphStore) -> None:
    build(
        store,
        [
            prog(
                "plan",
                "Plan",
                program_kind="plan",
                since="2021",
                until="2023",
                targets={"doctoral_station": 4},
            ),
            prog("group", "Stations group", program_kind="other"),
            prog(
                "d1", "Station 1", program_kind="doctoral_station"
            ),  # part of the group, which is part of the plan
            prog("d2", "Station 2", program_kind="doctoral_station", since="2022-05"),  # in the period
            prog("d3", "Station 3", program_kind="doctoral_station", since="2024-01"),  # after the period
            prog("d4", "Station 4", program_kind="doctoral_station", since="2020"),  # before it
        ],
        [rel("program:group", R.PART_OF, "program:plan"), rel("program:d1", R.PART_OF, "program:group")],
    )
    (target,) = plan_progress(store, "Plan").targets
    assert (target.target, target.achieved, target.ratio) == (4, 2, 0.5)
    assert [p.id for p in target.programs] == ["program:d1", "program:d2"]


def test_changes_between_dates(mini: GraphStore) -> None:
    in_2022 = changes(mini, "2022-01-01", "2022-12-31")
    assert [(c.node.id, c.since) for c in in_2022.nodes] == [("program:ws-1", "2022-03")]
    assert [
        (c.relationship.since, c.relationship.source, c.relationship.type, c.relationship.target)
        for c in in_2022.relationships
    ] == [
        ("2022", "talent:zhang-wei", R.ADVISES, "enterprise:yq-electric"),
        ("2022-03", "enterprise:yq-electric", R.HOSTS, "program:ws-1"),
        ("2022-03", "program:ws-1", R.SERVES, ELECTRICAL),
    ]
    autumn = changes(mini, "2021-09", "2021-12")
    # the plan's "2021" overlaps the window at its own precision; the panels (2021-06) do not
    assert [(c.node.id, c.since) for c in autumn.nodes] == [
        ("program:plan", "2021"),
        ("agreement:cie-wenzhou", "2021-09-15"),
    ]
    assert [(c.relationship.source, c.relationship.type) for c in autumn.relationships] == [
        ("organization:wast", R.HOSTS),
        ("agreement:cie-wenzhou", R.COVERS),
        ("region:330300", R.PARTY_TO),
        (CIE, R.PARTY_TO),
    ]
    in_2018 = changes(mini, "2018", "2018")
    assert in_2018.nodes == []
    assert {(c.relationship.source, c.relationship.target) for c in in_2018.relationships} == {
        (CMES, ELECTRICAL),
        (CSAE, AUTO),
    }
    assert changes(mini, "2030", "2031").relationships == []
    # a limit keeps the earliest and says how many there are in all
    assert (in_2022.total_nodes, in_2022.total_relationships) == (1, 3)
    first = changes(mini, "2021-09", "2021-12", limit=1)
    assert [c.node.id for c in first.nodes] == ["program:plan"]
    assert [c.relationship.source for c in first.relationships] == ["organization:wast"]
    assert (first.total_nodes, first.total_relationships) == (2, 4)
    with pytest.raises(InvalidRequest, match="before the start"):
        changes(mini, "2022", "2021")


# -- small graphs: ties, cycles, disconnected parts, deep hierarchies ---------------------------


@pytest.fixture
def ties(store: GraphStore) -> GraphStore:
    """One industry served by societies whose scores tie in different ways.

    - Foxtrot: party to two agreements covering it: 3 + 3 = 6.
    - Beta: takes part in a program serving it (2) and has a member talent serving it (1): 3, two channels.
    - Alpha: serves it directly: 3, one channel (after Beta, which has more channels).
    - two societies both named Gamma serve it directly: 3, one channel; ordered by id.
    - Epsilon: takes part in the program, on reference data: 2 × 0.9 = 1.8.
    - Delta: serves it, inferred: 3 × 0.5 = 1.5.
    """
    return build(
        store,
        [
            ind("nev", "New energy vehicles", name_zh="新能源汽车", aliases=("NEV", "电动车")),
            soc("alpha", "Alpha Society"),
            soc("beta", "Beta Society"),
            soc("g2", "Gamma Society"),
            soc("g1", "Gamma Society"),
            soc("delta", "Delta Society"),
            soc("epsilon", "Epsilon Society"),
            soc("foxtrot", "Foxtrot Society"),
            prog("group", "Service group", program_kind="service_group"),
            tal("wang", "Wang Fang"),
            agr("a1", "First agreement"),
            agr("a2", "Second agreement"),
        ],
        [
            rel("society:alpha", R.SERVES, "industry:t:nev"),
            rel("society:beta", R.PARTICIPATES_IN, "program:group"),
            rel("program:group", R.SERVES, "industry:t:nev"),
            rel("talent:wang", R.MEMBER_OF, "society:beta"),
            rel("talent:wang", R.SERVES, "industry:t:nev"),
            rel("society:g2", R.SERVES, "industry:t:nev"),
            rel("society:g1", R.SERVES, "industry:t:nev"),
            rel("society:delta", R.SERVES, "industry:t:nev", basis=Basis.INFERRED),
            rel("society:epsilon", R.PARTICIPATES_IN, "program:group", basis=Basis.REFERENCE),
            rel("society:foxtrot", R.PARTY_TO, "agreement:a1"),
            rel("society:foxtrot", R.PARTY_TO, "agreement:a2"),
            rel("agreement:a1", R.COVERS, "industry:t:nev"),
            rel("agreement:a2", R.COVERS, "industry:t:nev"),
        ],
    )


def test_ties_are_broken_by_channels_then_name_then_id(ties: GraphStore) -> None:
    result = societies_serving(ties, "NEV")  # by alias
    assert result.industry.id == "industry:t:nev"
    assert ranked(result) == [
        ("society:foxtrot", 6.0, ["agreement"]),
        ("society:beta", 3.0, ["program", "talent"]),
        ("society:alpha", 3.0, ["direct"]),
        ("society:g1", 3.0, ["direct"]),
        ("society:g2", 3.0, ["direct"]),
        ("society:epsilon", 1.8, ["program"]),
        ("society:delta", 1.5, ["direct"]),
    ]
    foxtrot = result.results[0]
    assert [p.nodes[1].id for p in foxtrot.paths] == ["agreement:a1", "agreement:a2"]
    beta_talent = next(p for p in result.results[1].paths if p.channel == "talent")
    assert beta_talent.sentence == "Beta Society — has as member — Wang Fang — serves — New energy vehicles"
    assert societies_serving(ties, "电动车").industry.id == "industry:t:nev"  # a Chinese alias


def test_an_ambiguous_name_asks_for_the_id(ties: GraphStore) -> None:
    with pytest.raises(Ambiguous) as caught:  # a NotFound: 404 with the candidates as suggestions
        industries_served_by(ties, "Gamma Society")
    assert "'Gamma Society' names several society entries" in caught.value.message
    assert caught.value.suggestions == [
        "society:g1 (Gamma Society · Society)",
        "society:g2 (Gamma Society · Society)",
    ]
    assert [r.industry.id for r in industries_served_by(ties, "society:g2").results] == ["industry:t:nev"]


@pytest.fixture
def cycles(store: GraphStore) -> GraphStore:
    """A loop Society ← MEMBER_OF Talent ─ADVISES→ Enterprise ─OPERATES_IN→ Industry ← SERVES Society,
    and two organisations members of each other (a directed cycle)."""
    return build(
        store,
        [
            soc("s", "Loop Society"),
            tal("t", "Loop Talent"),
            ent("e", "Loop Works"),
            ind("i", "Loop Industry"),
            org("a", "Org A"),
            org("b", "Org B"),
        ],
        [
            rel("talent:t", R.MEMBER_OF, "society:s"),
            rel("talent:t", R.ADVISES, "enterprise:e"),
            rel("enterprise:e", R.OPERATES_IN, "industry:t:i"),
            rel("society:s", R.SERVES, "industry:t:i"),
            rel("society:s", R.MEMBER_OF, "organization:a"),
            rel("organization:a", R.MEMBER_OF, "organization:b"),
            rel("organization:b", R.MEMBER_OF, "organization:a"),
        ],
    )


def test_cycles_serving_and_paths(cycles: GraphStore) -> None:
    assert ranked(societies_serving(cycles, "Loop Industry")) == [("society:s", 4.0, ["direct", "talent"])]
    around_the_loop = paths_between(cycles, "society:s", "industry:t:i", k=5, max_hops=6)
    assert [p.sentence for p in around_the_loop.paths] == [
        "Loop Society — serves — Loop Industry",
        "Loop Society — has as member — Loop Talent — advises — Loop Works — operates in — Loop Industry",
    ]
    both_ways = paths_between(cycles, "talent:t", "industry:t:i", k=5)
    # equal length: ordered by the ids along them, enterprise:e before society:s
    assert [[n.id for n in p.nodes] for p in both_ways.paths] == [
        ["talent:t", "enterprise:e", "industry:t:i"],
        ["talent:t", "society:s", "industry:t:i"],
    ]


def test_cycle_between_two_organisations(cycles: GraphStore) -> None:
    result = paths_between(cycles, "Org A", "Org B", k=5)
    # the same two ids, each way round: both one-hop chains, neither repeated
    # the same two ids each way round; equal chains come in the stores' neighbour order,
    # (type, id, direction), so the relationship pointing in comes first
    assert [p.sentence for p in result.paths] == [
        "Org A — has as member — Org B",
        "Org A — is a member of — Org B",
    ]
    longer = paths_between(cycles, "Loop Society", "Org B", k=5, max_hops=6)
    # the chain that goes on through Org A before the one that only shares it with Org B
    # (both members of Org A): sharing a node weighs it again by its members
    assert [p.sentence for p in longer.paths] == [
        "Loop Society — is a member of — Org A — is a member of — Org B",
        "Loop Society — is a member of — Org A — has as member — Org B",
    ]


def test_cycles_neighborhood_visits_each_node_once(cycles: GraphStore) -> None:
    result = neighborhood(cycles, "talent:t", depth=3)
    assert [(n.id, n.depth) for n in result.nodes] == [
        ("talent:t", 0),
        ("enterprise:e", 1),
        ("society:s", 1),
        ("industry:t:i", 2),
        ("organization:a", 2),
        ("organization:b", 3),
    ]
    assert len(result.edges) == 7  # every relationship once, the two between A and B included


@pytest.fixture
def islands(store: GraphStore) -> GraphStore:
    """Two parts with nothing between them."""
    return build(
        store,
        [
            soc("north", "North Society"),
            ind("n", "North Industry"),
            soc("south", "South Society"),
            ind("s", "South Industry"),
        ],
        [rel("society:north", R.SERVES, "industry:t:n"), rel("society:south", R.SERVES, "industry:t:s")],
    )


def test_disconnected_parts(islands: GraphStore) -> None:
    none = paths_between(islands, "North Society", "South Industry", max_hops=6)
    assert (none.count, none.paths) == (0, [])
    assert [n.id for n in neighborhood(islands, "society:north", depth=3).nodes] == [
        "society:north",
        "industry:t:n",
    ]
    assert ranked(societies_serving(islands, "South Industry")) == [("society:south", 3.0, ["direct"])]
    parts = communities(islands)
    assert [(c.size, sorted(n.id for n in c.top)) for c in parts.results] == [
        (2, ["industry:t:n", "society:north"]),
        (2, ["industry:t:s", "society:south"]),
    ]
    assert [b.betweenness for b in brokers(islands, kinds=[NodeKind.SOCIETY]).results] == [0.0, 0.0]


@pytest.fixture
def hierarchy(store: GraphStore) -> GraphStore:
    """Machinery ⊃ Equipment ⊃ Robots (two levels of PART_OF), each served by one society;
    a robot maker; a park focusing on Equipment."""
    return build(
        store,
        [
            ind("top", "Machinery", code="M"),
            ind("mid", "Equipment", code="M1"),
            ind("leaf", "Robots", code="M11"),
            ind("other", "Textiles", code="T"),
            soc("c", "Charlie Society"),
            soc("b", "Bravo Society"),
            soc("a", "Able Society"),
            ent("robo", "Robo Works"),
            Park(id="park:p", name="Equipment Park", provenance=_prov()),
        ],
        [
            rel("industry:t:mid", R.PART_OF, "industry:t:top"),
            rel("industry:t:leaf", R.PART_OF, "industry:t:mid"),
            rel("society:c", R.SERVES, "industry:t:top"),
            rel("society:b", R.SERVES, "industry:t:mid"),
            rel("society:a", R.SERVES, "industry:t:leaf"),
            rel("enterprise:robo", R.OPERATES_IN, "industry:t:leaf"),
            rel("park:p", R.FOCUSES_ON, "industry:t:mid"),
        ],
    )


def test_sub_industries_two_levels_deep(hierarchy: GraphStore) -> None:
    result = societies_serving(hierarchy, "M", include_sub_industries=True)  # by code
    assert [i.id for i in result.industries] == ["industry:t:top", "industry:t:mid", "industry:t:leaf"]
    # 0.8 for any sub-industry, however deep: Able and Bravo tie at 2.4
    assert ranked(result) == [
        ("society:c", 3.0, ["direct"]),
        ("society:a", 2.4, ["direct"]),
        ("society:b", 2.4, ["direct"]),
    ]
    assert ranked(societies_serving(hierarchy, "Machinery", include_sub_industries=False)) == [
        ("society:c", 3.0, ["direct"])
    ]
    assert [
        i.id for i in societies_serving(hierarchy, "Equipment", include_sub_industries=True).industries
    ] == [
        "industry:t:mid",
        "industry:t:leaf",
    ]


def test_gaps_and_coverage_include_every_level_below(hierarchy: GraphStore) -> None:
    analysis = gap_analysis(hierarchy, Scope(industries=["Machinery", "Textiles"]), thin_below=3)
    top, textiles = (
        next(r for r in analysis.rows if r.industry.id == i) for i in ("industry:t:top", "industry:t:other")
    )
    assert (top.status, top.supply.societies, top.demand.enterprises, top.demand.parks) == (
        "covered",
        3,
        1,
        1,
    )
    # (1 + an enterprise 1 + a park 2) / (1 + three direct societies): as severe as Textiles,
    # which has neither demand nor supply; the uncovered one comes first
    assert top.severity == pytest.approx(1.0)
    assert (textiles.status, textiles.severity) == ("uncovered", 1.0)
    assert [r.industry.id for r in analysis.rows] == ["industry:t:other", "industry:t:top"]
    matrix = coverage_matrix(hierarchy, Scope(industries=["Machinery"]))
    assert [e.id for e in matrix.rows[0].cells["incubator_or_park"].entities] == ["park:p"]


def test_recommendations_from_the_hierarchy(hierarchy: GraphStore) -> None:
    result = recommendations(hierarchy, "Equipment")
    # Equipment and Robots are served by Bravo and Able; Charlie serves the parent
    assert [s.id for s in result.already_serving] == ["society:a", "society:b"]
    assert _recs(result) == [("society:c", 2.0, ["already serves the related industry Machinery (direct)"])]
