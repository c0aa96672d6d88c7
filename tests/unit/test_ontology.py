"""The ontology refuses what the domain does not allow and keeps ids and values stable."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from graph_service.core.errors import InvalidRequest
from graph_service.core.ontology import (
    ALLOWED_PAIRS,
    MAX_NAME,
    NODE_MODELS,
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
    check_pair,
    kind_of_id,
    make_id,
    node_from_props,
    normalize_name,
    relationship_from_props,
)

PROV = Provenance(source="notes", evidence="a clause", basis=Basis.STATED)
K = NodeKind


def society(**fields: object) -> Society:
    data: dict[str, object] = {"id": "society:cmes", "name": "Chinese Mechanical Engineering Society"}
    data.update(fields)
    return Society(provenance=PROV, **data)


# -- relationship pairs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel_type", "source", "target"),
    [
        (RelType.SERVES, K.SOCIETY, K.REGION),
        (RelType.SERVES, K.INDUSTRY, K.SOCIETY),
        (RelType.PARTY_TO, K.TALENT, K.AGREEMENT),
        (RelType.COVERS, K.SOCIETY, K.INDUSTRY),
        (RelType.ADVISES, K.TALENT, K.SOCIETY),
        (RelType.OPERATES_IN, K.PARK, K.INDUSTRY),
        (RelType.PART_OF, K.INDUSTRY, K.REGION),
        (RelType.MEMBER_OF, K.SOCIETY, K.SOCIETY),
    ],
)
def test_pairs_the_ontology_does_not_allow_are_refused(
    rel_type: RelType, source: NodeKind, target: NodeKind
) -> None:
    with pytest.raises(InvalidRequest) as info:
        check_pair(rel_type, source, target)
    assert info.value.message.startswith(f"{rel_type} cannot join {source} → {target}; allowed: ")


def test_refused_pair_message_lists_the_allowed_pairs() -> None:
    with pytest.raises(InvalidRequest) as info:
        check_pair(RelType.SERVES, K.SOCIETY, K.REGION)
    assert info.value.message == (
        "SERVES cannot join Society → Region; allowed: Organization→Industry, Program→Industry, "
        "Society→Industry, Talent→Industry"
    )


def test_every_allowed_pair_is_accepted_as_a_relationship() -> None:
    for rel_type, pairs in ALLOWED_PAIRS.items():
        for source, target in pairs:
            rel = Relationship(
                source=f"{source.value.lower()}:a",
                type=rel_type,
                target=f"{target.value.lower()}:b",
                provenance=PROV,
            )
            assert rel.key == (f"{source.value.lower()}:a", rel_type.value, f"{target.value.lower()}:b")


def test_a_relationship_with_a_bad_pair_cannot_be_built() -> None:
    with pytest.raises(InvalidRequest, match="SERVES cannot join Society → Region"):
        Relationship(source="society:cmes", type=RelType.SERVES, target="region:330300", provenance=PROV)


@pytest.mark.parametrize("node_id", ["industry:wz:digital", "region:330300", "program:plan"])
def test_part_of_self_loop_is_refused(node_id: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        Relationship(source=node_id, type=RelType.PART_OF, target=node_id, provenance=PROV)
    assert info.value.message == f"PART_OF cannot join {node_id} to itself"


def test_unknown_relationship_type_is_refused() -> None:
    with pytest.raises(ValidationError, match="type"):
        Relationship.model_validate(
            {"source": "society:a", "type": "FUNDS", "target": "industry:b", "provenance": PROV}
        )


# -- kinds and ids ----------------------------------------------------------------------


def test_kind_of_id_reads_the_prefix() -> None:
    assert kind_of_id("society:cmes") is K.SOCIETY
    assert kind_of_id("industry:gbt4754:c38") is K.INDUSTRY
    assert kind_of_id("region:330300") is K.REGION


def test_unknown_kind_prefix_is_refused_with_the_known_ones() -> None:
    with pytest.raises(InvalidRequest) as info:
        kind_of_id("gadget:x")
    assert info.value.message == (
        "id 'gadget:x' starts with unknown kind 'gadget'; known: agreement, enterprise, industry, "
        "organization, park, program, region, society, talent"
    )


@pytest.mark.parametrize(
    "bad", ["society", "society:", "society:has space", "Society x", ":cmes", "s" * 10, "society:cmes\n"]
)
def test_malformed_ids_are_refused(bad: str) -> None:
    with pytest.raises(InvalidRequest, match="malformed id"):
        kind_of_id(bad)


def test_very_long_ids_are_refused() -> None:
    kind_of_id("society:" + "x" * 150)
    with pytest.raises(InvalidRequest, match="at most 200 characters"):
        kind_of_id("society:" + "x" * 300)


def test_unknown_kind_name_is_refused() -> None:
    with pytest.raises(ValueError, match="'Gadget' is not a valid NodeKind"):
        NodeKind("Gadget")
    with pytest.raises(ValueError, match="'Gadget' is not a valid NodeKind"):
        node_from_props({"kind": "Gadget", "id": "gadget:x", "name": "x", "source": "s", "basis": "stated"})


def test_node_id_must_carry_its_own_kind() -> None:
    with pytest.raises(ValidationError, match="id 'industry:cmes' does not start with 'society:'"):
        society(id="industry:cmes")


def test_make_id_is_stable_and_readable() -> None:
    assert make_id(K.INDUSTRY, "gbt4754", "C38") == "industry:gbt4754:c38"
    assert make_id(K.SOCIETY, "Chinese Mechanical Engineering Society") == (
        "society:chinese-mechanical-engineering-society"
    )
    assert make_id(K.REGION, "330300") == "region:330300"
    assert make_id(K.SOCIETY, "中国机械工程学会") == "society:中国机械工程学会"
    # the same name, however it is spaced and punctuated, gives one id
    assert make_id(K.SOCIETY, "  Chinese  Mechanical-Engineering   Society ") == (
        "society:chinese-mechanical-engineering-society"
    )


def test_make_id_folds_full_width_and_half_width_names_to_one_id() -> None:
    assert make_id(K.SOCIETY, "ＣＭＥＳ") == make_id(K.SOCIETY, "CMES") == "society:cmes"
    assert make_id(K.SOCIETY, "中国机械工程学会（ＣＭＥＳ）") == make_id(K.SOCIETY, "中国机械工程学会(CMES)")
    assert make_id(K.SOCIETY, "中国机械工程学会（ＣＭＥＳ）") == "society:中国机械工程学会-cmes"
    assert make_id(K.INDUSTRY, "ｇｂｔ４７５４", "Ｃ３８") == "industry:gbt4754:c38"


def test_make_id_refuses_a_key_with_nothing_to_keep() -> None:
    with pytest.raises(InvalidRequest, match="cannot make an id for a Society from '—!'"):
        make_id(K.SOCIETY, "—!")
    with pytest.raises(InvalidRequest, match="cannot make an id for a Society without a key"):
        make_id(K.SOCIETY)


def test_made_ids_are_valid_ids_of_their_kind() -> None:
    for kind in NodeKind:
        assert kind_of_id(make_id(kind, "Some Name（全角）")) is kind
    assert len(make_id(K.SOCIETY, "x" * 500)) == 200


def test_normalize_name_folds_width_case_spaces_and_quotes() -> None:
    assert normalize_name("ＣＭＥＳ\u3000 Society") == normalize_name("cmes society") == "cmes society"
    assert normalize_name("Rui’an") == normalize_name("Rui'an")


# -- values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "fields", "column"),
    [
        (Society, {"level": "global"}, "level"),
        (Park, {"park_kind": "mall"}, "park_kind"),
        (Industry, {"taxonomy": "gbt4754", "level": "sector"}, "level"),
        (Agreement, {"agreement_kind": "memo"}, "agreement_kind"),
        (Organization, {"org_kind": "club"}, "org_kind"),
        (Program, {"program_kind": "party"}, "program_kind"),
    ],
)
def test_values_outside_a_literal_are_refused(
    model: type[Node], fields: dict[str, object], column: str
) -> None:
    prefix = model.kind.value.lower()
    with pytest.raises(ValidationError) as info:
        model.model_validate({"id": f"{prefix}:x", "name": "X", "provenance": PROV, **fields})
    (error,) = info.value.errors()
    assert error["loc"] == (column,)
    assert error["type"] == "literal_error"


@pytest.mark.parametrize("date", ["2021", "2021-05", "2021-05-31", " 2021-12 "])
def test_partial_dates_are_accepted(date: str) -> None:
    assert society(since=date).since == date.strip()


@pytest.mark.parametrize("date", ["2021/05/31", "21-05-31", "2021-13", "2021-05-32", "May 2021", "20210531"])
def test_other_date_forms_are_refused(date: str) -> None:
    with pytest.raises(ValidationError) as info:
        society(since=date)
    assert info.value.errors()[0]["loc"] == ("since",)


def test_dates_on_relationships_are_checked_too() -> None:
    with pytest.raises(ValidationError):
        Relationship(
            source="society:a", type=RelType.SERVES, target="industry:b", provenance=PROV, until="2021/05"
        )


def test_names_have_a_length_limit() -> None:
    assert society(name="N" * MAX_NAME).name == "N" * MAX_NAME
    with pytest.raises(ValidationError, match=f"at most {MAX_NAME} characters"):
        society(name="N" * (MAX_NAME + 1))


def test_blank_name_is_refused_and_names_are_trimmed() -> None:
    with pytest.raises(ValidationError):
        society(name="   ")
    assert society(name="  CMES  ").name == "CMES"


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="website"):
        society(website="https://example.org")


def test_counts_cannot_be_negative_or_words() -> None:
    with pytest.raises(ValidationError):
        Park(id="park:x", name="X", companies=-1, provenance=PROV)
    with pytest.raises(ValidationError):
        Park.model_validate({"id": "park:x", "name": "X", "companies": "many", "provenance": PROV})


def test_uscc_and_adcode_formats() -> None:
    Enterprise(id="enterprise:x", name="X", uscc="91330300MA2AB1CD2X", provenance=PROV)
    with pytest.raises(ValidationError):
        Enterprise(id="enterprise:x", name="X", uscc="12345", provenance=PROV)
    with pytest.raises(ValidationError):
        Region(id="region:x", name="X", adcode="3303", provenance=PROV)


def test_provenance_basis_is_one_of_the_known_ones() -> None:
    with pytest.raises(ValidationError):
        Provenance.model_validate({"source": "notes", "basis": "rumour"})
    with pytest.raises(ValidationError):
        Provenance.model_validate({"source": "", "basis": "stated"})


def test_program_targets_read_from_text_or_json() -> None:
    prov = PROV
    plan = Program(
        id="program:p", name="P", targets="academician_workstation=50; doctoral_station=100", provenance=prov
    )
    assert plan.targets == {"academician_workstation": 50, "doctoral_station": 100}
    assert Program(id="program:p", name="P", targets='{"doctoral_station": 3}', provenance=prov).targets == {
        "doctoral_station": 3
    }
    assert Program(id="program:p", name="P", targets="a=1；b=2", provenance=prov).targets == {"a": 1, "b": 2}
    for bad in ("doctoral_station", "doctoral_station=many", "{not json", "[1, 2]", "a=-1"):
        with pytest.raises(ValidationError):
            Program(id="program:p", name="P", targets=bad, provenance=prov)


# -- privacy and storage ----------------------------------------------------------------


def test_private_talent_fields_are_absent_from_the_public_view() -> None:
    talent = Talent(
        id="talent:zhang-wei",
        name="Zhang Wei",
        title="academician",
        email="zhang.wei@example.org",
        phone="+86 577 0000 0000",
        provenance=PROV,
    )
    assert talent.to_props()["email"] == "zhang.wei@example.org"
    public = talent.public_view()
    assert "email" not in public
    assert "phone" not in public
    assert public["title"] == "academician"
    assert public["name"] == "Zhang Wei"
    assert not any("example.org" in str(v) or "0000" in str(v) for v in public.values())


def full_node(kind: NodeKind) -> Node:
    """A node of a kind with every field of the kind filled in."""
    common: dict[str, object] = {
        "id": f"{kind.value.lower()}:sample",
        "name": f"Sample {kind.value}",
        "name_zh": "样本",
        "aliases": ("S1", "样本一"),
        "description": "<b>bold</b> ' quote \" and `backticks`",
        "since": "2021-05",
        "until": "2023",
        "provenance": Provenance(source="notes", evidence="said so", basis=Basis.INFERRED),
    }
    own: dict[NodeKind, dict[str, object]] = {
        K.SOCIETY: {"discipline": "engineering (工科)", "level": "provincial", "cast_code": "B-01"},
        K.TALENT: {"title": "academician", "field": "power electronics", "email": "a@b.c", "phone": "1"},
        K.ENTERPRISE: {"uscc": "91330300MA2AB1CD2X"},
        K.PARK: {"park_kind": "incubator", "level": "national", "companies": 47},
        K.INDUSTRY: {"taxonomy": "gbt4754", "code": "C38", "level": "division", "group": "manufacturing"},
        K.AGREEMENT: {"agreement_kind": "framework"},
        K.REGION: {"adcode": "330300", "division_type": "prefecture-level city"},
        K.ORGANIZATION: {"org_kind": "university"},
        K.PROGRAM: {"program_kind": "plan", "participants": 9, "targets": {"doctoral_station": 100}},
    }
    return NODE_MODELS[kind].model_validate({**common, **own[kind]})


@pytest.mark.parametrize("kind", list(NodeKind))
def test_props_round_trip_for_every_kind(kind: NodeKind) -> None:
    node = full_node(kind)
    props = node.to_props()
    assert props["kind"] == kind.value
    assert all(isinstance(v, str | int | float | bool | list) for v in props.values())
    assert all(isinstance(x, str) for v in props.values() if isinstance(v, list) for x in v)
    again = node_from_props(props)
    assert type(again) is type(node)
    assert again == node
    assert again.to_props() == props


@pytest.mark.parametrize("kind", list(NodeKind))
def test_minimal_nodes_round_trip(kind: NodeKind) -> None:
    extra = {"taxonomy": "local"} if kind is K.INDUSTRY else {}
    node = NODE_MODELS[kind].model_validate(
        {"id": f"{kind.value.lower()}:m", "name": "M", "provenance": PROV, **extra}
    )
    assert node_from_props(node.to_props()) == node


def test_relationship_props_round_trip() -> None:
    rel = Relationship(
        source="society:cmes",
        type=RelType.SERVES,
        target="industry:wz:electrical",
        role="Yueqing electrical industry",
        since="2018",
        until="2021-09",
        provenance=Provenance(source="notes", evidence="CMES serves electrical", basis=Basis.REFERENCE),
    )
    again = relationship_from_props("society:cmes", "SERVES", "industry:wz:electrical", rel.to_props())
    assert again == rel
    assert again.key == ("society:cmes", "SERVES", "industry:wz:electrical")


def test_nodes_are_immutable() -> None:
    node = society()
    with pytest.raises(ValidationError):
        node.name = "changed"


def test_names_lists_english_chinese_and_aliases() -> None:
    node = society(name_zh="中国机械工程学会", aliases=("CMES",))
    assert node.names() == ["Chinese Mechanical Engineering Society", "中国机械工程学会", "CMES"]
