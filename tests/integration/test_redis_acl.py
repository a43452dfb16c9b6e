"""An ACL user (redis://user:password@…, or redis.username) with only the
commands scalecache sends; a wrong password is a clear log line and
scalecache_redis_up 0, never a crash."""
from fleet_checks import purge_reaches_every_replica
from harness import Fleet, Scalecache, wait_until
from origin_server import OriginServer

USER, PASSWORD = "cache-user", "acl-pass-5d1e"
# What scalecache sends, and nothing else: no FLUSHALL, CONFIG, KEYS, ACL...
COMMANDS = ["+get", "+set", "+del", "+exists", "+incr", "+pexpire", "+sadd", "+srem", "+sscan", "+srandmember",
            "+evalsha", "+script|load", "+publish", "+subscribe", "+ping", "+select"]


def limited_user(redis) -> None:
    redis.cli("ACL", "SETUSER", USER, "on", f">{PASSWORD}", "resetkeys", "~scalecache:*", "resetchannels",
              "&scalecache:*", "-@all", *COMMANDS)


def test_an_acl_user_limited_to_scalecache_commands_serves_fills_and_purges(redis):
    limited_user(redis)
    url = f"redis://{USER}:{PASSWORD}@127.0.0.1:{redis.port}"
    with OriginServer() as origin, Fleet(2, redis_url=url, env=origin.env()) as fleet:
        assert fleet[0].get_json("/data/acl")[1]["source"] == "origin"
        assert fleet[1].get_json("/data/acl")[1]["source"] == "l2"
        purge_reaches_every_replica(fleet)
        assert all(r.metric("scalecache_redis_up") == 1 for r in fleet)
        assert all(r.metric("scalecache_invalidation_subscribe_errors_total") == 0 for r in fleet)
    # The same user through redis.username and redis.password.
    env = {"SCALECACHE_REDIS_USERNAME": USER, "SCALECACHE_REDIS_PASSWORD": PASSWORD}
    with Scalecache(redis_url=f"redis://127.0.0.1:{redis.port}", origin_delay_ms=0, env=env) as sc:
        assert sc.get_json("/data/acl")[1]["source"] == "l2"
        assert PASSWORD not in sc.log() + sc.metrics_text()


def test_a_wrong_password_for_the_user_is_a_clear_error_not_a_crash(redis):
    limited_user(redis)
    with Scalecache(redis_url=f"redis://{USER}:wrong-pass@127.0.0.1:{redis.port}", origin_delay_ms=0) as sc:
        assert sc.get_json("/data/k")[1]["source"] == "origin"
        wait_until(lambda: "WRONGPASS" in sc.log(), 5, what="the AUTH refusal in the log")
        assert sc.metric("scalecache_redis_up") == 0
        assert "wrong-pass" not in sc.log() + sc.metrics_text()
        assert sc.proc.poll() is None
