"""Every page and view in Chinese, read in real headless Chromium: no English left but what may be.

A visible text node with Latin letters and no Chinese character is allowed only when it is
an id, a code, a number, a URL or a unit, a name of an entity that has no Chinese name, or
text the page declares English (``lang="en"``) because it is quoted from the data: evidence
and descriptions as the source wrote them (``.source-text``), an entity's name in the other
language (``.name-other``), and the switch to English. Screenshots of the Chinese home and
industry pages must show Chinese glyphs, not the boxes of a missing font.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from browsing import Watch, hostile_store, loaded, wait_ready

from graph_service.core.ontology import NodeKind, kind_of_id
from graph_service.core.store import GraphStore

pytestmark = pytest.mark.browser

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
PAGES = [
    "/?lang=zh",
    "/?lang=zh&taxonomy=gbt4754",
    "/search?q=jixie&lang=zh",
    "/industries/industry:wenzhou-5-5:electrical?lang=zh",
    "/industries/industry:wenzhou-5-5:footwear?lang=zh&include_sub_industries=true",
    "/gaps?lang=zh",
    "/path?lang=zh",
    "/path?source=society:csae&target=industry:wenzhou-5-5:electrical&lang=zh",
    "/entities/society:cmez?lang=zh",
    "/industries/nothing-like-this?lang=zh",
    "/gaps?thin_below=0&lang=zh",
    "/views/ego/nothing-like-this?lang=zh",
]
VIEWS = [
    "/views/ego/society:cmes?depth=2&lang=zh",
    "/views/industry/industry:wenzhou-5-5:electrical?lang=zh",
    "/views/gaps?lang=zh",
    "/views/matrix?lang=zh",
    "/views/path?source=society:csae&target=industry:wenzhou-5-5:electrical&lang=zh",
    "/views/overview?lang=zh",
]
ALLOWED_ENGLISH = ".source-text, .name-other, #lang-switch"
"""Elements that may hold English in a Chinese page, when they say so with ``lang="en"``."""

_VISIBLE_TEXT = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.nodeValue.replace(/\\s+/g, ' ').trim();
    const element = node.parentElement;
    if (!text || !element || element.closest('script, style, code, noscript, template, datalist')) continue;
    const style = getComputedStyle(element);
    if (!element.getClientRects().length || style.visibility === 'hidden') continue;
    const declared = element.closest('[lang]');
    found.push({
      text,
      lang: declared ? declared.getAttribute('lang') : '',
      quoted: !!element.closest('ALLOWED_ENGLISH') && !!declared && declared.getAttribute('lang').startsWith('en'),
    });
  }
  for (const input of document.querySelectorAll('input[placeholder]')) {
    if (input.getClientRects().length) found.push({text: input.placeholder, lang: '', quoted: false});
  }
  return found;
}""".replace("ALLOWED_ENGLISH", ALLOWED_ENGLISH)

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_LATIN = re.compile(r"[A-Za-z]")
_TOKEN_OK = re.compile(
    r"""^(
        [a-z]+:[\w:+.\-%]+            # an id
      | https?://\S+ | /\S*           # a URL or a path
      | [A-Z0-9][A-Z0-9/+.\-]*        # a code: CSV, API, GB/T, B-01, A01
      | [\d.,:+\-–—%]+                # a number, a date, a range
      | [\d.]*(m2|km2|km|mu|ha|kg|t|s|ms|MB|KB)  # a unit
      | innograph                     # the product's name
      | [^A-Za-z]*                    # punctuation and arrows
    )$""",
    re.VERBOSE,
)


@pytest.fixture(scope="module")
def graph() -> GraphStore:
    """The same graph the live server serves."""
    return hostile_store()


@pytest.fixture(scope="module")
def names_without_chinese(graph: GraphStore) -> list[str]:
    """Names (and aliases) of the entities that have no Chinese name, longest first."""
    found: set[str] = set()
    for node in graph.iter_nodes():
        if not node.name_zh:
            found.add(node.name)
            found.update(node.aliases)
    return sorted(found, key=len, reverse=True)


def test_the_cjk_font_is_installed() -> None:
    assert CJK_FONT.exists(), f"{CJK_FONT} is missing: run scripts/test_deps.py (fonts-noto-cjk)"


def test_every_entity_page_speaks_chinese(
    watched: tuple[Any, Watch], live_server: str, graph: GraphStore, names_without_chinese: list[str]
) -> None:
    """One entity of every kind, and the busiest entity of every kind."""
    page, watch = watched
    urls = [f"/entities/{node_id}?lang=zh" for node_id in _entities_of_each_kind(graph)]
    kinds = {k for k in NodeKind if graph.find_nodes(k, None, limit=1)}
    assert {kind_of_id(u.split("/")[2].split("?")[0]) for u in urls} == kinds and len(kinds) >= 8
    for url in urls:
        _assert_chinese(page, live_server + url, names_without_chinese)
    watch.assert_clean(page)


@pytest.mark.parametrize("url", PAGES)
def test_every_page_speaks_chinese(
    watched: tuple[Any, Watch], live_server: str, names_without_chinese: list[str], url: str
) -> None:
    page, watch = watched
    status = _assert_chinese(page, live_server + url, names_without_chinese)
    if status != 200:  # an error page: its own status is the console's one error
        assert status in (404, 422), f"{url} answered {status}"
        watch.errors = [e for e in watch.errors if f"status of {status}" not in e]
    watch.assert_clean(page)


@pytest.mark.parametrize("url", VIEWS)
def test_every_view_speaks_chinese(
    watched: tuple[Any, Watch], live_server: str, names_without_chinese: list[str], url: str
) -> None:
    page, watch = watched
    page.goto(live_server + url)
    wait_ready(page)
    _assert_chinese(page, None, names_without_chinese)
    watch.assert_clean(page)


def test_the_checker_catches_english(
    watched: tuple[Any, Watch], live_server: str, names_without_chinese: list[str]
) -> None:
    """The check itself: the English home page fails it, and so does English declared nowhere."""
    page, _ = watched
    page.goto(live_server + "/")
    page.evaluate("document.documentElement.lang = 'zh-CN'")
    with pytest.raises(AssertionError, match="Apply"):
        _assert_chinese(page, None, names_without_chinese)
    page.goto(live_server + "/?lang=zh")
    page.evaluate("document.querySelector('h1').textContent = 'Stray words'")
    with pytest.raises(AssertionError, match="Stray words"):
        _assert_chinese(page, None, names_without_chinese)


def test_names_suggested_as_you_type_are_chinese(watched: tuple[Any, Watch], live_server: str) -> None:
    page, watch = watched
    page.goto(live_server + "/path?lang=zh", wait_until="networkidle")
    page.type("#path-source", "jixie", delay=20)
    page.wait_for_function("() => document.querySelectorAll('#source-list option').length > 0", timeout=5000)
    labels = page.eval_on_selector_all("#source-list option", "os => os.map(o => o.label)")
    assert "中国机械工程学会 · 学会" in labels
    assert all(_HAN.search(label.rsplit(" · ", 1)[-1]) for label in labels), labels
    watch.assert_clean(page)


@pytest.mark.parametrize(
    "url",
    ["/?lang=zh", "/industries/industry:wenzhou-5-5:electrical?lang=zh"],
    ids=["home", "industry"],
)
def test_chinese_screenshots_show_glyphs_not_boxes(
    watched: tuple[Any, Watch], live_server: str, screenshots: Path, url: str
) -> None:
    """The heading's own font draws each Chinese character differently, and none as the box of a
    character no font has; the screenshot is kept for a person to look at."""
    page, _ = watched
    page.goto(live_server + url)
    heading = page.inner_text("h1")
    assert _HAN.search(heading), f"the heading {heading!r} is not Chinese"
    glyphs = page.evaluate(
        """(chars) => {
          const font = getComputedStyle(document.querySelector('h1')).font;
          const canvas = document.createElement('canvas');
          canvas.width = 64; canvas.height = 64;
          const context = canvas.getContext('2d', {willReadFrequently: true});
          return chars.map((ch) => {
            context.clearRect(0, 0, 64, 64);
            context.font = font.replace(/\\d+(\\.\\d+)?px/, '40px');
            context.textBaseline = 'top';
            context.fillText(ch, 4, 4);
            const data = context.getImageData(0, 0, 64, 64).data;
            let bits = '';
            for (let i = 3; i < data.length; i += 4) bits += data[i] > 96 ? '1' : '0';
            return {ch, width: context.measureText(ch).width, bits};
          });
        }""",
        ["温", "州", "产", "业", "\U0010fffd"],
    )
    *chinese, missing = glyphs
    inked = [g for g in chinese if "1" in g["bits"]]
    assert len(inked) == len(chinese), "a Chinese character drew nothing"
    assert len({g["bits"] for g in chinese}) == len(chinese), (
        "Chinese characters drew the same box: no CJK font"
    )
    assert all(g["bits"] != missing["bits"] for g in chinese), (
        "a Chinese character drew the missing-glyph box"
    )
    name = "zh-" + (re.sub(r"[^A-Za-z0-9]+", "-", url.split("?")[0]).strip("-") or "home") + ".png"
    page.screenshot(path=str(screenshots / name), full_page=True)
    assert (screenshots / name).stat().st_size > 20_000


# ---------------------------------------------------------------------------


def _entities_of_each_kind(graph: GraphStore) -> list[str]:
    """For every kind: its first entity by id, and the one with the most relationships."""
    ids: list[str] = []
    for kind in NodeKind:
        nodes = graph.find_nodes(kind, None, limit=5000)
        if not nodes:
            continue
        first = min(nodes, key=lambda n: n.id)
        busiest = max(nodes, key=lambda n: (len(graph.neighbors(n.id, limit=500)), n.id))
        ids.extend(dict.fromkeys([first.id, busiest.id]))
    return ids


def _assert_chinese(page: Any, url: str | None, names: Iterable[str]) -> int:
    """Fail on English the page should not show; the status of the page opened (200 when none)."""
    status = 200
    if url is not None:
        response = page.goto(url)
        status = response.status if response is not None else 0
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    english = []
    for frame in page.frames:
        if frame is not page.main_frame and not loaded(frame):
            continue  # a lazy frame below the fold; every view is walked on its own page too
        for item in frame.evaluate(_VISIBLE_TEXT):
            text = item["text"]
            if item["quoted"] or not _LATIN.search(text) or _HAN.search(text):
                continue
            if not _latin_allowed(text, names):
                english.append(text)
    where = url or page.url
    assert not english, f"English in the Chinese page {where}: {sorted(set(english))[:20]}"
    return status


def _latin_allowed(text: str, names: Iterable[str]) -> bool:
    for name in names:
        if name and name in text:
            text = text.replace(name, " ")
    return all(_TOKEN_OK.match(token) for token in re.split(r"[\s,;·()\[\]]+", text) if token)
