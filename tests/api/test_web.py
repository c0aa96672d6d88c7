"""The planner's pages and the served views: content, language, security headers, escaping, errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from graph_service.app.api.app import create_app
from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.ontology import Basis, Provenance, Relationship, RelType, Society
from graph_service.core.settings import Settings
from loaders.load import WENZHOU_DATASET, load_dataset

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(1)</script>"
P = Provenance(source="test", evidence=f"said by {SCRIPT}", basis=Basis.STATED)


def hostile_store() -> EmbeddedStore:
    """The bundled Wenzhou data plus two societies whose names are attacks, serving the electrical cluster."""
    store = EmbeddedStore(None)
    load_dataset(WENZHOU_DATASET, store)
    store.upsert_nodes(
        [
            Society(
                id="society:xss-img",
                name=IMG,
                name_zh="图片学会",
                provenance=P,
                description="javascript:alert(2)",
            ),
            Society(id="society:xss-script", name=SCRIPT, provenance=P),
        ]
    )
    store.upsert_relationships(
        [
            Relationship(
                source=s, type=RelType.SERVES, target="industry:wenzhou-5-5:electrical", provenance=P
            )
            for s in ("society:xss-img", "society:xss-script")
        ]
    )
    return store


def _no_server_error(response: httpx.Response) -> None:
    assert response.status_code != 500, f"500 from {response.request.method} {response.request.url}"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=Path(tmp_path_factory.mktemp("web"))), hostile_store())
    with TestClient(app) as c:
        c.event_hooks["response"].append(_no_server_error)
        yield c


PAGES = {
    "/": ["Priority industries", "Electrical equipment", "uncovered", "Search"],
    "/?lang=zh": ["重点产业", "电气", "空白", "搜索"],
    "/search?q=jixie": ["Chinese Mechanical Engineering Society"],
    "/search?q=电气&lang=zh": ["电气"],
    "/entities/society:cmes": [
        "Chinese Mechanical Engineering Society",
        "中国机械工程学会",
        "Evidence",
        "ego-frame",
    ],
    "/entities/industry:wenzhou-5-5:electrical?lang=zh": ["电气", "产业页面：谁在服务", "关系"],
    "/industries/industry:wenzhou-5-5:electrical": [
        "Who serves this industry",
        "Direct service",
        "coverage-frame",
    ],
    "/industries/电气?lang=zh": ["谁在服务该产业", "直接服务", "建议对接的学会"],
    "/industries/industry:wenzhou-5-5:footwear": [
        "No society serves this industry yet",
        "Societies worth approaching",
    ],
    "/gaps": ["Download CSV", "gap-map-frame", "matrix-frame", "Footwear", "matrix-table"],
    "/gaps?lang=zh&taxonomy=wenzhou-5%2B5": ["下载 CSV", "鞋业", "覆盖矩阵"],
    "/path": ["path-source", "path-target", "Find the chains"],
    "/path?source=society:csae&target=industry:wenzhou-5-5:electrical": [
        "China Society of Automotive Engineers",
        "path-frame",
        "is a member of",
    ],
    "/views/ego/society:cmes?depth=2": ["graph-data", "vis-network", 'id="depth-plus"'],
    "/views/industry/industry:wenzhou-5-5:electrical?lang=zh": ["谁在服务", "直接服务"],
    "/views/gaps": ["Gap map", "Industry: uncovered"],
    "/views/matrix?lang=zh": ["覆盖矩阵", "matrix-table"],
    "/views/path?source=society:csae&target=电气": ["From China Society of Automotive Engineers"],
    "/views/overview": ["The whole ecosystem", "Society"],
}


@pytest.mark.parametrize("url", sorted(PAGES))
def test_each_page_answers_with_its_content(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<meta charset="utf-8">' in response.text
    for words in PAGES[url]:
        assert words in response.text, f"{words!r} missing from {url}"
    if "lang=zh" in url:
        assert '<html lang="zh-CN">' in response.text


@pytest.mark.parametrize("url", ["/", "/gaps", "/entities/society:cmes", "/views/ego/society:cmes", "/path"])
def test_html_carries_a_policy_forbidding_remote_scripts(client: TestClient, url: str) -> None:
    response = client.get(url)
    policy = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    script_src = directives["script-src"]
    assert "'unsafe-inline'" not in script_src and "http" not in script_src and "*" not in script_src
    nonce = re.search(r"'nonce-([A-Za-z0-9_-]+)'", script_src)
    assert nonce, policy
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'self'"
    assert response.headers["x-content-type-options"] == "nosniff"
    executable = re.findall(r"^<script(?![^>]*application/json)[^>]*>", response.text, re.M)
    assert executable, "the page has its scripts"
    for tag in executable:
        assert f'nonce="{nonce.group(1)}"' in tag, tag
    assert not re.search(r"""<(?:script|link)[^>]+(?:src|href)=["']?(?:https?:)?//""", response.text)


def test_the_nonce_changes_with_every_response(client: TestClient) -> None:
    first = client.get("/").headers["content-security-policy"]
    assert first != client.get("/").headers["content-security-policy"]


def test_api_responses_keep_json_and_get_nosniff(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in response.headers


@pytest.mark.parametrize(
    "url",
    [
        "/search?q=img",
        "/search?q=script",
        "/entities/society:xss-img",
        "/entities/society:xss-script",
        "/industries/industry:wenzhou-5-5:electrical",
        "/gaps",
        "/views/ego/industry:wenzhou-5-5:electrical",
        "/views/industry/industry:wenzhou-5-5:electrical",
        "/views/gaps",
        "/path?source=society:xss-img&target=society:xss-script",
        "/views/path?source=society:xss-img&target=society:xss-script",
    ],
)
def test_hostile_names_are_escaped_everywhere(client: TestClient, url: str) -> None:
    body = client.get(url).text
    for payload in ("<img src=x", "<script>alert", "</script><script"):
        assert payload not in body, f"{payload!r} unescaped in {url}"
    assert not re.search(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", body, re.I)
    shown_as_text = (
        "&lt;img src=x onerror=alert(1)&gt;",
        "&lt;/script&gt;&lt;script&gt;",
        "\\u003cimg src=x",
    )
    assert any(text in body for text in shown_as_text), f"the hostile names should still be shown in {url}"


def test_the_hostile_entity_page_shows_its_name_as_text(client: TestClient) -> None:
    body = client.get("/entities/society:xss-img").text
    assert '<h1 id="entity-name">&lt;img src=x onerror=alert(1)&gt;</h1>' in body
    assert "<title>&lt;img src=x onerror=alert(1)&gt; · innograph</title>" in body


def test_unknown_entities_get_a_friendly_page_with_suggestions(client: TestClient) -> None:
    response = client.get("/entities/society:cmez")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Not found" in response.text and "Did you mean" in response.text
    assert 'href="/entities/society%3Acmes?lang=en"' in response.text
    assert "content-security-policy" in response.headers
    zh = client.get("/industries/nothing-like-this?lang=zh")
    assert zh.status_code == 404 and "未找到" in zh.text


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("/views/ego/society:cmes?depth=9", "depth"),
        ("/?lang=fr", "lang"),
        ("/gaps?thin_below=0", "thin_below"),
        ("/path?source=society:cmes&target=society:cmes", "same entity"),
    ],
)
def test_bad_requests_get_a_friendly_422_page(client: TestClient, url: str, words: str) -> None:
    response = client.get(url)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert words in response.text


def test_api_errors_stay_json(client: TestClient) -> None:
    response = client.get("/api/entities/society:cmez")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "NotFound"
    response = client.get("/api/gaps?thin_below=0")
    assert response.status_code == 422 and response.json()["error"]["type"] == "InvalidRequest"
    assert client.get("/no-such-route").json()["error"]["type"] == "NotFound"
    assert (
        client.get("/no-such-route", headers={"Accept": "text/html"})
        .headers["content-type"]
        .startswith("text/html")
    )


def test_the_gaps_page_links_its_csv(client: TestClient) -> None:
    body = client.get("/gaps").text
    match = re.search(r'id="csv-link" href="([^"]+)"', body)
    assert match
    href = match.group(1).replace("&amp;", "&")
    assert href.startswith("/api/gaps?") and "format=csv" in href and "taxonomy=wenzhou-5%2B5" in href
    csv = client.get(href)
    assert csv.headers["content-type"].startswith("text/csv") and "Footwear" in csv.text


def test_the_home_taxonomy_is_a_parameter(client: TestClient) -> None:
    body = client.get("/?taxonomy=gbt4754").text
    assert "gbt4754" in body and "Priority industries" in body
    unknown = client.get("/?taxonomy=none-such")  # a slip is told, not shown as an empty list
    assert unknown.status_code == 404
    assert "none-such" in unknown.text and "wenzhou-5+5" in unknown.text


def test_search_with_an_exact_id_goes_to_its_page(client: TestClient) -> None:
    response = client.get("/search?q=society:cmes&lang=zh", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/entities/society%3Acmes?lang=zh"


def test_the_language_switch_keeps_the_page(client: TestClient) -> None:
    body = client.get("/gaps?taxonomy=wenzhou-5%2B5").text
    switch = re.search(r'id="lang-switch" href="([^"]+)"', body)
    assert switch and switch.group(1).replace("&amp;", "&") == "/gaps?taxonomy=wenzhou-5%2B5&lang=zh"


def test_ego_view_steps_its_depth(client: TestClient) -> None:
    body = client.get("/views/ego/society:cmes?depth=2&lang=zh").text
    assert 'id="depth-minus" class="step" href="/views/ego/society%3Acmes?depth=1&amp;lang=zh"' in body
    assert 'id="depth-plus" class="step" href="/views/ego/society%3Acmes?depth=3&amp;lang=zh"' in body
    deepest = client.get("/views/ego/society:cmes?depth=3").text
    assert 'id="depth-plus"' not in deepest


def test_static_files_are_served(client: TestClient) -> None:
    for name, kind in (("site.css", "text/css"), ("site.js", "javascript"), ("favicon.svg", "image/svg")):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
        assert response.headers["x-content-type-options"] == "nosniff"
    js = client.get("/static/site.js").text
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js


# -- names holding "/" ---------------------------------------------------------------------------

APPAREL = "industry:wenzhou-5-5:apparel"  # the 5+5 industry named "Clothing/apparel" (服装)
SLASHED = ["Clothing/apparel", "Clothing%2Fapparel"]


@pytest.mark.parametrize("ref", SLASHED, ids=["plain", "encoded"])
def test_a_name_holding_a_slash_works_in_every_api_path(client: TestClient, ref: str) -> None:
    by_id = client.get(f"/api/industries/{APPAREL}/societies").json()
    assert by_id["total"] >= 1
    answer = client.get(f"/api/industries/{ref}/societies")
    assert answer.status_code == 200, answer.text
    assert answer.json() == by_id
    recommended = client.get(f"/api/industries/{ref}/recommendations").json()
    assert recommended["industry"]["id"] == APPAREL
    entity = client.get(f"/api/entities/{ref}").json()
    assert (entity["id"], entity["name"], entity["name_zh"]) == (APPAREL, "Clothing/apparel", "服装")
    around = client.get(f"/api/entities/{ref}/neighborhood", params={"depth": 1}).json()
    assert around["center"]["id"] == APPAREL
    assert len(around["nodes"]) > 1
    assert around == client.get(f"/api/entities/{APPAREL}/neighborhood", params={"depth": 1}).json()


def test_suffixed_routes_still_match_and_slashed_unknowns_are_named(client: TestClient) -> None:
    around = client.get("/api/entities/society:cmes/neighborhood").json()
    assert around["center"]["id"] == "society:cmes"
    for url, named in [
        ("/api/societies/No/such/industries", "'No/such'"),
        ("/api/plans/x%2Fy/progress", "'x/y'"),
        ("/api/industries/Clothing/apparels/societies", "'Clothing/apparels'"),
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert named in response.json()["error"]["message"], url
    empty = client.get("/api/industries//societies")
    assert empty.status_code == 422 and "industry" in empty.json()["error"]["message"]


@pytest.mark.parametrize("ref", SLASHED, ids=["plain", "encoded"])
def test_a_name_holding_a_slash_opens_its_pages(client: TestClient, ref: str) -> None:
    serving = [
        r["society"]["name"] for r in client.get(f"/api/industries/{APPAREL}/societies").json()["results"]
    ]
    page = client.get(f"/industries/{ref}")
    assert page.status_code == 200
    assert '<h1 id="industry-name">Clothing/apparel</h1>' in page.text
    assert all(name in page.text for name in serving)
    assert 'href="/api/industries/industry%3Awenzhou-5-5%3Aapparel/societies"' in page.text
    entity = client.get(f"/entities/{ref}")
    assert entity.status_code == 200 and "Clothing/apparel" in entity.text
    for view in (f"/views/industry/{ref}", f"/views/ego/{ref}"):
        drawn = client.get(view)
        assert drawn.status_code == 200 and APPAREL in drawn.text, view


def test_an_unknown_slashed_name_gets_a_search_for_all_of_it(client: TestClient) -> None:
    page = client.get("/industries/Clothing/apparels")
    assert page.status_code == 404
    assert 'href="/search?q=Clothing%2Fapparels&amp;lang=en"' in page.text


ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


@pytest.mark.parametrize(
    ("url", "english", "chinese"),
    [
        (
            "/api/entities/society:cmez",
            "no entity matches 'society:cmez'",
            "没有与 'society:cmez' 匹配的对象",
        ),
        (
            "/api/gaps?thin_below=0",
            "thin_below: Input should be greater than or equal to 1",
            "thin_below 应大于或等于 1",
        ),
        ("/api/no-such-route", "no such page or route", "没有这个页面或接口"),
        ("/api/industries/电气/societies?limt=3", "unknown query parameter(s)", "未知的查询参数"),
        (
            "/api/paths?source=society:cmes&target=society:cmes",
            "source and target are the same entity",
            "起点与终点是同一个对象",
        ),
        (
            "/api/entities/society:cmes/neighborhood?depth=9",
            "depth: Input should be less than",
            "depth 应小于或等于",
        ),
    ],
)
def test_api_errors_speak_the_language_the_client_accepts(
    client: TestClient, url: str, english: str, chinese: str
) -> None:
    default = client.get(url)
    assert english in default.json()["error"]["message"]
    assert default.headers["content-language"] == "en"
    zh = client.get(url, headers=ZH)
    assert zh.status_code == default.status_code
    assert zh.json()["error"]["type"] == default.json()["error"]["type"]
    assert chinese in zh.json()["error"]["message"]
    assert zh.headers["content-language"] == "zh-CN"
    english_first = client.get(url, headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.8"})
    assert english in english_first.json()["error"]["message"]


def test_evidence_paths_carry_their_sentence_in_chinese(client: TestClient) -> None:
    body = client.get("/api/industries/industry:wenzhou-5-5:electrical/societies").json()
    paths = [p for r in body["results"] for p in r["paths"]]
    assert paths
    cmes = next(p for p in paths if p["nodes"][0]["id"] == "society:cmes" and p["channel"] == "direct")
    assert cmes["sentence"] == "Chinese Mechanical Engineering Society — serves — Electrical equipment"
    assert cmes["sentence_zh"] == "中国机械工程学会 —服务→ 电气"
    chains = client.get("/api/paths?source=society:csae&target=industry:wenzhou-5-5:electrical").json()
    for path in chains["paths"]:
        assert "is a member of" in path["sentence"] or "serves" in path["sentence"]
        assert "中国汽车工程学会" in path["sentence_zh"] and "电气" in path["sentence_zh"]
        assert not re.search(r"\b(serves|is a member of|takes part in)\b", path["sentence_zh"])


def test_chinese_error_pages_say_what_is_wrong_in_chinese(client: TestClient) -> None:
    missing = client.get("/entities/society:cmez?lang=zh")
    assert missing.status_code == 404
    assert "没有与 &#39;society:cmez&#39; 匹配的对象" in missing.text
    assert "society:cmes (中国机械工程学会 · Chinese Mechanical Engineering Society · 学会)" in missing.text
    bad = client.get("/gaps?thin_below=0&lang=zh")
    assert bad.status_code == 422 and "thin_below 应大于或等于 1" in bad.text
    assert "Input should be" not in bad.text
    english = client.get("/entities/society:cmez")
    assert (
        "no entity matches" in english.text
        and "society:cmes (Chinese Mechanical Engineering Society · 中国机械工程学会 · Society)"
        in english.text
    )


def test_chinese_entity_pages_word_their_properties(client: TestClient) -> None:
    society = client.get("/entities/society:cmes?lang=zh").text
    for words in ("学科", "层级", "全国", "中国科协编号"):
        assert words in society, words
    program = client.get("/entities/program:wyss?lang=zh").text
    assert "项目类型" in program and "峰会" in program
    industry = client.get("/entities/industry:gbt4754:a?lang=zh").text
    assert "GB/T 4754-2017 国民经济行业分类" in industry
    assert '<blockquote class="evidence source-text" lang="en">' in society


def test_a_society_without_an_english_name_is_shown_in_pinyin_and_says_so(client: TestClient) -> None:
    marked = "Zhongguo Tianwen Xuehui (中国天文学会; no published English name)"
    assert marked in client.get("/entities/society:cast-a-07").text
    assert marked in client.get("/search?q=中国天文学会").text
    assert "Zhongguo Tianwen Xuehui" not in client.get("/entities/society:cast-a-07?lang=zh").text


def test_suggestions_name_entities_in_the_language_asked(client: TestClient) -> None:
    english = client.get("/api/entities/society:cmez").json()["error"]["suggestions"]
    assert "society:cmes (Chinese Mechanical Engineering Society · 中国机械工程学会 · Society)" in english
    chinese = client.get("/api/entities/society:cmez", headers=ZH).json()["error"]["suggestions"]
    assert "society:cmes (中国机械工程学会 · Chinese Mechanical Engineering Society · 学会)" in chinese
