"""scalecache on a Redis Cluster (redis.mode cluster): 3 masters + 3 replicas
made by the test on loopback, 3 scalecache replicas routing by slot."""
import contextlib
import json
import time

import pytest

from fleet_checks import (L1_OFF, ROUND_TRIPS, SteadyLoad, a_miss_costs_two_round_trips_and_a_known_l2_hit_one_get, fill,
                          purge_reaches_every_replica, three_hundred_cold_requests_one_origin_call, warm_everywhere)
from harness import Fleet, RedisCluster, total, wait_until
from origin_server import HOLDABLE, OriginServer
from redis_monitor import RedisMonitor

PREFIX = "scalecache:"


@pytest.fixture(scope="module")
def cluster():
    with RedisCluster(masters=3, replicas=1) as c:
        yield c


def keys_on_every_master(cluster, stem: str, count: int = 3) -> list[str]:
    """`count` keys "<stem>-<n>" whose entries live on `count` different masters."""
    keys, masters = [], set()
    for n in range(1000):
        key = f"{stem}-{n}"
        port = cluster.master_of(f"{PREFIX}v:{{{key}}}").port
        if port not in masters:
            masters.add(port)
            keys.append(key)
        if len(keys) == count:
            return keys
    raise LookupError("keys could not be spread over the masters")


def test_a_keys_names_share_one_slot_and_the_cluster_agrees_on_slots(cluster):
    with OriginServer() as origin, Fleet(1, env=cluster.env(**origin.env())) as (sc,):
        assert sc.get_json("/data/alpha")[1]["source"] == "origin"
        # The value is on the master owning {alpha}'s slot, the one CLUSTER KEYSLOT names.
        owner = cluster.master_of(f"{PREFIX}v:{{alpha}}")
        assert owner.cli("EXISTS", f"{PREFIX}v:{{alpha}}") == "1"
        assert cluster.keyslot(f"{PREFIX}v:{{alpha}}") == cluster.keyslot(f"{PREFIX}l:{{alpha}}") == \
            cluster.keyslot(f"{PREFIX}g:{{alpha}}") == cluster.keyslot("alpha")
        assert sc.metric("scalecache_redis_up") == 1
        assert sc.metric("scalecache_redis_node_up") == 3
        assert sc.metric("scalecache_redis_topology_refreshes_total", result="ok") >= 1


def test_three_hundred_cold_requests_over_three_replicas_make_one_origin_call(cluster):
    with OriginServer() as origin:
        env = cluster.env(**origin.env(SCALECACHE_ORIGIN_CONCURRENCY="16", **HOLDABLE))
        with Fleet(3, env=env) as fleet:
            three_hundred_cold_requests_one_origin_call(fleet, origin)


def test_purge_by_key_and_by_tag_reach_every_replica(cluster):
    with OriginServer() as origin, Fleet(3, env=cluster.env(**origin.env())) as fleet:
        # A purge by key: the notice, published on the key's master, reaches replicas subscribed anywhere.
        purge_reaches_every_replica(fleet)

        # A purge by tag whose keys live on all three masters.
        red = keys_on_every_master(cluster, "tagged-red")
        for key in [*red, "tagged-blue-1"]:
            warm_everywhere(fleet, f"/data/{key}")
        entries = [r.metric("scalecache_l1_entries") for r in fleet]
        status, body, _ = fleet[0].purge("/tags/red")
        assert status == 200 and json.loads(body) == {"tag": "red", "purged": 3}
        wait_until(lambda: all(r.metric("scalecache_l1_entries") == e - 3 for r, e in zip(fleet, entries)), 5,
                   what="every replica to drop the red keys from L1")
        for key in red:
            assert cluster.master_of(f"{PREFIX}v:{{{key}}}").cli("EXISTS", f"{PREFIX}v:{{{key}}}") == "0"
            for r in fleet:
                assert r.get_json(f"/data/{key}")[1]["data"] == f"v2 of {key}"
        assert {r.get_json("/data/tagged-blue-1")[1]["source"] for r in fleet} == {"l1"}
        assert origin.count("tagged-blue-1") == 1


def test_a_miss_sends_the_same_commands_as_on_one_redis_and_only_to_its_master(cluster, redis):
    """Routing adds no command: a miss is the lookup script (the read and the
    lease step) and (after the origin) the fill script, on the key's master
    alone, as on a standalone Redis."""
    # A generous command timeout: on a busy machine a read that times out skips the lease, and the count.
    patient = {"SCALECACHE_REDIS_TIMEOUT_MS": "2000"}
    with OriginServer() as origin:
        with Fleet(1, redis_url=redis.url, env=origin.env(**patient)) as (sc,):
            sc.get("/data/warm")  # the pool's connection (and its SCRIPT LOADs) is open
            before = command_counts(redis)
            assert sc.get_json("/data/trips")[1]["source"] == "origin"
            wait_until(lambda: redis.cli("EXISTS", f"{PREFIX}v:trips") == "1", 5, what="the fill")
            standalone = delta(before, command_counts(redis))
        with Fleet(1, env=cluster.env(**origin.env(**patient))) as (sc,):
            key = "trips"
            owner = cluster.master_of(f"{PREFIX}v:{{{key}}}")
            warm = next(k for k in (f"warm-{n}" for n in range(1000))
                        if cluster.master_of(f"{PREFIX}v:{{{k}}}").port == owner.port)
            sc.get(f"/data/{warm}")
            # The masters only: replicas run what their master replicates to them.
            masters = [cluster.node(port) for port in cluster.slot_owners(owner)]
            before = {n.port: command_counts(n) for n in masters}
            assert sc.get_json(f"/data/{key}")[1]["source"] == "origin"
            wait_until(lambda: owner.cli("EXISTS", f"{PREFIX}v:{{{key}}}") == "1", 5, what="the fill")
            spent = {n.port: delta(before[n.port], command_counts(n)) for n in masters}
    # Top-level: EVALSHA (lookup), EVALSHA (fill); the rest run inside the scripts.
    assert standalone["evalsha"] == 2
    assert spent.pop(owner.port) == standalone
    assert all(not counts for counts in spent.values()), spent


def test_a_miss_costs_two_round_trips_and_a_known_l2_hit_one_get(cluster, redis):
    """The round trips of a miss and of a known hit (fleet_checks), the same on
    one Redis and on the cluster, where only the key's master hears them."""
    with OriginServer() as origin:
        with Fleet(1, redis_url=redis.url, env=origin.env(**ROUND_TRIPS)) as (sc,):
            sc.get("/data/warm")  # the pool's connection (and its SCRIPT LOADs) is open
            with RedisMonitor(redis) as monitor:
                a_miss_costs_two_round_trips_and_a_known_l2_hit_one_get(sc, monitor, "two-trips")
        with Fleet(1, env=cluster.env(**origin.env(**ROUND_TRIPS))) as (sc,):
            owner = cluster.master_of(f"{PREFIX}v:{{two-trips}}")
            warm = next(k for k in (f"warm-{n}" for n in range(1000))
                        if cluster.master_of(f"{PREFIX}v:{{{k}}}").port == owner.port)
            sc.get(f"/data/{warm}")
            others = [cluster.node(port) for port in cluster.slot_owners(owner) if port != owner.port]
            with contextlib.ExitStack() as stack:
                monitor = stack.enter_context(RedisMonitor(owner))
                quiet = [stack.enter_context(RedisMonitor(node)) for node in others]
                a_miss_costs_two_round_trips_and_a_known_l2_hit_one_get(sc, monitor, "two-trips", "{two-trips}")
                assert all(not m.window() for m in quiet)


IGNORED = ("info", "ping", "cluster", "script", "auth", "command", "config", "replconf")


def command_counts(node) -> dict[str, int]:
    """Calls per command (INFO commandstats; commands run by scripts included), but
    those of tests, health checks and new connections."""
    counts = {}
    for line in node.cli("INFO", "commandstats").splitlines():
        if line.startswith("cmdstat_"):
            name = line[len("cmdstat_"):].split(":")[0].split("|")[0]
            if name not in IGNORED:
                counts[name] = counts.get(name, 0) + int(line.split("calls=")[1].split(",")[0])
    return counts


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


# Failover and resharding under load: each test makes its own cluster, since it changes it.

def l2_hit(replica, key: str) -> bool:
    status, body = replica.get_json(f"/data/{key}")
    return status == 200 and body["source"] == "l2"


def test_a_master_killed_under_load_fails_no_request_and_l2_hits_come_back():
    with RedisCluster(masters=3, replicas=1) as cluster, OriginServer() as origin, \
            Fleet(3, env=cluster.env(**origin.env(**L1_OFF))) as fleet:
        keys = [f"load-{n}" for n in range(60)]
        paths = fill(fleet, keys)
        # A master that is not a seed: once failed over, scalecache closes its pool and its metric series.
        victim = next(m for m in (cluster.master_of(f"{PREFIX}v:{{{k}}}") for k in keys)
                      if f"127.0.0.1:{m.port}" not in cluster.seeds.split(","))
        doomed = [k for k in keys if cluster.master_of(f"{PREFIX}v:{{{k}}}").port == victim.port]
        with SteadyLoad(fleet, paths) as load:
            load.wait_for_more(100, "load to run")
            killed_at = time.monotonic()
            victim.stop()
            # The cluster promotes the victim's replica; the fleet follows the new map.
            wait_until(cluster.healthy, 30, what="a replica to be promoted")
            promoted_at = time.monotonic()
            # A miss on the way refills the key, so asking again soon finds it in L2.
            wait_until(lambda: l2_hit(fleet[1], doomed[0]), 30, interval=0.05,
                       what="L2 hits on the failed shard's keys again")
            recovered_at = time.monotonic()
            load.wait_for_more(50, "more load after recovery")
        assert load.failures() == [], load.failures()[:5]
        answers = load.answers
        print(f"\nfailover: {len(answers)} requests, 0 failed; promoted after {promoted_at - killed_at:.2f} s, "
              f"L2 hits on the shard back after {recovered_at - killed_at:.2f} s")
        assert total(fleet, "scalecache_redis_up") == 3
        wait_until(lambda: all(f'node="127.0.0.1:{victim.port}"' not in r.metrics_text() for r in fleet), 10,
                   what="the failed master's scalecache_redis_node_up series to go")


def test_resharding_a_thousand_slots_under_load_fails_no_request():
    with RedisCluster(masters=3, replicas=1) as cluster, OriginServer() as origin, \
            Fleet(3, env=cluster.env(**origin.env(**L1_OFF))) as fleet:
        keys = [f"move-{n}" for n in range(200)]
        paths = fill(fleet, keys)
        owner_before = {k: cluster.master_of(f"{PREFIX}v:{{{k}}}").port for k in keys}
        source = cluster.node(owner_before[keys[0]])
        target = next(cluster.node(p) for p in cluster.slot_owners(source) if p != source.port)
        with SteadyLoad(fleet, paths) as load:
            load.wait_for_more(100, "load to run")
            started = time.monotonic()
            cluster.reshard(source, target, 1000)
            took = time.monotonic() - started
            load.wait_for_more(100, "more load after the reshard")
        moved = [k for k in keys if cluster.master_of(f"{PREFIX}v:{{{k}}}").port != owner_before[k]]
        assert moved, "no key of the load was on the slots moved"
        assert load.failures() == [], load.failures()[:5]
        redirects = total(fleet, "scalecache_redis_redirects_total", kind="moved") + \
            total(fleet, "scalecache_redis_redirects_total", kind="ask")
        assert redirects > 0
        # The moved keys' entries went with their slots: served from L2 on every replica, no origin call.
        calls = origin.count(moved[0])
        assert all(l2_hit(r, moved[0]) for r in fleet)
        assert origin.count(moved[0]) == calls
        print(f"\nreshard of 1000 slots in {took:.1f} s: {len(load.answers)} requests, 0 failed, "
              f"{len(moved)} of {len(keys)} keys moved, redirects followed: "
              f"moved {total(fleet, 'scalecache_redis_redirects_total', kind='moved'):.0f}, "
              f"ask {total(fleet, 'scalecache_redis_redirects_total', kind='ask'):.0f}")


def test_a_fourth_master_added_and_rebalanced_takes_keys():
    with RedisCluster(masters=3, replicas=0) as cluster, OriginServer() as origin, \
            Fleet(2, env=cluster.env(**origin.env(**L1_OFF))) as fleet:
        keys = [f"spread-{n}" for n in range(100)]
        paths = fill(fleet, keys)
        with SteadyLoad(fleet, paths) as load:
            load.wait_for_more(100, "load to run")
            fourth = cluster.add_master()
            load.wait_for_more(100, "more load after the rebalance")
        assert load.failures() == [], load.failures()[:5]
        on_fourth = [k for k in keys if cluster.master_of(f"{PREFIX}v:{{{k}}}").port == fourth.port]
        assert len(on_fourth) >= 10, f"only {len(on_fourth)} of {len(keys)} keys on the new master"
        assert all(fourth.cli("EXISTS", f"{PREFIX}v:{{{k}}}") == "1" for k in on_fourth)
        assert all(l2_hit(fleet[1], k) for k in on_fourth)
        assert total(fleet, "scalecache_redis_node_up", node=f"127.0.0.1:{fourth.port}") == 2
