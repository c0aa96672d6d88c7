"""The benchmark suite: load throughput, query latency, API throughput, views, snapshot, memory.

Every figure is a median of several runs (latencies: p50 and p99 over a fixed
sample of inputs, hubs and leaves alike), measured in one process beside its
baseline (Python's csv module reading the same files), so ratios hold on any machine.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.memory import keep_out_of_collections
from graph_service.core.ontology import NodeKind
from graph_service.core.settings import Neo4jSettings
from graph_service.core.store import GraphStore
from loaders.generate import generate_dataset
from loaders.load import load_dataset

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "scripts"))


def dataset(scale: str, seed: int = 1) -> Path:
    """The generated dataset of a scale, made once and kept under bench/results/."""
    out = RESULTS / f"data-{scale.lower()}-{seed}"
    if not (out / "dataset.toml").exists():
        generate_dataset(out, scale=scale, seed=seed)  # type: ignore[arg-type]
    return out


def csv_floor(path: Path) -> float:
    """Seconds Python's csv module takes just to read every file of a dataset."""
    started = time.perf_counter()
    for file in sorted(path.glob("*.csv")):
        with open(file, encoding="utf-8", newline="") as fh:
            for _ in csv.reader(fh):
                pass
    return time.perf_counter() - started


def relationship_count(path: Path) -> int:
    """Relationships in a generated dataset."""
    with open(path / "relationships.csv", encoding="utf-8") as fh:
        return sum(1 for _ in fh) - 1


def measure_load(
    store_factory: Callable[[], GraphStore], path: Path, runs: int, batch_size: int
) -> dict[str, Any]:
    """Median load time of a dataset into a fresh store, beside the csv floor.

    Wall-clock time is the figure; the CPU time of this process is given beside it, since on
    a machine shared with other work the wall clock also counts the time others had the cores
    (it is the whole cost for the embedded store; a Neo4j load's server time is not in it).
    """
    times, cpu_times, floors = [], [], []
    for _ in range(runs):
        store = store_factory()
        store.clear()
        gc.collect()
        floors.append(csv_floor(path))
        started, started_cpu = time.perf_counter(), time.process_time()
        load_dataset(path, store, batch_size=batch_size)
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - started_cpu)
        store.close()
    rels = relationship_count(path)
    median, floor = statistics.median(times), statistics.median(floors)
    return {
        "relationships": rels,
        "seconds_median": round(median, 3),
        "relationships_per_s": round(rels / median),
        "cpu_seconds_median": round(statistics.median(cpu_times), 3),
        "csv_floor_seconds": round(floor, 3),
        "ratio_to_csv_floor": round(median / floor, 1),
        "runs": runs,
        "batch_size": batch_size,
    }


def sample_inputs(store: GraphStore, n: int = 20, seed: int = 7) -> dict[str, list[str]]:
    """A fixed sample of query inputs: the busiest industries and societies, and random leaves."""
    rng = random.Random(seed)
    industries = [i.id for i in store.iter_nodes(NodeKind.INDUSTRY)]
    societies = [s.id for s in store.iter_nodes(NodeKind.SOCIETY)]
    enterprises = store.find_nodes(NodeKind.ENTERPRISE, limit=2000)

    def busiest(ids: list[str], k: int) -> list[str]:
        degree = {i: len(store.neighbors(i, limit=None)) for i in ids[:400]}
        return sorted(degree, key=lambda i: (-degree[i], i))[:k]

    half = n // 2
    return {
        "industries": busiest(industries, half) + rng.sample(industries, min(half, len(industries))),
        "societies": busiest(societies, half) + rng.sample(societies, min(half, len(societies))),
        "entities": [e.id for e in rng.sample(enterprises, min(n, len(enterprises)))],
    }


QUICK = {"sample": 2, "repeat": 1}
"""A smoke run's query sampling: two inputs, each asked once, no warm-up."""


def latency(
    func: Callable[[str], object], inputs: list[str], repeat: int = 3, warm_up: bool = True
) -> dict[str, float]:
    """p50 and p99 (milliseconds) of a query over its inputs, each asked ``repeat`` times after a warm-up."""
    for item in inputs[:2] if warm_up else ():
        func(item)
    samples = []
    for _ in range(repeat):
        for item in inputs:
            started = time.perf_counter()
            func(item)
            samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(_percentile(samples, 50), 2),
        "p99_ms": round(_percentile(samples, 99), 2),
        "n": len(samples),
    }


def measure_queries(store: GraphStore, quick: bool = False) -> dict[str, Any]:
    """p50/p99 of every catalog query over the fixed sample (``quick``: a tiny sample, for a smoke run)."""
    from queries.analytics import brokers
    from queries.explore import neighborhood, paths_between
    from queries.gaps import Scope, coverage_matrix, gap_analysis
    from queries.plans import changes, plan_progress
    from queries.recommend import recommendations
    from queries.search import search
    from queries.serving import industries_served_by, societies_serving

    inputs = sample_inputs(store, n=QUICK["sample"] if quick else 20)
    few = QUICK["repeat"] if quick else 3
    keep_out_of_collections()  # as the API does once it has opened its store

    def timed(func: Callable[[str], object], inputs: list[str], repeat: int = 3) -> dict[str, float]:
        return latency(func, inputs, min(repeat, few), warm_up=not quick)

    pairs = [f"{a}|{b}" for a, b in zip(inputs["societies"], inputs["industries"], strict=False)][:10]
    out: dict[str, Any] = {
        # the industry by itself, as these figures have always been taken; with its sub-industries
        # is what every surface now answers by default
        "societies_serving": timed(
            lambda i: societies_serving(store, i, include_sub_industries=False), inputs["industries"]
        ),
        "societies_serving_sub": timed(lambda i: societies_serving(store, i), inputs["industries"][:10]),
        "industries_served_by": timed(lambda s: industries_served_by(store, s), inputs["societies"]),
        "neighborhood_d2_cap200": timed(
            lambda e: neighborhood(store, e, depth=2, limit=200), inputs["entities"]
        ),
        "paths_k3_h4": timed(lambda p: paths_between(store, *p.split("|"), k=3, max_hops=4), pairs, repeat=1),
        "recommendations": timed(lambda i: recommendations(store, i), inputs["industries"][:10], repeat=1),
        "search": timed(
            lambda q: search(store, q),
            ["Society 1", "全国学会", "Enterprize 12", "synthetic class"][: 2 if quick else 4],
            repeat=3,
        ),
        "plan_progress": timed(lambda p: plan_progress(store, p), ["program:syn-plan"], repeat=3),
    }
    scope = Scope(taxonomy="syn")
    out["gap_analysis_all_industries"] = timed(lambda _: gap_analysis(store, scope), ["all"], repeat=3)
    out["coverage_matrix_all_industries"] = timed(lambda _: coverage_matrix(store, scope), ["all"], repeat=1)
    out["changes_one_year"] = timed(lambda _: changes(store, "2021", "2021-12"), ["2021"], repeat=3)
    if store.counts().total_relationships <= 200_000:
        out["brokers"] = timed(lambda _: brokers(store, limit=20), ["all"], repeat=1)
    return out


PEAK_KIB = (
    "import sys\n"
    "def peak_kib():\n"
    "    try:\n"
    "        with open('/proc/self/status') as status:\n"
    "            return next(int(l.split()[1]) for l in status if l.startswith('VmHWM:'))\n"
    "    except (OSError, StopIteration):\n"
    "        import resource\n"
    "        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "        return peak // 1024 if sys.platform == 'darwin' else peak\n"
)
"""Code for a child process that defines ``peak_kib()``: the most memory the process has held,
in KiB, since it started its program (``VmHWM``; ``ru_maxrss`` where there is no ``/proc``,
which macOS gives in bytes).
``ru_maxrss`` alone would report the benchmark process's own size: a child forked from it
inherits that high-water mark."""


def measure_snapshot(path: Path, runs: int = 3) -> dict[str, Any]:
    """Median save and reload time of the embedded snapshot, its size, and peak memory.

    Loading and saving run in a fresh process each run, so their peak memory belongs to one
    load alone; each reload runs in a fresh process of its own, as when a server starts on
    the snapshot, so its time and peak memory are the reload's alone. The peak is the child's
    own high-water mark (:data:`PEAK_KIB`), not ``ru_maxrss``, which Linux carries over from
    the benchmark process through ``fork`` and ``exec``.
    """
    load_and_save = (
        PEAK_KIB + "import json,sys,time\n"
        "from pathlib import Path\n"
        "from graph_service.backends.embedded import EmbeddedStore\n"
        "from loaders.load import load_dataset\n"
        "snap=Path(sys.argv[2]); snap.unlink(missing_ok=True)\n"
        "t=time.perf_counter(); s=EmbeddedStore(snap); load_dataset(Path(sys.argv[1]), s, batch_size=20000)\n"
        "load=time.perf_counter()-t\n"
        "t=time.perf_counter(); s.save(snap); save=time.perf_counter()-t\n"
        "print(json.dumps({'load':load,'save':save,'peak_kib':peak_kib(),'bytes':snap.stat().st_size}))\n"
    )
    reload = (
        PEAK_KIB + "import json,sys,time\n"
        "from graph_service.backends.embedded import EmbeddedStore\n"
        "t=time.perf_counter(); c=time.process_time(); EmbeddedStore(sys.argv[1])\n"
        "print(json.dumps({'reload':time.perf_counter()-t,'cpu':time.process_time()-c,'peak_kib':peak_kib()}))\n"
    )
    results, reloads = [], []
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = Path(tmp) / "graph.json"
        for _ in range(runs):
            results.append(_json_of(load_and_save, str(path), str(snapshot)))
            reloads.append(_json_of(reload, str(snapshot)))
    return {
        "load_seconds_median": round(statistics.median(r["load"] for r in results), 3),
        "save_seconds_median": round(statistics.median(r["save"] for r in results), 3),
        "reload_seconds_median": round(statistics.median(r["reload"] for r in reloads), 3),
        "reload_cpu_seconds_median": round(statistics.median(r["cpu"] for r in reloads), 3),
        "peak_memory_mib": round(max(r["peak_kib"] for r in results) / 1024),
        "reload_peak_memory_mib": round(max(r["peak_kib"] for r in reloads) / 1024),
        "snapshot_mib": round(results[0]["bytes"] / 2**20, 1),
        "runs": runs,
    }


def _json_of(code: str, *args: str) -> dict[str, Any]:
    """What a fresh interpreter running ``code`` from the checkout prints last, as JSON."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True, cwd=ROOT
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure_api(path: Path, workers: int, seconds: int = 10, connections: int = 16) -> dict[str, Any]:
    """Requests/s and latency percentiles from wrk against uvicorn on loopback, per route, twice:
    ``cached`` (the answer cache on, as served: a repeated question is answered from memory) and
    ``uncached`` (``INNOGRAPH_ANSWER_CACHE_BYTES=0``: every request runs its query, the real cost
    of a question). Each route is asked once before wrk starts, so a cached run measures hits."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    import urllib.request

    out: dict[str, Any] = {}
    routes = {
        "societies": "/api/industries/industry:syn:i0001/societies?limit=20",
        "neighborhood": "/api/entities/society:syn-000/neighborhood?depth=2&limit=200",
        "gaps": "/api/gaps?taxonomy=syn&level=division",
    }
    with tempfile.TemporaryDirectory() as data_dir:
        for mode, env in (("cached", {}), ("uncached", {"INNOGRAPH_ANSWER_CACHE_BYTES": "0"})):
            with _server(path, Path(data_dir), workers, env) as base:
                for name, route in routes.items():
                    with contextlib.suppress(OSError):  # the first answer (the one a cached run keeps)
                        urllib.request.urlopen(base + route, timeout=max(seconds, 60)).read()
                    done = subprocess.run(
                        [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", base + route],
                        check=True,
                        capture_output=True,
                        text=True,
                    )
                    out[f"{name} ({mode})"] = _parse_wrk(done.stdout)
    return out


@contextmanager
def _server(
    path: Path, data_dir: Path, workers: int, env_extra: dict[str, str] | None = None
) -> Iterator[str]:
    env = {
        **os.environ,
        "INNOGRAPH_DATA_DIR": str(data_dir),
        "INNOGRAPH_BACKEND": "embedded",
        **(env_extra or {}),
    }
    if not (data_dir / "graph.json").exists():  # loaded once per data directory
        subprocess.run(
            [sys.executable, "-m", "graph_service.app.cli", "load", str(path)],
            check=True,
            env=env,
            capture_output=True,
            cwd=ROOT,
        )
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "graph_service.app.cli",
            "serve",
            "--no-load",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        import urllib.request

        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/api/health", timeout=30).read()
                break
            except OSError:
                time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:  # slow requests still running: the measurement is over
            proc.kill()
            proc.wait(timeout=15)


def _parse_wrk(text: str) -> dict[str, Any]:
    def ms(value: str) -> float:
        number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
        return round(float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 2)

    percentiles = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", text, re.M))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    return {
        "requests_per_s": round(float(rps.group(1))) if rps else 0,
        "p50_ms": ms(percentiles["50"]) if "50" in percentiles else None,
        "p99_ms": ms(percentiles["99"]) if "99" in percentiles else None,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(sorted_samples: list[float], pct: float) -> float:
    if not sorted_samples:
        return 0.0
    index = min(len(sorted_samples) - 1, max(0, round(pct / 100 * len(sorted_samples) + 0.5) - 1))
    return sorted_samples[index]


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


@contextmanager
def neo4j_settings() -> Iterator[Neo4jSettings]:
    """A Neo4j to measure: NEO4J_URI's, or one started from Maven Central for the run.

    The server is configured as docker-compose.yml runs it (1 GiB heap, 512 MiB page cache) and
    with the full JIT, as the ``neo4j`` launcher starts it: the tests' quick-start C1-only JIT
    takes twice the server CPU for a load (M: 26.5 s against 12.4 s).
    """
    if os.environ.get("NEO4J_URI"):
        yield Neo4jSettings()
        return
    from neo4j_server import Neo4jServer

    server = Neo4jServer(heap="1g", pagecache="512m", c1_only=False)
    server.start()
    try:
        yield Neo4jSettings(uri=server.uri, user=server.user, password=server.password)
    finally:
        server.stop()


def embedded_factory() -> Callable[[], GraphStore]:
    """Fresh in-memory embedded stores."""
    return lambda: EmbeddedStore(None)
