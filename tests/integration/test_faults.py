"""Redis outages and slowness: answers keep coming, bounded by the timeouts."""
import time

from harness import RedisServer, Scalecache, wait_until


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
