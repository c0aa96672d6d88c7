"""Every route of the API over the mini dataset: answers, error codes and messages, uploads, the schema.

Reads go to one embedded store holding tests/data/mini; the write route gets its own
app per test. No response may be a 500: a hook on every client fails the test at once.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from graph_service.app.api.app import create_app
from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.errors import BackendUnavailable
from graph_service.core.settings import Neo4jSettings, Settings
from loaders.load import load_dataset

DATA = Path(__file__).resolve().parent.parent / "data"
MINI = DATA / "mini"
KEY = "s3cret-key-for-tests"


def _no_server_error(response: httpx.Response) -> None:
    assert response.status_code != 500, f"500 from {response.request.method} {response.request.url}"


def client_for(app: Any) -> TestClient:
    client = TestClient(app)
    client.event_hooks["response"].append(_no_server_error)
    return client


def settings(tmp: Path, **extra: Any) -> Settings:
    return Settings(data_dir=tmp, **extra)


@pytest.fixture(scope="module")
def mini_store() -> EmbeddedStore:
    store = EmbeddedStore(None)
    load_dataset(MINI, store)
    return store


@pytest.fixture(scope="module")
def client(mini_store: EmbeddedStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A read client without a key configured on the server."""
    with client_for(create_app(settings(tmp_path_factory.mktemp("api")), mini_store)) as c:
        yield c


@pytest.fixture(scope="module")
def keyed(mini_store: EmbeddedStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A read client over the same graph, with a key configured on the server."""
    app = create_app(settings(tmp_path_factory.mktemp("api-key"), api_key=KEY), mini_store)
    with client_for(app) as c:
        yield c


def error(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    """The error body of a response, after checking its status and type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()["error"]
    assert body["type"] == kind
    assert body["message"]
    assert "Traceback" not in body["message"]
    return body


# -- service ------------------------------------------------------------------------------------


def test_health_and_stats(client: TestClient) -> None:
    assert client.get("/api/health").json() == {
        "status": "ok",
        "backend": "embedded",
        "nodes": 25,
        "relationships": 35,
    }
    stats = client.get("/api/stats").json()
    assert stats["nodes"] == {
        "Society": 5, "Talent": 1, "Enterprise": 3, "Park": 1, "Industry": 6, "Agreement": 1, "Region": 3,
        "Organization": 2, "Program": 3,
    }  # fmt: skip
    assert stats["relationships"] == {
        "ADVISES": 1, "COVERS": 1, "FOCUSES_ON": 1, "HOSTS": 2, "LOCATED_IN": 4, "MEMBER_OF": 7,
        "OPERATES_IN": 3, "PARTICIPATES_IN": 3, "PARTY_TO": 2, "PART_OF": 5, "SERVES": 6,
    }  # fmt: skip


def test_unknown_route_and_method(client: TestClient) -> None:
    body = error(client.get("/api/no-such-thing"), 404, "NotFound")
    assert body["message"] == "no such page or route"
    response = client.post("/api/health")
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "HTTPError"


def test_unknown_query_parameters_are_refused_by_name(client: TestClient) -> None:
    body = error(client.get("/api/health", params={"verbose": "1"}), 422, "InvalidRequest")
    assert "'verbose'" in body["message"]
    body = error(client.get("/api/industries/电气/societies", params={"limt": "3"}), 422, "InvalidRequest")
    assert "'limt'" in body["message"] and "limit" in body["message"]
    assert client.get("/api/industries/电气/societies", params={"limit": "3"}).status_code == 200


# -- who serves what ----------------------------------------------------------------------------


def test_societies_serving(client: TestClient) -> None:
    response = client.get("/api/industries/电气/societies")
    assert response.status_code == 200
    body = response.json()
    assert body["industry"]["id"] == "industry:wz:electrical"
    assert [(r["society"]["id"], r["score"], r["channels"]) for r in body["results"]] == [
        ("society:cmes", 5.0, ["direct", "program"]),
        ("society:csee", 3.0, ["program", "talent"]),
        ("society:csae", 2.0, ["program"]),
    ]
    assert body["results"][0]["paths"][0]["sentence"] == (
        "Chinese Mechanical Engineering Society — serves — Electrical equipment"
    )
    assert body["results"][0]["paths"][0]["steps"][0]["evidence"] == "CMES serves the electrical industry"


def test_societies_serving_parameters(client: TestClient) -> None:
    url = "/api/industries/industry:wz:auto-parts/societies"
    alone = client.get(url, params={"include_sub_industries": "false"}).json()
    assert [r["score"] for r in alone["results"]] == [3.0]
    with_sub = client.get(url).json()  # sub-industries count unless told otherwise
    assert with_sub == client.get(url, params={"include_sub_industries": "true"}).json()
    assert [(r["society"]["id"], r["score"]) for r in with_sub["results"]] == [
        ("society:csae", 4.6),
        ("society:cmes", 1.6),
        ("society:csee", 1.6),
    ]
    talent = client.get(
        "/api/industries/电气/societies", params={"channels": "talent", "include_sub_industries": "false"}
    ).json()
    assert [r["society"]["id"] for r in talent["results"]] == ["society:csee"]
    two = client.get(
        "/api/industries/电气/societies",
        params=[("channels", "direct"), ("channels", "talent"), ("include_sub_industries", "false")],
    )
    assert [r["society"]["id"] for r in two.json()["results"]] == ["society:cmes", "society:csee"]
    digital = "/api/industries/Digital economy/societies"
    early = client.get(digital, params={"as_of": "2021-09-14", "include_sub_industries": "false"}).json()
    assert (early["total"], early["as_of"]) == (0, "2021-09-14")
    signed = client.get(digital, params={"as_of": "2021-09-15", "include_sub_industries": "false"}).json()
    assert [r["society"]["id"] for r in signed["results"]] == ["society:cie"]


def test_societies_serving_pagination(client: TestClient) -> None:
    page = client.get("/api/industries/电气/societies", params={"offset": 1, "limit": 1}).json()
    assert (page["total"], page["count"]) == (3, 1)
    assert [r["society"]["id"] for r in page["results"]] == ["society:csee"]
    rest = client.get("/api/industries/电气/societies", params={"offset": 2, "limit": 5}).json()
    assert (rest["total"], rest["count"], [r["society"]["id"] for r in rest["results"]]) == (
        3,
        1,
        ["society:csae"],
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
        ({"limit": "many"}, "limit"),
        ({"as_of": "2021-13"}, "as_of"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"as_of": "2021-09-32"}, "as_of"),
        ({"channels": "telepathy"}, "channels"),
        ({"include_sub_industries": "perhaps"}, "include_sub_industries"),
    ],
)
def test_societies_serving_refuses_bad_parameters(
    client: TestClient, params: dict[str, Any], field: str
) -> None:
    body = error(client.get("/api/industries/电气/societies", params=params), 422, "InvalidRequest")
    assert body["message"].startswith(field)


def test_unknown_industry_is_404_with_suggestions(client: TestClient) -> None:
    body = error(client.get("/api/industries/Electrcal equipment/societies"), 404, "NotFound")
    assert "Electrcal equipment" in body["message"]
    assert body["suggestions"][0] == "industry:wz:electrical (Electrical equipment · 电气 · Industry)"
    error(client.get("/api/industries/industry:wz:shipbuilding/societies"), 404, "NotFound")
    error(client.get("/api/industries/Electrcal equipment/recommendations"), 404, "NotFound")


def test_industries_served_by(client: TestClient) -> None:
    body = client.get("/api/societies/CMES/industries").json()
    assert body["society"]["id"] == "society:cmes"
    assert [(r["industry"]["id"], r["score"]) for r in body["results"]] == [
        ("industry:wz:electrical", 5.0),
        ("industry:local:industrial-internet", 2.0),
        ("industry:local:smart-auto-parts", 2.0),
    ]
    page = client.get("/api/societies/CMES/industries", params={"offset": 2, "limit": 1}).json()
    assert (page["total"], page["count"], page["results"][0]["industry"]["id"]) == (
        3,
        1,
        "industry:local:smart-auto-parts",
    )
    body = error(
        client.get("/api/societies/Chinese Mechanicl Engineering Society/industries"), 404, "NotFound"
    )
    assert body["suggestions"][0].startswith("society:cmes ")
    error(client.get("/api/societies/CMES/industries", params={"as_of": "2021-1"}), 422, "InvalidRequest")


def test_recommendations(client: TestClient) -> None:
    body = client.get("/api/industries/Electrical equipment/recommendations").json()
    assert [s["id"] for s in body["already_serving"]] == ["society:cmes", "society:csae", "society:csee"]
    assert body["results"] == []  # a name that contains "electr" is no reason
    internet = client.get("/api/industries/industry:local:industrial-internet/recommendations").json()
    (cie,) = internet["results"]
    assert (cie["society"]["id"], cie["rank"], [r["kind"] for r in cie["reasons"]]) == (
        "society:cie",
        1,
        ["related_service", "partner"],
    )
    assert all(r["text"] and r["text_zh"] and r["evidence"] for r in cie["reasons"])
    why = client.get(
        "/api/industries/电气/recommendations", params={"explain": "Chinese Institute of Electronics"}
    ).json()["explanation"]
    assert (why["suggested"], why["rank"]) == (False, None)
    assert why["text_zh"].startswith("中国电子学会不在建议之列")
    error(
        client.get("/api/industries/电气/recommendations", params={"explain": "No Such Society"}),
        404,
        "NotFound",
    )
    error(client.get("/api/industries/电气/recommendations", params={"limit": 101}), 422, "InvalidRequest")
    error(client.get("/api/industries/电气/recommendations", params={"limit": 0}), 422, "InvalidRequest")


# -- gaps and coverage --------------------------------------------------------------------------


def test_gaps_json(client: TestClient) -> None:
    body = client.get("/api/gaps", params={"taxonomy": "wz"}).json()
    assert [(r["industry"]["id"], r["status"], r["severity"]) for r in body["rows"]] == [
        ("industry:wz:footwear", "uncovered", 7.0),
        ("industry:wz:auto-parts", "covered", 2.0),
        ("industry:wz:digital", "covered", 1.8824),
        ("industry:wz:electrical", "covered", 1.8667),
    ]
    assert body["summary"] == {"uncovered": 1, "thin": 0, "covered": 3}
    thin = client.get("/api/gaps", params={"taxonomy": "wz", "thin_below": 4}).json()
    assert thin["summary"] == {"uncovered": 1, "thin": 2, "covered": 1}
    listed = client.get("/api/gaps", params=[("industries", "电气"), ("industries", "Footwear")]).json()
    assert [r["industry"]["id"] for r in listed["rows"]] == ["industry:wz:footwear", "industry:wz:electrical"]


def test_gaps_csv_download(client: TestClient) -> None:
    response = client.get("/api/gaps", params={"taxonomy": "wz", "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="innograph-gaps.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [(r["industry_id"], r["status"], r["societies"]) for r in rows] == [
        ("industry:wz:footwear", "uncovered", "0"),
        ("industry:wz:auto-parts", "covered", "3"),
        ("industry:wz:digital", "covered", "4"),
        ("industry:wz:electrical", "covered", "3"),
    ]


def test_gaps_errors(client: TestClient) -> None:
    body = error(client.get("/api/gaps"), 422, "InvalidRequest")
    assert "describe the scope" in body["message"]
    error(client.get("/api/gaps", params={"taxonomy": "wz", "thin_below": 0}), 422, "InvalidRequest")
    error(client.get("/api/gaps", params={"taxonomy": "wz", "thin_below": 101}), 422, "InvalidRequest")
    error(client.get("/api/gaps", params={"taxonomy": "wz", "format": "xml"}), 422, "InvalidRequest")
    error(client.get("/api/gaps", params={"taxonomy": "wz", "as_of": "2021/09"}), 422, "InvalidRequest")
    error(client.get("/api/gaps", params={"industries": "shipbuilding"}), 404, "NotFound")
    error(client.get("/api/gaps", params={"region": "Atlantis"}), 404, "NotFound")


def test_coverage(client: TestClient) -> None:
    body = client.get("/api/coverage", params={"taxonomy": "wz"}).json()
    electrical = next(r for r in body["rows"] if r["industry"]["id"] == "industry:wz:electrical")
    assert {k: [e["id"] for e in c["entities"]] for k, c in electrical["cells"].items() if c["count"]} == {
        "expert_panel_or_service_group": ["program:panel"],
        "workstation": ["program:ws-1"],
        "talent": ["talent:zhang-wei"],
    }
    error(client.get("/api/coverage"), 422, "InvalidRequest")


# -- paths, plans, changes, analytics -----------------------------------------------------------


def test_paths(client: TestClient) -> None:
    body = client.get("/api/paths", params={"source": "China SAE", "target": "电气", "k": 1}).json()
    assert [p["sentence"] for p in body["paths"]] == [
        "China Society of Automotive Engineers — takes part in — Science and technology expert panels"
        " — serves — Electrical equipment"
    ]
    none = client.get("/api/paths", params={"source": "China SAE", "target": "电气", "max_hops": 1}).json()
    assert (none["count"], none["paths"]) == (0, [])


@pytest.mark.parametrize(
    ("params", "status", "text"),
    [
        ({"source": "CMES", "target": "电气", "max_hops": 7}, 422, "max_hops"),
        ({"source": "CMES", "target": "电气", "max_hops": 0}, 422, "max_hops"),
        ({"source": "CMES", "target": "电气", "k": 0}, 422, "k"),
        ({"source": "CMES", "target": "电气", "k": 21}, 422, "k"),
        ({"source": "CMES", "target": "society:cmes"}, 422, "same entity"),
        ({"target": "电气"}, 422, "source"),
        ({"source": "", "target": "电气"}, 422, "source"),
        ({"source": "CMES", "target": "电气", "types": "KNOWS"}, 422, "types"),
        ({"source": "society:nobody", "target": "电气"}, 404, "society:nobody"),
    ],
)
def test_paths_errors(client: TestClient, params: dict[str, Any], status: int, text: str) -> None:
    body = error(
        client.get("/api/paths", params=params), status, "NotFound" if status == 404 else "InvalidRequest"
    )
    assert text in body["message"]


def test_plan_progress(client: TestClient) -> None:
    body = client.get("/api/plans/三年行动方案/progress").json()
    assert (body["plan"]["id"], body["since"], body["until"]) == ("program:plan", "2021", "2023")
    assert [(t["program_kind"], t["target"], t["achieved"]) for t in body["targets"]] == [
        ("academician_workstation", 2, 1),
        ("doctoral_station", 3, 0),
    ]
    body = error(client.get("/api/plans/program:panel/progress"), 422, "InvalidRequest")
    assert "no numeric targets" in body["message"]
    error(client.get("/api/plans/program:nothing/progress"), 404, "NotFound")
    error(client.get("/api/plans/program:plan/progress", params={"as_of": "20"}), 422, "InvalidRequest")


def test_changes(client: TestClient) -> None:
    body = client.get("/api/changes", params={"start": "2022-01-01", "end": "2022-12-31"}).json()
    assert [n["node"]["id"] for n in body["nodes"]] == ["program:ws-1"]
    assert len(body["relationships"]) == 3
    limited = client.get("/api/changes", params={"start": "2022", "end": "2022", "limit": 1}).json()
    assert len(limited["relationships"]) == 1
    body = error(client.get("/api/changes", params={"start": "2022", "end": "2021"}), 422, "InvalidRequest")
    assert "before the start" in body["message"]
    error(client.get("/api/changes", params={"start": "2022-13", "end": "2023"}), 422, "InvalidRequest")
    error(client.get("/api/changes", params={"start": "2022"}), 422, "InvalidRequest")
    error(
        client.get("/api/changes", params={"start": "2022", "end": "2023", "limit": 0}), 422, "InvalidRequest"
    )


def test_brokers_and_communities(client: TestClient) -> None:
    brokers = client.get("/api/brokers").json()
    assert brokers["exact"] is True
    assert {b["node"]["id"] for b in brokers["results"][:2]} == {"organization:cast", "program:panel"}
    societies = client.get("/api/brokers", params={"kinds": "Society", "limit": 2}).json()
    assert societies["count"] == 2
    assert {b["node"]["kind"] for b in societies["results"]} == {"Society"}
    error(client.get("/api/brokers", params={"kinds": "Dragon"}), 422, "InvalidRequest")
    error(client.get("/api/brokers", params={"limit": 0}), 422, "InvalidRequest")
    parts = client.get("/api/communities").json()
    assert sum(c["size"] for c in parts["results"]) == 25
    assert client.get("/api/communities").json() == parts
    error(client.get("/api/communities", params={"resolution": 0}), 422, "InvalidRequest")
    error(client.get("/api/communities", params={"resolution": 11}), 422, "InvalidRequest")


# -- entities -----------------------------------------------------------------------------------


def test_entities_pagination(client: TestClient) -> None:
    first = client.get("/api/entities", params={"limit": 10}).json()
    assert (first["total"], first["count"], first["offset"], first["limit"]) == (25, 10, 0, 10)
    ids = [e["id"] for e in first["data"]]
    assert ids == sorted(ids)
    assert ids[0] == "agreement:cie-wenzhou"
    last = client.get("/api/entities", params={"offset": 20, "limit": 10}).json()
    assert (last["total"], last["count"]) == (25, 5)
    everything = client.get("/api/entities", params={"limit": 500}).json()
    assert [e["id"] for e in everything["data"]][10:20] == [
        e["id"] for e in client.get("/api/entities", params={"offset": 10, "limit": 10}).json()["data"]
    ]
    societies = client.get("/api/entities", params={"kind": "Society"}).json()
    assert (societies["total"], [e["id"] for e in societies["data"]]) == (
        5,
        ["society:cie", "society:cmes", "society:csae", "society:csee", "society:gsc"],
    )
    beyond = client.get("/api/entities", params={"offset": 100}).json()
    assert (beyond["total"], beyond["count"], beyond["data"]) == (25, 0, [])
    error(client.get("/api/entities", params={"kind": "Dragon"}), 422, "InvalidRequest")
    error(client.get("/api/entities", params={"offset": -1}), 422, "InvalidRequest")
    error(client.get("/api/entities", params={"limit": 501}), 422, "InvalidRequest")


def test_entity_detail(client: TestClient) -> None:
    body = client.get("/api/entities/society:cmes").json()
    assert (body["id"], body["kind"], body["name_zh"], body["basis"]) == (
        "society:cmes",
        "Society",
        "中国机械工程学会",
        "stated",
    )
    assert body["relationships_total"] == 3
    assert [(r["direction"], r["other"]["id"]) for r in body["relationships"]] == [
        ("out", "organization:cast"),
        ("out", "program:panel"),
        ("out", "industry:wz:electrical"),
    ]
    by_name = client.get("/api/entities/Wenzhou").json()
    assert by_name["id"] == "region:330300"
    one = client.get("/api/entities/society:cmes", params={"limit": 1}).json()
    assert (len(one["relationships"]), one["relationships_total"]) == (1, 3)


def test_unknown_entity_is_404_with_near_names(client: TestClient) -> None:
    body = error(client.get("/api/entities/society:cmess"), 404, "NotFound")
    assert "society:cmess" in body["message"]
    assert (
        "society:cmes (Chinese Mechanical Engineering Society · 中国机械工程学会 · Society)"
        in body["suggestions"]
    )
    body = error(client.get("/api/entities/Chinese Mechanicl Engineering Society"), 404, "NotFound")
    assert (
        body["suggestions"][0]
        == "society:cmes (Chinese Mechanical Engineering Society · 中国机械工程学会 · Society)"
    )
    body = error(client.get("/api/entities/dragon:puff"), 404, "NotFound")
    assert body.get("suggestions", []) == []


def test_talent_private_fields_need_the_key(client: TestClient, keyed: TestClient) -> None:
    public = client.get("/api/entities/talent:zhang-wei").json()["properties"]
    assert (public["name"], public["title"], public["field"]) == (
        "Zhang Wei",
        "academician",
        "power electronics",
    )
    assert "email" not in public and "phone" not in public
    assert "email" not in keyed.get("/api/entities/talent:zhang-wei").json()["properties"]
    wrong = keyed.get("/api/entities/talent:zhang-wei", headers={"X-API-Key": "guess"})
    assert wrong.status_code == 200
    assert "email" not in wrong.json()["properties"]
    private = keyed.get("/api/entities/talent:zhang-wei", headers={"X-API-Key": KEY}).json()["properties"]
    assert (private["email"], private["phone"]) == ("zhang.wei@example.org", "+86 577 0000 0000")
    # with no key configured on the server, no header shows them
    shown = client.get("/api/entities/talent:zhang-wei", headers={"X-API-Key": KEY}).json()["properties"]
    assert "email" not in shown
    around = keyed.get("/api/entities/society:csee/neighborhood", headers={"X-API-Key": KEY}).json()
    zhang = next(n for n in around["nodes"] if n["id"] == "talent:zhang-wei")
    assert "email" not in zhang["properties"]


def test_neighborhood(client: TestClient) -> None:
    body = client.get("/api/entities/CMES/neighborhood").json()
    assert [(n["id"], n["depth"]) for n in body["nodes"]] == [
        ("society:cmes", 0),
        ("industry:wz:electrical", 1),
        ("organization:cast", 1),
        ("program:panel", 1),
    ]
    assert body["truncated"] is False
    capped = client.get("/api/entities/CMES/neighborhood", params={"limit": 3}).json()
    assert capped["truncated"] is True
    assert len(capped["nodes"]) == 3
    members = client.get(
        "/api/entities/CMES/neighborhood", params={"depth": 2, "types": "MEMBER_OF", "kinds": "Society"}
    ).json()
    assert [n["id"] for n in members["nodes"]] == ["society:cmes"]  # CAST is no society: nothing reached
    members = client.get("/api/entities/CMES/neighborhood", params={"depth": 2, "types": "MEMBER_OF"}).json()
    assert len(members["nodes"]) == 7


@pytest.mark.parametrize(
    ("params", "field"),
    [({"depth": 4}, "depth"), ({"depth": 0}, "depth"), ({"limit": 0}, "limit"), ({"limit": 5001}, "limit"),
     ({"kinds": "Dragon"}, "kinds"), ({"types": "KNOWS"}, "types"), ({"as_of": "2021-00"}, "as_of")],
)  # fmt: skip
def test_neighborhood_refuses_bad_parameters(client: TestClient, params: dict[str, Any], field: str) -> None:
    body = error(client.get("/api/entities/CMES/neighborhood", params=params), 422, "InvalidRequest")
    assert body["message"].startswith(field)


def test_search(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "jixie"}).json()
    assert body["results"][0]["node"]["id"] == "society:cmes"
    typo = client.get("/api/search", params={"q": "Mechanicl"}).json()
    assert [h["node"]["id"] for h in typo["results"]] == ["society:cmes"]
    only = client.get("/api/search", params={"q": "Wenzhou", "kinds": "Organization", "limit": 1}).json()
    assert [h["node"]["id"] for h in only["results"]] == ["organization:wast"]
    error(client.get("/api/search"), 422, "InvalidRequest")
    error(client.get("/api/search", params={"q": ""}), 422, "InvalidRequest")
    error(client.get("/api/search", params={"q": "x" * 201}), 422, "InvalidRequest")
    error(client.get("/api/search", params={"q": "   "}), 422, "InvalidRequest")
    error(client.get("/api/search", params={"q": "CMES", "limit": 201}), 422, "InvalidRequest")


# -- loading a dataset --------------------------------------------------------------------------


def zipped(directory: Path, extra: dict[str, bytes] | None = None) -> bytes:
    """A zip of a dataset directory (under its own name), with optional extra entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(directory.iterdir()):
            zf.write(file, f"{directory.name}/{file.name}")
        for name, content in (extra or {}).items():
            zf.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture
def writable(tmp_path: Path) -> Iterator[TestClient]:
    """A client of an empty embedded store with a key configured."""
    store = EmbeddedStore(tmp_path / "graph.json")
    with client_for(create_app(settings(tmp_path, api_key=KEY), store)) as c:
        yield c


def upload(
    client: TestClient, content: bytes, name: str = "mini.zip", key: str | None = KEY, **params: Any
) -> httpx.Response:
    headers = {"X-API-Key": key} if key is not None else {}
    return client.post(
        "/api/datasets", files={"file": (name, content, "application/zip")}, headers=headers, params=params
    )


def test_upload_a_zipped_dataset(writable: TestClient, tmp_path: Path) -> None:
    assert writable.get("/api/health").json()["nodes"] == 0
    response = upload(writable, zipped(MINI))
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["dataset"], report["backend"], report["rejected"]) == ("mini", "embedded", [])
    assert report["nodes"]["Society"] == {"created": 5, "updated": 0, "unchanged": 0}
    assert sum(c["created"] for c in report["relationships"].values()) == 35
    health = writable.get("/api/health").json()
    assert (health["nodes"], health["relationships"]) == (25, 35)
    assert [r["society"]["id"] for r in writable.get("/api/industries/电气/societies").json()["results"]] == [
        "society:cmes",
        "society:csee",
        "society:csae",
    ]
    assert (tmp_path / "graph.json").exists()  # saved, so a restart keeps it
    again = upload(writable, zipped(MINI)).json()
    assert again["nodes"]["Society"] == {"created": 0, "updated": 0, "unchanged": 5}


def test_upload_needs_the_right_key(writable: TestClient) -> None:
    body = error(upload(writable, zipped(MINI), key=None), 401, "Unauthorized")
    assert "X-API-Key" in body["message"]
    error(upload(writable, zipped(MINI), key="guess"), 401, "Unauthorized")
    error(upload(writable, zipped(MINI), key=""), 401, "Unauthorized")
    assert writable.get("/api/health").json()["nodes"] == 0


def test_upload_does_not_exist_without_a_configured_key(tmp_path: Path) -> None:
    with client_for(create_app(settings(tmp_path), EmbeddedStore(None))) as c:
        for key in (KEY, None, ""):
            body = error(upload(c, zipped(MINI), key=key), 404, "NotFound")
            assert body["message"] == "no such page or route"
        assert "/api/datasets" not in c.get("/openapi.json").json()["paths"]
        assert c.get("/api/health").json()["nodes"] == 0


def test_upload_refuses_a_path_outside_the_archive(writable: TestClient, tmp_path: Path) -> None:
    body = error(upload(writable, zipped(MINI, {"../evil.csv": b"pwned"})), 422, "DataError")
    assert "points outside the archive" in body["message"]
    assert not list(tmp_path.parent.rglob("evil.csv"))
    assert writable.get("/api/health").json()["nodes"] == 0


def test_upload_refuses_a_zip_bomb(writable: TestClient) -> None:
    bomb = zipped(MINI, {"mini/padding.txt": b"\0" * (8 << 20)})
    assert len(bomb) < 100_000
    body = error(upload(writable, bomb), 413, "PayloadTooLarge")
    assert "zip bomb" in body["message"]
    assert writable.get("/api/health").json()["nodes"] == 0


def test_upload_over_the_size_limit(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path, api_key=KEY, max_upload_bytes=1024), EmbeddedStore(None))
    with client_for(app) as c:
        content = zipped(MINI)
        assert len(content) > 1024
        body = error(upload(c, content), 413, "PayloadTooLarge")
        assert "1,024 bytes" in body["message"]
        assert c.get("/api/health").json()["nodes"] == 0


def test_upload_refuses_what_is_not_a_dataset(writable: TestClient) -> None:
    error(upload(writable, b"hello", name="notes.txt"), 422, "DataError")
    body = error(upload(writable, b"this is no zip", name="data.zip"), 422, "DataError")
    assert "not a readable zip" in body["message"]
    body = error(upload(writable, zipped(DATA / "bad" / "unknown-endpoint")), 422, "DataError")
    assert "nothing was written" in body["message"]
    response = writable.post("/api/datasets", headers={"X-API-Key": KEY})
    assert error(response, 422, "InvalidRequest")["message"].startswith("file")
    assert writable.get("/api/health").json()["nodes"] == 0


def test_partial_upload_reports_the_rejected_rows(writable: TestClient) -> None:
    report = upload(writable, zipped(DATA / "bad" / "unknown-endpoint"), partial="true").json()
    assert report["rejected"]
    assert "relationships.csv" in report["rejected"][0]
    assert report["nodes"]["Society"]["created"] == 1


# -- backend down -------------------------------------------------------------------------------


class DownStore:
    """A store whose every primitive says the backend cannot be reached."""

    name = "neo4j"
    local_generation = False

    def __init__(self) -> None:
        self.down = True
        self.behind = EmbeddedStore(None)
        load_dataset(MINI, self.behind)

    def __getattr__(self, attribute: str) -> Any:
        real = getattr(self.behind, attribute)

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise BackendUnavailable("the graph database cannot be reached; try again in a moment")
            return real(*args, **kwargs)

        return call

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    "url",
    [
        "/api/health",
        "/api/stats",
        "/api/entities",
        "/api/entities/society:cmes",
        "/api/entities/society:cmes/neighborhood",
        "/api/search?q=CMES",
        "/api/industries/电气/societies",
        "/api/societies/CMES/industries",
        "/api/industries/电气/recommendations",
        "/api/gaps?taxonomy=wz",
        "/api/coverage?taxonomy=wz",
        "/api/paths?source=CMES&target=CSEE",
        "/api/brokers",
        "/api/communities",
        "/api/plans/program:plan/progress",
        "/api/changes?start=2021&end=2022",
    ],
)
def test_backend_down_is_503_with_retry_after(tmp_path: Path, url: str) -> None:
    with client_for(create_app(settings(tmp_path), DownStore())) as c:
        response = c.get(url)
        body = error(response, 503, "BackendUnavailable")
        assert body["message"] == "the graph database cannot be reached; try again in a moment"
        assert response.headers["retry-after"] == "5"


def test_backend_down_then_back_without_a_restart(tmp_path: Path) -> None:
    store = DownStore()
    with client_for(create_app(settings(tmp_path, api_key=KEY), store)) as c:
        error(c.get("/api/industries/电气/societies"), 503, "BackendUnavailable")
        error(upload(c, zipped(MINI)), 503, "BackendUnavailable")
        store.down = False
        assert c.get("/api/health").json()["nodes"] == 25
        assert c.get("/api/industries/电气/societies").json()["total"] == 3


def test_unreachable_neo4j_is_503_and_the_app_still_starts(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    neo4j = Neo4jSettings(uri=f"bolt://127.0.0.1:{port}", password="x", connect_timeout=1, timeout=2)
    with client_for(create_app(settings(tmp_path, backend="neo4j", neo4j=neo4j))) as c:
        for _ in range(2):  # each request tries again
            response = c.get("/api/health")
            body = error(response, 503, "BackendUnavailable")
            assert "Neo4j" in body["message"]
            assert response.headers["retry-after"] == "5"


@pytest.mark.neo4j
def test_neo4j_backend_serves(neo4j_settings: Neo4jSettings, neo4j_store: Any, tmp_path: Path) -> None:
    app = create_app(settings(tmp_path, backend="neo4j", neo4j=neo4j_settings, api_key=KEY))
    with client_for(app) as c:
        health = c.get("/api/health")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "backend": "neo4j", "nodes": 0, "relationships": 0}
        report = upload(c, zipped(MINI))
        assert report.status_code == 200, report.text
        assert report.json()["backend"] == "neo4j"
        assert c.get("/api/health").json()["nodes"] == 25
        body = c.get("/api/industries/电气/societies").json()
        assert [(r["society"]["id"], r["score"]) for r in body["results"]] == [
            ("society:cmes", 5.0),
            ("society:csee", 3.0),
            ("society:csae", 2.0),
        ]


# -- the schema ---------------------------------------------------------------------------------


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    schema = client.get("/openapi.json").json()
    return [(m.upper(), p, op) for p, ops in schema["paths"].items() for m, op in ops.items()]


def test_every_route_is_described_with_examples(client: TestClient, keyed: TestClient) -> None:
    without_key = {f"{m} {p}" for m, p, _ in _operations(client)}
    operations = _operations(keyed)
    assert {f"{m} {p}" for m, p, _ in operations} - without_key == {
        "POST /api/datasets",
        "GET /api/datasets/rejects/{token}",
    }
    assert {f"{m} {p}" for m, p, _ in operations} == {
        "GET /api/industries/{industry}/societies",
        "GET /api/societies/{society}/industries",
        "GET /api/industries/{industry}/recommendations",
        "GET /api/gaps",
        "GET /api/coverage",
        "GET /api/paths",
        "GET /api/brokers",
        "GET /api/communities",
        "GET /api/plans/{plan}/progress",
        "GET /api/changes",
        "GET /api/entities",
        "GET /api/entities/{entity}",
        "GET /api/entities/{entity}/neighborhood",
        "GET /api/search",
        "GET /api/health",
        "GET /api/stats",
        "POST /api/datasets",
        "GET /api/datasets/rejects/{token}",
    }
    undescribed = [f"{m} {p}" for m, p, op in operations if len(op.get("description", "")) < 20]
    assert undescribed == []
    params = [
        (f"{m} {p} {param['name']}", param) for m, p, op in operations for param in op.get("parameters", [])
    ]

    def has_example(param: dict[str, Any]) -> bool:
        return bool({"example", "examples"} & (param.keys() | param["schema"].keys()))

    # what a name is for, shown filled in; a filter left empty, so that Try-it-out answers as the pages do
    assert [name for name, param in params if param.get("required") and not has_example(param)] == []
    assert [name for name, param in params if not param.get("required") and has_example(param)] == []
    assert [name for name, param in params if not param.get("description")] == []


def test_docs_pages_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "innograph"


def test_communities_with_filters_that_leave_no_relationships_answer_modularity_zero(
    client: TestClient,
) -> None:
    response = client.get("/api/communities", params={"types": "ADVISES", "as_of": "2021-10"})
    assert response.status_code == 200, response.text
    assert response.json()["modularity"] == 0.0
