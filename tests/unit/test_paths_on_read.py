"""A tally's example paths are built when read, once each, and only those read: an answer
shows one page of ends' evidence, and building every kept path cost more than the walk."""

from __future__ import annotations

from pathlib import Path as FsPath

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.ontology import NodeKind
from graph_service.core.store import Path, PathsOnRead
from loaders.load import load_dataset
from queries.common import BASIS_WEIGHT
from queries.serving import CHANNELS

WENZHOU = FsPath(__file__).resolve().parents[2] / "loaders" / "datasets" / "wenzhou"


def test_paths_are_built_when_read_and_once() -> None:
    store = EmbeddedStore(None)
    load_dataset(WENZHOU, store)
    paths = [
        path
        for industry in store.iter_nodes(NodeKind.INDUSTRY)
        for path in store.match_paths(industry.id, CHANNELS["program"][0], limit=None)
    ][:4]
    assert len(paths) == 4
    built: list[int] = []

    def build(index: int) -> Path:
        built.append(index)
        return paths[index]

    lazy = PathsOnRead(build)
    for index in range(4):
        lazy.add(index)
    assert len(lazy) == 4 and built == []
    assert lazy[1] is paths[1] and lazy[-1] is paths[3]
    assert lazy[:2] == paths[:2]
    assert built == [1, 3, 0]  # the second read of path 1 built nothing
    assert lazy == paths and list(lazy) == paths
    assert built == [1, 3, 0, 2]


def test_an_embedded_tally_builds_only_the_examples_read() -> None:
    store = EmbeddedStore(None)
    load_dataset(WENZHOU, store)
    industry = max(
        (i.id for i in store.iter_nodes(NodeKind.INDUSTRY)),
        key=lambda i: len(store.match_paths(i, CHANNELS["program"][0], limit=None)),
    )
    tallies = store.tally_paths(industry, CHANNELS["program"][0], weights=BASIS_WEIGHT, keep=5)
    assert tallies
    for end, tally in tallies.items():
        assert isinstance(tally.examples, PathsOnRead)
        assert tally.examples._built == [None] * len(tally.examples)  # nothing built yet
        first = tally.examples[0]
        assert first.nodes[0].id == industry and first.nodes[-1].id == end
        assert tally.examples._built[1:] == [None] * (len(tally.examples) - 1)
