"""The http origin against a local upstream: codes, timeouts, nothing bad cached,
no path outside origin.url."""
import concurrent.futures
import http.server
import json
import os
import signal
import threading
import time
from typing import ClassVar

import pytest
import yaml

from harness import REPO_ROOT, Scalecache, free_port
from origin_server import HUGE_BODY_BYTES, OriginServer


class Upstream(http.server.BaseHTTPRequestHandler):
    calls: ClassVar[dict[str, int]] = {}  # shared by every handler instance

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


def chart_memory_limit() -> int:
    """resources.limits.memory of the chart's values.yaml, in bytes."""
    values = yaml.safe_load((REPO_ROOT / "charts" / "scalecache" / "values.yaml").read_text())
    quantity = str(values["resources"]["limits"]["memory"])
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "k": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(float(quantity[:-len(suffix)]) * factor)
    return int(quantity)


def status_kib(pid: int, field: str) -> int:
    """A `VmRSS`/`VmHWM` line of /proc/<pid>/status, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


class MemoryLimit:
    """Samples a process's RSS while a block runs and kills it the moment RSS
    reaches `limit` bytes, as the pod's memory limit would (and so that a
    process without the bound cannot take the machine's memory)."""

    def __init__(self, pid: int, limit: int):
        self.pid, self.limit = pid, limit
        self.killed_at = 0  # bytes, when it had to kill
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self._stop.wait(0.005):
            try:
                rss = status_kib(self.pid, "VmRSS") * 1024
            except (OSError, KeyError):
                return  # the process is gone
            if rss >= self.limit:
                self.killed_at = rss
                os.kill(self.pid, signal.SIGKILL)
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)


def get_or_error(sc, path):
    try:
        return sc.get(path, timeout=120)
    except OSError as e:  # the connection died with the process
        return None, repr(e), {}


@pytest.mark.parametrize("kind", ["huge", "hugechunked"])
def test_twenty_huge_origin_answers_are_refused_and_memory_stays_under_the_chart_limit(redis, kind):
    """20 concurrent misses on distinct keys whose origin answers are 50 MB each
    (Content-Length declared, or chunked with no length): every client gets a
    502 origin_too_large and RSS stays under the chart's memory limit."""
    limit = chart_memory_limit()
    keys = [f"{kind}-{i}" for i in range(20)]
    # A long origin timeout, so a build without the body limit really downloads everything.
    with OriginServer() as origin, \
            Scalecache(redis_url=redis.url, env=origin.env(SCALECACHE_ORIGIN_TIMEOUT_MS="120000", SCALECACHE_SERVER_HEADER_TIMEOUT_MS="240000")) as sc:
        pid = sc.proc.pid
        rss_before = status_kib(pid, "VmRSS")
        with MemoryLimit(pid, limit) as watch, concurrent.futures.ThreadPoolExecutor(len(keys)) as pool:
            answers = list(pool.map(lambda key: get_or_error(sc, f"/data/{key}"), keys))
        assert watch.killed_at == 0, (
            f"RSS reached {watch.killed_at / 2**20:.0f} MiB, the chart's limit is {limit / 2**20:.0f} MiB: "
            f"the pod would have been OOM-killed")
        peak = status_kib(pid, "VmHWM")
        print(f"\n{kind}: {len(keys)} x {HUGE_BODY_BYTES / 1e6:.0f} MB answers, RSS {rss_before / 1024:.1f} MiB "
              f"before, peak {peak / 1024:.1f} MiB (limit {limit / 2**20:.0f} MiB)")
        assert peak * 1024 < limit
        for key, (status, body, headers) in zip(keys, answers):
            assert status == 502, f"{key}: {status} {body[:200]}"
            assert headers["content-type"].startswith("application/json")
            assert json.loads(body)["error"] == "origin_too_large", body
        assert all(origin.count(key) == 1 for key in keys), "distinct keys: one origin call each"
        assert redis.cli("KEYS", "scalecache:v:*") == "", "nothing from a refused answer is stored"
        assert sc.get_json("/data/small")[0] == 200, "the service still serves"
