"""A controllable HTTP origin for tests: GET /<key> on 127.0.0.1.

Each answer is "v<N> of <key>", N counting this key's calls, so a test can
tell a refreshed answer from a cached one. Behaviour per key prefix:
  missing*  -> 404
  tagged-<tag>-*  -> 200 with "Surrogate-Key: <tag> all"
  cc-<name>-*     -> 200 with the Cache-Control named in CACHE_CONTROL
  big-*           -> 200 with BIG_BODY_BYTES of "x" (1.1 MB)
  huge-*          -> 200 with HUGE_BODY_BYTES of "x" (50 MB), Content-Length declared
  hugechunked-*   -> the same body chunked, its length declared nowhere
where <tag> and <name> may be several joined by "+" (tagged-a+b-1, cc-private+maxage600-1):
each then goes on a header line of its own, in that order.
For every key: `fail` set -> 500, `delay` seconds before answering.
`paths` lists every request path received, in order, as sent.
GET /_calls answers the calls per key as JSON (for a test in another process,
such as tests/compose/run.sh, which runs this file as a container's origin:
    python3 origin_server.py --host 0.0.0.0 --port 8000 --delay 0.05).

hold_while() keeps every answer back until a condition holds, so requests that
must share one fill are all in flight before the fill can complete, however
fast or slow the machine.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import http.server
import json
import threading
import time
import urllib.parse

from helpers import free_port, wait_until

# A held answer is released at the latest after this long (a test that never
# lets go fails on its own checks instead of hanging).
HOLD_LIMIT_S = 60.0
BIG_BODY_BYTES = 1100 * 1024
HUGE_BODY_BYTES = 50 * 1000 * 1000
_CHUNK = b"x" * (1 << 20)  # huge bodies are streamed in slices of this, never built whole

# scalecache settings under which an origin call may be held that long: the
# call does not time out and the fleet lease it holds does not run out, so
# other replicas keep waiting for that fill instead of calling the origin.
HOLDABLE = {"SCALECACHE_ORIGIN_TIMEOUT_MS": "120000", "SCALECACHE_CACHE_LEASE_TTL_MS": "120000",
            "SCALECACHE_CACHE_LEASE_WAIT_MS": "120000", "SCALECACHE_SERVER_HEADER_TIMEOUT_MS": "240000"}

CACHE_CONTROL = {"nostore": "no-store", "private": "private", "maxage1": "max-age=1",
                 "maxage600": "max-age=600", "swr": "max-age=1, stale-while-revalidate=30"}


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # listen() backlog: the default 5 drops the SYNs of a burst of concurrent
    # origin calls, and the retransmission a second later exceeds scalecache's
    # origin.connect_timeout_ms.
    request_queue_size = 128


class OriginServer:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None):
        self.calls: dict[str, int] = {}
        self.paths: list[str] = []
        self.fail = False
        self.delay = 0.0
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._released.set()
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                if self.path == "/_calls":
                    with origin._lock:
                        counts = json.dumps(origin.calls).encode()
                    return self._send(200, counts, [("Content-Type", "application/json")])
                key = urllib.parse.unquote(self.path.rsplit("/", 1)[-1])
                with origin._lock:
                    origin.paths.append(self.path)
                    n = origin.calls[key] = origin.calls.get(key, 0) + 1
                origin._released.wait(HOLD_LIMIT_S)
                if origin.delay:
                    time.sleep(origin.delay)
                if origin.fail:
                    return self._send(500, b"origin down")
                if key.startswith("missing"):
                    return self._send(404, b"no such key")
                headers = []  # (name, value) pairs: a name may repeat
                if key.startswith("tagged-"):
                    headers += [("Surrogate-Key", f"{tag} all") for tag in key.split("-")[1].split("+")]
                if key.startswith("cc-"):
                    headers += [("Cache-Control", CACHE_CONTROL[name]) for name in key.split("-")[1].split("+")]
                if key.startswith("big-"):
                    return self._send(200, b"x" * BIG_BODY_BYTES, headers)
                if key.startswith(("huge-", "hugechunked-")):
                    return self._stream(HUGE_BODY_BYTES, chunked=key.startswith("hugechunked-"))
                return self._send(200, f"v{n} of {key}".encode(), headers)

            def _send(self, code, body, headers=()):
                self.send_response(code)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _stream(self, size, chunked):
                """`size` bytes of "x" a slice at a time; a client that stops reading ends it."""
                self.send_response(200)
                self.send_header("Transfer-Encoding" if chunked else "Content-Length",
                                 "chunked" if chunked else str(size))
                self.end_headers()
                try:
                    for offset in range(0, size, len(_CHUNK)):
                        piece = _CHUNK[:min(len(_CHUNK), size - offset)]
                        if chunked:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                        else:
                            self.wfile.write(piece)
                    if chunked:
                        self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = _Server((host, port or free_port()), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def count(self, key: str) -> int:
        with self._lock:
            return self.calls.get(key, 0)

    @contextlib.contextmanager
    def held(self):
        """Inside the block every call is counted at once but answered only when the block ends."""
        self._released.clear()
        try:
            yield self
        finally:
            self._released.set()

    def hold_while(self, calls, until, what: str, timeout: float = 20.0) -> list:
        """Runs `calls` (callables) concurrently while the origin holds its answers,
        waits until `until()` is true (say, every request has joined the one fill),
        then lets the origin answer. Returns the calls' results in order."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(calls)) as pool:
            with self.held():
                futures = [pool.submit(call) for call in calls]
                wait_until(until, timeout, interval=0.05, what=what)
            return [f.result() for f in futures]

    def env(self, **extra: str) -> dict[str, str]:
        """SCALECACHE_* settings pointing scalecache at this origin."""
        return {"SCALECACHE_ORIGIN_KIND": "http", "SCALECACHE_ORIGIN_URL": self.url, **extra}

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def main():
    ap = argparse.ArgumentParser(description="Serve the test origin until killed.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    args = ap.parse_args()
    origin = OriginServer(args.host, args.port)
    origin.delay = args.delay
    origin.server.serve_forever()


if __name__ == "__main__":
    main()
