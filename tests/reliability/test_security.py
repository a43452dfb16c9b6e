"""Security properties: the purge route needs the bearer token,
secrets never show up in logs, errors or /metrics, Redis keys stay under the
configured prefix, Redis AUTH works from a file and the environment, and
every answer carries X-Content-Type-Options: nosniff. Issue 15 item 3:
purges are closed unless a token is set or they are opened explicitly
(admin.allow_unauthenticated_purge), which is warned about at start."""
import json

import pytest

from faultlib import RedisServer, Scalecache, assert_clean_exit, wait_until

ADMIN_TOKEN = "adm-4f9c2e-token"
REDIS_PASSWORD = "redis-7d1b-secret"


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    secret_file = tmp_path_factory.mktemp("secrets") / "redis-password"
    secret_file.write_text(REDIS_PASSWORD + "\n")
    with RedisServer(password=REDIS_PASSWORD) as redis:
        env = {"SCALECACHE_ADMIN_TOKEN": ADMIN_TOKEN,
               "SCALECACHE_REDIS_PASSWORD_FILE": str(secret_file),
               "SCALECACHE_REDIS_KEY_PREFIX": "tenant-a:"}
        with Scalecache(redis_url=f"redis://127.0.0.1:{redis.port}", origin_delay_ms=0, env=env) as sc:
            yield sc, redis


def test_redis_auth_from_file_and_key_prefix(secured):
    sc, redis = secured
    assert sc.get("/data/prefixed")[0] == 200
    assert sc.metric("scalecache_redis_up") == 1, "AUTH with redis.password_file"
    wait_until(lambda: redis.cli("DBSIZE") != "0", 5, what="a key in Redis")
    keys = [k for k in redis.cli("--scan").splitlines() if k]
    assert keys and all(k.startswith("tenant-a:") for k in keys), keys


def test_purge_needs_the_bearer_token(secured):
    sc, _ = secured
    assert sc.get("/data/victim")[0] == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {ADMIN_TOKEN}x"},
                    {"Authorization": ADMIN_TOKEN}, {"Authorization": f"Basic {ADMIN_TOKEN}"}):
        status, body, got = sc.request("DELETE", "/data/victim", headers=headers)
        assert status == 401 and '"unauthorized"' in body, (headers, status, body)
        assert got.get("www-authenticate", "").startswith("Bearer")
    status, body, _ = sc.request("DELETE", "/data/victim", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert status == 200, body


def test_tag_purge_needs_the_bearer_token(secured):
    sc, _ = secured
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        status, body, got = sc.request("DELETE", "/tags/red", headers=headers)
        assert status == 401 and json.loads(body)["error"] == "unauthorized", (headers, status, body)
        assert got.get("www-authenticate", "").startswith("Bearer")
    status, body, _ = sc.request("DELETE", "/tags/red", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert status == 200 and json.loads(body) == {"tag": "red", "purged": 0}, body


def purge_warnings(log: str) -> list[dict]:
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("level") == "warn" and "allow_unauthenticated_purge" in line["msg"]]


def test_purges_are_refused_by_default(redis):
    """No admin.token and no allow flag (the defaults): 403 purge_disabled for
    keys and tags, with or without an Authorization header, and nothing is
    purged: the value is still served from the cache."""
    with Scalecache(redis_url=redis.url, origin_delay_ms=0, admin_token=None) as sc:
        assert sc.get_json("/data/k")[1]["source"] == "origin"
        wait_until(lambda: redis.cli("EXISTS", "scalecache:v:k") == "1", 5, what="the fill to reach Redis")
        for path in ("/data/k", "/tags/t", "/data/k?soft=1"):
            for headers in ({}, {"Authorization": "Bearer guess"}):
                status, body, got = sc.request("DELETE", path, headers=headers)
                assert status == 403, (path, headers, status, body)
                assert got.get("content-type", "").startswith("application/json")
                assert json.loads(body)["error"] == "purge_disabled", body
                assert "www-authenticate" not in got, "no token would help: nothing to authenticate against"
        status, body = sc.get_json("/data/k")
        assert status == 200 and body["source"] == "l1", body
        assert redis.cli("EXISTS", "scalecache:v:k") == "1"
        assert sc.metric("scalecache_purges_total") == 0
        assert sc.metric("scalecache_http_requests_total", route="purge", code="403") == 6
        assert purge_warnings(sc.log()) == []


def test_allow_unauthenticated_purge_opens_purges_and_warns(redis):
    env = {"SCALECACHE_ADMIN_ALLOW_UNAUTHENTICATED_PURGE": "true"}
    with Scalecache(redis_url=redis.url, origin_delay_ms=0, admin_token=None, env=env) as sc:
        assert len(purge_warnings(sc.log())) == 1, sc.log()
        assert sc.get("/data/k")[0] == 200
        status, body, _ = sc.request("DELETE", "/data/k")
        assert status == 200 and json.loads(body) == {"key": "k", "purged": 1}, body
        status, body, _ = sc.request("DELETE", "/tags/t")
        assert status == 200, body
        assert sc.get_json("/data/k")[1]["source"] == "origin"


def test_a_token_wins_over_the_allow_flag(redis):
    env = {"SCALECACHE_ADMIN_ALLOW_UNAUTHENTICATED_PURGE": "true", "SCALECACHE_ADMIN_TOKEN": ADMIN_TOKEN}
    with Scalecache(redis_url=redis.url, origin_delay_ms=0, env=env) as sc:
        assert purge_warnings(sc.log()) == [], "purges are not open: they need the token"
        assert sc.request("DELETE", "/data/k")[0] == 401
        assert sc.request("DELETE", "/data/k", headers={"Authorization": "Bearer wrong"})[0] == 401
        assert sc.purge("/data/k")[0] == 200


def test_every_answer_says_nosniff(secured):
    sc, _ = secured
    for method, path in [("GET", "/data/a"), ("GET", "/data/%zz"), ("GET", "/nope"), ("PUT", "/data/a"),
                         ("DELETE", "/data/a"), ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")]:
        status, _, headers = sc.request(method, path)
        assert headers.get("x-content-type-options") == "nosniff", (method, path, status)


def test_secrets_never_leak(secured):
    sc, _ = secured
    sc.request("DELETE", "/data/x", headers={"Authorization": "Bearer guess"})
    bodies = [sc.request(m, p)[1] for m, p in [("GET", "/data/%zz"), ("PUT", "/x"), ("DELETE", "/data/x")]]
    seen = sc.log() + sc.metrics_text() + "".join(bodies)
    assert ADMIN_TOKEN not in seen and REDIS_PASSWORD not in seen
    assert_clean_exit(sc)
    assert ADMIN_TOKEN not in sc.log() and REDIS_PASSWORD not in sc.log()


def test_redis_password_from_the_environment():
    with RedisServer(password=REDIS_PASSWORD) as redis, \
         Scalecache(redis_url=f"redis://127.0.0.1:{redis.port}", origin_delay_ms=0,
                    env={"SCALECACHE_REDIS_PASSWORD": REDIS_PASSWORD}) as sc:
        assert sc.get("/data/env-auth")[0] == 200
        assert sc.metric("scalecache_redis_up") == 1
        assert REDIS_PASSWORD not in sc.log() + sc.metrics_text()
        assert_clean_exit(sc)
