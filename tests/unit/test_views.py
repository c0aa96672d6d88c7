"""The views without a browser: offline, escaped, with a legend, deterministic, aggregated when large."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import pytest

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.ontology import (
    Agreement,
    Basis,
    Industry,
    NodeKind,
    Organization,
    Program,
    Provenance,
    Relationship,
    RelType,
    Society,
    Talent,
)
from loaders.load import WENZHOU_DATASET, load_dataset
from queries.explore import (
    GROUP_SHOWN,
    HUB_MIN,
    GraphEdge,
    GraphNode,
    Neighborhood,
    neighborhood,
    paths_between,
)
from queries.gaps import Scope, coverage_matrix, gap_analysis
from queries.models import EvidenceStep, NodeRef
from queries.serving import societies_serving
from visualizations.layout import chain_layout, cluster_layout, radial_layout, sector_fill
from visualizations.model import Links
from visualizations.render import BIG_GRAPH, json_for_script, vis_assets
from visualizations.views import (
    coverage_view,
    ego_view,
    gap_map_view,
    matrix_view,
    overview_view,
    path_view,
)

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(1)</script>"
QUOTES = "\"'><svg onload=alert(2)>"
JS_LINK = "javascript:alert(3)"
P = Provenance(source="test-doc", evidence="the clause that says so", basis=Basis.STATED)
HOSTILE_EVIDENCE = Provenance(source="doc</script>", evidence=f"{SCRIPT} and {JS_LINK}", basis=Basis.INFERRED)


@pytest.fixture(scope="module")
def store() -> EmbeddedStore:
    """A small graph whose names try to break out of every context they are put in."""
    s = EmbeddedStore(None)
    s.upsert_nodes(
        [
            Industry(
                id="industry:wz:pumps",
                name="Pumps and valves",
                name_zh="泵阀",
                taxonomy="wz-test",
                provenance=P,
            ),
            Industry(
                id="industry:wz:shoes", name="Footwear", name_zh="鞋业", taxonomy="wz-test", provenance=P
            ),
            Society(id="society:img", name=IMG, name_zh=None, provenance=P, description=JS_LINK),
            Society(id="society:script", name=SCRIPT, name_zh="脚本学会", provenance=HOSTILE_EVIDENCE),
            Society(id="society:quotes", name=QUOTES, provenance=P),
            Agreement(id="agreement:a1", name=f"Agreement {QUOTES}", provenance=P),
            Program(id="program:p1", name="Expert panel", program_kind="expert_panel", provenance=P),
            Talent(
                id="talent:t1", name="Dr. Wang", name_zh="王博士", provenance=P, email="private@example.org"
            ),
        ]
    )
    s.upsert_relationships(
        [
            Relationship(source="society:img", type=RelType.SERVES, target="industry:wz:pumps", provenance=P),
            Relationship(
                source="society:script",
                type=RelType.PARTY_TO,
                target="agreement:a1",
                provenance=HOSTILE_EVIDENCE,
            ),
            Relationship(
                source="agreement:a1", type=RelType.COVERS, target="industry:wz:pumps", provenance=P
            ),
            Relationship(
                source="society:quotes", type=RelType.PARTICIPATES_IN, target="program:p1", provenance=P
            ),
            Relationship(source="program:p1", type=RelType.SERVES, target="industry:wz:pumps", provenance=P),
            Relationship(source="talent:t1", type=RelType.MEMBER_OF, target="society:img", provenance=P),
        ]
    )
    return s


def _projection(store: EmbeddedStore) -> tuple[list[GraphNode], list[GraphEdge]]:
    nodes = [
        GraphNode(id=n.id, kind=n.kind, name=n.name, name_zh=n.name_zh, depth=0, properties=n.public_view())
        for n in store.iter_nodes()
    ]
    edges = [
        GraphEdge(source=r.source, type=r.type, target=r.target, evidence=EvidenceStep.of(r))
        for r in store.iter_relationships()
    ]
    return nodes, edges


ViewMaker = Callable[[EmbeddedStore, str], str]
VIEWS: dict[str, ViewMaker] = {
    "ego": lambda s, lang: ego_view(neighborhood(s, "industry:wz:pumps", depth=2), lang=lang),
    "industry": lambda s, lang: coverage_view(societies_serving(s, "industry:wz:pumps"), lang=lang),
    "gaps": lambda s, lang: gap_map_view(gap_analysis(s, Scope(taxonomy="wz-test")), lang=lang),
    "matrix": lambda s, lang: matrix_view(coverage_matrix(s, Scope(taxonomy="wz-test")), lang=lang),
    "path": lambda s, lang: path_view(paths_between(s, "society:script", "program:p1"), lang=lang),
    "overview": lambda s, lang: overview_view(*_projection(s), lang=lang),
}


def _data(html: str) -> dict[str, object]:
    match = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', html, re.S)
    assert match, "the graph's JSON island is missing"
    result: dict[str, object] = json.loads(match.group(1))
    return result


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_a_view_is_one_offline_utf8_file(store: EmbeddedStore, name: str) -> None:
    html = VIEWS[name](store, "en")
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in html[:300]
    for tag in re.findall(r"<(?:script|link|img|iframe|source|embed|object)\b[^>]*>", html, re.I):
        assert not re.search(r"\b(?:src|href)\s*=", tag, re.I) or 'rel="icon" href="data:,"' in tag, tag
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.I)
    assert "@import" not in html
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", html)
    assert "cdnjs" not in html and "jsdelivr" not in html and "unpkg" not in html


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_vis_network_is_inlined_from_pyvis(store: EmbeddedStore, name: str) -> None:
    css, js = vis_assets()
    html = VIEWS[name](store, "en")
    assert js in html
    assert css in html
    assert "vis-network" in js[:200] and "9.1.2" in js[:400]


@pytest.mark.parametrize("name", sorted(VIEWS))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_hostile_names_stay_text(store: EmbeddedStore, name: str, lang: str) -> None:
    html = VIEWS[name](store, lang)
    for payload in ("<img src=x", "<script>alert", "<svg onload", "</script><script"):
        assert payload not in html, f"{payload!r} reached the page unescaped"
    # the only script elements are ours: the JSON island, vis-network and the page script
    assert len(re.findall(r"^<script\b", html, re.M)) == 3
    assert "javascript:alert" not in re.sub(
        r'<script type="application/json".*?</script>', "", html, flags=re.S
    )
    data = _data(html)
    text = json.dumps(data, ensure_ascii=False)
    names = {IMG, SCRIPT, QUOTES, "脚本学会"}
    assert any(n in text for n in names), "the hostile names should still be shown, as text"


def test_hostile_text_round_trips_through_the_json_island(store: EmbeddedStore) -> None:
    html = VIEWS["ego"](store, "en")
    data = _data(html)
    nodes = {n["id"]: n for n in data["nodes"]}  # type: ignore[attr-defined]
    assert nodes["society:img"]["label"] == IMG
    assert SCRIPT in nodes["society:script"]["title"]
    assert any(SCRIPT in e["title"] for e in data["edges"])  # type: ignore[attr-defined]
    assert "\\u003c/script\\u003e" in html


def test_hostile_names_in_titles_and_side_panels_are_escaped(store: EmbeddedStore) -> None:
    html = VIEWS["industry"](store, "en")
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # in the side list of societies by channel
    html = path_view(paths_between(store, "society:img", "society:script"), lang="en")
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title and "&lt;img src=x onerror=alert(1)&gt;" in title.group(1)
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_json_island_escapes_markup_and_line_separators() -> None:
    text = json_for_script({"a": "</script><!-- & \u2028 \u2029"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028 \u2029"}


@pytest.mark.parametrize(
    "url", [JS_LINK, "data:text/html,x", "//evil.example/x", " javascript:x", "vbscript:x"]
)
def test_links_other_than_relative_or_http_are_refused(store: EmbeddedStore, url: str) -> None:
    result = neighborhood(store, "industry:wz:pumps")
    with pytest.raises(ValueError):
        ego_view(result, links=Links(entity=url))
    with pytest.raises(ValueError):
        ego_view(result, links=Links(depth={2: url}))


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_every_view_has_a_legend_of_the_kinds_it_draws(store: EmbeddedStore, name: str) -> None:
    html = VIEWS[name](store, "en")
    assert 'id="legend"' in html
    data = _data(html)
    groups = {n["group"] for n in data["nodes"] if not n.get("c")}  # type: ignore[attr-defined]
    legend = set(re.findall(r'data-filter="group" value="([^"]+)"', html))
    assert groups == legend
    assert re.search(r'<svg class="swatch"', html)


def test_the_gap_map_legend_names_the_statuses(store: EmbeddedStore) -> None:
    html = VIEWS["gaps"](store, "en")
    assert "Industry: covered" in html and "Industry: uncovered" in html
    html = VIEWS["gaps"](store, "zh")
    assert "产业：已覆盖" in html and "产业：空白" in html


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_same_data_gives_the_same_file(store: EmbeddedStore, name: str) -> None:
    assert VIEWS[name](store, "en") == VIEWS[name](store, "en")


def test_labels_follow_the_language_and_fall_back(store: EmbeddedStore) -> None:
    zh = _data(VIEWS["ego"](store, "zh"))
    labels = {n["id"]: n["label"] for n in zh["nodes"]}  # type: ignore[attr-defined]
    assert labels["industry:wz:pumps"] == "泵阀"
    assert labels["society:img"] == IMG  # no Chinese name: falls back to English
    en = _data(VIEWS["ego"](store, "en"))
    assert {n["id"]: n["label"] for n in en["nodes"]}["industry:wz:pumps"] == "Pumps and valves"  # type: ignore[attr-defined]
    html = VIEWS["ego"](store, "zh")
    assert '<html lang="zh-CN">' in html and "图例" in html and "查找" in html


def test_tooltips_are_plain_text_with_properties_and_evidence(store: EmbeddedStore) -> None:
    data = _data(VIEWS["ego"](store, "en"))
    nodes = {n["id"]: n for n in data["nodes"]}  # type: ignore[attr-defined]
    title = nodes["society:script"]["title"]
    assert isinstance(title, str)
    assert "Evidence: " in title and "Source: doc</script>" in title and "inferred by the curator" in title
    edge = next(e for e in data["edges"] if e["t"] == "PARTY_TO")  # type: ignore[attr-defined]
    assert (
        "is party to" in edge["title"]
        and "Evidence: " in edge["title"]
        and "Basis: inferred" in edge["title"]
    )


def test_private_fields_never_reach_a_view(store: EmbeddedStore) -> None:
    html = ego_view(neighborhood(store, "society:img", depth=1))
    assert "private@example.org" not in html


def test_the_ego_view_pins_its_centre_and_links_depths(store: EmbeddedStore) -> None:
    result = neighborhood(store, "industry:wz:pumps", depth=2)
    links = Links(depth={1: "/views/ego/x?depth=1", 2: "/views/ego/x?depth=2", 3: "/views/ego/x?depth=3"})
    html = ego_view(result, links=links)
    assert _data(html)["pinned"] == ["industry:wz:pumps"]
    assert 'id="depth-minus" class="step" href="/views/ego/x?depth=1"' in html
    assert 'id="depth-plus" class="step" href="/views/ego/x?depth=3"' in html
    deepest = ego_view(neighborhood(store, "industry:wz:pumps", depth=3), links=links)
    assert 'id="depth-plus"' not in deepest


def test_the_api_link_names_the_same_question(store: EmbeddedStore) -> None:
    html = VIEWS["ego"](store, "en")
    assert 'href="/api/entities/industry%3Awz%3Apumps/neighborhood?depth=2"' in html
    html = ego_view(neighborhood(store, "industry:wz:pumps"), links=Links(api_base="http://127.0.0.1:8000"))
    assert 'href="http://127.0.0.1:8000/api/entities/industry%3Awz%3Apumps/neighborhood?depth=1"' in html
    assert "/api/gaps?taxonomy=wz-test" in VIEWS["gaps"](store, "en")
    assert "/api/coverage?taxonomy=wz-test" in VIEWS["matrix"](store, "en")


def test_the_coverage_view_groups_societies_by_channel(store: EmbeddedStore) -> None:
    html = VIEWS["industry"](store, "en")
    for words in ("Direct service (1)", "Through agreements (1)", "Through programs (1)"):
        assert words in html
    data = _data(html)
    captions = [n["label"] for n in data["nodes"] if n.get("c")]  # type: ignore[attr-defined]
    assert len(captions) == 3


def test_the_matrix_view_has_its_table(store: EmbeddedStore) -> None:
    html = VIEWS["matrix"](store, "en")
    assert 'id="matrix-table"' in html
    assert "Society agreements" in html and "Expert panels &amp; service groups" in html


def _big(nodes: int, edges: int) -> tuple[list[GraphNode], list[GraphEdge]]:
    out = [
        GraphNode(
            id=f"society:s{i}",
            kind=NodeKind.SOCIETY,
            name=f"Society {i}",
            depth=0,
            properties={"source": "synthetic", "basis": "synthetic"},
        )
        for i in range(nodes)
    ]
    rels = []
    for k in range(edges):
        a, b = k % nodes, (k * 7 + 1) % nodes
        step = EvidenceStep(
            source=out[a].id,
            type=RelType.MEMBER_OF,
            target=out[b].id,
            basis=Basis.SYNTHETIC,
            evidence="made up",
            document="synthetic",
        )
        rels.append(GraphEdge(source=out[a].id, type=RelType.MEMBER_OF, target=out[b].id, evidence=step))
    return out, rels


def test_a_large_overview_is_aggregated_and_says_so() -> None:
    nodes, edges = _big(2500, 3000)
    html = overview_view(nodes, edges, aggregate_above=2000)
    data = _data(html)
    assert [n["id"] for n in data["nodes"]] == ["kind:Society"]  # type: ignore[attr-defined]
    assert "aggregated by kind" in html and "more than the 2,000" in html
    small = overview_view(nodes[:100], [e for e in edges if e.source < "society:s100"], aggregate_above=2000)
    assert "aggregated by kind" not in small


def test_a_big_view_sends_its_relationships_as_lines() -> None:
    nodes, edges = _big(BIG_GRAPH + 10, 4000)
    centre = NodeRef(id=nodes[0].id, kind=nodes[0].kind, name=nodes[0].name)
    result = Neighborhood(center=centre, depth=1, truncated=False, nodes=nodes, edges=edges)
    data = _data(ego_view(result))
    assert data["big"] is True and data["edges"] == []
    lines = data["lines"]
    assert len(lines["f"]) == 4000 and lines["types"][0]["key"] == "MEMBER_OF"  # type: ignore[index]
    assert data["options"]["physics"]["enabled"] is False  # type: ignore[index]


@pytest.mark.slow
def test_five_thousand_nodes_are_drawn_in_under_a_second_of_cpu() -> None:
    nodes, edges = _big(5000, 20000)
    centre = NodeRef(id=nodes[0].id, kind=nodes[0].kind, name=nodes[0].name)
    result = Neighborhood(center=centre, depth=1, truncated=False, nodes=nodes, edges=edges)
    ego_view(result)  # warm the template and assets
    spent = []
    for _ in range(3):
        start = time.process_time()
        ego_view(result)
        spent.append(time.process_time() - start)
    assert sorted(spent)[1] < 1.0, f"median CPU time {sorted(spent)[1]:.2f}s"


def test_layouts_are_deterministic_and_keep_their_distance() -> None:
    ids = [f"n{i}" for i in range(300)]
    neighbours = {i: ["c"] for i in ids}
    first = radial_layout([["c"], ids], neighbours, spacing=50.0)
    assert first == radial_layout([["c"], ids], neighbours, spacing=50.0)
    points = [first[i] for i in ids]
    closest = min(
        ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5
        for k, a in enumerate(points)
        for b in points[k + 1 :]
    )
    assert closest > 20.0
    placed, outer = sector_fill(ids[:40], 0.0, 1.0, 100.0, 40.0)
    assert len(placed) == 40 and outer >= 100.0
    discs = cluster_layout([ids[:100], ids[100:]], spacing=30.0)
    assert len(discs) == 300
    chains = chain_layout([["s", "a", "t"], ["s", "b", "c", "t"]])
    assert chains["s"][0] < chains["a"][0] < chains["t"][0]


# -- hubs folded ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wenzhou() -> EmbeddedStore:
    store = EmbeddedStore(None)
    load_dataset(WENZHOU_DATASET, store)
    return store


def _shown(data: dict[str, object]) -> list[dict[str, object]]:
    """The nodes a page shows before anything is clicked: not captions, not folded members."""
    return [n for n in data["nodes"] if not n.get("c") and not n.get("m")]  # type: ignore[attr-defined]


def test_cast_members_fold_into_one_group_in_the_cmes_view(wenzhou: EmbeddedStore) -> None:
    members = wenzhou.neighbors(
        "organization:cast", direction="in", types=[RelType.MEMBER_OF], kinds=[NodeKind.SOCIETY], limit=None
    )
    assert len(members) >= HUB_MIN  # the reference list makes CAST a hub
    for lang, words in (("en", f"{len(members)} member societies"), ("zh", f"{len(members)} 个会员学会")):
        data = _data(ego_view(neighborhood(wenzhou, "society:cmes", depth=2), lang=lang))
        shown = _shown(data)
        assert len(shown) <= 60
        groups = [n for n in shown if n.get("g")]
        assert [g["label"] for g in groups] == [words]
        listed = groups[0]["g"]
        assert 0 < len(listed) <= GROUP_SHOWN  # type: ignore[arg-type]
        hidden = {n["id"] for n in data["nodes"] if n.get("m") == groups[0]["id"]}  # type: ignore[attr-defined]
        assert hidden == set(listed) and all(i.startswith("society:") for i in hidden)  # type: ignore[arg-type]
        lines = data["edges"]
        assert any(e["from"] == groups[0]["id"] and e["to"] == "organization:cast" for e in lines)  # type: ignore[attr-defined]


def test_a_folded_member_reached_another_way_is_drawn_on_its_own(wenzhou: EmbeddedStore) -> None:
    result = neighborhood(wenzhou, "society:cmes", depth=2)
    (group,) = result.groups
    drawn = {n.id for n in result.nodes}
    assert {"society:csae", "society:csee"} <= drawn  # fellow panel members, reached through the panels
    assert not drawn & {m.id for m in group.members}
    assert group.count - group.folded == len({n.id for n in result.nodes if n.kind is NodeKind.SOCIETY})
    assert ("society:csae", "MEMBER_OF", "organization:cast") in {
        (e.source, e.type.value, e.target) for e in result.edges
    }
    unfolded_before = len(neighborhood(wenzhou, "organization:cast", depth=1, limit=1000).nodes)
    assert unfolded_before < 60  # CAST's own neighbourhood: its other ties, not a ring of two hundred


def _hub_store(members: int, others: int, name: str = "Hub") -> EmbeddedStore:
    """An organisation with ``members`` member societies, beside ``others`` societies that are not."""
    s = EmbeddedStore(None)
    s.upsert_nodes(
        [
            Organization(id="organization:hub", name=name, provenance=P),
            Program(id="program:p", name="Panel", provenance=P),
            *(
                Society(id=f"society:s{i:03d}", name=f"{IMG} {i}", name_zh=f"{SCRIPT}{i}", provenance=P)
                for i in range(members + others)
            ),
        ]
    )
    s.upsert_relationships(
        [
            *(
                Relationship(
                    source=f"society:s{i:03d}",
                    type=RelType.MEMBER_OF,
                    target="organization:hub",
                    provenance=P,
                )
                for i in range(members)
            ),
            Relationship(source="organization:hub", type=RelType.HOSTS, target="program:p", provenance=P),
        ]
    )
    return s


def test_a_hub_is_known_by_its_degree_and_share() -> None:
    assert len(neighborhood(_hub_store(HUB_MIN, 0), "program:p", depth=2).groups) == 1
    assert neighborhood(_hub_store(HUB_MIN - 1, 0), "program:p", depth=2).groups == []  # too few
    assert (
        neighborhood(_hub_store(HUB_MIN, 4 * HUB_MIN), "program:p", depth=2).groups == []
    )  # too small a share
    kept = neighborhood(
        _hub_store(HUB_MIN, 0), "program:p", depth=2, kinds=[NodeKind.ORGANIZATION, NodeKind.PROGRAM]
    )
    assert kept.groups == []  # the kind filter leaves nothing to fold


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_group_label_is_text_and_hostile_members_stay_inert(lang: str) -> None:
    html = ego_view(neighborhood(_hub_store(HUB_MIN + 5, 0, name=SCRIPT), "program:p", depth=2), lang=lang)
    data = _data(html)
    (group,) = [n for n in data["nodes"] if n.get("g")]  # type: ignore[attr-defined]
    expected = f"{HUB_MIN + 5} member societies" if lang == "en" else f"{HUB_MIN + 5} 个会员学会"
    assert group["label"] == expected
    assert SCRIPT in group["title"]  # the hub's name, as text in the tooltip
    island = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', html, re.S)
    assert island and "<" not in island.group(1) and ">" not in island.group(1)
    assert "<img" not in html.split('id="graph-data"')[0]  # no hostile markup outside the island
    members = [n for n in data["nodes"] if n.get("m")]  # type: ignore[attr-defined]
    assert members and all(IMG in str(n["label"]) or SCRIPT in str(n.get("f", n["label"])) for n in members)
