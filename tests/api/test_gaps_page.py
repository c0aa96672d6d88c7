"""The gaps page as a planner reads it: most severe first, whom to approach, what to complete."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graph_service.app.api.app import create_app
from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.settings import Settings
from loaders.load import WENZHOU_DATASET, load_dataset


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    directory = tmp_path_factory.mktemp("gaps-page")
    store = EmbeddedStore(Settings(data_dir=directory).snapshot_path)
    load_dataset(WENZHOU_DATASET, store)
    store.close()
    with TestClient(create_app(Settings(data_dir=Path(directory)))) as c:
        yield c


def rows(page: str) -> list[str]:
    table = page.split('<table class="gaps" id="gap-table">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", table, re.S)


def test_the_worst_gap_comes_first_with_whom_to_approach(client: TestClient) -> None:
    page = client.get("/gaps", params={"taxonomy": "wenzhou-5+5"}).text
    first = rows(page)[0]
    assert "Pumps and valves" in first
    approach = first.split('<div class="approach small">', 1)[1].split("</div>", 1)[0]
    names = re.findall(r'<a href="[^"]+">([^<]+)</a>', approach)
    assert names[0] == "Chinese Mechanical Engineering Society"
    assert len(names) == 3
    assert "(1 + demand) ÷ (1 + supply)" in page


def test_agreements_covering_nothing_are_listed_for_a_curator(client: TestClient) -> None:
    page = client.get("/gaps", params={"taxonomy": "wenzhou-5+5"}).text
    section = page.split('id="data-quality"', 1)[1].split("</section>", 1)[0]
    assert "Wenzhou and Chinese Mechanical Engineering Society strategic cooperation agreement" in section
    chinese = client.get("/gaps", params={"taxonomy": "wenzhou-5+5", "lang": "zh"}).text
    section = chinese.split('id="data-quality"', 1)[1].split("</section>", 1)[0]
    assert "数据质量" in section and "尚未对应任何产业的合作协议" in section
    assert "中国机械工程学会" in rows(chinese)[0]  # whom to approach, named in Chinese
