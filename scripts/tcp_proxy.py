"""A small TCP proxy that cuts, stalls or refuses connections on command, for fault tests.

Put it between a client (the Neo4j driver) and a server::

    with TcpProxy("127.0.0.1", 7687) as proxy:   # listens on a free loopback port
        uri = f"bolt://127.0.0.1:{proxy.port}"
        ...
        proxy.stall()    # keep every connection open but forward nothing (a hung network)
        proxy.resume()   # forward again
        proxy.cut()      # reset every open connection (a dropped network), new ones still pass
        proxy.refuse()   # close new connections at once (a server that went away); resume() undoes

Or from a shell, with commands on stdin (``stall``, ``resume``, ``cut``, ``refuse``, ``quit``)::

    python scripts/tcp_proxy.py 127.0.0.1:7687 --port 17687
"""

from __future__ import annotations

import argparse
import contextlib
import selectors
import socket
import struct
import sys
import threading
from types import TracebackType

__all__ = ["TcpProxy"]

_CHUNK = 1 << 16


class TcpProxy:
    """Forwards loopback connections to ``target_host:target_port``, one thread per connection."""

    def __init__(self, target_host: str, target_port: int, *, port: int = 0, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server((host, port))
        self.host, self.port = self._listener.getsockname()[:2]
        self._lock = threading.Lock()
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._flowing = threading.Event()
        self._flowing.set()
        self._refusing = False
        self._closed = False
        self.connections = 0
        """How many client connections were accepted and forwarded so far."""
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy-accept", daemon=True)

    def start(self) -> TcpProxy:
        """Start accepting connections."""
        self._thread.start()
        return self

    def stall(self) -> None:
        """Stop forwarding bytes in both directions; connections stay open."""
        self._flowing.clear()

    def resume(self) -> None:
        """Forward again, and accept new connections again after ``refuse``."""
        self._refusing = False
        self._flowing.set()

    def refuse(self) -> None:
        """Close new connections as soon as they arrive; open ones are cut too."""
        self._refusing = True
        self.cut()

    def cut(self) -> None:
        """Reset every open connection (RST to both sides), as a dropped network would."""
        with self._lock:
            pairs = list(self._pairs)
            self._pairs.clear()
        for pair in pairs:
            for sock in pair:
                _reset(sock)

    def close(self) -> None:
        """Stop accepting and cut everything."""
        self._closed = True
        self._flowing.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        self.cut()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._refusing:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            pair = (client, upstream)
            with self._lock:
                self._pairs.add(pair)
                self.connections += 1
            threading.Thread(target=self._pump, args=(pair,), name="tcp-proxy-pump", daemon=True).start()

    def _pump(self, pair: tuple[socket.socket, socket.socket]) -> None:
        client, upstream = pair
        other = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            selector.register(upstream, selectors.EVENT_READ)
            try:
                while not self._closed:
                    self._flowing.wait()
                    with self._lock:
                        if pair not in self._pairs:
                            return
                    for key, _ in selector.select(timeout=0.1):
                        if not self._flowing.is_set():
                            break  # stalled while waiting: hold the bytes back
                        sock: socket.socket = key.fileobj  # type: ignore[assignment]
                        data = sock.recv(_CHUNK)
                        if not data:
                            return
                        other[sock].sendall(data)
            except OSError:
                return
            finally:
                with self._lock:
                    self._pairs.discard(pair)
                for sock in pair:
                    with contextlib.suppress(OSError):
                        sock.close()


def _reset(sock: socket.socket) -> None:
    """Close with an RST rather than a FIN, so the peer sees a broken connection."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def main(argv: list[str] | None = None) -> int:
    """Run a proxy from the shell; commands on stdin: stall, resume, cut, refuse, quit."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("target", help="host:port to forward to")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    args = parser.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    with TcpProxy(host or "127.0.0.1", int(port), port=args.port) as proxy:
        print(f"listening on {proxy.host}:{proxy.port} -> {args.target}", flush=True)
        for line in sys.stdin:
            command = line.strip().lower()
            if command in ("quit", "exit"):
                break
            action = {
                "stall": proxy.stall,
                "resume": proxy.resume,
                "cut": proxy.cut,
                "refuse": proxy.refuse,
            }.get(command)
            print(
                f"{command}: ok" if action and action() is None else f"unknown command {command!r}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
