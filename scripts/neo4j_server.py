#!/usr/bin/env python3
"""A real, throw-away Neo4j Community 5.26 LTS server for tests and developers.

Stdlib only.  The server jars come from Maven Central through the machine's ``mvn``
(artifacts ``org.neo4j:neo4j`` and ``org.neo4j.app:neo4j-server`` with their runtime
dependencies), are cached once, and the server is launched with plain ``java`` (17 or
newer): ``org.neo4j.server.CommunityEntryPoint`` with a generated ``neo4j.conf`` in a
fresh temporary home.  Bolt listens on 127.0.0.1 only, on a free port, with
authentication on and a random password for the user ``neo4j``.

Library use (e.g. from a pytest fixture)::

    from neo4j_server import Neo4jServer, java_available

    with Neo4jServer() as server:          # start() ... stop()
        driver = neo4j.GraphDatabase.driver(server.uri, auth=(server.user, server.password))
        ...
        server.restart()                   # same port, same data
        server.kill()                      # SIGKILL, data dir kept
        server.start()                     # recovers the killed database

Command line: ``python scripts/neo4j_server.py --help``.

Environment:
    INNOGRAPH_NEO4J_CACHE  directory holding the cached ``lib/`` (default
                           ``~/.cache/innograph/neo4j-<version>``)
    JAVA_HOME              the JVM to use (else ``java`` on PATH)
    MVN                    the Maven executable to use (else ``mvn`` on PATH)
    INNOGRAPH_NEO4J_CDS    ``0`` disables the class-data-sharing archive (faster starts)
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import fcntl
import functools
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

__all__ = [
    "ARTIFACTS",
    "ENTRY_CLASS",
    "NEO4J_VERSION",
    "Neo4jServer",
    "Neo4jServerError",
    "bolt_ping",
    "build_cds_archive",
    "cache_dir",
    "fetch",
    "is_fetched",
    "java_available",
]

NEO4J_VERSION = "5.26.30"
"""Newest 5.26 LTS patch on Maven Central when this was written."""

ARTIFACTS: tuple[str, ...] = ("org.neo4j:neo4j", "org.neo4j.app:neo4j-server")
"""``org.neo4j:neo4j`` holds the kernel, Cypher, Bolt and the entry point;
``org.neo4j.app:neo4j-server`` holds ``CommunityBootstrapper`` (not a dependency of the former)."""

ENTRY_CLASS = "org.neo4j.server.CommunityEntryPoint"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1"
DEFAULT_USER = "neo4j"
MIN_JAVA = 17

_MARKER = ".innograph-fetched.json"
_LOG_NAME = "console.log"

# JVM flags the ``neo4j`` launcher script/bootloader would add (minus the ones that only
# matter for production, such as -XX:+AlwaysPreTouch, which would touch the whole heap).
_JVM_FLAGS: tuple[str, ...] = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "-Dlog4j2.disable.jmx=true",
    "-Dlog4j.layout.jsonTemplate.maxStringLength=32768",
    "-Dfile.encoding=UTF-8",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
)


class Neo4jServerError(RuntimeError):
    """Fetching, starting or talking to the Neo4j server failed."""


# --------------------------------------------------------------------------- fetch


def cache_dir(version: str = NEO4J_VERSION) -> Path:
    """Return the cache directory for ``version`` (``lib/`` lives inside it).

    ``INNOGRAPH_NEO4J_CACHE`` replaces the default ``~/.cache/innograph/neo4j-<version>``.
    """
    env = os.environ.get("INNOGRAPH_NEO4J_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "innograph" / f"neo4j-{version}"


def _marker_payload(version: str) -> dict[str, Any]:
    return {"version": version, "artifacts": list(ARTIFACTS), "entry_class": ENTRY_CLASS}


def is_fetched(version: str = NEO4J_VERSION, cache: Path | None = None) -> bool:
    """Tell whether the jars for ``version`` are complete in the cache (no Maven needed)."""
    root = cache or cache_dir(version)
    try:
        payload = json.loads((root / _MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(
        isinstance(payload, dict)
        and {k: payload.get(k) for k in ("version", "artifacts", "entry_class")} == _marker_payload(version)
        and any((root / "lib").glob("neo4j-server-*.jar"))
    )


def _pom(version: str) -> str:
    deps = "\n".join(
        f"    <dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
        f"<version>{version}</version></dependency>"
        for group, artifact in (a.split(":") for a in ARTIFACTS)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by innograph scripts/neo4j_server.py; only used to fetch the Neo4j jars. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.innograph</groupId>
  <artifactId>neo4j-server-jars</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
{deps}
  </dependencies>
</project>
"""


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (serialises concurrent fetches)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fetch(version: str = NEO4J_VERSION, cache: Path | None = None, *, quiet: bool = True) -> Path:
    """Make sure the server jars are cached and return the ``lib`` directory.

    The first call runs ``mvn dependency:copy-dependencies`` on a generated pom; later
    calls only read the marker file and run no Maven at all.
    """
    root = cache or cache_dir(version)
    lib = root / "lib"
    if is_fetched(version, root):
        return lib
    with _file_lock(root / ".lock"):
        if is_fetched(version, root):  # another process fetched while we waited
            return lib
        mvn = os.environ.get("MVN") or shutil.which("mvn")
        if not mvn:
            raise Neo4jServerError("Maven ('mvn') is needed once to fetch the Neo4j jars")
        (root / _MARKER).unlink(missing_ok=True)
        staging = root / "lib.partial"
        shutil.rmtree(staging, ignore_errors=True)
        (root / "pom.xml").write_text(_pom(version), encoding="utf-8")
        cmd = [
            mvn,
            "-B",
            *(["-q"] if quiet else []),
            "-f",
            str(root / "pom.xml"),
            f"{DEPENDENCY_PLUGIN}:copy-dependencies",
            f"-DoutputDirectory={staging}",
            "-DincludeScope=runtime",
        ]
        result = subprocess.run(cmd, cwd=root, capture_output=quiet, text=True, check=False)
        if result.returncode != 0:
            detail = ((result.stdout or "") + (result.stderr or ""))[-4000:]
            raise Neo4jServerError(
                f"Maven failed ({result.returncode}) fetching Neo4j {version}: {' '.join(cmd)}\n{detail}"
            )
        if not any(staging.glob("neo4j-server-*.jar")):
            raise Neo4jServerError(f"Maven produced no neo4j-server jar in {staging}")
        shutil.rmtree(lib, ignore_errors=True)
        staging.rename(lib)
        marker = _marker_payload(version) | {"jars": len(list(lib.glob("*.jar")))}
        (root / _MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return lib


# --------------------------------------------------------------------------- java


def _java_executable() -> str | None:
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("java")


@functools.lru_cache(maxsize=8)
def _java_version_text(java: str) -> str | None:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stderr + out.stdout if out.returncode == 0 else None


def _java_major(java: str) -> int | None:
    text = _java_version_text(java)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text or "")
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def java_available() -> bool:
    """Tell whether a Java runtime that can run Neo4j 5 (17 or newer) is installed."""
    java = _java_executable()
    if java is None:
        return False
    major = _java_major(java)
    return major is not None and major >= MIN_JAVA


# --------------------------------------------------------------------------- class data sharing
#
# Loading and verifying ~200 jars' classes dominates startup on a small machine.  A dynamic
# AppCDS archive (``-XX:ArchiveClassesAtExit``) written by the first server that stops
# gracefully cuts every later start roughly in half.  The archive is tied to the exact JVM
# and jar set, so its name hashes both; a stale or foreign archive is never used.


def _cds_enabled_by_env() -> bool:
    return os.environ.get("INNOGRAPH_NEO4J_CDS", "1").strip().lower() not in {"0", "false", "no"}


def _classpath(lib: Path, plugins: Path | None = None) -> str:
    jars = sorted(lib.glob("*.jar"))
    if plugins is not None:
        jars += sorted(plugins.glob("*.jar"))
    return os.pathsep.join(str(jar) for jar in jars)


def _cds_archive(java: str, lib: Path) -> Path | None:
    """Return where the CDS archive for this JVM and jar set lives (may not exist yet)."""
    version_text = _java_version_text(java)
    if version_text is None:
        return None
    key = hashlib.sha256(
        "\n".join((os.path.realpath(java), version_text, _classpath(lib))).encode()
    ).hexdigest()[:16]
    return lib.parent / "cds" / f"neo4j-{key}.jsa"


_CDS_QUIET = ("-Xlog:cds=off", "-Xlog:cds+dynamic=off")


class _CdsDump:
    """An archive being written by one running JVM (holds a lock so only one JVM dumps)."""

    def __init__(self, archive: Path, lock: Any) -> None:
        self.archive = archive
        self.partial = archive.with_name(f"{archive.name}.{secrets.token_hex(4)}.partial")
        self._lock = lock

    @classmethod
    def begin(cls, archive: Path) -> _CdsDump | None:
        """Take the dump lock for ``archive``; ``None`` if another process holds it."""
        try:
            archive.parent.mkdir(parents=True, exist_ok=True)
            lock = (archive.parent / f"{archive.name}.lock").open("a")
        except OSError:
            return None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            return None
        return cls(archive, lock)

    @property
    def flags(self) -> list[str]:
        """The JVM flags that write the archive at exit."""
        return [f"-XX:ArchiveClassesAtExit={self.partial}", *_CDS_QUIET]

    def finish(self, *, clean_exit: bool) -> None:
        """Publish the archive if the JVM exited cleanly, else discard it; release the lock."""
        try:
            if clean_exit and self.partial.is_file() and self.partial.stat().st_size > 1 << 20:
                os.replace(self.partial, self.archive)
            else:
                self.partial.unlink(missing_ok=True)
        except OSError:
            pass
        finally:
            self._lock.close()


# --------------------------------------------------------------------------- bolt probe


def _pack(value: Any) -> bytes:
    """Encode ``value`` in PackStream (the subset the probe needs)."""
    if value is None:
        return b"\xc0"
    if isinstance(value, bool):
        return b"\xc3" if value else b"\xc2"
    if isinstance(value, int):
        if -16 <= value < 128:
            return struct.pack(">b", value)
        return b"\xcb" + struct.pack(">q", value)
    if isinstance(value, str):
        data = value.encode("utf-8")
        size = len(data)
        if size < 16:
            return bytes([0x80 | size]) + data
        if size < 256:
            return b"\xd0" + bytes([size]) + data
        return b"\xd1" + struct.pack(">H", size) + data
    if isinstance(value, dict):
        if len(value) >= 16:
            raise ValueError("map too large for the probe")
        body = b"".join(_pack(k) + _pack(v) for k, v in value.items())
        return bytes([0xA0 | len(value)]) + body
    raise TypeError(f"cannot pack {type(value).__name__}")


class _Unpacker:
    """Decode PackStream (enough of it for SUCCESS/FAILURE/RECORD messages)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def _sized(self, marker: int, tiny_base: int, base8: int) -> int:
        if tiny_base <= marker < tiny_base + 16:
            return marker - tiny_base
        width = {base8: 1, base8 + 1: 2, base8 + 2: 4}[marker]
        return int.from_bytes(self._take(width), "big")

    def value(self) -> Any:
        marker = self._take(1)[0]
        if marker < 0x80 or marker >= 0xF0:
            return struct.unpack(">b", bytes([marker]))[0]
        fixed: dict[int, Any] = {0xC0: None, 0xC2: False, 0xC3: True}
        if marker in fixed:
            return fixed[marker]
        if marker == 0xC1:
            return struct.unpack(">d", self._take(8))[0]
        if 0xC8 <= marker <= 0xCB:
            width = 1 << (marker - 0xC8)
            return int.from_bytes(self._take(width), "big", signed=True)
        if 0xCC <= marker <= 0xCE:
            return self._take(self._sized(marker, 0x100, 0xCC))
        if 0x80 <= marker < 0x90 or 0xD0 <= marker <= 0xD2:
            return self._take(self._sized(marker, 0x80, 0xD0)).decode("utf-8", "replace")
        if 0x90 <= marker < 0xA0 or 0xD4 <= marker <= 0xD6:
            return [self.value() for _ in range(self._sized(marker, 0x90, 0xD4))]
        if 0xA0 <= marker < 0xB0 or 0xD8 <= marker <= 0xDA:
            size = self._sized(marker, 0xA0, 0xD8)
            return {self.value(): self.value() for _ in range(size)}
        if 0xB0 <= marker < 0xC0:
            tag = self._take(1)[0]
            return (tag, [self.value() for _ in range(marker - 0xB0)])
        raise ValueError(f"unsupported PackStream marker 0x{marker:02X}")


class _BoltAuthError(Neo4jServerError):
    """The server answered but refused the credentials."""


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("Bolt connection closed by the server")
        buf += chunk
    return buf


def _send_message(sock: socket.socket, tag: int, *fields: Any) -> None:
    body = bytes([0xB0 | len(fields), tag]) + b"".join(_pack(f) for f in fields)
    sock.sendall(struct.pack(">H", len(body)) + body + b"\x00\x00")


def _recv_message(sock: socket.socket) -> tuple[int, list[Any]]:
    data = b""
    while True:
        (size,) = struct.unpack(">H", _recv_exact(sock, 2))
        if size == 0:
            break
        data += _recv_exact(sock, size)
    message = _Unpacker(data).value()
    if not isinstance(message, tuple):
        raise ConnectionError("malformed Bolt message")
    return message


_SUCCESS, _RECORD, _IGNORED, _FAILURE = 0x70, 0x71, 0x7E, 0x7F
_HELLO, _GOODBYE, _RUN, _PULL = 0x01, 0x02, 0x10, 0x3F


def _expect(sock: socket.socket, what: str) -> list[list[Any]]:
    """Read until a summary; return the RECORD rows; raise on FAILURE/IGNORED."""
    rows: list[list[Any]] = []
    while True:
        tag, fields = _recv_message(sock)
        if tag == _RECORD:
            rows.append(fields[0] if fields else [])
            continue
        if tag == _SUCCESS:
            return rows
        meta = fields[0] if fields and isinstance(fields[0], dict) else {}
        code = str(meta.get("code", ""))
        text = f"{what}: {code or 'IGNORED'} {meta.get('message', '')}".strip()
        if code.startswith("Neo.ClientError.Security."):
            raise _BoltAuthError(text)
        raise ConnectionError(text)


def bolt_ping(host: str, port: int, user: str, password: str, *, timeout: float = 5.0) -> None:
    """Run ``RETURN 1`` over Bolt with stdlib sockets; raise if the server is not serving.

    Handshake (magic ``0x6060B017`` + version proposals 5.0 and 4.4), HELLO with basic auth,
    RUN + PULL, GOODBYE.  Raises ``ConnectionError``/``OSError`` while the server is not
    (yet) up and ``Neo4jServerError`` when it refuses the credentials.
    """
    with socket.create_connection((host, port), timeout=timeout) as sock:
        proposals = b"\x00\x00\x00\x05" + b"\x00\x00\x04\x04" + b"\x00" * 8
        sock.sendall(b"\x60\x60\xb0\x17" + proposals)
        agreed = _recv_exact(sock, 4)
        if agreed == b"\x00\x00\x00\x00":
            raise Neo4jServerError("server supports neither Bolt 5.0 nor 4.4")
        hello = {
            "user_agent": "innograph-neo4j-probe/1",
            "scheme": "basic",
            "principal": user,
            "credentials": password,
        }
        _send_message(sock, _HELLO, hello)
        _expect(sock, "HELLO")
        _send_message(sock, _RUN, "RETURN 1 AS ok", {}, {})
        _send_message(sock, _PULL, {"n": -1})
        _expect(sock, "RUN")
        rows = _expect(sock, "PULL")
        if rows != [[1]]:
            raise ConnectionError(f"unexpected probe result {rows!r}")
        with contextlib.suppress(OSError):
            _send_message(sock, _GOODBYE)


# --------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _auth_ini_line(user: str, password: str) -> str:
    """Serialise a user the way ``neo4j-admin dbms set-initial-password`` does.

    ``data/dbms/auth.ini`` holds ``user:SHA-256,<hash>,<salt>,<iterations>:<flags>``, the
    hash being SHA-256 over ``salt + password``, re-hashed for 1024 iterations in total
    (Shiro ``SimpleHash``).  The system database imports it on its first start.
    """
    iterations = 1024
    salt = secrets.token_bytes(32)
    digest = hashlib.sha256(salt + password.encode("utf-8")).digest()
    for _ in range(iterations - 1):
        digest = hashlib.sha256(digest).digest()
    return f"{user}:SHA-256,{digest.hex()},{salt.hex()},{iterations}:\n"


def _pdeathsig_setter() -> Callable[[], None] | None:
    """Return a ``preexec_fn`` that makes Linux SIGTERM the child when this thread dies.

    The libc lookup happens here, in the parent, so the forked child only makes one call.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig, sigterm = 1, int(signal.SIGTERM)

    def _preexec() -> None:
        prctl(pr_set_pdeathsig, sigterm, 0, 0, 0)

    return _preexec


_LIVE: set[Neo4jServer] = set()


@atexit.register
def _stop_all() -> None:
    for server in list(_LIVE):
        with contextlib.suppress(Exception):
            server.stop()


class Neo4jServer:
    """A Neo4j Community server process bound to 127.0.0.1 with auth on.

    ``start()`` creates a temporary home (conf, data, logs, ...), picks free ports on the
    first start, writes the initial password and waits until Bolt answers ``RETURN 1``.
    ``restart()`` and ``kill()`` + ``start()`` keep the port and the data directory;
    ``stop()`` also deletes the home unless ``keep_home`` (or an explicit ``home``) is given.
    ``last_start_seconds`` is the time from launching the JVM to the first good ``RETURN 1``.
    """

    def __init__(
        self,
        *,
        password: str | None = None,
        port: int | None = None,
        http_port: int | None = None,
        home: str | os.PathLike[str] | None = None,
        keep_home: bool = False,
        heap: str = "1g",
        pagecache: str = "256m",
        startup_timeout: float = 120.0,
        stop_timeout: float = 30.0,
        version: str = NEO4J_VERSION,
        cache: str | os.PathLike[str] | None = None,
        extra_conf: Mapping[str, str] | None = None,
        jvm_args: Sequence[str] = (),
        cds: bool | None = None,
        c1_only: bool = True,
    ) -> None:
        """Configure (but do not start) a server.

        ``port``/``http_port``: fixed ports (default: free Bolt port, HTTP disabled; pass
        ``http_port=0`` for a free HTTP port).  ``home``: use/keep this directory instead
        of a temporary one.  ``extra_conf``: more ``neo4j.conf`` settings.  ``jvm_args``: more
        JVM flags.  ``cds``: use/build the class-data-sharing archive that halves startup
        (default on unless ``INNOGRAPH_NEO4J_CDS=0``).  ``c1_only``: JIT with C1 only, which
        halves the startup CPU and is no slower for test-sized queries; pass ``False`` for
        benchmarks of long-running Cypher.
        """
        self._password = password or secrets.token_urlsafe(18)
        self._port = port or 0
        self._http_port = http_port
        self._home = Path(home).resolve() if home is not None else None
        self._owns_home = home is None
        self.keep_home = keep_home or home is not None
        self.heap = heap
        self.pagecache = pagecache
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.version = version
        self._cache = Path(cache).resolve() if cache is not None else None
        self.extra_conf = dict(extra_conf or {})
        self.jvm_args = tuple(jvm_args)
        self.cds = _cds_enabled_by_env() if cds is None else cds
        self._cds_dump: _CdsDump | None = None
        self.c1_only = c1_only
        self._proc: subprocess.Popen[bytes] | None = None
        self.last_start_seconds: float | None = None

    # ----------------------------------------------------------------- properties

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return "127.0.0.1"

    @property
    def port(self) -> int:
        """The Bolt port (0 before the first start when none was given)."""
        return self._port

    @property
    def http_port(self) -> int | None:
        """The HTTP port, or ``None`` when the HTTP connector is off."""
        return self._http_port

    @property
    def uri(self) -> str:
        """``bolt://127.0.0.1:PORT``."""
        return f"bolt://{self.host}:{self._port}"

    @property
    def user(self) -> str:
        """The user name (``neo4j``)."""
        return DEFAULT_USER

    @property
    def password(self) -> str:
        """The password of ``user``."""
        return self._password

    @property
    def home(self) -> Path | None:
        """The server home directory (conf, data, logs), once created."""
        return self._home

    @property
    def log_path(self) -> Path | None:
        """The file receiving the server's stdout/stderr."""
        return self._home / "logs" / _LOG_NAME if self._home else None

    @property
    def pid(self) -> int | None:
        """The JVM's process id while it runs."""
        return self._proc.pid if self._proc and self._proc.poll() is None else None

    def is_running(self) -> bool:
        """Tell whether the JVM process is alive (not necessarily serving)."""
        return self._proc is not None and self._proc.poll() is None

    def env(self) -> dict[str, str]:
        """The ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD`` variables for clients."""
        return {"NEO4J_URI": self.uri, "NEO4J_USER": self.user, "NEO4J_PASSWORD": self.password}

    def ping(self, timeout: float = 5.0) -> bool:
        """Tell whether Bolt answers ``RETURN 1`` right now."""
        try:
            bolt_ping(self.host, self._port, self.user, self.password, timeout=timeout)
        except (OSError, Neo4jServerError):
            return False
        return True

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """Start the server (reusing the home, port and data if it ran before) and wait."""
        if self.is_running():
            return self
        java = _java_executable()
        if java is None:
            raise Neo4jServerError("no 'java' found (set JAVA_HOME or put java on PATH)")
        lib = fetch(self.version, self._cache)
        picked_port = self._prepare_home()
        _LIVE.add(self)  # from here on, interpreter exit stops it and removes a temp home
        attempts = 3 if picked_port else 1
        for attempt in range(attempts):
            began = time.monotonic()
            self._launch(java, lib)
            try:
                self._wait_ready()
            except Neo4jServerError as exc:
                port_clash = "Address already in use" in str(exc)
                self._terminate(graceful=False)
                if port_clash and attempt + 1 < attempts:
                    self._port = _free_port()
                    self._write_conf()
                    continue
                raise
            self.last_start_seconds = time.monotonic() - began
            break
        return self

    def stop(self) -> None:
        """Stop gracefully (SIGTERM, then SIGKILL after ``stop_timeout``) and clean up."""
        self._terminate(graceful=True)
        _LIVE.discard(self)
        if self._home is not None and not self.keep_home and self._owns_home:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None

    def restart(self) -> Self:
        """Stop gracefully and start again on the same port with the same data."""
        self._terminate(graceful=True)
        return self.start()

    def kill(self) -> None:
        """SIGKILL the server (crash simulation); the home is kept for a later ``start()``."""
        self._terminate(graceful=False)

    def __enter__(self) -> Self:
        """Start the server."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server and clean up."""
        self.stop()

    def __repr__(self) -> str:
        """Show where the server listens and whether it runs."""
        state = "running" if self.is_running() else "stopped"
        return f"<Neo4jServer {self.uri} {state} home={self._home}>"

    # ----------------------------------------------------------------- internals

    def _prepare_home(self) -> bool:
        """Create/refresh the home; return whether a Bolt port was picked just now."""
        if self._home is None:
            self._home = Path(tempfile.mkdtemp(prefix="innograph-neo4j-"))
        for sub in ("conf", "data/dbms", "logs", "run", "plugins", "import", "licenses"):
            (self._home / sub).mkdir(parents=True, exist_ok=True)
        picked = False
        if not self._port:  # a home from an earlier run keeps its port
            self._port = self._conf_port("server.bolt.listen_address") or 0
        if not self._port:
            self._port, picked = _free_port(), True
        if self._http_port == 0:
            self._http_port = self._conf_port("server.http.listen_address") or _free_port()
        self._write_conf()
        auth = self._home / "data" / "dbms" / "auth.ini"
        system_db = self._home / "data" / "databases" / "system"
        if not system_db.exists():
            auth.write_text(_auth_ini_line(self.user, self._password), encoding="utf-8")
            auth.chmod(0o600)
        return picked

    def _conf_port(self, key: str) -> int | None:
        """Read the port of ``key`` from an existing ``neo4j.conf`` in the home."""
        assert self._home is not None
        conf = self._home / "conf" / "neo4j.conf"
        if not conf.exists():
            return None
        pattern = re.compile(rf"^{re.escape(key)}=.*:(\d+)\s*$", re.MULTILINE)
        match = pattern.search(conf.read_text(encoding="utf-8"))
        return int(match.group(1)) if match else None

    def _write_conf(self) -> None:
        assert self._home is not None
        bolt = f"{self.host}:{self._port}"
        conf: dict[str, str] = {
            "server.default_listen_address": self.host,
            "server.default_advertised_address": self.host,
            "server.bolt.enabled": "true",
            "server.bolt.listen_address": bolt,
            "server.bolt.advertised_address": bolt,
            "server.bolt.tls_level": "DISABLED",
            "server.http.enabled": "false",
            "server.https.enabled": "false",
            "dbms.security.auth_enabled": "true",
            "dbms.usage_report.enabled": "false",
            "server.memory.heap.initial_size": self.heap,
            "server.memory.heap.max_size": self.heap,
            "server.memory.pagecache.size": self.pagecache,
            "db.tx_log.preallocate": "false",
            # Open transactions delay a graceful stop by this much (default 10s).
            "db.shutdown_transaction_end_timeout": "2s",
            # Netty waits 2 x 5 s of "quiet period" on shutdown by default.
            "internal.dbms.bolt.netty_server_shutdown_quiet_period": "0",
            "internal.dbms.bolt.netty_server_shutdown_timeout": "5s",
            # As docker-compose.yml: keep-alive messages during every request, every 4 s, so the
            # server tells the driver (connection.recv_timeout_seconds = 4 s x 2 probes = 8 s) how
            # long a connection may stay silent; without it a stalled network hangs a call for
            # the default hint of 120 s.
            "server.bolt.connection_keep_alive_for_requests": "ALL",
            "server.bolt.connection_keep_alive": "4s",
            "server.bolt.connection_keep_alive_probes": "2",
        }
        if self._http_port is not None:
            conf["server.http.enabled"] = "true"
            conf["server.http.listen_address"] = f"{self.host}:{self._http_port}"
            conf["server.http.advertised_address"] = f"{self.host}:{self._http_port}"
        conf.update(self.extra_conf)
        text = "# Generated by innograph scripts/neo4j_server.py\n" + "".join(
            f"{key}={value}\n" for key, value in conf.items()
        )
        (self._home / "conf" / "neo4j.conf").write_text(text, encoding="utf-8")

    def _cds_flags(self, java: str, lib: Path) -> list[str]:
        """Use the CDS archive if there is one, else try to become the JVM that writes it."""
        if not self.cds:
            return []
        archive = _cds_archive(java, lib)
        if archive is None:
            return []
        if archive.is_file():
            return [f"-XX:SharedArchiveFile={archive}", *_CDS_QUIET]
        self._cds_dump = _CdsDump.begin(archive)
        return self._cds_dump.flags if self._cds_dump else []

    def _command(self, java: str, lib: Path) -> list[str]:
        assert self._home is not None
        return [
            java,
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            *_JVM_FLAGS,
            *self._cds_flags(java, lib),
            *(["-XX:TieredStopAtLevel=1"] if self.c1_only else []),
            *self.jvm_args,
            "-cp",
            _classpath(lib, self._home / "plugins"),
            ENTRY_CLASS,
            f"--home-dir={self._home}",
            f"--config-dir={self._home / 'conf'}",
            "--console-mode",
        ]

    def _launch(self, java: str, lib: Path) -> None:
        assert self._home is not None and self.log_path is not None
        env = dict(os.environ, NEO4J_HOME=str(self._home), NEO4J_CONF=str(self._home / "conf"))
        in_main = threading.current_thread() is threading.main_thread()
        with self.log_path.open("ab") as log:
            log.write(f"\n=== innograph: starting Neo4j {self.version} ===\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                self._command(java, lib),
                cwd=self._home,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # Only the main thread: PDEATHSIG fires when the *thread* that forked exits.
                preexec_fn=_pdeathsig_setter() if in_main else None,
            )

    def _log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        with self.log_path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            text = handle.read().decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        last_error = "no answer yet"
        while True:
            code = self._proc.poll()
            if code is not None:
                raise Neo4jServerError(
                    f"Neo4j exited with code {code} during startup; log {self.log_path}:\n{self._log_tail()}"
                )
            try:
                bolt_ping(self.host, self._port, self.user, self._password, timeout=5.0)
                if self._http_port is not None:  # the web server starts after Bolt
                    socket.create_connection((self.host, self._http_port), timeout=5.0).close()
                return
            except _BoltAuthError as exc:
                raise Neo4jServerError(
                    f"Neo4j refused user {self.user!r} with our password ({exc}); a reused "
                    "home keeps the password it was first started with"
                ) from exc
            except (OSError, Neo4jServerError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            if time.monotonic() >= deadline:
                raise Neo4jServerError(
                    f"Neo4j did not answer on {self.uri} within {self.startup_timeout:.0f} s "
                    f"(last: {last_error}); log {self.log_path}:\n{self._log_tail()}"
                )
            time.sleep(0.2)

    def _terminate(self, *, graceful: bool) -> None:
        proc = self._proc
        if proc is None:
            return
        clean_exit = graceful
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM if graceful else signal.SIGKILL)
            # Writing the CDS archive (~100 MB) at exit takes a few extra seconds.
            patience = self.stop_timeout + (120 if self._cds_dump else 0)
            try:
                proc.wait(timeout=patience if graceful else 30)
            except subprocess.TimeoutExpired:
                clean_exit = False
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        else:
            clean_exit = False  # it died on its own (crash, startup failure)
        self._proc = None
        if self._cds_dump is not None:
            self._cds_dump.finish(clean_exit=clean_exit)
            self._cds_dump = None


def build_cds_archive(version: str = NEO4J_VERSION, cache: Path | None = None) -> Path | None:
    """Build the class-data-sharing archive now (one throw-away server start and stop).

    Returns the archive, or ``None`` without Java 17+ or while another process builds it.
    Servers build it on their own otherwise, during their first graceful stop.
    """
    java = _java_executable()
    if java is None or not java_available():
        return None
    lib = fetch(version, cache)
    archive = _cds_archive(java, lib)
    if archive is None or archive.is_file():
        return archive
    server = Neo4jServer(version=version, cache=cache, cds=True)
    try:
        server.start()
    finally:
        server.stop()
    return archive if archive.is_file() else None


# --------------------------------------------------------------------------- CLI

_EPILOG = """\
examples:
  # download the jars once (needs mvn; later runs need no Maven at all)
  python scripts/neo4j_server.py fetch

  # run a server in the foreground; Ctrl-C stops it and deletes its data
  python scripts/neo4j_server.py run

  # in another shell / a CI script: run in the background, then load the variables
  python scripts/neo4j_server.py run --env-file /tmp/neo4j.env &
  while [ ! -s /tmp/neo4j.env ]; do sleep 1; done
  set -a; . /tmp/neo4j.env; set +a      # exports NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD

  # fixed port and password, keep the data directory afterwards
  python scripts/neo4j_server.py run --port 7687 --password secret-pass --home /tmp/neo4j-dev

from Python (e.g. a pytest fixture; scripts/ on sys.path):
  from neo4j_server import Neo4jServer, java_available
  with Neo4jServer() as server:    # server.uri / .user / .password; .restart(), .kill()
      ...

environment:
  INNOGRAPH_NEO4J_CACHE  cache directory (default ~/.cache/innograph/neo4j-VERSION)
  JAVA_HOME              JVM to use (Java 17+), else java on PATH
  MVN                    Maven executable for 'fetch', else mvn on PATH
  INNOGRAPH_NEO4J_CDS    0 = no class-data-sharing archive (it halves the startup time)
"""


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="neo4j_server.py",
        description=(
            f"Fetch (via Maven Central) and run a local Neo4j Community {NEO4J_VERSION} "
            "server for innograph tests and development: Bolt on 127.0.0.1, auth on, "
            "random password, throw-away data directory."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--neo4j-version", default=NEO4J_VERSION, help="Neo4j version (default %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)
    fetch_p = sub.add_parser(
        "fetch", help="download the server jars into the cache and build the CDS archive"
    )
    fetch_p.add_argument("--verbose", action="store_true", help="show Maven's output")
    fetch_p.add_argument(
        "--no-cds",
        dest="cds",
        action="store_false",
        help="skip the one-off server run that builds the class-data-sharing archive",
    )
    run_p = sub.add_parser(
        "run",
        help="start a server, print NEO4J_* variables, stay in the foreground until Ctrl-C",
    )
    run_p.add_argument("--port", type=int, default=None, help="Bolt port (default: a free one)")
    run_p.add_argument("--http-port", type=int, default=None, help="enable HTTP on this port (0: a free one)")
    run_p.add_argument("--password", default=None, help="password (default: random)")
    run_p.add_argument("--home", default=None, help="server home to use and keep")
    run_p.add_argument("--keep", action="store_true", help="keep the temporary home on exit")
    run_p.add_argument("--heap", default="1g", help="JVM heap (default %(default)s)")
    run_p.add_argument("--pagecache", default="256m", help="page cache (default %(default)s)")
    run_p.add_argument(
        "--timeout", type=float, default=120.0, help="startup timeout in s (default %(default)s)"
    )
    run_p.add_argument(
        "--full-jit",
        action="store_true",
        help="use the C2 JIT too (slower start; for benchmarks of long-running queries)",
    )
    run_p.add_argument(
        "--env-file", default=None, help="also write the NEO4J_* lines to this file when ready"
    )
    return parser.parse_args(argv)


def _cmd_fetch(args: argparse.Namespace) -> int:
    began = time.monotonic()
    cached = is_fetched(args.neo4j_version)
    lib = fetch(args.neo4j_version, quiet=not args.verbose)
    how = "already cached" if cached else f"fetched in {time.monotonic() - began:.1f} s"
    print(f"Neo4j {args.neo4j_version} jars {how}: {lib}", file=sys.stderr)
    if args.cds and _cds_enabled_by_env():
        began = time.monotonic()
        archive = build_cds_archive(args.neo4j_version)
        if archive is None:
            print("No CDS archive (no Java 17+, or another process is building it)", file=sys.stderr)
        else:
            print(f"CDS archive ready ({time.monotonic() - began:.1f} s): {archive}", file=sys.stderr)
    print(lib)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    server = Neo4jServer(
        password=args.password,
        port=args.port,
        http_port=args.http_port,
        home=args.home,
        keep_home=args.keep,
        heap=args.heap,
        pagecache=args.pagecache,
        startup_timeout=args.timeout,
        version=args.neo4j_version,
        c1_only=not args.full_jit,
    )
    stop_signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def _on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    # Installed explicitly: a background job (``run &``) starts with SIGINT ignored.
    for signum in stop_signals:
        signal.signal(signum, _on_signal)
    print(f"Starting Neo4j {args.neo4j_version} ...", file=sys.stderr)
    try:
        server.start()
        lines = "".join(f"{key}={value}\n" for key, value in server.env().items())
        if args.env_file:
            target = Path(args.env_file)
            partial = target.with_name(target.name + ".partial")
            partial.write_text(lines, encoding="utf-8")
            partial.chmod(0o600)
            partial.replace(target)
        sys.stdout.write(lines)
        sys.stdout.flush()
        print(
            f"Ready in {server.last_start_seconds:.1f} s; home {server.home}; Ctrl-C to stop.",
            file=sys.stderr,
        )
        while server.is_running():
            time.sleep(1.0)
        server.keep_home = True  # keep the logs for a post-mortem
        print(f"Neo4j exited unexpectedly; log {server.log_path}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    except Neo4jServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        for signum in stop_signals:
            signal.signal(signum, signal.SIG_IGN)  # let the graceful stop finish
        print("Stopping Neo4j ...", file=sys.stderr)
        server.stop()
        if args.env_file:
            Path(args.env_file).unlink(missing_ok=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (see ``--help``)."""
    args = _parse_args(argv)
    try:
        if args.command == "fetch":
            return _cmd_fetch(args)
        return _cmd_run(args)
    except Neo4jServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
