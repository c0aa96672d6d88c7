"""The embedded store's snapshot: identical after a reload, safe to open, whole after a crash or a full disk."""

from __future__ import annotations

import gc
import os
import pickle
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from pydantic import BaseModel

from graph_service.backends import embedded
from graph_service.backends.embedded import SNAPSHOT_FORMAT, SNAPSHOT_VERSION, EmbeddedStore
from graph_service.core import memory
from graph_service.core.errors import BackendUnavailable, InvalidRequest
from graph_service.core.ontology import (
    NODE_MODELS,
    Basis,
    NodeKind,
    Program,
    Provenance,
    Relationship,
    RelType,
)
from loaders.load import WENZHOU_DATASET, load_dataset

MINI = Path(__file__).resolve().parent.parent / "data" / "mini"
MINI_V2 = MINI.parent / "snapshots" / "mini-v2.json"
"""The mini dataset as the previous release saved it (snapshot version 2)."""
CRASH_ROUNDS = 50
"""Saves killed at a random moment; each round takes a fraction of a second."""


def temps(snapshot: Path) -> list[Path]:
    """Temporary files a save leaves beside the snapshot while it writes."""
    return sorted(snapshot.parent.glob(f".{snapshot.name}.*.tmp"))


def mini_store(path: Path | None = None) -> EmbeddedStore:
    store = EmbeddedStore(path)
    load_dataset(MINI, store)
    return store


def test_save_then_reload_gives_an_identical_graph(tmp_path: Path) -> None:
    path = tmp_path / "graph.json"
    store = EmbeddedStore(path)
    load_dataset(MINI, store)
    load_dataset(WENZHOU_DATASET, store)  # load_dataset persists
    again = EmbeddedStore(path)
    assert again.to_bytes() == store.to_bytes() == path.read_bytes()
    assert list(again.iter_nodes()) == list(store.iter_nodes())
    assert list(again.iter_relationships()) == list(store.iter_relationships())
    assert again.counts() == store.counts()
    assert again.counts().total_nodes == 25 + 470 - 10  # ten of the mini ids are Wenzhou's too
    # the indexes are rebuilt too: names resolve and neighbours are found
    assert again.ids_by_name(["中国机械工程学会", "CMES"]) == {
        "中国机械工程学会": ["society:cmes"],
        "cmes": ["society:cmes"],
    }
    assert again.neighbors("society:cmes") == store.neighbors("society:cmes")
    assert temps(path) == []


def test_the_snapshot_is_the_same_bytes_for_the_same_graph(tmp_path: Path) -> None:
    a = mini_store(tmp_path / "a.json")
    b = EmbeddedStore(tmp_path / "b.json")
    load_dataset(MINI, b, batch_size=3)
    assert a.to_bytes() == b.to_bytes()
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    doc = orjson.loads(a.to_bytes())
    assert (doc["format"], doc["version"]) == (SNAPSHOT_FORMAT, SNAPSHOT_VERSION) == (SNAPSHOT_FORMAT, 3)


def version_1_doc(store: EmbeddedStore) -> dict[str, object]:
    """The same graph as the previous release wrote it: one entry per relationship."""
    return {
        "format": SNAPSHOT_FORMAT,
        "version": 1,
        "nodes": [n.to_props() for n in store.iter_nodes()],
        "relationships": [
            [r.source, r.type.value, r.target, r.to_props()] for r in store.iter_relationships()
        ],
    }


def test_a_snapshot_of_the_previous_version_opens_as_the_same_graph(tmp_path: Path) -> None:
    store = mini_store(None)
    load_dataset(WENZHOU_DATASET, store)
    old = EmbeddedStore(write_doc(tmp_path / "old.json", version_1_doc(store)))
    assert old.to_bytes() == store.to_bytes()
    assert list(old.iter_relationships()) == list(store.iter_relationships())
    old.persist()  # opening is not a change: the old file stays as it was until the graph changes
    assert orjson.loads((tmp_path / "old.json").read_bytes())["version"] == 1


def test_a_snapshot_of_version_2_opens_as_the_same_graph(tmp_path: Path) -> None:
    store = mini_store(None)
    old = EmbeddedStore(MINI_V2)
    assert old.to_bytes() == store.to_bytes()
    assert list(old.iter_nodes()) == list(store.iter_nodes())
    assert list(old.iter_relationships()) == list(store.iter_relationships())
    assert old.neighbors("society:cmes") == store.neighbors("society:cmes")
    assert old.ids_by_name(["CMES", "中国机械工程学会"]) == store.ids_by_name(["CMES", "中国机械工程学会"])


def test_nodes_and_relationships_are_stored_column_wise_with_shared_provenance(tmp_path: Path) -> None:
    store = mini_store(None)
    doc = orjson.loads(store.to_bytes())
    ids = [i for kind in sorted(doc["nodes"]) for i in doc["nodes"][kind]["id"]]
    assert ids == sorted(store._nodes)  # each kind in id order, the kinds in the order of their prefixes
    societies = doc["nodes"]["Society"]
    assert len(societies["name"]) == len(societies["id"]) == store.counts().nodes["Society"]
    assert "description" not in doc["nodes"]["Region"]  # all default: left out
    serves = doc["relationships"]["SERVES"]
    assert set(serves) >= {"source", "target", "provenance"}
    assert len(serves["source"]) == len(serves["target"]) == store.counts().relationships["SERVES"]
    pairs = list(zip(serves["source"], serves["target"], strict=True))
    assert pairs == sorted(pairs)
    assert {ids[i] for i in serves["source"]} == {
        r.source for r in store.iter_relationships([RelType.SERVES])
    }
    used = {i for cols in doc["relationships"].values() for i in cols["provenance"]}
    used |= {i for cols in doc["nodes"].values() for i in cols["provenance"]}
    assert used == set(range(len(doc["provenance"])))  # every entry used, none repeated
    assert len({tuple(p) for p in doc["provenance"]}) == len(doc["provenance"])


def test_nodes_read_from_a_snapshot_are_indistinguishable_from_validated_ones(tmp_path: Path) -> None:
    store = mini_store(tmp_path / "graph.json")
    load_dataset(WENZHOU_DATASET, store)
    again = EmbeddedStore(tmp_path / "graph.json")
    for node in again.iter_nodes():
        validated = type(node).model_validate(node.model_dump())
        assert node == validated
        assert list(node.__dict__.items()) == list(validated.__dict__.items())
        assert node.to_props() == validated.to_props()
        assert node.model_copy(update={"name": "x"}) == validated.model_copy(update={"name": "x"})
        assert pickle.loads(pickle.dumps(node)) == validated
    program = next(n for n in again.iter_nodes(NodeKind.PROGRAM) if isinstance(n, Program) and n.targets)
    other = next(n for n in again.iter_nodes(NodeKind.PROGRAM) if n is not program)
    assert isinstance(other, Program)
    assert program.targets is not other.targets  # each node has its own dict
    rel = next(again.iter_relationships())
    assert rel.model_copy(update={"role": "x"}).role == "x"


def test_the_snapshot_checks_every_field_the_models_check() -> None:
    """A new validator on a node model is applied by the snapshot reader, or fails here."""
    for model in NODE_MODELS.values():
        decorators = model.__pydantic_decorators__
        assert not decorators.model_validators
        assert not decorators.validators
        assert not decorators.root_validators
        assert model.model_post_init is BaseModel.model_post_init
        modes = {d.info.mode for d in decorators.field_validators.values()}
        assert modes <= {"before", "after", "wrap", "plain"}


def test_the_name_index_of_a_reopened_store_follows_later_writes(tmp_path: Path) -> None:
    path = tmp_path / "graph.json"
    mini_store(path)
    again = EmbeddedStore(path)
    cmes = again.get_node("society:cmes")
    assert cmes is not None
    again.upsert_nodes([cmes.model_copy(update={"name": "Mechanical Society", "aliases": ()})])
    twin = again.clone()
    for store in (again, twin):
        assert store.ids_by_name(["CMES", "mechanical society", "中国机械工程学会"]) == {
            "cmes": [],
            "mechanical society": ["society:cmes"],
            "中国机械工程学会": ["society:cmes"],
        }


def test_relationships_out_of_order_in_a_hand_edited_snapshot_are_put_in_order(tmp_path: Path) -> None:
    store = mini_store(None)
    doc = orjson.loads(store.to_bytes())
    for cols in doc["relationships"].values():
        for values in cols.values():
            values.reverse()
    again = EmbeddedStore(write_doc(tmp_path / "graph.json", doc))
    assert again.to_bytes() == store.to_bytes()
    for node_id in ("society:cmes", "industry:gbt4754:c38"):
        assert again.neighbors(node_id) == store.neighbors(node_id)


def test_writes_after_a_reload_give_a_node_neighbours_where_it_had_none(tmp_path: Path) -> None:
    """A reloaded layer shares one read-only empty map among the nodes with no neighbours in a
    direction (organization:cast has members but is a member of nothing; society:cie has no
    members): a write gives such a node neighbours of its own, in the store and in a clone,
    as in the graph that was saved, and leaves the other nodes' (and the original's) as they were."""
    path = tmp_path / "graph.json"
    saved = mini_store(path)
    again = EmbeddedStore(path)
    twin = again.clone()
    before = again.to_bytes()
    prov = Provenance(source="test", basis=Basis.SYNTHETIC)
    new = [
        Relationship(
            source="organization:cast", type=RelType.MEMBER_OF, target="organization:wast", provenance=prov
        ),
        Relationship(
            source="talent:zhang-wei", type=RelType.MEMBER_OF, target="society:cie", provenance=prov
        ),
    ]
    for store in (saved, twin):
        summary = store.upsert_relationships(new)
        assert summary.relationships["MEMBER_OF"].created == 2
    assert twin.to_bytes() == saved.to_bytes() != before
    assert again.to_bytes() == before  # the clone's writes are its own
    again.upsert_relationships(new)
    assert again.to_bytes() == saved.to_bytes()
    for node_id in (
        "organization:cast",
        "organization:wast",
        "society:cie",
        "society:cmes",
        "talent:zhang-wei",
    ):
        assert again.neighbors(node_id) == twin.neighbors(node_id) == saved.neighbors(node_id)
    assert again.neighbors("society:cmes", direction="in", types=[RelType.MEMBER_OF]) == []


def test_a_large_reload_or_load_is_settled_before_the_collector_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The graph is frozen out of the collector's sight while it is still paused: otherwise its
    first run goes over every object the reload or the load made (~0.5 s at L). Here the mini
    graph counts as large, and the collector runs as soon as ten objects are young: no run may
    find more than a few dozen young objects (the reload makes ~250, the load ~120)."""
    path = tmp_path / "graph.json"
    mini_store(path)
    monkeypatch.setattr(embedded.graph, "SETTLE_AT", 1)
    young: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            young.append(len(gc.get_objects(generation=0)))

    thresholds = gc.get_threshold()
    gc.collect()
    gc.callbacks.append(note)
    gc.set_threshold(10)
    try:
        EmbeddedStore(path)
        load_dataset(MINI, EmbeddedStore(None))
    finally:
        gc.set_threshold(*thresholds)
        gc.callbacks.remove(note)
        gc.unfreeze()
    assert max(young, default=0) < 60


def test_relationships_that_questions_build_are_frozen_out_of_the_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reloaded graph keeps its relationships packed and builds each on its first read; a
    server's questions build them by the hundred thousand, and a full collection that goes
    over them all lands on a question (250 ms at L). Every ``FREEZE_EVERY`` built, they are
    frozen: here every 5, so at most 4 of the Wenzhou graph's are left in the collector's sight."""
    path = tmp_path / "graph.json"
    store = EmbeddedStore(path)
    load_dataset(WENZHOU_DATASET, store)
    store.persist()
    reloaded = EmbeddedStore(path)
    monkeypatch.setattr(memory, "FREEZE_EVERY", 5)
    gc.collect()
    try:
        built = list(reloaded.iter_relationships())
        ours = {id(rel) for rel in built}
        in_sight = [o for o in gc.get_objects() if id(o) in ours]
    finally:
        gc.unfreeze()
    assert len(built) == reloaded.counts().total_relationships > 100
    assert len(in_sight) < 5
    # still the same relationships, read again without building them twice
    assert list(reloaded.iter_relationships()) == built
    assert all(a is b for a, b in zip(reloaded.iter_relationships(), built, strict=True))


def test_persist_without_a_path_or_without_changes_writes_nothing(tmp_path: Path) -> None:
    mini_store(None).persist()  # in memory only: nothing to do, no error
    path = tmp_path / "graph.json"
    mini_store(path)
    before = path.stat().st_mtime_ns
    reopened = EmbeddedStore(path)
    load_dataset(MINI, reopened)  # all unchanged
    assert path.stat().st_mtime_ns == before


# -- snapshots that must not be trusted -------------------------------------------------


def write_doc(path: Path, doc: object) -> Path:
    path.write_bytes(orjson.dumps(doc))
    return path


def good_doc() -> dict[str, object]:
    return orjson.loads(mini_store(None).to_bytes())


class _Boom:
    """Unpickling this creates a file: proof that a loader unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def test_pickle_bytes_are_refused_without_being_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    path = tmp_path / "graph.json"
    path.write_bytes(pickle.dumps({"format": SNAPSHOT_FORMAT, "payload": _Boom(marker)}))
    with pytest.raises(InvalidRequest) as info:
        EmbeddedStore(path)
    assert info.value.message.startswith(f"the snapshot {path} is not valid JSON")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is not valid JSON"),
        (b"not json at all", "is not valid JSON"),
        (b'{"format": "innograph-snapshot", "version": 1, "nodes": [', "is not valid JSON"),
        (b"[" * 5000 + b"]" * 5000, "is not valid JSON"),
        (b"[]", "is not an innograph snapshot"),
        (b'{"nodes": [], "relationships": []}', "is not an innograph snapshot"),
        (b'{"format": "graphml", "version": 1}', "is not an innograph snapshot"),
        (
            b'{"format": "innograph-snapshot", "version": 4, "nodes": {}, "relationships": {}}',
            "has version 4",
        ),
        (b'{"format": "innograph-snapshot", "version": 3, "nodes": []}', "holds an invalid entry"),
        (
            b'{"format": "innograph-snapshot", "version": 3, "nodes": {}, "provenance": [], "relationships": []}',
            "holds an invalid entry",
        ),
        (b'{"format": "innograph-snapshot", "version": 1}', "holds an invalid entry"),
        (b'{"format": "innograph-snapshot", "version": 2, "nodes": []}', "holds an invalid entry"),
        (
            b'{"format": "innograph-snapshot", "version": 2, "nodes": [], "provenance": {}, "relationships": {}}',
            "holds an invalid entry",
        ),
    ],
)
def test_malformed_snapshots_are_refused_clearly(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "graph.json"
    path.write_bytes(content)
    with pytest.raises(InvalidRequest) as info:
        EmbeddedStore(path)
    assert str(path) in info.value.message
    assert message in info.value.message
    assert "Traceback" not in info.value.message


def test_version_mismatch_says_which_version_is_read(tmp_path: Path) -> None:
    doc = good_doc()
    doc["version"] = 4
    with pytest.raises(InvalidRequest) as info:
        EmbeddedStore(write_doc(tmp_path / "graph.json", doc))
    assert info.value.message == (
        f"the snapshot {tmp_path / 'graph.json'} has version 4; this innograph reads versions 1, 2, 3."
    )


# Each spoils a good snapshot of version 3 (nodes per kind) or 2 (a list of nodes) in one way.


def _bad_kind(doc: dict) -> None:
    if doc["version"] == 2:
        doc["nodes"][0]["kind"] = "Gadget"
    else:
        doc["nodes"]["Gadget"] = doc["nodes"].pop("Society")


def _extra_field(doc: dict) -> None:
    if doc["version"] == 2:
        doc["nodes"][0]["__class__"] = "os.system"
    else:
        doc["nodes"]["Society"]["__class__"] = ["os.system"] * len(doc["nodes"]["Society"]["id"])


def _bad_id(doc: dict) -> None:
    if doc["version"] == 2:
        doc["nodes"][0]["id"] = "society:has a space"
    else:
        doc["nodes"]["Society"]["id"][0] = "society:has a space"


def _id_with_a_line_break(
    doc: dict,
) -> None:  # one regular expression over the joined ids must not take it for two
    ids = doc["nodes"]["Society"]["id"]
    ids[0] = f"{ids[0]}\n{ids[0]}x"


def _node_not_object(doc: dict) -> None:
    if doc["version"] == 2:
        doc["nodes"].append(42)
    else:
        doc["nodes"]["Park"] = 42


def _id_of_another_kind(doc: dict) -> None:
    doc["nodes"]["Society"]["id"][-1] = "talent:zz"  # still in id order


def _id_not_text(doc: dict) -> None:
    doc["nodes"]["Society"]["id"][0] = 7


def _repeated_node(doc: dict) -> None:
    ids = doc["nodes"]["Society"]["id"]
    ids[1] = ids[0]


def _nodes_out_of_order(doc: dict) -> None:
    cols = doc["nodes"]["Society"]
    for values in cols.values():
        values.reverse()


def _no_name_column(doc: dict) -> None:
    del doc["nodes"]["Society"]["name"]


def _short_node_column(doc: dict) -> None:
    doc["nodes"]["Society"]["name"].pop()


def _node_column_not_a_list(doc: dict) -> None:
    doc["nodes"]["Society"]["name"] = "CMES"


def _empty_name(doc: dict) -> None:
    doc["nodes"]["Society"]["name"][0] = "   "


def _bad_level(doc: dict) -> None:
    doc["nodes"]["Society"]["level"] = ["galactic"] * len(doc["nodes"]["Society"]["id"])


def _negative_companies(doc: dict) -> None:
    doc["nodes"]["Park"]["companies"] = [-1] * len(doc["nodes"]["Park"]["id"])


def _negative_target(doc: dict) -> None:
    doc["nodes"]["Program"]["targets"][0] = {"doctoral_station": -1}


def _node_provenance_out_of_range(doc: dict) -> None:
    doc["nodes"]["Society"]["provenance"][0] = len(doc["provenance"])


def _node_provenance_not_a_number(doc: dict) -> None:
    doc["nodes"]["Society"]["provenance"][0] = True


def _bad_pair(doc: dict) -> None:
    doc["relationships"]["ADVISES"] = doc["relationships"].pop("SERVES")


def _unknown_type(doc: dict) -> None:
    doc["relationships"]["DROP_ALL"] = doc["relationships"].pop("SERVES")


def _short_column(doc: dict) -> None:
    doc["relationships"]["SERVES"]["target"].pop()


def _unknown_column(doc: dict) -> None:
    doc["relationships"]["SERVES"]["weight"] = [1] * len(doc["relationships"]["SERVES"]["source"])


def _dangling(doc: dict) -> None:
    doc["relationships"]["SERVES"]["target"][0] = "industry:nowhere"


def _dangling_position(doc: dict) -> None:
    doc["relationships"]["SERVES"]["target"][0] = sum(len(cols["id"]) for cols in doc["nodes"].values())


def _negative_position(doc: dict) -> None:
    doc["relationships"]["SERVES"]["source"][0] = -1


def _position_not_a_number(doc: dict) -> None:
    doc["relationships"]["SERVES"]["source"][0] = True


def _repeated(doc: dict) -> None:
    cols = doc["relationships"]["SERVES"]
    for values in cols.values():
        values[1] = values[0]


def _bad_basis(doc: dict) -> None:
    doc["provenance"][0][2] = "rumour"


def _provenance_out_of_range(doc: dict) -> None:
    doc["relationships"]["SERVES"]["provenance"][0] = len(doc["provenance"])


def _negative_provenance(doc: dict) -> None:
    doc["relationships"]["SERVES"]["provenance"][0] = -1


def _bad_date(doc: dict) -> None:
    cols = doc["relationships"]["SERVES"]
    cols["since"] = ["2021-02-30"] * len(cols["source"])


def _long_role(doc: dict) -> None:
    cols = doc["relationships"]["SERVES"]
    cols["role"] = ["x" * 3000] * len(cols["source"])


def _self_loop(doc: dict) -> None:
    cols = doc["relationships"]["PART_OF"]
    cols["target"][0] = cols["source"][0]


_EITHER_VERSION = [
    _bad_kind,
    _extra_field,
    _bad_id,
    _node_not_object,
    _bad_pair,
    _unknown_type,
    _short_column,
    _unknown_column,
    _dangling,
    _repeated,
    _bad_basis,
    _provenance_out_of_range,
    _negative_provenance,
    _bad_date,
    _long_role,
    _self_loop,
]
_VERSION_3 = [
    _id_of_another_kind,
    _id_with_a_line_break,
    _id_not_text,
    _repeated_node,
    _nodes_out_of_order,
    _no_name_column,
    _short_node_column,
    _node_column_not_a_list,
    _empty_name,
    _bad_level,
    _negative_companies,
    _negative_target,
    _node_provenance_out_of_range,
    _node_provenance_not_a_number,
    _dangling_position,
    _negative_position,
    _position_not_a_number,
]


@pytest.mark.parametrize(
    ("version", "spoil"),
    [(3, spoil) for spoil in _EITHER_VERSION + _VERSION_3] + [(2, spoil) for spoil in _EITHER_VERSION],
    ids=lambda value: value.__name__.strip("_") if callable(value) else f"v{value}",
)
def test_a_snapshot_with_an_invalid_entry_is_refused(
    tmp_path: Path, version: int, spoil: Callable[[dict], None]
) -> None:
    doc = good_doc() if version == 3 else orjson.loads(MINI_V2.read_bytes())
    spoil(doc)
    path = write_doc(tmp_path / "graph.json", doc)
    with pytest.raises(InvalidRequest) as info:
        EmbeddedStore(path)
    assert info.value.message.startswith(f"the snapshot {path} holds an invalid entry: ")
    assert "\n" not in info.value.message
    assert "Traceback" not in info.value.message


def test_an_unreadable_snapshot_is_a_backend_error(tmp_path: Path) -> None:
    path = tmp_path / "graph.json"
    path.mkdir()
    with pytest.raises(BackendUnavailable, match=f"cannot read the snapshot {path}"):
        EmbeddedStore(path)


# -- crashes and full disks -------------------------------------------------------------

SAVER = textwrap.dedent(
    """
    import os, sys
    from graph_service.backends.embedded import EmbeddedStore
    from loaders.load import WENZHOU_DATASET, load_dataset

    path = sys.argv[1]
    EmbeddedStore(path)  # warm: what a first read prepares (validators of each column) is inherited
    print("ready", flush=True)
    for _ in sys.stdin:  # one line per round: fork a child that loads and saves until killed
        pid = os.fork()
        if pid == 0:
            try:
                store = EmbeddedStore(path)  # the before-state, from the snapshot
                load_dataset(WENZHOU_DATASET, store)  # the after-state (saved once here)
                while True:
                    store.save(path)
            finally:
                os._exit(3)
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(status, flush=True)
    """
)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_save_killed_at_any_moment_leaves_a_whole_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "graph.json"
    before_store = mini_store(path)
    before = path.read_bytes()
    after_store = mini_store(None)
    load_dataset(WENZHOU_DATASET, after_store)
    after = after_store.to_bytes()
    assert before != after

    rng = random.Random(20260127)
    outcomes = {"before": 0, "after": 0}
    killed_mid_write = 0
    # The saver forks each round's child from a warm interpreter, so a round costs
    # milliseconds rather than an interpreter start.
    with subprocess.Popen(
        [sys.executable, "-c", SAVER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent.parent,
    ) as saver:
        try:
            assert saver.stdout is not None and saver.stdin is not None
            assert saver.stdout.readline() == "ready\n"
            for _ in range(CRASH_ROUNDS):
                before_store.save(path)  # every round starts from the before-state
                assert path.read_bytes() == before
                saver.stdin.write("go\n")
                saver.stdin.flush()
                child = int(saver.stdout.readline())
                time.sleep(rng.uniform(0.0, 0.25))
                os.kill(child, signal.SIGKILL)
                status = int(saver.stdout.readline())
                assert os.WIFSIGNALED(status), "the saving child ended on its own"
                assert os.WTERMSIG(status) == signal.SIGKILL
                if any(t.name.startswith(f".{path.name}.{child}.") for t in temps(path)):
                    killed_mid_write += 1
                data = path.read_bytes()
                assert data in (before, after), "a killed save left a half-written snapshot"
                outcomes["before" if data == before else "after"] += 1
                assert EmbeddedStore(path).to_bytes() == data  # and it opens
        finally:
            saver.kill()
    # the kills landed on both sides of the rename, and some in the middle of writing
    assert outcomes["before"] > 0
    assert outcomes["after"] > 0
    assert killed_mid_write > 0, outcomes
    # leftovers of killed saves never confuse a load, and the next save sweeps them away
    reopened = EmbeddedStore(path)
    assert reopened.to_bytes() in (before, after)
    load_dataset(WENZHOU_DATASET, reopened)
    reopened.save(path)
    assert temps(path) == []
    assert EmbeddedStore(path).to_bytes() == after


def test_a_stale_temp_file_is_ignored_then_swept_but_a_live_one_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "graph.json"
    store = mini_store(path)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".graph.json.{dead_pid}.1.tmp"
    stale.write_bytes(b'{"format": "innograph-snapshot", "version": 1, "nod')  # half a snapshot
    live_process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / f".graph.json.{live_process.pid}.1.tmp"
        live.write_bytes(b"being written")
        assert EmbeddedStore(path).to_bytes() == store.to_bytes()
        store.save(path)
        assert not stale.exists()
        assert live.exists()
    finally:
        live_process.kill()
        live_process.wait()


DISK_FULL = textwrap.dedent(
    """
    import resource, signal, sys
    from graph_service.backends.embedded import EmbeddedStore
    from graph_service.core.errors import BackendUnavailable
    from loaders.load import WENZHOU_DATASET, load_dataset

    path, limit = sys.argv[1], int(sys.argv[2])
    store = EmbeddedStore(path)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        load_dataset(WENZHOU_DATASET, store)
    except BackendUnavailable as exc:
        print(exc.message)
        sys.exit(7)
    sys.exit(0)
    """
)


def test_a_full_disk_fails_the_save_and_keeps_the_previous_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "graph.json"
    mini_store(path)
    before = path.read_bytes()
    limit = len(before) + 1000  # room for the old graph, not for the new one
    result = subprocess.run(
        [sys.executable, "-c", DISK_FULL, str(path), str(limit)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent.parent,
    )
    assert result.returncode == 7, result.stderr
    message = result.stdout.strip()
    assert message.startswith(f"could not save the snapshot {path}: File too large;")
    assert "the previous snapshot is unchanged" in message
    assert "INNOGRAPH_DATA_DIR" in message
    assert "Traceback" not in result.stderr
    assert path.read_bytes() == before
    assert temps(path) == []
    assert EmbeddedStore(path).counts().total_nodes == 25
