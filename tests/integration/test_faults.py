"""Redis outages and slowness: answers keep coming, bounded by the timeouts."""
import time

from harness import Fleet, RedisServer, Scalecache, wait_until
from origin_server import BIG_BODY_BYTES, OriginServer


def test_redis_killed_and_restarted(redis):
    fast_recovery = {"SCALECACHE_REDIS_BACKOFF_MAX_MS": "500"}
    with Scalecache(redis_url=redis.url, origin_delay_ms=5, env=fast_recovery) as sc:
        assert sc.get("/data/before")[0] == 200
        assert sc.metric("scalecache_redis_up") == 1
        redis.stop()
        for i in range(30):
            assert sc.get(f"/data/during-{i}", timeout=5)[0] == 200
        wait_until(lambda: sc.metric("scalecache_redis_up") == 0, 5, what="redis_up to drop to 0")
        redis.start()  # same port, empty
        wait_until(lambda: sc.metric("scalecache_redis_up") == 1, 10, what="redis_up to return to 1")
        assert sc.get_json("/data/after")[1]["source"] == "origin"
        wait_until(lambda: redis.cli("EXISTS", "scalecache:v:after") == "1", 5,
                   what="L2 to be written again after the restart")


def test_paused_redis_bounds_latency(redis):
    with Scalecache(redis_url=redis.url, origin_delay_ms=0,
                    env={"SCALECACHE_REDIS_TIMEOUT_MS": "50"}) as sc:
        assert sc.get("/data/warm")[0] == 200
        redis.cli("CLIENT", "PAUSE", "3000", "ALL")
        worst = 0.0
        for i in range(10):
            started = time.monotonic()
            assert sc.get(f"/data/paused-{i}", timeout=5)[0] == 200
            worst = max(worst, time.monotonic() - started)
        # Each miss may wait once on GET and once on SET (50 ms each), plus a
        # connect attempt while the breaker decides: far below the 3 s pause.
        assert worst < 1.0, f"slowest request took {worst:.3f}s while Redis was paused"


def test_wrong_password_is_logged_and_origin_still_serves():
    with RedisServer(password="right") as redis:
        url = f"redis://:wrong@127.0.0.1:{redis.port}"
        with Scalecache(redis_url=url, origin_delay_ms=0) as sc:
            assert sc.get("/data/x")[0] == 200
            assert sc.metric("scalecache_redis_up") == 0
            wait_until(lambda: "AUTH refused" in sc.log(), 5, what="an AUTH log line")
            assert "wrong" not in sc.log().replace("WRONGPASS", "")


def test_a_fill_redis_refuses_still_releases_the_fleet_lease(redis):
    # The fill (value, notice, lease release) is one pipeline. Here Redis cuts
    # the connection on the value, which is larger than proto-max-bulk-len, so
    # the release in that pipeline never runs: it must be retried, or the
    # other replica waits out lease_wait_ms for a fill that will never come.
    redis.cli("CONFIG", "SET", "proto-max-bulk-len", "1mb")
    big_enough = {"SCALECACHE_CACHE_MAX_OBJECT_BYTES": str(4 * BIG_BODY_BYTES),
                  "SCALECACHE_CACHE_LEASE_WAIT_MS": "5000"}
    with OriginServer() as origin, Fleet(2, redis_url=redis.url, env=origin.env(**big_enough)) as (a, b):
        status, body, _ = a.get("/data/big-1", timeout=10)
        assert status == 200 and len(body) > BIG_BODY_BYTES
        assert redis.cli("EXISTS", "scalecache:v:big-1") == "0", "Redis was expected to refuse the value"
        assert redis.cli("EXISTS", "scalecache:l:big-1") == "0", "the lease outlived a failed fill"
        started = time.monotonic()
        status, _, _ = b.get("/data/big-1", timeout=10)
        took = time.monotonic() - started
        assert status == 200
        assert b.metric("scalecache_lease_total", outcome="timed_out") == 0
        assert took < 2.5, f"the second replica waited {took:.2f}s on a lease nobody held"
