"""The http origin against a local upstream: codes, timeouts, nothing bad cached,
no path outside origin.url."""
import http.server
import json
import threading
import time

import pytest

from harness import Scalecache, free_port
from origin_server import OriginServer


class Upstream(http.server.BaseHTTPRequestHandler):
    calls: dict[str, int] = {}

    def do_GET(self):
        key = self.path.rsplit("/", 1)[-1]
        Upstream.calls[key] = Upstream.calls.get(key, 0) + 1
        if key.startswith("missing"):
            self.send_response(404)
            self.end_headers()
            return
        if key.startswith("broken"):
            self.send_response(500)
            self.end_headers()
            return
        if key.startswith("slow"):
            time.sleep(1.5)
        body = f"upstream says {key}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def upstream():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api"
    server.shutdown()


@pytest.fixture(scope="module")
def sc(upstream):
    env = {"SCALECACHE_ORIGIN_KIND": "http", "SCALECACHE_ORIGIN_URL": upstream,
           "SCALECACHE_ORIGIN_TIMEOUT_MS": "500"}
    with Scalecache(env=env) as server:
        yield server


def test_ok_is_cached(sc):
    assert sc.get_json("/data/good%20one") == (200, {"key": "good one", "data": "upstream says good%20one",
                                                     "cached": False, "source": "origin"})
    assert sc.get_json("/data/good%20one")[1]["source"] == "l1"
    assert Upstream.calls["good%20one"] == 1


def test_not_found_is_404(sc):
    status, body = sc.get_json("/data/missing1")
    assert status == 404 and body["error"] == "not_found"


def test_server_error_is_502_and_not_cached(sc):
    assert sc.get_json("/data/broken1")[0] == 502
    assert sc.get_json("/data/broken1")[0] == 502
    assert Upstream.calls["broken1"] == 2


def test_timeout_is_504(sc):
    started = time.monotonic()
    status, body = sc.get_json("/data/slow1")
    assert status == 504 and body["error"] == "origin_timeout"
    assert time.monotonic() - started < 1.4
    assert sc.metric("scalecache_origin_requests_total", result="timeout") >= 1


def test_connection_refused_is_502():
    env = {"SCALECACHE_ORIGIN_KIND": "http", "SCALECACHE_ORIGIN_URL": f"http://127.0.0.1:{free_port()}"}
    with Scalecache(env=env) as sc:
        status, body = sc.get_json("/data/x")
        assert status == 502 and body["error"] == "origin_error"
        assert sc.metric("scalecache_origin_requests_total", result="error") == 1


DOT_SEGMENTS = [".", "..", "%2E", "%2e", "%2E%2E", "%2e%2e", ".%2E", "%2E."]


def test_dot_segment_keys_never_reach_a_path_outside_the_origin_base(redis):
    base = "/api/v1"
    with OriginServer() as origin, \
            Scalecache(redis_url=redis.url, env=origin.env(SCALECACHE_ORIGIN_URL=origin.url + base)) as sc:
        answers = {raw: sc.get("/data/" + raw) for raw in DOT_SEGMENTS}
        # The control: an ordinary key does reach the origin, under the base.
        assert sc.get_json("/data/dots...ok")[0] == 200
        assert origin.paths[-1] == base + "/dots...ok"
        # Only ever {base}/{one non-empty segment}: not the base itself, nothing above it.
        outside = [p for p in origin.paths if not (p.startswith(base + "/") and "/" not in p[len(base) + 1:]
                                                   and p[len(base) + 1:] not in ("", ".", ".."))]
        assert outside == [], f"the origin was asked for paths other than {base}/<key>"
        assert origin.paths == [base + "/dots...ok"]
        for raw, (status, body, headers) in answers.items():
            assert status == 400 and headers["content-type"].startswith("application/json"), raw
            assert json.loads(body)["error"] == "invalid_key", raw
        assert redis.cli("KEYS", "scalecache:v:*") == "scalecache:v:dots...ok"

