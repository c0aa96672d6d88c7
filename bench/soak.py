"""The long hardening runs, as commands: kill -9 during saves, and concurrent readers during a load.

    python bench/soak.py kills --count 200            # embedded saves killed at random moments
    python bench/soak.py load --clients 50 --seconds 60 --backend embedded
    python bench/soak.py load --clients 50 --seconds 60 --backend neo4j   # starts its own Neo4j

Each prints one JSON document of figures (and exits non-zero if anything was lost);
RELIABILITY.md records them. ``tests/hardening/test_load.py`` runs a short ``load``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

SAVER = textwrap.dedent(
    """
    import os, sys
    from graph_service.backends.embedded import EmbeddedStore
    from loaders.load import WENZHOU_DATASET, load_dataset

    path = sys.argv[1]
    print("ready", flush=True)
    for _ in sys.stdin:  # one line per round: fork a child that loads and saves until killed
        pid = os.fork()
        if pid == 0:
            try:
                store = EmbeddedStore(path)
                load_dataset(WENZHOU_DATASET, store)
                while True:
                    store.save(path)
            finally:
                os._exit(3)
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(status, flush=True)
    """
)


def kills(count: int, seed: int) -> dict[str, Any]:
    """Kill -9 a process saving the embedded snapshot ``count`` times; check every snapshot left behind."""
    from graph_service.backends.embedded import EmbeddedStore
    from loaders.load import WENZHOU_DATASET, load_dataset

    with tempfile.TemporaryDirectory(prefix="innograph-kills-") as tmp:
        path = Path(tmp) / "graph.json"
        before_store = EmbeddedStore(path)
        load_dataset(ROOT / "tests" / "data" / "mini", before_store)
        before = path.read_bytes()
        after_store = EmbeddedStore(None)
        load_dataset(ROOT / "tests" / "data" / "mini", after_store)
        load_dataset(WENZHOU_DATASET, after_store)
        after = after_store.to_bytes()
        rng = random.Random(seed)
        outcome: Counter[str] = Counter()
        started = time.monotonic()
        with subprocess.Popen(
            [sys.executable, "-c", SAVER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        ) as saver:
            assert saver.stdin is not None and saver.stdout is not None
            try:
                assert saver.stdout.readline() == "ready\n"
                for _ in range(count):
                    before_store.save(path)
                    saver.stdin.write("go\n")
                    saver.stdin.flush()
                    child = int(saver.stdout.readline())
                    time.sleep(rng.uniform(0.0, 0.25))
                    os.kill(child, signal.SIGKILL)
                    status = int(saver.stdout.readline())
                    outcome["killed" if os.WIFSIGNALED(status) else "ended-itself"] += 1
                    if any(t.name.startswith(f".{path.name}.{child}.") for t in Path(tmp).iterdir()):
                        outcome["killed_mid_write"] += 1
                    data = path.read_bytes()
                    if data == before:
                        outcome["before"] += 1
                    elif data == after:
                        outcome["after"] += 1
                    else:
                        outcome["corrupt"] += 1
                    if EmbeddedStore(path).to_bytes() != data:
                        outcome["unopenable"] += 1
            finally:
                saver.kill()
    return {
        "command": f"python bench/soak.py kills --count {count} --seed {seed}",
        "rounds": count,
        "seconds": round(time.monotonic() - started, 1),
        "snapshot_equals_before": outcome["before"],
        "snapshot_equals_after": outcome["after"],
        "killed_mid_write": outcome["killed_mid_write"],
        "lost_or_corrupt": outcome["corrupt"] + outcome["unopenable"],
        "ok": outcome["corrupt"] == 0 and outcome["unopenable"] == 0 and outcome["killed"] == count,
    }


# -- concurrent readers while a dataset loads ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_api(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """A real uvicorn on loopback, with the app built from ``env``; waits until it answers."""
    import httpx

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "graph_service.app.api.app:create_app",
         "--port", str(port), "--log-level", "warning"],
        env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/health", timeout=5).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the API did not come up")


READS = [
    "/api/health",
    "/api/stats",
    "/api/search?q=society",
    "/api/industries/industry:wz:electrical/societies",
    "/api/entities?limit=20",
]


def readers(base: str, clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` threads reading for ``seconds``; latencies, statuses and node counts seen."""
    import httpx

    began_phase = time.monotonic()
    stop = began_phase + seconds
    latencies: list[float] = []
    slowest: list[tuple[float, str, float]] = []  # latency, path, seconds into the phase
    statuses: Counter[int] = Counter()
    counts: Counter[int] = Counter()
    lock = threading.Lock()

    def client(n: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            i = n
            while time.monotonic() < stop:
                path = READS[i % len(READS)]
                i += 1
                began = time.monotonic()
                response = http.get(path)
                took = time.monotonic() - began
                with lock:
                    latencies.append(took)
                    slowest.append((took, path, began - began_phase))
                    if len(slowest) > 50:
                        slowest.sort(reverse=True)
                        del slowest[5:]
                    statuses[response.status_code] += 1
                    if path == "/api/health" and response.status_code == 200:
                        counts[response.json()["nodes"]] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {
        "requests": len(latencies),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1) if latencies else None,
        "statuses": dict(statuses),
        "node_counts_seen": dict(counts),
        "slowest": [
            {"ms": round(took * 1000, 1), "path": path, "at_s": round(at, 2)}
            for took, path, at in sorted(slowest, reverse=True)[:5]
        ],
    }


def zipped_dataset(directory: Path) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(directory.iterdir()):
            zf.write(p, f"{directory.name}/{p.name}")
    return buffer.getvalue()


def _differences(seen: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """The counts that differ between two ``/api/stats`` answers, as ``{group.name: [seen, expected]}``."""
    out: dict[str, Any] = {}
    for group in sorted(set(seen) | set(expected)):
        a, b = seen.get(group) or {}, expected.get(group) or {}
        if not isinstance(a, dict) or not isinstance(b, dict):
            if a != b:
                out[group] = [a, b]
            continue
        for name in sorted(set(a) | set(b)):
            if a.get(name) != b.get(name):
                out[f"{group}.{name}"] = [a.get(name), b.get(name)]
    return out


def load_run(backend: str, clients: int, seconds: float, scale: str = "S") -> dict[str, Any]:
    """Readers against a real API, unloaded and then while ``POST /api/datasets`` loads a dataset."""
    import httpx

    from graph_service.backends.embedded import EmbeddedStore
    from loaders.generate import generate_dataset
    from loaders.load import load_dataset

    key = "soak-key"
    with tempfile.TemporaryDirectory(prefix="innograph-soak-") as tmp:
        data = Path(tmp) / "eco"
        generate_dataset(data, scale=scale, seed=11)  # type: ignore[arg-type]
        upload = zipped_dataset(data)
        mini = ROOT / "tests" / "data" / "mini"
        expected = EmbeddedStore(None)
        load_dataset(mini, expected)
        old_count = expected.counts().total_nodes
        load_dataset(data, expected)
        new_count = expected.counts().total_nodes
        new_counts = expected.counts().model_dump()
        env = {"INNOGRAPH_API_KEY": key, "INNOGRAPH_DATA_DIR": str(Path(tmp) / "store"),
               "INNOGRAPH_MAX_UPLOAD_BYTES": str(200 * 1024 * 1024)}  # fmt: skip
        server = None
        if backend == "neo4j":
            from neo4j_server import Neo4jServer

            from graph_service.backends.neo4j.store import Neo4jStore
            from graph_service.core.settings import Neo4jSettings

            server = Neo4jServer().start()
            settings = Neo4jSettings(uri=server.uri, user=server.user, password=server.password, timeout=60)
            env |= {"INNOGRAPH_BACKEND": "neo4j", "NEO4J_URI": server.uri, "NEO4J_USER": server.user,
                    "NEO4J_PASSWORD": server.password, "NEO4J_TIMEOUT": "60"}  # fmt: skip
            seed_store = Neo4jStore(settings)
            seed_store.clear()
            load_dataset(mini, seed_store)
            seed_store.close()
        else:
            seed = EmbeddedStore(Path(tmp) / "store" / "graph.json")
            load_dataset(mini, seed)
        proc, base = start_api(env)
        try:
            readers(base, clients, 2)  # warm-up: first calls build caches
            unloaded = readers(base, clients, min(max(seconds / 3, 5), 15))
            load_result: dict[str, Any] = {"statuses": Counter(), "seconds": [], "ended_at_s": []}
            window_starts = time.monotonic()
            window_ends = window_starts + seconds

            def post() -> None:  # uploads back to back for the whole window; the first one changes the graph
                while time.monotonic() < window_ends:
                    began = time.monotonic()
                    response = httpx.post(f"{base}/api/datasets", files={"file": ("eco.zip", upload)},
                                          headers={"X-API-Key": key}, timeout=600)  # fmt: skip
                    load_result["statuses"][response.status_code] += 1
                    load_result["seconds"].append(round(time.monotonic() - began, 1))
                    load_result["ended_at_s"].append(round(time.monotonic() - window_starts, 2))

            loader = threading.Thread(target=post)
            loader.start()
            loaded = readers(base, clients, seconds)
            loader.join()
            after = readers(base, clients, min(max(seconds / 3, 5), 15))  # unloaded again, on the new graph
            final = httpx.get(f"{base}/api/health", timeout=30).json()["nodes"]
            # /api/stats is answered from memory while the graph stays the same: after the load
            # (asked before it, during it and after it) it must give the new graph's counts
            stats = httpx.get(f"{base}/api/stats", timeout=30).json()
        finally:
            proc.terminate()
            _, stderr = proc.communicate(timeout=30)
            if server is not None:
                server.stop()
    five_xx = sum(n for phase in (unloaded, loaded, after) for s, n in phase["statuses"].items() if s >= 500)
    torn = {c: n for c, n in loaded["node_counts_seen"].items() if c not in (old_count, new_count)}
    baseline = max(unloaded["p99_ms"] or 0, after["p99_ms"] or 0)
    ratio = loaded["p99_ms"] / baseline if baseline else None
    return {
        "command": f"python bench/soak.py load --backend {backend} --clients {clients} --seconds {seconds:g} --scale {scale}",
        "backend": backend,
        "clients": clients,
        "seconds": seconds,
        "unloaded": unloaded,
        "during_load": loaded,
        "unloaded_after": after,
        "p99_baseline_ms": baseline,
        "loads": {
            "statuses": dict(load_result["statuses"]),
            "seconds": load_result["seconds"],
            "ended_at_s": load_result["ended_at_s"],
        },
        "old_and_new_node_counts": [old_count, new_count],
        "final_node_count": final,
        "stale_answer_after_load": stats != new_counts,
        "stats_after_load_differs": _differences(stats, new_counts),
        "reads_seeing_neither": sum(torn.values()),
        "five_xx": five_xx,
        "p99_ratio": round(ratio, 2) if ratio else None,
        "tracebacks_in_server_log": stderr.count("Traceback"),
        "ok": five_xx == 0
        and not torn
        and final == new_count
        and stats == new_counts
        and set(load_result["statuses"]) == {200},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="innograph hardening soak runs")
    sub = parser.add_subparsers(dest="what", required=True)
    k = sub.add_parser("kills", help="kill -9 the embedded store's process during saves")
    k.add_argument("--count", type=int, default=200)
    k.add_argument("--seed", type=int, default=20261127)
    ld = sub.add_parser("load", help="concurrent readers while a dataset loads through the API")
    ld.add_argument("--backend", choices=["embedded", "neo4j"], default="embedded")
    ld.add_argument("--clients", type=int, default=50)
    ld.add_argument("--seconds", type=float, default=60)
    ld.add_argument("--scale", default="S")
    args = parser.parse_args(argv)
    if args.what == "kills":
        result = kills(args.count, args.seed)
    else:
        result = load_run(args.backend, args.clients, args.seconds, args.scale)
    print(json.dumps(result, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
