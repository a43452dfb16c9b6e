"""The read path across L1, a shared Redis (L2) and the origin."""
import json
import time

from harness import Scalecache
from origin_server import HOLDABLE, OriginServer


def test_miss_then_l1_hit(redis):
    with Scalecache(redis_url=redis.url, origin_delay_ms=50) as sc:
        status, body = sc.get_json("/data/alpha")
        assert status == 200
        assert body == {"key": "alpha", "data": "Fetched data for alpha", "cached": False, "source": "origin"}
        status, body = sc.get_json("/data/alpha")
        assert (status, body["source"], body["cached"]) == (200, "l1", True)
        assert sc.metric("scalecache_cache_results_total", source="origin") == 1
        assert sc.metric("scalecache_cache_results_total", source="l1") == 1
        assert sc.metric("scalecache_origin_requests_total", result="ok") == 1
        assert sc.metric("scalecache_l1_entries") == 1


def test_second_replica_is_filled_from_redis(redis):
    with Scalecache(redis_url=redis.url, origin_delay_ms=50) as a, \
         Scalecache(redis_url=redis.url, origin_delay_ms=50) as b:
        assert a.get_json("/data/shared%20key")[1]["source"] == "origin"
        status, body = b.get_json("/data/shared%20key")
        assert (status, body["source"], body["key"]) == (200, "l2", "shared key")
        assert b.get_json("/data/shared%20key")[1]["source"] == "l1"
        assert b.metric("scalecache_origin_requests_total") == 0
        # Keys live under the namespace prefix, kept for the TTL (300 s, up to
        # 10 % less by jitter) plus the longest stale window (300 s).
        assert redis.cli("EXISTS", "scalecache:v:shared key") == "1"
        assert 570_000 < int(redis.cli("PTTL", "scalecache:v:shared key")) <= 600_000


def test_l1_serves_again_after_rereading_redis(redis):
    env = {"SCALECACHE_CACHE_L1_TTL_SECONDS": "1"}
    with Scalecache(redis_url=redis.url, origin_delay_ms=0, env=env) as sc:
        assert sc.get_json("/data/re")[1]["source"] == "origin"
        time.sleep(1.2)  # past L1's period: the next read asks Redis
        assert sc.get_json("/data/re")[1]["source"] == "l2"
        assert sc.get_json("/data/re")[1]["source"] == "l1", "a re-read entry must get a new L1 period"


def test_l1_only_without_redis():
    with Scalecache(redis_url="", origin_delay_ms=10) as sc:
        assert sc.get_json("/data/k")[1]["source"] == "origin"
        assert sc.get_json("/data/k")[1]["source"] == "l1"
        assert sc.metric("scalecache_redis_up") == 0
        assert "L1 only" in sc.log()


def test_hundred_concurrent_cold_requests_make_one_origin_call(redis):
    with OriginServer() as origin, \
         Scalecache(redis_url=redis.url, env=origin.env(SCALECACHE_ORIGIN_CONCURRENCY="8", **HOLDABLE)) as sc:
        # The origin holds the fill until all 100 requests are in: every one of
        # them must share it, however they are scheduled.
        results = origin.hold_while(
            [lambda: sc.get_json("/data/cold", timeout=30)] * 100,
            lambda: sc.metric("scalecache_coalesced_requests_total") >= 99,
            what="the other 99 requests to join the first one's fill")
        assert all(status == 200 for status, _ in results)
        assert all(body["data"] == "v1 of cold" for _, body in results)
        assert origin.count("cold") == 1
        assert sc.metric("scalecache_origin_requests_total") == 1
        assert sc.metric("scalecache_coalesced_requests_total") == 99


def test_purge_removes_from_l1_and_redis(redis):
    with Scalecache(redis_url=redis.url, env={"SCALECACHE_ADMIN_TOKEN": "t0ken"}) as sc:
        sc.get("/data/p")
        assert sc.request("DELETE", "/data/p")[0] == 401
        assert sc.request("DELETE", "/data/p", headers={"Authorization": "Bearer wrong"})[0] == 401
        status, body, _ = sc.request("DELETE", "/data/p", headers={"Authorization": "Bearer t0ken"})
        assert status == 200 and json.loads(body) == {"key": "p", "purged": 1}
        assert redis.cli("EXISTS", "scalecache:v:p") == "0"
        assert sc.get_json("/data/p")[1]["source"] == "origin"
        assert "t0ken" not in sc.metrics_text() and "t0ken" not in sc.log()


def test_oversized_origin_answer_is_served_not_cached(redis):
    with Scalecache(redis_url=redis.url, env={"SCALECACHE_CACHE_MAX_OBJECT_BYTES": "10"}) as sc:
        assert sc.get_json("/data/big")[1]["source"] == "origin"
        assert sc.get_json("/data/big")[1]["source"] == "origin"
        assert redis.cli("EXISTS", "scalecache:v:big") == "0"
