"""Origin faults against a local HTTP origin (faultlib.LocalOrigin): errors,
timeouts, answers past the timeout, refused connections, broken answers and
answers larger than cache.max_object_bytes but within origin.max_body_bytes
(set higher here; by default it follows cache.max_object_bytes) -- while
healthy keys are under load.
"""
import time

import pytest

from faultlib import (Load, LocalOrigin, OriginHandler, Scalecache, assert_clean_exit, assert_no_failures,
                      free_port, http_origin_env, run_load, wait_until)

# The timeout the slow-* keys (answering after OriginHandler.slow_seconds, 2 s)
# run into. It bounds every other origin call too, and the origin here is a
# Python server sharing this process with the load generator: under CPU
# contention its healthy answers took up to 0.4 s, so 300 ms failed healthy keys.
TIMEOUT_MS = 1000
MAX_OBJECT = 65536
MAX_BODY = 4 * MAX_OBJECT  # above OriginHandler.big_bytes: those answers are read, served, not cached


@pytest.fixture(scope="module")
def origin():
    with LocalOrigin() as server:
        yield server


@pytest.fixture(scope="module")
def sc(origin):
    env = http_origin_env(origin.url, TIMEOUT_MS, SCALECACHE_CACHE_MAX_OBJECT_BYTES=str(MAX_OBJECT),
                          SCALECACHE_ORIGIN_MAX_BODY_BYTES=str(MAX_BODY))
    with Scalecache(env=env) as server:
        yield server


def healthy_paths(worker, i):
    return f"/data/ok-{(worker * 31 + i) % 50}"


def test_errors_are_502_never_cached_and_healthy_keys_unaffected(sc, origin):
    with Load(sc.port, workers=4, duration=20, paths=healthy_paths) as load:
        # The errors below take a few ms on a fast machine: the load is running before they start.
        wait_until(lambda: load.completed() >= 20, 10, what="the healthy load to be running")
        for i in range(20):
            status, body, headers = sc.get(f"/data/err-{i % 2}")
            assert status == 502 and '"origin_error"' in body and headers["content-type"].startswith("application/json")
        for kind in ("garbage", "trunc"):
            status, body, _ = sc.get(f"/data/{kind}-1")
            assert status == 502, (kind, status, body)
    assert_no_failures(load.stats, at_least=20)
    assert origin.calls_for("err-") == 20, "an error must not be cached"


def test_slow_origin_is_cut_at_the_timeout_without_slowing_others(sc, origin):
    results = []
    with Load(sc.port, workers=4, duration=20, paths=healthy_paths) as load:
        for i in range(6):
            started = time.monotonic()
            status, body, _ = sc.get(f"/data/slow-{i}", timeout=10)
            results.append((status, time.monotonic() - started, body))
    print("healthy keys meanwhile:", load.stats.summary())
    assert_no_failures(load.stats, at_least=200)
    for status, took, body in results:
        assert status == 504 and '"origin_timeout"' in body, body
        assert TIMEOUT_MS / 1000 * 0.9 <= took < TIMEOUT_MS / 1000 + 0.5, f"took {took:.3f}s"
    assert load.stats.percentile(99) < 0.1, load.stats.summary()
    assert sc.metric("scalecache_origin_requests_total", result="timeout") >= 6


def test_large_answers_are_served_but_not_cached(sc, origin):
    assert MAX_BODY > OriginHandler.big_bytes > MAX_OBJECT
    l1_bytes = sc.metric("scalecache_l1_bytes")
    for _ in range(3):
        status, body = sc.get_json("/data/big-1")
        assert status == 200 and body["source"] == "origin"
        assert len(body["data"]) == OriginHandler.big_bytes
    assert origin.calls_for("big-1") == 3
    assert sc.metric("scalecache_l1_bytes") - l1_bytes < MAX_OBJECT


def test_not_found_is_404(sc):
    status, body, _ = sc.get("/data/missing-1")
    assert status == 404 and '"not_found"' in body


def test_refused_then_origin_comes_back():
    port = free_port()
    with Scalecache(env=http_origin_env(f"http://127.0.0.1:{port}/api", TIMEOUT_MS)) as sc:
        stats = run_load(sc.port, 100, workers=4, ok_statuses=(502,))
        assert_no_failures(stats, at_least=100)  # every answer a prompt 502, none hanging
        assert max(stats.latencies) < 1.0, stats.summary()
        with LocalOrigin(port=port):
            wait_until(lambda: sc.get("/data/ok-back")[0] == 200, 5, what="answers once the origin listens")
        assert_clean_exit(sc)


def test_service_survives_origin_faults(sc):
    assert sc.get("/healthz")[0] == 200
    assert_clean_exit(sc)
