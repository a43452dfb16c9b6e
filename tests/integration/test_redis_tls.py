"""TLS to Redis, in-process (redis.tls.*), for real, on loopback.

An openssl-made CA (tests/lib/tls_pki.py) signs a server certificate for
redis-server's own `tls-port` (Debian's redis-server 7.0 is built with TLS;
the plain port is off) and a client certificate. scalecache does the TLS
itself (src/redis/redis_tls.hpp). Checked: a miss, an L2 hit and a purge
across two replicas with a client certificate and an ACL user; the address
verified when no server name is set; a wrong CA, a wrong name and a missing
client certificate are clear log lines with `redis_up 0`, the replica still
serving from the origin; a TLS Redis Cluster reached at the addresses its
nodes announce; a CA file that is not PEM is a config error.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness import SCALECACHE_BIN, Fleet, RedisCluster, RedisSentinels, RedisServer, Scalecache, wait_until
from tls_pki import SERVER_NAME, make_pki

USER, PASSWORD = "tls-user", "tls-pass-91c2"


@pytest.fixture(scope="module")
def pki():
    d = make_pki(Path(tempfile.mkdtemp(prefix="scalecache-tls-")))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def redis_tls(pki):
    """redis-server with only a TLS port (the plain port off), client certificates required."""
    with RedisServer(tls_pki=pki, args=["--tls-auth-clients", "yes"]) as server:
        server.cli("ACL", "SETUSER", USER, "on", f">{PASSWORD}", "~scalecache:*", "&scalecache:*", "+@all")
        yield server


def tls_env(pki: Path, ca: str = "ca.crt", server_name: str = "", client_cert: bool = True) -> dict[str, str]:
    env = {"SCALECACHE_REDIS_TLS_ENABLED": "true", "SCALECACHE_REDIS_TLS_CA_FILE": str(pki / ca),
           # Handshakes under the sanitizers take longer than the 200 ms default.
           "SCALECACHE_REDIS_CONNECT_TIMEOUT_MS": "2000", "SCALECACHE_REDIS_TIMEOUT_MS": "1000"}
    if server_name:
        env["SCALECACHE_REDIS_TLS_SERVER_NAME"] = server_name
    if client_cert:
        env |= {"SCALECACHE_REDIS_TLS_CERT_FILE": str(pki / "client.crt"),
                "SCALECACHE_REDIS_TLS_KEY_FILE": str(pki / "client.key")}
    return env


def test_in_process_tls_miss_then_hit_with_a_client_certificate_and_an_acl_user(pki, redis_tls):
    env = {**tls_env(pki, server_name=SERVER_NAME), "SCALECACHE_REDIS_USERNAME": USER,
           "SCALECACHE_REDIS_PASSWORD": PASSWORD}
    url = f"redis://127.0.0.1:{redis_tls.port}"
    with Scalecache(redis_url=url, origin_delay_ms=0, env=env) as a, \
            Scalecache(redis_url=url, origin_delay_ms=0, env=env) as b:
        wait_until(lambda: a.metric("scalecache_redis_up") == 1 and b.metric("scalecache_redis_up") == 1, 10,
                   what="both replicas up over TLS")
        assert a.get_json("/data/tls-in-process")[1]["source"] == "origin"
        wait_until(lambda: redis_tls.cli("EXISTS", "scalecache:v:tls-in-process") == "1", 5,
                   what="the fill stored in Redis, over TLS")
        assert b.get_json("/data/tls-in-process")[1]["source"] == "l2"
        # The purge notice travels over TLS too (the event bus has its own connection).
        assert a.purge("/data/tls-in-process")[0] == 200
        wait_until(lambda: b.get_json("/data/tls-in-process")[1]["source"] == "origin", 5,
                   what="the purge to reach the other replica")


def test_in_process_tls_verifies_the_address_when_no_server_name_is_set(pki, redis_tls):
    # server.crt carries IP:127.0.0.1 besides its DNS name.
    with Scalecache(redis_url=f"redis://127.0.0.1:{redis_tls.port}", origin_delay_ms=0,
                    env={**tls_env(pki), "SCALECACHE_REDIS_USERNAME": USER, "SCALECACHE_REDIS_PASSWORD": PASSWORD}) as sc:
        wait_until(lambda: sc.metric("scalecache_redis_up") == 1, 10, what="redis_up 1 over TLS")


@pytest.mark.parametrize("case", ["wrong CA", "wrong name", "no client certificate"])
def test_in_process_tls_refusals_are_clear_log_lines_and_redis_up_0(pki, redis_tls, case):
    env = {**tls_env(pki, ca="other-ca.crt" if case == "wrong CA" else "ca.crt",
                     server_name="other.scalecache.test" if case == "wrong name" else SERVER_NAME,
                     client_cert=case != "no client certificate"),
           "SCALECACHE_REDIS_USERNAME": USER, "SCALECACHE_REDIS_PASSWORD": PASSWORD}
    with Scalecache(redis_url=f"redis://127.0.0.1:{redis_tls.port}", origin_delay_ms=0, env=env) as sc:
        assert sc.get_json("/data/k")[1]["source"] == "origin"
        # The handshake's own refusals, and the server's alert after a TLS 1.3 handshake.
        want = {"wrong CA": f"TLS with {SERVER_NAME}: certificate verify failed: self-signed certificate in certificate chain",
                "wrong name": "TLS with other.scalecache.test: certificate verify failed: hostname mismatch",
                "no client certificate": "alert certificate required"}[case]
        wait_until(lambda: want in sc.log(), 10, what=f"'{want}' in scalecache's log")
        assert sc.metric("scalecache_redis_up") == 0
        assert sc.get_json("/data/k2")[1]["source"] == "origin"
        assert sc.proc.poll() is None
    assert redis_tls.cli("EXISTS", "scalecache:v:k") == "0"


def test_in_process_tls_to_a_cluster_follows_the_nodes_it_announces(pki):
    with RedisCluster(masters=3, replicas=0, tls_pki=pki) as cluster, \
            Fleet(2, env=cluster.env(**tls_env(pki, server_name=SERVER_NAME))) as fleet:
        wait_until(lambda: all(r.metric("scalecache_redis_up") == 1 for r in fleet), 10,
                   what="both replicas up on every master over TLS")
        keys = [f"tls-spread-{n}" for n in range(12)]
        for key in keys:
            assert fleet[0].get_json(f"/data/{key}")[1]["source"] == "origin"
        masters = {cluster.master_of(f"scalecache:v:{{{k}}}").port for k in keys}
        assert len(masters) > 1, "the keys landed on one master: the test would not show routing"
        for key in keys:
            assert fleet[1].get_json(f"/data/{key}")[1]["source"] == "l2"


def test_a_tls_file_that_is_not_pem_is_a_config_error_naming_key_and_file(pki, tmp_path):
    bad = tmp_path / "not-a-ca.pem"
    bad.write_text("hello\n")
    env = {**os.environ, "SCALECACHE_REDIS_URL": "redis://127.0.0.1:1", "SCALECACHE_REDIS_TLS_ENABLED": "true",
           "SCALECACHE_REDIS_TLS_CA_FILE": str(bad)}
    done = subprocess.run([SCALECACHE_BIN, "--check-config"], env=env, capture_output=True,
                          text=True, timeout=10)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f'redis.tls.ca_file: "{bad}"' in done.stderr


def test_in_process_tls_with_sentinels_follows_the_master_they_name(pki):
    # The sentinels serve only TLS too: asking them and following the master both go through the tunnel.
    with RedisSentinels(replicas=1, tls_pki=pki) as sentinels, \
            Fleet(2, env=sentinels.env(**tls_env(pki, server_name=SERVER_NAME))) as fleet:
        wait_until(lambda: all(r.metric("scalecache_redis_up") == 1 for r in fleet), 10,
                   what="both replicas up on the master the sentinels name, over TLS")
        assert fleet[0].get_json("/data/tls-sentinel")[1]["source"] == "origin"
        wait_until(lambda: sentinels.master().cli("EXISTS", "scalecache:v:tls-sentinel") == "1", 5,
                   what="the fill stored on the master, over TLS")
        assert fleet[1].get_json("/data/tls-sentinel")[1]["source"] == "l2"
