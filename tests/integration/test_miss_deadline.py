"""One deadline per miss (issue 15, item 2): each fails on the build before it."""
import concurrent.futures
import os
import subprocess

from harness import SCALECACHE_BIN, Fleet, Scalecache, total, wait_until
from origin_server import HOLDABLE, OriginServer

PREFIX = "scalecache:"


def test_check_config_refuses_a_miss_longer_than_the_request_timeout():
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCALECACHE_")}
    env.update({"SCALECACHE_CACHE_LEASE_WAIT_MS": "5000", "SCALECACHE_ORIGIN_TIMEOUT_MS": "6000",
                "SCALECACHE_SERVER_HEADER_TIMEOUT_MS": "10000"})
    run = subprocess.run([SCALECACHE_BIN, "--check-config"], env=env, capture_output=True, text=True, timeout=10)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "cache.lease_wait_ms + origin.timeout_ms (11000 ms)" in run.stderr
    assert "server.header_timeout_ms (10000 ms)" in run.stderr


def test_takeovers_after_failed_holders_end_with_the_misss_deadline_not_a_408(redis):
    """Three replicas miss one key against an origin that never answers. The
    lease passes from holder to holder as each one's origin call times out;
    the last in line has waited out two of them. Every client still gets the
    service's own 504 (JSON), never the server's 408 for a request that
    outlived its time."""
    timing = {"SCALECACHE_SERVER_HEADER_TIMEOUT_MS": "4000", "SCALECACHE_CACHE_LEASE_WAIT_MS": "2500",
              "SCALECACHE_ORIGIN_TIMEOUT_MS": "1500", "SCALECACHE_CACHE_LEASE_POLL_MS": "20"}
    with OriginServer() as origin, Fleet(3, redis_url=redis.url, env=origin.env(**timing)) as fleet:
        with origin.held(), concurrent.futures.ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(lambda r: r.get("/data/never", timeout=30), fleet))
        statuses = sorted(status for status, _, _ in answers)
        assert statuses == [504, 504, 504], [(s, b[:120]) for s, b, _ in answers]
        assert all('"origin_timeout"' in body for _, body, _ in answers)


def test_a_queued_miss_holds_no_lease(redis):
    """With one origin thread busy, a second key's miss waits in the origin
    pool's queue: the fleet lease is taken when its origin call starts, so
    meanwhile other replicas are not kept waiting on it."""
    env = dict(HOLDABLE, SCALECACHE_ORIGIN_CONCURRENCY="1")
    with OriginServer() as origin, Scalecache(redis_url=redis.url, env=origin.env(**env)) as sc:
        leases = {}

        def one_at_the_origin_one_queued():
            at_origin = origin.count("q1") + origin.count("q2")
            if at_origin < 1 or sc.metric("scalecache_pool_queued_tasks", pool="origin") < 1:
                return False
            leases["held"] = int(redis.cli("EXISTS", PREFIX + "l:q1", PREFIX + "l:q2"))
            return True

        answers = origin.hold_while([lambda: sc.get("/data/q1", timeout=30), lambda: sc.get("/data/q2", timeout=30)],
                                    one_at_the_origin_one_queued, what="one miss at the origin, one queued")
        assert leases["held"] == 1, "the queued miss already held its lease"
        assert [status for status, _, _ in answers] == [200, 200]
        wait_until(lambda: redis.cli("EXISTS", PREFIX + "l:q1", PREFIX + "l:q2") == "0", 5, what="both leases released")


def test_uncacheable_answers_do_not_make_the_fleet_take_turns(redis):
    """An answer that may not be cached (no-store) leaves nothing to wait for:
    afterwards every replica calls the origin at once rather than one after
    another behind the lease, each waiting for a fill that never comes."""
    key = "cc-nostore-turns"
    with OriginServer() as origin, Fleet(3, redis_url=redis.url, env=origin.env(**HOLDABLE)) as fleet:
        assert fleet[0].get(f"/data/{key}")[0] == 200
        answers = origin.hold_while([lambda r=r: r.get(f"/data/{key}", timeout=30) for r in fleet],
                                    lambda: origin.count(key) == 4, what="all three replicas at the origin at once")
        assert [status for status, _, _ in answers] == [200, 200, 200]
        assert total(fleet, "scalecache_lease_total", outcome="waited") == 0
