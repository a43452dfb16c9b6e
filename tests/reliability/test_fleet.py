"""Three replicas behind NGINX (deploy/nginx/scalecache.conf templated to
loopback ports): a replica stopped with SIGTERM, and a rolling restart of all
three, under load, with zero failed client requests.

The replicas drain for SCALECACHE_SHUTDOWN_DRAIN_SECONDS=1 (readyz 503,
"Connection: close" on every answer), then stop; NGINX's passive health check
(max_fails=1 fail_timeout=5s) and proxy_next_upstream retry whatever reached a
replica that was going away.
"""
from contextlib import contextmanager

from faultlib import (Load, NginxLB, Scalecache, assert_clean_exit, assert_no_failures, mixed_paths,
                      stop_and_expect_clean_exit, wait_until)

DRAIN = {"SCALECACHE_SHUTDOWN_DRAIN_SECONDS": "1", "SCALECACHE_SHUTDOWN_GRACE_SECONDS": "5"}


def replica(redis_url: str, port: int | None = None) -> Scalecache:
    return Scalecache(redis_url=redis_url, origin_delay_ms=5, env=DRAIN, port=port).start()


@contextmanager
def fleet(redis, n: int = 3):
    replicas: list[Scalecache] = []
    try:
        for _ in range(n):
            replicas.append(replica(redis.url))
        with NginxLB([r.port for r in replicas]) as lb:
            yield replicas, lb
    finally:
        for r in replicas:
            r.stop()


def data_requests(sc: Scalecache) -> float:
    return sc.metric("scalecache_http_requests_total", route="data")


def test_sigterm_to_one_of_three_replicas_under_load(redis):
    with fleet(redis) as (replicas, lb):
        with Load(lb.port, workers=8, duration=60, paths=mixed_paths(prefix="term")) as load:
            load.answered_more(500, what="answers from the full fleet")
            code = stop_and_expect_clean_exit(replicas[1])
            load.answered_more(500, what="answers from the two survivors")
        stats = load.stats
        print(stats.summary())
        assert code == 0, replicas[1].log()[-2000:]
        assert_no_failures(stats, at_least=1000)
        for survivor in (replicas[0], replicas[2]):
            assert_clean_exit(survivor)


def test_rolling_restart_of_all_three_under_load(redis):
    with fleet(redis) as (replicas, lb):
        with Load(lb.port, workers=8, duration=60, paths=mixed_paths(prefix="roll")) as load:
            load.answered_more(300, what="answers before the first restart")
            for i, old in enumerate(list(replicas)):
                code = stop_and_expect_clean_exit(old)
                assert code == 0, old.log()[-2000:]
                old.stop()
                replicas[i] = replica(redis.url, port=old.port)  # same port: NGINX's upstream list is static
                # The next replica may only go once this one takes traffic again: NGINX keeps a
                # replica it saw fail out of rotation for fail_timeout (5 s), and stopping the
                # next one before that would leave a single replica, or none, in rotation.
                wait_until(lambda: data_requests(replicas[i]) > 0, 15,
                           what=f"NGINX to route to restarted replica {i}")
            load.answered_more(300, what="answers from the restarted fleet")
        stats = load.stats
        print(stats.summary())
        assert_no_failures(stats, at_least=1000)
        for r in replicas:
            assert_clean_exit(r)
