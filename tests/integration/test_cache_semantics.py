"""Cache semantics across a fleet sharing one Redis (docs/cache-semantics.md)."""
import concurrent.futures
import json
import time

import pytest

from fleet_checks import purge_reaches_every_replica, three_hundred_cold_requests_one_origin_call, warm_everywhere
from harness import Fleet, Scalecache, total, wait_until
from origin_server import HOLDABLE, OriginServer

NO_JITTER = {"SCALECACHE_CACHE_TTL_JITTER": "0"}


def parallel(calls, workers=100):
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def timed_get(replica, path):
    started = time.monotonic()
    status, body, headers = replica.get(path, timeout=15)
    return status, (json.loads(body) if body else None), headers, time.monotonic() - started


# 1. Fleet-wide single-flight ------------------------------------------------

def test_three_replicas_hundred_requests_each_one_origin_call(redis):
    with OriginServer() as origin:
        env = origin.env(SCALECACHE_ORIGIN_CONCURRENCY="16", **HOLDABLE)
        with Fleet(3, redis_url=redis.url, env=env) as fleet:
            three_hundred_cold_requests_one_origin_call(fleet, origin)


def test_dead_lease_holder_blocks_a_key_only_until_the_lease_ttl(redis):
    lease, dead_token = "scalecache:l:orphan", "token-of-a-dead-replica"
    with OriginServer() as origin:
        # The service's own lease and wait outlast the test: only the orphan's expiry ends the wait.
        with Scalecache(redis_url=redis.url, env=origin.env(**HOLDABLE)) as sc:
            # A lease left by a replica that died mid-fetch:
            redis.cli("SET", lease, dead_token, "PX", "1500")
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                with origin.held():
                    result = pool.submit(sc.get_json, "/data/orphan", timeout=30)
                    wait_until(lambda: origin.count("orphan") == 1, 20, what="the fill to reach the origin")
                    holder = redis.cli("GET", lease)
                status, body = result.result()
            assert holder != dead_token, "the origin was called while the dead replica's lease was still held"
            assert status == 200 and body["source"] == "origin" and body["data"] == "v1 of orphan"
            assert origin.count("orphan") == 1
            # It took the lease once the orphan's ran out, not at the end of its (120 s) wait.
            assert sc.metric("scalecache_lease_total", outcome="acquired") == 1
            assert sc.metric("scalecache_lease_total", outcome="timed_out") == 0


# 2. Stale-while-revalidate --------------------------------------------------

def test_stale_while_revalidate_serves_at_once_and_refreshes_once_fleet_wide(redis):
    with OriginServer() as origin:
        env = origin.env(SCALECACHE_CACHE_TTL_SECONDS="1", SCALECACHE_CACHE_STALE_WHILE_REVALIDATE="30",
                         SCALECACHE_CACHE_EARLY_REFRESH_BETA="0", **NO_JITTER, **HOLDABLE)
        with Fleet(3, redis_url=redis.url, env=env) as fleet:
            for r in fleet:
                assert r.get_json("/data/swr")[1]["data"] == "v1 of swr"
            time.sleep(1.2)  # past the TTL, inside the stale window
            with origin.held():
                # Every read is answered while the refresh is held at the origin, so
                # none waited for it (one that did would time out).
                results = parallel([lambda r=r: timed_get(r, "/data/swr") for r in fleet for _ in range(10)], 30)
                wait_until(lambda: origin.count("swr") == 2, 5, what="the background refresh to reach the origin")
            for status, body, headers, _took in results:
                assert status == 200 and body["data"] == "v1 of swr"
                assert body["source"] == "stale"
                assert "detail=stale-while-revalidate" in headers["cache-status"]
            assert total(fleet, "scalecache_stale_served_total", reason="revalidate") == 30
            assert total(fleet, "scalecache_cache_results_total", source="stale") == 30
            wait_until(lambda: all(r.get_json("/data/swr")[1]["data"] == "v2 of swr" for r in fleet), 5,
                       what="every replica to serve the refreshed answer")
            assert origin.count("swr") == 2, "exactly one background refresh for the whole fleet"


# 3. Stale-if-error ----------------------------------------------------------

@pytest.mark.parametrize("stale_if_error,expect", [("60", 200), ("0", 502)])
def test_stale_if_error_stands_in_for_a_failing_origin(redis, stale_if_error, expect):
    with OriginServer() as origin:
        env = origin.env(SCALECACHE_CACHE_TTL_SECONDS="1", SCALECACHE_CACHE_STALE_WHILE_REVALIDATE="0",
                         SCALECACHE_CACHE_STALE_IF_ERROR=stale_if_error, **NO_JITTER)
        with Scalecache(redis_url=redis.url, env=env) as sc:
            assert sc.get_json("/data/sie")[1]["data"] == "v1 of sie"
            origin.fail = True
            time.sleep(1.2)
            status, body, headers = sc.get("/data/sie")
            assert status == expect
            if expect == 200:
                assert json.loads(body)["data"] == "v1 of sie" and json.loads(body)["source"] == "stale"
                assert "detail=stale-if-error" in headers["cache-status"]
                assert sc.metric("scalecache_stale_served_total", reason="error") == 1
                # An error never replaces a good entry.
                assert redis.cli("EXISTS", "scalecache:v:sie") == "1"
            assert sc.metric("scalecache_origin_requests_total", result="error") == 1


# 4. Early refresh (XFetch) --------------------------------------------------

@pytest.mark.parametrize("beta", ["4", "0"])
def test_early_refresh_keeps_a_hot_key_from_expiring(redis, beta):
    env = {"SCALECACHE_CACHE_TTL_SECONDS": "2", "SCALECACHE_CACHE_STALE_WHILE_REVALIDATE": "0",
           "SCALECACHE_CACHE_EARLY_REFRESH_BETA": beta, **NO_JITTER}
    with Scalecache(redis_url=redis.url, origin_delay_ms=300, env=env) as sc:
        assert sc.get("/data/hot")[0] == 200
        slowest = 0.0
        # Reads that found the key expired and waited for the origin's answer, by what
        # the service says (source "origin"), not by how long they took on this machine.
        expired = []
        deadline = time.monotonic() + 3.0  # reads across the 2 s expiry
        while time.monotonic() < deadline:
            status, body, _, took = timed_get(sc, "/data/hot")
            assert status == 200
            slowest = max(slowest, took)
            if body["source"] == "origin":
                expired.append(took)
            time.sleep(0.02)
        refreshes = sc.metric("scalecache_early_refreshes_total")
        if beta == "0":
            assert refreshes == 0
            assert expired, "without early refresh the key expires and a read waits for the origin"
            assert slowest >= 0.25, "a read that waits for the origin takes its 300 ms"
        else:
            assert refreshes >= 1
            assert not expired, f"{len(expired)} reads waited for the origin ({max(expired):.2f}s): the hot key expired"


# 5. TTL jitter ----------------------------------------------------------------

def test_ttl_jitter_is_spread_and_the_same_on_every_replica():
    env = {"SCALECACHE_CACHE_TTL_SECONDS": "1000", "SCALECACHE_CACHE_TTL_JITTER": "0.5"}
    with Fleet(2, env=env) as (a, b):  # no shared Redis: each computes on its own
        ages = {}
        for i in range(20):
            max_ages = [int(r.get(f"/data/j{i}")[2]["cache-control"].split("=")[1]) for r in (a, b)]
            assert abs(max_ages[0] - max_ages[1]) <= 1, "jitter must be deterministic per key"
            ages[i] = max_ages[0]
        assert all(499 <= v <= 1000 for v in ages.values())
        assert len(set(ages.values())) >= 15, f"TTLs not spread: {sorted(ages.values())}"


# 6. Negative caching ---------------------------------------------------------

def test_origin_404_is_cached_for_negative_ttl(redis):
    with OriginServer() as origin:
        env = origin.env(SCALECACHE_CACHE_NEGATIVE_TTL="1")
        with Fleet(2, redis_url=redis.url, env=env) as (a, b):
            assert a.get("/data/missing-1")[0] == 404
            status, body, headers = b.get("/data/missing-1")
            assert status == 404 and json.loads(body)["error"] == "not_found"
            assert "detail=negative" in headers["cache-status"]
            assert a.get("/data/missing-1")[0] == 404
            assert origin.count("missing-1") == 1
            assert total([a, b], "scalecache_cache_results_total", source="negative") == 2
            time.sleep(1.2)
            assert a.get("/data/missing-1")[0] == 404
            assert origin.count("missing-1") == 2


# 7. Invalidation everywhere --------------------------------------------------

def test_purge_reaches_every_replica(redis):
    with OriginServer() as origin:
        with Fleet(3, redis_url=redis.url, env=origin.env()) as fleet:
            purge_reaches_every_replica(fleet)


def test_purge_by_tag(redis):
    with OriginServer() as origin:
        with Fleet(2, redis_url=redis.url, env=origin.env()) as fleet:
            keys = ["tagged-red-1", "tagged-red-2", "tagged-blue-1"]
            for k in keys:
                warm_everywhere(fleet, f"/data/{k}")
            status, body, _ = fleet[0].purge("/tags/red")
            assert status == 200 and json.loads(body) == {"tag": "red", "purged": 2}
            # The other replica drops the two red keys when the purge notice reaches it.
            wait_until(lambda: all(r.metric("scalecache_l1_entries") == 1 for r in fleet), 5,
                       what="every replica to drop the red keys from L1")
            for r in fleet:
                assert r.get_json("/data/tagged-red-1")[1]["data"] == "v2 of tagged-red-1"
                assert r.get_json("/data/tagged-blue-1")[1]["source"] == "l1"
            assert origin.count("tagged-blue-1") == 1


def test_a_fill_leaves_value_tag_set_and_no_lease_in_redis(redis):
    # The fill is one pipeline (value, tags, notice, lease release): each
    # part must still have happened, and in an order other replicas can use.
    with OriginServer() as origin:
        with Fleet(2, redis_url=redis.url, env=origin.env()) as (a, b):
            assert a.get_json("/data/tagged-fillcheck-9")[1]["source"] == "origin"
            assert redis.cli("EXISTS", "scalecache:v:tagged-fillcheck-9") == "1"
            assert redis.cli("EXISTS", "scalecache:l:tagged-fillcheck-9") == "0", "lease released after the fill"
            assert redis.cli("SMEMBERS", "scalecache:t:fillcheck") == "tagged-fillcheck-9"
            assert int(redis.cli("PTTL", "scalecache:t:fillcheck")) >= int(redis.cli("PTTL", "scalecache:v:tagged-fillcheck-9")) - 1000
            assert a.metric("scalecache_invalidation_messages_total", direction="sent") >= 1, "the fill notice was published"
            assert b.get_json("/data/tagged-fillcheck-9")[1]["source"] == "l2"
            assert origin.count("tagged-fillcheck-9") == 1


def stale_if_error_answer(replica, path):
    """The replica's answer when it came from stale-if-error, else None."""
    status, body, headers = replica.get(path)
    return (status, body, headers) if "stale-if-error" in headers.get("cache-status", "") else None


def test_soft_purge_keeps_a_copy_for_stale_if_error(redis):
    with OriginServer() as origin:
        env = origin.env(SCALECACHE_CACHE_STALE_WHILE_REVALIDATE="0")
        with Fleet(2, redis_url=redis.url, env=env) as fleet:
            warm_everywhere(fleet, "/data/soft")
            assert fleet[0].purge("/data/soft?soft=1")[0] == 200
            origin.fail = True
            for r in fleet:
                # Until the purge notice reaches a replica it answers from L1 (a hit that
                # changes nothing); from then on the marked-stale copy stands in for the
                # failing origin.
                status, body, headers = wait_until(lambda: stale_if_error_answer(r, "/data/soft"), 5,
                                                   what="the soft purge to reach every replica")
                assert status == 200 and json.loads(body)["data"] == "v1 of soft"
            origin.fail = False
            refreshed = fleet[1].get_json("/data/soft")[1]
            assert refreshed["source"] == "origin" and refreshed["data"] != "v1 of soft"
            assert total(fleet, "scalecache_purges_total", kind="soft") == 1


def test_broken_subscription_drops_l1(redis):
    with Scalecache(redis_url=redis.url) as sc:
        sc.get("/data/x")
        assert sc.metric("scalecache_l1_entries") == 1
        redis.cli("CLIENT", "KILL", "TYPE", "pubsub")
        wait_until(lambda: sc.metric("scalecache_l1_entries") == 0, 5,
                   what="L1 to be dropped after the invalidation channel broke")
        assert "invalidation subscription re-established" in sc.log()


# 8. HTTP semantics -----------------------------------------------------------

def test_etag_age_cache_control_and_cache_status(redis):
    with Fleet(2, redis_url=redis.url, origin_delay_ms=0, env=NO_JITTER) as (a, b):
        status, _, miss = a.get("/data/h")
        assert status == 200
        assert miss["cache-status"] == "scalecache; fwd=miss; stored"
        assert miss["etag"].startswith('"') and len(miss["etag"]) == 18
        assert miss["cache-control"] == "max-age=300" and miss["age"] == "0"
        _, _, hit = a.get("/data/h")
        assert hit["cache-status"].startswith("scalecache; hit; ttl=") and hit["cache-status"].endswith("detail=l1")
        assert hit["etag"] == miss["etag"]
        _, _, l2 = b.get("/data/h")
        assert l2["cache-status"].endswith("detail=l2") and l2["etag"] == miss["etag"]
        status, body, not_modified = a.get("/data/h", headers={"If-None-Match": f'W/"0", {miss["etag"]}'})
        assert status == 304 and body == "" and not_modified["etag"] == miss["etag"]
        assert a.get("/data/h", headers={"If-None-Match": '"other"'})[0] == 200


def test_collapsed_requests_are_marked(redis):
    with OriginServer() as origin, Scalecache(redis_url=redis.url, env=origin.env(**HOLDABLE)) as sc:
        # The fill is held until the other 9 requests have joined it.
        results = origin.hold_while([lambda: sc.get("/data/c", timeout=30)] * 10,
                                    lambda: sc.metric("scalecache_coalesced_requests_total") >= 9,
                                    what="9 requests to join the first one's fill")
        statuses = sorted(h["cache-status"] for _, _, h in results)
        assert statuses.count("scalecache; fwd=miss; stored") == 1
        assert statuses.count("scalecache; fwd=miss; collapsed; stored") == 9


@pytest.mark.parametrize("respect", ["false", "true"])
@pytest.mark.parametrize("key, said", [
    ("cc-private+maxage600-1", "private"),  # two lines; the later max-age must not hide the private
    ("cc-nostore-1", "no-store"),
    ("cc-maxage600+nostore-1", "no-store"),
    ("cc-private+nostore-1", "no-store"),  # both: the stricter word goes downstream
])
def test_private_and_no_store_answers_are_never_stored_and_clients_are_told(redis, respect, key, said):
    # RFC 9111 §3: a shared cache must not store them, whether or not it
    # otherwise honours the origin's Cache-Control.
    origin_env = {"SCALECACHE_CACHE_RESPECT_ORIGIN_HEADERS": respect}
    with OriginServer() as origin, Scalecache(redis_url=redis.url, env=origin.env(**origin_env)) as sc:
        for n in (1, 2):
            status, body, headers = sc.get(f"/data/{key}")
            assert status == 200 and json.loads(body)["data"] == f"v{n} of {key}", body
            assert headers["cache-control"] == said, "downstream caches are told what the origin said"
            assert headers["cache-status"] == "scalecache; fwd=miss", "not stored"
        assert origin.count(key) == 2, "the origin is asked again: nothing was kept"
        assert redis.cli("EXISTS", f"scalecache:v:{key}") == "0"
        assert sc.metric("scalecache_l1_entries") == 0


def test_storing_private_and_no_store_answers_is_an_explicit_override(redis):
    env = {"SCALECACHE_CACHE_STORE_PRIVATE_AND_NO_STORE": "true", **NO_JITTER}
    with OriginServer() as origin, Scalecache(redis_url=redis.url, env=origin.env(**env)) as sc:
        for key in ["cc-private+maxage600-2", "cc-nostore-2"]:
            _, _, headers = sc.get(f"/data/{key}")
            assert headers["cache-control"] == "max-age=300" and headers["cache-status"].endswith("stored")
            assert sc.get_json(f"/data/{key}")[1]["source"] == "l1"
            assert origin.count(key) == 1
            assert redis.cli("EXISTS", f"scalecache:v:{key}") == "1"


def test_repeated_surrogate_key_lines_all_tag_the_answer(redis):
    token = "t0ken-for-tags"
    bearer = {"Authorization": f"Bearer {token}"}
    key = "tagged-red+blue-1"  # "Surrogate-Key: red all" then "Surrogate-Key: blue all"
    with OriginServer() as origin, \
            Scalecache(redis_url=redis.url, env=origin.env(SCALECACHE_ADMIN_TOKEN=token)) as sc:
        for n, tag in enumerate(["red", "blue", "all"], start=1):
            assert sc.get_json(f"/data/{key}")[1]["data"] == f"v{n} of {key}"
            status, body, _ = sc.request("DELETE", f"/tags/{tag}", headers=bearer)
            assert status == 200 and json.loads(body) == {"tag": tag, "purged": 1}, f"tag {tag}: {body}"
            assert redis.cli("EXISTS", f"scalecache:v:{key}") == "0"
        assert origin.count(key) == 3


def test_origin_cache_control_is_honoured_when_asked(redis):
    with OriginServer() as origin:
        # No stale window of its own: only the origin's stale-while-revalidate gives one.
        env = origin.env(SCALECACHE_CACHE_RESPECT_ORIGIN_HEADERS="true",
                         SCALECACHE_CACHE_STALE_WHILE_REVALIDATE="0", **NO_JITTER)
        with Scalecache(redis_url=redis.url, env=env) as sc:
            for key in ["cc-nostore-1", "cc-private-1"]:
                sc.get(f"/data/{key}")
                sc.get(f"/data/{key}")
                assert origin.count(key) == 2, f"{key}: no-store and private answers are not kept"
            for key in ["cc-maxage1-1", "cc-swr-1"]:
                _, _, h = sc.get(f"/data/{key}")
                assert h["cache-control"] == "max-age=1", f"{key}: the origin's max-age, not the 300 s TTL"
                assert sc.get_json(f"/data/{key}")[1]["source"] == "l1"
            time.sleep(1.1)  # past the origin's max-age (the configured TTL is 300 s)
            # max-age=1 alone: expired and no stale window, so fetched again before answering.
            body = sc.get_json("/data/cc-maxage1-1")[1]
            assert body["source"] == "origin" and body["data"] == "v2 of cc-maxage1-1", body
            # max-age=1, stale-while-revalidate=30: served stale at once, refreshed behind.
            assert sc.get_json("/data/cc-swr-1")[1]["source"] == "stale"
            wait_until(lambda: origin.count("cc-swr-1") == 2, 5, what="the refresh in the origin's stale window")


def test_origin_max_age_is_ignored_by_default(redis):
    # (private and no-store are never stored, whatever this setting says:
    # test_private_and_no_store_answers_are_never_stored_and_clients_are_told.)
    with OriginServer() as origin:
        with Scalecache(redis_url=redis.url, env=origin.env(**NO_JITTER)) as sc:
            for key in ["cc-maxage1-1"]:
                _, _, h = sc.get(f"/data/{key}")
                assert h["cache-control"] == "max-age=300", f"{key}: the configured TTL, not the origin's"
                assert sc.get_json(f"/data/{key}")[1]["source"] == "l1", key
                assert origin.count(key) == 1, key
