#!/usr/bin/env python3
"""Print the User-Agent the scalecache binary sends to an http origin.

Starts a one-route upstream on 127.0.0.1 and scalecache ($SCALECACHE_BIN, as
tests/lib/harness.py runs it, L1 only) with the http origin pointed at it,
asks scalecache for one key and prints the User-Agent header the upstream saw.
"""
import http.server
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from harness import Scalecache, free_port

seen: list[str] = []


class Upstream(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        seen.append(self.headers.get("User-Agent", ""))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main() -> int:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {"SCALECACHE_ORIGIN_KIND": "http", "SCALECACHE_ORIGIN_URL": f"http://127.0.0.1:{server.server_address[1]}"}
    try:
        with Scalecache(env=env) as sc:
            status, _ = sc.get_json("/data/version-check")
    finally:
        server.shutdown()
    if status != 200 or not seen:
        print(f"no origin call seen (scalecache answered {status})", file=sys.stderr)
        return 1
    print(seen[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
