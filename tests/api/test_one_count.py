"""One definition of "serves": every surface gives the same count of societies for an industry.

The home tiles, the industry page, its coverage view, the gaps API, the societies API and
the CLI each answer "how many societies serve this industry?" for the ten 5+5 industries of
the bundled Wenzhou data, sub-industries included by default; the switch that excludes
them changes the industry page, its view and the API together.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from graph_service.app.api.app import create_app
from graph_service.app.cli import cli
from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.settings import Settings
from loaders.load import WENZHOU_DATASET, load_dataset

TAXONOMY = "wenzhou-5+5"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("one-count")
    store = EmbeddedStore(Settings(data_dir=directory).snapshot_path)
    load_dataset(WENZHOU_DATASET, store)
    store.close()
    return directory


@pytest.fixture(scope="module")
def client(data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=data_dir))) as c:
        yield c


def home_tiles(client: TestClient) -> dict[str, int]:
    page = client.get("/", params={"taxonomy": TAXONOMY}).text
    return {
        industry: int(n)
        for industry, n in re.findall(r'data-industry="([^"]+)" data-societies="(\d+)"', page)
    }


def page_total(client: TestClient, industry: str, **params: str) -> int:
    page = client.get(f"/industries/{industry}", params=params).text
    found = re.search(r'id="serving-total" data-societies="(\d+)"', page)
    assert found, page[:500]
    return int(found.group(1))


def view_societies(client: TestClient, href: str) -> int:
    view = client.get(href.replace("&amp;", "&")).text
    data = re.search(r'<script[^>]*id="graph-data"[^>]*>(.*?)</script>', view, re.S)
    assert data
    return sum(1 for node in json.loads(data.group(1))["nodes"] if node.get("group") == "Society")


def frame_href(client: TestClient, industry: str, **params: str) -> str:
    page = client.get(f"/industries/{industry}", params=params).text
    found = re.search(r'<iframe class="view" id="coverage-frame" src="([^"]+)"', page)
    assert found
    return found.group(1)


def test_every_surface_gives_the_same_count_for_every_priority_industry(
    client: TestClient, data_dir: Path
) -> None:
    gaps = client.get("/api/gaps", params={"taxonomy": TAXONOMY}).json()
    from_gaps = {row["industry"]["id"]: row["supply"]["societies"] for row in gaps["rows"]}
    assert len(from_gaps) == 10
    tiles = home_tiles(client)
    assert tiles == from_gaps
    runner = CliRunner()
    served_somewhere = 0
    for industry, count in from_gaps.items():
        api = client.get(f"/api/industries/{industry}/societies", params={"limit": 200}).json()
        assert api["total"] == count, industry
        assert page_total(client, industry) == count, industry
        assert view_societies(client, frame_href(client, industry)) == count, industry
        printed = runner.invoke(cli, ["societies", industry, "--format", "json", "--data-dir", str(data_dir)])
        assert printed.exit_code == 0, printed.output
        assert json.loads(printed.output)["total"] == count, industry
        served_somewhere += count > 0
    assert served_somewhere >= 5  # the comparison is not over zeros alone


def test_excluding_sub_industries_changes_the_page_its_view_and_the_api_together(
    client: TestClient,
) -> None:
    # 电气 is served through its sub-industry (Wenzhou's electrical industry) as well as itself
    industry = "industry:wenzhou-5-5:electrical"
    with_subs = page_total(client, industry)
    alone = page_total(client, industry, include_sub_industries="false")
    assert alone < with_subs
    href = frame_href(client, industry, include_sub_industries="false")
    assert view_societies(client, href) == alone
    api = client.get(f"/api/industries/{industry}/societies", params={"include_sub_industries": "false"})
    assert api.json()["total"] == alone
    # the form sends false, then true when the box is ticked: ticked means included
    both = client.get(
        f"/industries/{industry}",
        params=[("include_sub_industries", "false"), ("include_sub_industries", "true")],
    ).text
    assert f'data-societies="{with_subs}"' in both
