"""A controllable HTTP origin for tests: GET /<key> on 127.0.0.1.

Each answer is "v<N> of <key>", N counting this key's calls, so a test can
tell a refreshed answer from a cached one. Behaviour per key prefix:
  missing*  -> 404
  tagged-<tag>-*  -> 200 with "Surrogate-Key: <tag> all"
  cc-<name>-*     -> 200 with the Cache-Control named in CACHE_CONTROL
and for every key: `fail` set -> 500, `delay` seconds before answering.
"""
from __future__ import annotations

import http.server
import threading
import time
import urllib.parse

from harness import free_port

CACHE_CONTROL = {"nostore": "no-store", "private": "private", "maxage1": "max-age=1",
                 "swr": "max-age=1, stale-while-revalidate=30"}


class OriginServer:
    def __init__(self):
        self.calls: dict[str, int] = {}
        self.fail = False
        self.delay = 0.0
        self._lock = threading.Lock()
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                key = urllib.parse.unquote(self.path.rsplit("/", 1)[-1])
                with origin._lock:
                    n = origin.calls[key] = origin.calls.get(key, 0) + 1
                if origin.delay:
                    time.sleep(origin.delay)
                if origin.fail:
                    return self._send(500, b"origin down")
                if key.startswith("missing"):
                    return self._send(404, b"no such key")
                headers = {}
                if key.startswith("tagged-"):
                    headers["Surrogate-Key"] = f"{key.split('-')[1]} all"
                if key.startswith("cc-"):
                    headers["Cache-Control"] = CACHE_CONTROL[key.split("-")[1]]
                self._send(200, f"v{n} of {key}".encode(), headers)

            def _send(self, code, body, headers=None):
                self.send_response(code)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def count(self, key: str) -> int:
        with self._lock:
            return self.calls.get(key, 0)

    def env(self, **extra: str) -> dict[str, str]:
        """SCALECACHE_* settings pointing scalecache at this origin."""
        return {"SCALECACHE_ORIGIN_KIND": "http", "SCALECACHE_ORIGIN_URL": self.url, **extra}

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
