"""scalecache with Redis Sentinel (redis.mode sentinel): 1 master, 2 replicas
and 3 sentinels made by the test on loopback."""
import time

from fleet_checks import (L1_OFF, ROUND_TRIPS, SteadyLoad, a_miss_costs_two_round_trips_and_a_known_l2_hit_one_get, fill,
                          purge_reaches_every_replica)
from harness import Fleet, RedisSentinels, total, wait_until
from origin_server import OriginServer
from redis_monitor import RedisMonitor

def source_of(replica, key: str) -> str:
    status, body = replica.get_json(f"/data/{key}")
    return body["source"] if status == 200 else ""


def test_the_master_named_by_the_sentinels_serves_and_purges_reach_every_replica():
    with RedisSentinels() as redis, OriginServer() as origin, Fleet(2, env=redis.env(**origin.env())) as fleet:
        assert fleet[0].get_json("/data/alpha")[1]["source"] == "origin"
        assert redis.servers[0].cli("EXISTS", "scalecache:v:alpha") == "1"
        assert fleet[1].get_json("/data/alpha")[1]["source"] == "l2"
        assert total(fleet, "scalecache_redis_up") == 2
        purge_reaches_every_replica(fleet)


def test_a_miss_costs_two_round_trips_and_a_known_l2_hit_one_get():
    """The round trips of a miss and of a known hit (fleet_checks), as on one
    Redis: reaching the master through the sentinels adds none."""
    with RedisSentinels() as redis, OriginServer() as origin, \
            Fleet(1, env=redis.env(**origin.env(**ROUND_TRIPS))) as (sc,):
        sc.get("/data/warm")  # the pool's connection (its ROLE check and SCRIPT LOADs) is open
        with RedisMonitor(redis.master()) as monitor:
            a_miss_costs_two_round_trips_and_a_known_l2_hit_one_get(sc, monitor, "two-trips")


def test_a_master_killed_under_load_is_followed_and_no_request_fails():
    with RedisSentinels() as redis, OriginServer() as origin, Fleet(3, env=redis.env(**origin.env(**L1_OFF))) as fleet:
        paths = fill(fleet, [f"load-{n}" for n in range(40)])
        old = redis.master()
        with SteadyLoad(fleet, paths) as load:
            load.wait_for_more(100, "load to run")
            killed_at = time.monotonic()
            old.stop()
            wait_until(lambda: redis.master_port() not in (0, old.port), 60, interval=0.1,
                       what="the sentinels to promote a replica")
            switched_at = time.monotonic()
            # Every replica of the fleet reads L2 again: the new master answers.
            wait_until(lambda: all(source_of(r, "load-0") == "l2" for r in fleet), 30, interval=0.05,
                       what="every scalecache replica to follow the new master")
            recovered_at = time.monotonic()
            load.wait_for_more(100, "more load after the failover")
        assert load.failures() == [], load.failures()[:5]
        new = redis.master()
        assert new.cli("EXISTS", "scalecache:v:load-0") == "1"
        assert total(fleet, "scalecache_redis_up") == 3
        print(f"\nsentinel failover: {len(load.answers)} requests, 0 failed; switch after "
              f"{switched_at - killed_at:.2f} s, L2 hits on every replica after {recovered_at - killed_at:.2f} s")


def test_after_a_manual_failover_the_old_master_now_a_replica_gets_no_writes():
    """SENTINEL FAILOVER demotes a live master: scalecache moves to the new one
    and writes nothing more to the old (its pools are rebuilt, and ROLE is
    checked on every new connection)."""
    with RedisSentinels() as redis, OriginServer() as origin, Fleet(2, env=redis.env(**origin.env(**L1_OFF))) as fleet:
        paths = fill(fleet, [f"manual-{n}" for n in range(20)])
        old = redis.master()
        with SteadyLoad(fleet, paths) as load:
            load.wait_for_more(100, "load to run")
            redis.sentinels[0].cli("SENTINEL", "FAILOVER", redis.MASTER_NAME)
            wait_until(lambda: redis.master_port() not in (0, old.port), 60, interval=0.1,
                       what="the sentinels to switch the master")
            wait_until(lambda: "role:slave" in old.cli("INFO", "replication"), 30, what="the old master to be a replica")
            wait_until(lambda: all(source_of(r, "manual-0") == "l2" for r in fleet), 30, interval=0.05,
                       what="every scalecache replica to follow the new master")
            writes = old.cli("INFO", "commandstats")
            fleet[0].get("/data/after-the-switch")  # a miss: lease and fill scripts
            load.wait_for_more(100, "more load after the switch")
        assert load.failures() == [], load.failures()[:5]
        # Commands the old master ran since: replication only, nothing from scalecache.
        assert evalsha_calls(old.cli("INFO", "commandstats")) == evalsha_calls(writes)
        assert redis.master().cli("EXISTS", "scalecache:v:after-the-switch") == "1"


def evalsha_calls(commandstats: str) -> int:
    line = next((x for x in commandstats.splitlines() if x.startswith("cmdstat_evalsha:")), "calls=0,")
    return int(line.split("calls=")[1].split(",")[0])
