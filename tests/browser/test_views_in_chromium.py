"""The pages and views in real headless Chromium: offline, clean, safe, searchable, filterable, fast."""

from __future__ import annotations

import random
import re
import statistics
from pathlib import Path
from typing import Any

import pytest
from browsing import IMG, SCRIPT, Watch, hostile_store, load_frames, wait_ready

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.ontology import (
    Basis,
    NodeKind,
    Organization,
    Program,
    Provenance,
    Relationship,
    RelType,
    Society,
)
from queries.explore import HUB_MIN, GraphEdge, GraphNode, Neighborhood, neighborhood
from queries.models import EvidenceStep, NodeRef
from visualizations.views import ego_view

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/?lang=zh",
    "/search?q=jixie",
    "/entities/society:cmes",
    "/entities/society:cmes?lang=zh",
    "/entities/society:xss-img",
    "/industries/industry:wenzhou-5-5:electrical",
    "/industries/industry:wenzhou-5-5:electrical?lang=zh",
    "/gaps",
    "/gaps?lang=zh",
    "/path",
    "/path?source=society:csae&target=industry:wenzhou-5-5:electrical",
    "/path?source=society:csae&target=industry:wenzhou-5-5:electrical&lang=zh",
    "/entities/society:cmez",
]
VIEWS = [
    "/views/ego/society:cmes?depth=2",
    "/views/ego/industry:wenzhou-5-5:electrical?depth=2&lang=zh",
    "/views/industry/industry:wenzhou-5-5:electrical",
    "/views/gaps?lang=zh",
    "/views/matrix",
    "/views/path?source=society:csae&target=industry:wenzhou-5-5:electrical",
    "/views/overview",
    "/views/overview?lang=zh",
]


def _shot(page: Any, folder: Path, url: str) -> None:
    name = re.sub(r"[^A-Za-z0-9]+", "-", url).strip("-") or "home"
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _drawn_pixels(frame: Any) -> int:
    return int(
        frame.evaluate(
            """() => { const c = document.querySelector('#graph canvas');
                 const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                 let n = 0; for (let i = 3; i < d.length; i += 16) { if (d[i] > 0) n++; } return n; }"""
        )
    )


def _check_view(frame: Any) -> None:
    wait_ready(frame)
    assert _drawn_pixels(frame) > 200, "the canvas is blank"
    groups = frame.evaluate(
        "() => [...new Set(JSON.parse(document.getElementById('graph-data').textContent)"
        ".nodes.filter(n => !n.c).map(n => n.group))].sort()"
    )
    legend = frame.evaluate(
        "() => [...document.querySelectorAll('#legend-kinds input')].map(i => i.value).sort()"
    )
    assert groups == legend, "the legend lists exactly the kinds drawn"


@pytest.mark.parametrize("url", PAGES)
def test_pages_load_offline_and_clean(
    watched: tuple[Any, Watch], live_server: str, screenshots: Path, url: str
) -> None:
    page, watch = watched
    response = page.goto(live_server + url, wait_until="networkidle")
    assert response is not None
    if "cmez" in url:
        assert response.status == 404
        watch.errors = [e for e in watch.errors if "404" not in e]  # the page itself is the 404
    else:
        assert response.status == 200
    load_frames(page)
    for frame in page.frames[1:]:
        _check_view(frame)
    _shot(page, screenshots, url)
    watch.assert_clean(page)


@pytest.mark.parametrize("url", VIEWS)
def test_views_draw_offline_and_clean(
    watched: tuple[Any, Watch], live_server: str, screenshots: Path, url: str
) -> None:
    page, watch = watched
    page.goto(live_server + url, wait_until="load")
    _check_view(page)
    _shot(page, screenshots, "view" + url)
    watch.assert_clean(page)


def test_a_standalone_file_opens_with_the_network_cut(browser: Any, tmp_path: Path) -> None:
    html = ego_view(neighborhood(hostile_store(), "industry:wenzhou-5-5:electrical", depth=2), lang="zh")
    path = tmp_path / "ego.html"
    path.write_text(html, encoding="utf-8")
    context = browser.new_context()
    page = context.new_page()
    attempted: list[str] = []
    page.route(
        "**/*",
        lambda r: (
            r.continue_()
            if r.request.url.startswith("file:")
            else (attempted.append(r.request.url), r.abort())
        ),
    )
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    wait_ready(page)
    assert _drawn_pixels(page) > 200
    assert attempted == [], f"the file reached for the network: {attempted}"
    assert not dialogs and not errors
    context.close()


def test_injected_markup_never_runs_and_reads_as_text(watched: tuple[Any, Watch], live_server: str) -> None:
    page, watch = watched
    page.goto(live_server + "/entities/society:xss-img", wait_until="networkidle")
    assert page.inner_text("#entity-name") == IMG
    assert page.query_selector("main img") is None
    page.goto(live_server + "/search?q=script", wait_until="networkidle")
    assert SCRIPT in page.inner_text("#hits")
    page.goto(live_server + "/views/ego/industry:wenzhou-5-5:electrical?depth=1", wait_until="load")
    wait_ready(page)
    page.fill("#search", IMG)
    page.press("#search", "Enter")
    page.wait_for_function("() => window.__innograph.focused === 'society:xss-img'")
    assert page.inner_text("#details-title") == IMG
    assert SCRIPT in page.inner_text("#details-body")
    # hover the node: vis-network shows its title as text, never as markup
    point = _node_point(page, "society:xss-img")
    page.mouse.move(point["x"], point["y"])
    page.wait_for_selector("div.vis-tooltip", state="visible", timeout=5000)
    tooltip = page.query_selector("div.vis-tooltip")
    assert tooltip is not None
    assert IMG in tooltip.inner_text()
    assert tooltip.query_selector("img, script, b") is None
    watch.assert_clean(page)


def _node_point(page: Any, node_id: str) -> dict[str, float]:
    point: dict[str, float] = page.evaluate(
        """(id) => { const n = window.__innograph.network; const p = n.canvasToDOM(n.getPosition(id));
             const r = document.getElementById('graph').getBoundingClientRect();
             return {x: p.x + r.left, y: p.y + r.top}; }""",
        node_id,
    )
    return point


def test_the_search_box_focuses_a_node(watched: tuple[Any, Watch], live_server: str) -> None:
    page, watch = watched
    page.goto(live_server + "/views/ego/society:cmes?depth=2", wait_until="load")
    wait_ready(page)
    page.fill("#search", "中国汽车工程学会")
    page.click("#search-form button[type=submit]")
    page.wait_for_function("() => window.__innograph.focused !== null")
    focused = page.evaluate("window.__innograph.focused")
    assert focused == "society:csae"
    assert page.evaluate("window.__innograph.network.getSelectedNodes()") == ["society:csae"]
    centre = page.evaluate("window.__innograph.network.getViewPosition()")
    node = page.evaluate("window.__innograph.network.getPosition('society:csae')")
    assert abs(centre["x"] - node["x"]) < 1 and abs(centre["y"] - node["y"]) < 1
    page.fill("#search", "no such entity anywhere")
    page.press("#search", "Enter")
    assert "No entity in this view matches" in page.inner_text("#message")
    watch.assert_clean(page)


def test_filters_never_blank_the_graph(watched: tuple[Any, Watch], live_server: str) -> None:
    page, watch = watched
    page.goto(live_server + "/views/ego/society:cmes?depth=2", wait_until="load")
    wait_ready(page)
    for box in page.query_selector_all("#legend-kinds input"):
        box.uncheck()
    visible = page.evaluate("window.__innograph.network.body.nodeIndices.length")
    assert visible >= 1
    assert page.evaluate("!window.__innograph.network.body.data.nodes.get('society:cmes').hidden"), (
        "the centre stays"
    )
    for box in page.query_selector_all("#legend-types input"):
        box.uncheck()
    assert page.evaluate("window.__innograph.network.body.nodeIndices.length") >= 1
    assert _drawn_pixels(page) > 50
    # the gap map pins nothing: the last kind refuses to go, and the page says why
    page.goto(live_server + "/views/gaps", wait_until="load")
    wait_ready(page)
    boxes = page.query_selector_all("#legend-kinds input")
    for box in boxes:
        box.click()
    assert page.evaluate("window.__innograph.network.body.nodeIndices.length") >= 1
    assert sum(1 for b in boxes if b.is_checked()) == 1
    assert "At least one entity stays" in page.inner_text("#message")
    watch.assert_clean(page)


def test_clicking_a_node_shows_its_tooltip_as_text(watched: tuple[Any, Watch], live_server: str) -> None:
    page, watch = watched
    page.goto(live_server + "/views/ego/society:cmes?depth=1", wait_until="load")
    wait_ready(page)
    point = _node_point(page, "organization:cast")
    page.mouse.click(point["x"], point["y"])
    page.wait_for_function("() => window.__innograph.selected === 'organization:cast'")
    body = page.inner_text("#details-body")
    assert "Evidence:" in body and "Source:" in body
    assert page.query_selector("#details-body *") is None, "the details are text, not markup"
    links = page.query_selector_all("#details-links a")
    assert links and (links[0].get_attribute("href") or "").startswith("/entities/organization%3Acast")
    watch.assert_clean(page)


def test_the_depth_controls_step_the_view(watched: tuple[Any, Watch], live_server: str) -> None:
    page, watch = watched
    page.goto(live_server + "/views/ego/society:cmes?depth=1", wait_until="load")
    wait_ready(page)
    page.click("#depth-plus")
    page.wait_for_url(re.compile(r"depth=2"))
    wait_ready(page)
    assert page.inner_text("#depth-value") == "2"
    page.click("#depth-minus")
    page.wait_for_url(re.compile(r"depth=1"))
    watch.assert_clean(page)


def test_the_path_page_suggests_names_as_you_type(watched: tuple[Any, Watch], live_server: str) -> None:
    page, watch = watched
    page.goto(live_server + "/path", wait_until="networkidle")
    # 机械工程, mechanical engineering: "jixie" alone also matches the machinery firms
    page.type("#path-source", "jixie gong", delay=20)
    page.wait_for_function("() => document.querySelectorAll('#source-list option').length > 0", timeout=5000)
    values = page.eval_on_selector_all("#source-list option", "os => os.map(o => o.value)")
    assert "society:cmes" in values
    watch.assert_clean(page)


_VISIBLE = "() => window.__innograph.network.body.data.nodes.get({filter: n => !n.hidden}).map(n => n.id)"
_LOOSE = """() => {
  const net = window.__innograph.network, data = net.body.data;
  const shown = new Set(data.nodes.get({filter: n => !n.hidden}).map(n => n.id));
  const joined = new Map();
  data.edges.get({filter: e => !e.hidden}).forEach(e => {
    if (!shown.has(e.from) || !shown.has(e.to)) { return; }
    [[e.from, e.to], [e.to, e.from]].forEach(([a, b]) => { if (!joined.has(a)) joined.set(a, []); joined.get(a).push(b); });
  });
  const pinned = JSON.parse(document.getElementById('graph-data').textContent).pinned;
  const reached = new Set(pinned), queue = [...pinned];
  while (queue.length) { (joined.get(queue.pop()) || []).forEach(o => { if (!reached.has(o)) { reached.add(o); queue.push(o); } }); }
  return [...shown].filter(id => !reached.has(id));
}"""


def _group(page: Any) -> dict[str, Any]:
    groups: list[dict[str, Any]] = page.evaluate(
        "() => JSON.parse(document.getElementById('graph-data').textContent).nodes.filter(n => n.g)"
    )
    assert len(groups) == 1
    return groups[0]


@pytest.mark.parametrize(("lang", "words"), [("en", r"^\d+ member societies$"), ("zh", r"^\d+ 个会员学会$")])
def test_a_hub_folds_into_a_group_that_a_click_expands(
    watched: tuple[Any, Watch], live_server: str, lang: str, words: str
) -> None:
    page, watch = watched
    page.goto(f"{live_server}/views/ego/society:cmes?depth=2&lang={lang}", wait_until="load")
    wait_ready(page)
    folded = page.evaluate(_VISIBLE)
    assert len(folded) <= 60
    group = _group(page)
    assert re.match(words, group["label"])
    assert not set(group["g"]) & set(folded)
    point = _node_point(page, group["id"])
    page.mouse.click(point["x"], point["y"])
    page.wait_for_function("(id) => window.__innograph.expanded.has(id)", arg=group["id"])
    opened = page.evaluate(_VISIBLE)
    assert set(opened) == set(folded) | set(group["g"])
    assert page.inner_text("#details-title") == group["label"]
    assert page.query_selector("#details-body *") is None
    point = _node_point(page, group["id"])
    page.mouse.click(point["x"], point["y"])
    page.wait_for_function("(id) => !window.__innograph.expanded.has(id)", arg=group["id"])
    assert sorted(page.evaluate(_VISIBLE)) == sorted(folded)
    watch.assert_clean(page)


@pytest.mark.parametrize(
    "url",
    [
        "/views/ego/society:cmes?depth=2",
        "/views/ego/organization:cast?depth=1&lang=zh",
        "/views/path?source=society:csae&target=industry:wenzhou-5-5:electrical",
    ],
)
def test_hiding_member_of_leaves_no_loose_dots(
    watched: tuple[Any, Watch], live_server: str, url: str
) -> None:
    page, watch = watched
    page.goto(live_server + url, wait_until="load")
    wait_ready(page)
    groups = page.evaluate(
        "() => JSON.parse(document.getElementById('graph-data').textContent).nodes.filter(n => n.g).map(n => n.id)"
    )
    for group in groups:  # the members drawn too: they hang on "member of" alone
        page.evaluate("(id) => window.__innograph.toggleGroup(id)", group)
    before = page.evaluate(_VISIBLE)
    page.uncheck("#legend-types input[value=MEMBER_OF]")
    after = page.evaluate(_VISIBLE)
    assert page.evaluate(_LOOSE) == [], "every node shown is joined to the centre by lines shown"
    if "/ego/" in url:  # around a hub, the members and the group hang on "member of" alone
        assert len(after) < len(before)
    page.check("#legend-types input[value=MEMBER_OF]")
    assert sorted(page.evaluate(_VISIBLE)) == sorted(before)
    watch.assert_clean(page)


def test_a_hostile_group_expands_as_text(browser: Any, tmp_path: Path) -> None:
    said = Provenance(source="test", evidence="<b>bold</b>", basis=Basis.STATED)
    store = EmbeddedStore(None)
    store.upsert_nodes(
        [
            Organization(id="organization:hub", name=SCRIPT, provenance=said),
            Program(id="program:p", name="Panel", provenance=said),
            *(Society(id=f"society:s{i:03d}", name=f"{IMG}{i}", provenance=said) for i in range(HUB_MIN + 5)),
        ]
    )
    store.upsert_relationships(
        [
            Relationship(
                source=f"society:s{i:03d}", type=RelType.MEMBER_OF, target="organization:hub", provenance=said
            )
            for i in range(HUB_MIN + 5)
        ]
        + [Relationship(source="organization:hub", type=RelType.HOSTS, target="program:p", provenance=said)]
    )
    path = tmp_path / "hostile-group.html"
    path.write_text(ego_view(neighborhood(store, "program:p", depth=2)), encoding="utf-8")
    page = browser.new_page()
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    wait_ready(page)
    group = _group(page)
    assert group["label"] == f"{HUB_MIN + 5} member societies"
    point = _node_point(page, group["id"])
    page.mouse.click(point["x"], point["y"])
    page.wait_for_function("(id) => window.__innograph.expanded.has(id)", arg=group["id"])
    assert set(group["g"]) <= set(page.evaluate(_VISIBLE))
    assert SCRIPT in page.inner_text("#details-body")
    assert page.query_selector("#details-body *") is None
    assert page.query_selector("body img") is None
    page.evaluate("(id) => window.__innograph.focusNode(id)", group["g"][0])
    assert page.inner_text("#details-title").startswith(IMG)
    assert not dialogs and not errors
    page.close()


def _synthetic(nodes: int, edges: int) -> Neighborhood:
    rng = random.Random(4754)
    first = nodes // 25
    out = []
    kinds = [NodeKind.SOCIETY, NodeKind.ENTERPRISE, NodeKind.PROGRAM, NodeKind.TALENT, NodeKind.PARK]
    for i in range(nodes):
        kind = kinds[i % len(kinds)] if i else NodeKind.REGION
        out.append(
            GraphNode(
                id=f"{kind.value.lower()}:n{i}",
                kind=kind,
                name=f"Synthetic {kind.value} {i}",
                name_zh=f"合成{i}",
                depth=0 if i == 0 else 1 if i <= first else 2,
                properties={"source": "synthetic", "evidence": f"entity {i}", "basis": "synthetic"},
            )
        )
    pairs = {(i, 0 if i <= first else rng.randint(1, first)) for i in range(1, nodes)}
    while len(pairs) < edges:
        a, b = rng.randrange(nodes), rng.randrange(nodes)
        if a != b:
            pairs.add((a, b))
    rels = []
    for a, b in sorted(pairs):
        step = EvidenceStep(
            source=out[a].id,
            type=RelType.PART_OF,
            target=out[b].id,
            basis=Basis.SYNTHETIC,
            evidence="synthetic",
            document="synthetic",
        )
        rels.append(GraphEdge(source=out[a].id, type=RelType.PART_OF, target=out[b].id, evidence=step))
    centre = NodeRef(id=out[0].id, kind=out[0].kind, name=out[0].name)
    return Neighborhood(center=centre, depth=2, truncated=False, nodes=out, edges=rels)


@pytest.mark.slow
def test_five_thousand_nodes_are_interactive_within_five_seconds(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "big.html"
    path.write_text(ego_view(_synthetic(5000, 20000)), encoding="utf-8")
    totals, draws = [], []
    for _ in range(3):
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
        page.goto(path.as_uri(), wait_until="commit")
        wait_ready(page, timeout=30000)
        node_id = page.evaluate("window.__innograph.network.body.nodeIndices[7]")
        point = _node_point(page, node_id)
        clicked = page.evaluate("performance.now()")
        page.mouse.click(point["x"], point["y"])
        page.wait_for_function("() => window.__innograph.selectedAt !== null", timeout=10000)
        state = page.evaluate(
            "({draw: window.__innograph.firstDrawAt, answered: window.__innograph.selectedAt})"
        )
        assert page.evaluate("window.__innograph.selected") is not None
        draws.append(state["draw"])
        totals.append(state["draw"] + (state["answered"] - clicked))
        page.close()
    median = statistics.median(totals)
    print(
        f"\n5,000 nodes / 20,000 edges: first draw {statistics.median(draws):.0f} ms, "
        f"interactive (draw + click answered) {median:.0f} ms"
    )
    assert median < 5000, f"median time to interactive {median:.0f} ms (draws {draws})"
