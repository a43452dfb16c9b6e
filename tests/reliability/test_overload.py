"""Overload: more concurrent misses than origin.concurrency + origin.max_queue.

The excess is refused at once with 503 + Retry-After (JSON "overloaded"),
memory stays bounded and normal service returns as soon as the load drops.
"""
import concurrent.futures
import http.client
import json
import time

from faultlib import Load, Scalecache, assert_clean_exit, rss_budget, rss_bytes, wait_until

CONCURRENCY = 2
MAX_QUEUE = 4
DELAY_MS = 1500


def one_get(port: int, path: str):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    started = time.monotonic()
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body, time.monotonic() - started
    finally:
        conn.close()


def test_excess_misses_get_503_with_retry_after_and_service_recovers():
    env = {"SCALECACHE_ORIGIN_CONCURRENCY": str(CONCURRENCY), "SCALECACHE_ORIGIN_MAX_QUEUE": str(MAX_QUEUE)}
    with Scalecache(origin_delay_ms=DELAY_MS, env=env) as sc:
        rss_before = rss_bytes(sc.proc.pid)
        with concurrent.futures.ThreadPoolExecutor(40) as pool:
            results = list(pool.map(lambda i: one_get(sc.port, f"/data/burst-{i}"), range(40)))
        ok = [r for r in results if r[0] == 200]
        refused = [r for r in results if r[0] == 503]
        assert len(ok) + len(refused) == 40, sorted({r[0] for r in results})
        # concurrency + queue are served; a few more may slip in as workers pick tasks up.
        assert CONCURRENCY + MAX_QUEUE <= len(ok) <= CONCURRENCY + MAX_QUEUE + 4, len(ok)
        for _status, headers, body, took in refused:
            assert headers.get("retry-after") == "1", headers
            assert json.loads(body)["error"] == "overloaded"
            assert took < 0.5, f"a refusal took {took:.2f}s: the excess must not wait"

        # A longer flood of distinct misses (keep-alive clients): bounded memory.
        # Counted in answers, not per client: a client the origin queue took waits seconds.
        with Load(sc.port, workers=32, duration=60, ok_statuses=(200, 503),
                  paths=lambda w, i: f"/data/flood-{w}-{i}") as load:
            load.answered_more(500, timeout=50, what="answers to the flood")
        flood = load.stats
        rss_after = rss_bytes(sc.proc.pid)
        print(flood.summary(), f"RSS {rss_before >> 20} -> {rss_after >> 20} MiB")
        assert flood.failed == 0 and flood.total >= 500, flood.first_failures() or flood.summary()
        assert flood.statuses.get(503, 0) > 100, flood.summary()
        assert rss_after - rss_before < rss_budget(64 << 20), f"RSS grew {(rss_after - rss_before) >> 20} MiB"

        # Load gone (every flood client has its answer): the next miss is served normally
        # once the origin queue has drained.
        wait_until(lambda: sc.metric("scalecache_pool_queued_tasks", pool="origin") == 0, 20,
                   what="the origin queue to drain")
        status, headers, body, took = one_get(sc.port, "/data/after-the-storm")
        assert status == 200 and took < DELAY_MS / 1000 + 0.5, (status, took, body)
        assert_clean_exit(sc)
