"""Redis faults under load: killed, paused, slow, restarted empty, wrong password.

Every test runs a bounded keep-alive load (mostly hot keys, every fifth
request a new key that goes to L2 and the origin) while the fault is injected,
and asserts that no client request failed, latency stayed bounded, the
process survived and exits 0, and L2 is used again once Redis is back.
"""
import signal

from faultlib import (DelayProxy, Load, RedisServer, Scalecache, assert_clean_exit, assert_no_failures,
                      free_port, log_lines, rss_budget, rss_bytes, run_load, wait_until)

# Recover within a second of Redis coming back (default backoff is up to 5 s).
FAST_RECOVERY = {"SCALECACHE_REDIS_BACKOFF_MAX_MS": "500", "SCALECACHE_REDIS_TIMEOUT_MS": "50"}


def redis_up(sc) -> float:
    return sc.metric("scalecache_redis_up")


def in_redis(redis, key: str) -> bool:
    """Whether some Redis key names `key` (the exact layout under the prefix is the service's business)."""
    return key in redis.cli("--scan", "--pattern", f"*{key}*")


def test_redis_killed_under_load_and_restarted(redis):
    with Scalecache(redis_url=redis.url, origin_delay_ms=5, env=FAST_RECOVERY) as sc:
        rss_before = rss_bytes(sc.proc.pid)
        with Load(sc.port, workers=8, duration=60) as load:
            load.answered_more(300, what="answers before the fault")
            redis.stop()  # SIGKILL
            wait_until(lambda: redis_up(sc) == 0, 5, what="redis_up to drop to 0")
            load.answered_more(300, what="answers while Redis is down")
            assert redis_up(sc) == 0, "Redis came back by itself: the answers above were not served without it"
            redis.start()  # same port, empty
            wait_until(lambda: redis_up(sc) == 1, 10, what="redis_up to return to 1")
            load.answered_more(300, what="answers after Redis came back")
        stats = load.stats
        print(stats.summary())
        assert_no_failures(stats, at_least=900)
        assert max(stats.latencies) < 2.0, stats.summary()
        status, body = sc.get_json("/data/after-restart")
        assert status == 200
        wait_until(lambda: in_redis(redis, "after-restart"), 5,
                   what="L2 to be written again after the restart")
        assert rss_bytes(sc.proc.pid) - rss_before < rss_budget(64 << 20)
        assert_clean_exit(sc)


def test_redis_paused_under_load(redis):
    with Scalecache(redis_url=redis.url, origin_delay_ms=5, env=FAST_RECOVERY) as sc:
        with Load(sc.port, workers=8, duration=60) as load:
            load.answered_more(200, what="answers before the pause")
            # Redis frozen (as in a long fork or a stalled VM) until the answers below are in,
            # so the pause covers them however slow the machine is.
            redis.proc.send_signal(signal.SIGSTOP)
            try:
                load.answered_more(300, what="answers while Redis is paused")
            finally:
                redis.proc.send_signal(signal.SIGCONT)
            load.answered_more(200, what="answers after the pause")
        stats = load.stats
        print(stats.summary())
        assert_no_failures(stats, at_least=700)
        # A miss waits at most a Redis timeout per command (50 ms) before the breaker opens.
        assert max(stats.latencies) < 1.0, stats.summary()
        wait_until(lambda: redis_up(sc) == 1, 10, what="redis_up back to 1 after the pause")
        assert_clean_exit(sc)


def test_slow_redis_within_and_beyond_the_timeout(redis):
    """A proxy delays every Redis packet: 10 ms (answers within redis.timeout_ms),
    then 300 ms (every command times out), then none again."""
    with DelayProxy(redis.port) as proxy, \
         Scalecache(redis_url=f"redis://127.0.0.1:{proxy.port}", origin_delay_ms=5, env=FAST_RECOVERY) as sc:
        proxy.delay = 0.010
        assert_no_failures(run_load(sc.port, 200, workers=4), at_least=200)
        assert redis_up(sc) == 1, "10 ms per packet is within the 50 ms timeout"

        proxy.delay = 0.300
        beyond = run_load(sc.port, 400, workers=8)
        print("beyond the timeout:", beyond.summary())
        assert_no_failures(beyond, at_least=400)
        assert beyond.percentile(99) < 1.0, beyond.summary()
        assert max(beyond.latencies) < 2.0, beyond.summary()

        proxy.delay = 0.0
        wait_until(lambda: redis_up(sc) == 1, 15, what="redis_up back to 1 once Redis is fast again")
        assert sc.get("/data/after-slow")[0] == 200
        wait_until(lambda: in_redis(redis, "after-slow"), 5,
                   what="L2 written again once Redis is fast")
        assert_clean_exit(sc)


def test_redis_restarted_empty_under_load(redis):
    keys = [f"warm-{i}" for i in range(40)]
    with Scalecache(redis_url=redis.url, origin_delay_ms=5, env=FAST_RECOVERY) as a, \
         Scalecache(redis_url=redis.url, origin_delay_ms=5, env=FAST_RECOVERY) as b:
        for k in keys:
            assert a.get(f"/data/{k}")[0] == 200
        assert b.get_json(f"/data/{keys[0]}")[1]["source"] == "l2", "replicas share Redis"
        origin_before = b.metric("scalecache_origin_requests_total", result="ok")

        paths = lambda w, i: f"/data/{keys[(w * 13 + i) % len(keys)]}"  # noqa: E731
        with Load(b.port, workers=6, duration=60, paths=paths) as load:
            load.answered_more(200, what="answers before Redis restarts")
            redis.stop()
            redis.start()  # empty: no persistence
            wait_until(lambda: redis_up(b) == 1, 10, what="replica b to reconnect")
            # Once its invalidation subscription is back (its own backoff) b drops its L1,
            # and the load's next reads of the now missing keys go to the origin.
            wait_until(lambda: b.metric("scalecache_origin_requests_total", result="ok") > origin_before, 15,
                       what="replica b to fetch the keys Redis lost from the origin again")
        assert_no_failures(load.stats, at_least=200)
        assert b.metric("scalecache_origin_requests_total", result="ok") > origin_before
        wait_until(lambda: int(redis.cli("DBSIZE")) >= 1, 5, what="Redis to be refilled")
        # Replica a, idle during the restart, answers its keys too.
        assert all(a.get(f"/data/{k}")[0] == 200 for k in keys)
        assert_clean_exit(a)
        assert_clean_exit(b)


def test_wrong_redis_password_under_load():
    secret = "right-pass-7f3a"
    wrong = "wrong-pass-91c2"
    with RedisServer(password=secret) as redis, \
         Scalecache(redis_url=f"redis://:{wrong}@127.0.0.1:{redis.port}", origin_delay_ms=5) as sc:
        stats = run_load(sc.port, 300, workers=6)
        assert_no_failures(stats, at_least=300)
        assert set(stats.sources) <= {"origin", "l1"}, stats.sources
        assert redis_up(sc) == 0
        lines = [line for line in log_lines(sc) if "AUTH" in str(line)]
        assert lines, f"no log line mentions AUTH:\n{sc.log()[-2000:]}"
        assert lines[0].get("level") in ("error", "warn"), lines[0]
        everything = sc.log() + sc.metrics_text()
        assert wrong not in everything and secret not in everything
        assert_clean_exit(sc)


def test_redis_never_reachable():
    with Scalecache(redis_url=f"redis://127.0.0.1:{free_port()}", origin_delay_ms=5) as sc:
        stats = run_load(sc.port, 300, workers=6)
        assert_no_failures(stats, at_least=300)
        assert max(stats.latencies) < 1.0, stats.summary()
        assert redis_up(sc) == 0
        assert any(e.get("level") in ("error", "warn") and "redis" in str(e).lower() for e in log_lines(sc)), \
            sc.log()[-2000:]
        assert_clean_exit(sc)
