"""TLS to Redis through the stunnel sidecar, for real, on loopback.

An openssl-made CA signs a server certificate for redis-server's own
`tls-port` (Debian's redis-server 7.0 is built with TLS) and a client
certificate; deploy/stunnel/redis-tls-client.sh, the script the chart's
sidecar image runs (charts/scalecache, redis.tls), runs Debian's stunnel4 in
client mode in front of it; scalecache talks plain RESP to stunnel's loopback
port. Checked: a miss then a hit through the tunnel, with an ACL user; a
server certificate from another CA, or for another name, is refused by
stunnel with a clear log line, and scalecache reports `redis_up 0` and keeps
serving (from the origin), never crashing.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness import REPO_ROOT, SCALECACHE_BIN, Fleet, RedisCluster, RedisServer, Scalecache, terminate, wait_until
from helpers import free_port, port_open
from tls_pki import SERVER_NAME, make_pki, redis_cli_tls_args, redis_tls_args

SCRIPT = REPO_ROOT / "deploy" / "stunnel" / "redis-tls-client.sh"
needs_stunnel = pytest.mark.skipif(not (shutil.which("stunnel4") or shutil.which("stunnel")),
                                reason="stunnel4 not installed (scripts/install-deps.sh test)")
USER, PASSWORD = "tls-user", "tls-pass-91c2"


@pytest.fixture(scope="module")
def pki():
    d = make_pki(Path(tempfile.mkdtemp(prefix="scalecache-tls-")))
    yield d
    shutil.rmtree(d, ignore_errors=True)


class TlsRedis(RedisServer):
    """redis-server with only a TLS port (the plain port off), client certificates required."""

    def __init__(self, pki: Path):
        self.tls_port = free_port()
        super().__init__(args=[*redis_tls_args(pki, self.tls_port), "--tls-auth-clients", "yes"])
        self.port = self.tls_port  # what start() waits on
        self.pki = pki

    def cli(self, *args: str) -> str:
        cmd = ["redis-cli", "-p", str(self.tls_port), *redis_cli_tls_args(self.pki)]
        return subprocess.run(cmd + list(args), check=True, capture_output=True, text=True, timeout=10).stdout.strip()


class Stunnel:
    """deploy/stunnel/redis-tls-client.sh, configured through its environment as the chart's sidecar is."""

    def __init__(self, connect_port: int, ca: Path, pki: Path, server_name: str = SERVER_NAME):
        self.port = free_port()
        self.env = {**os.environ,
                    "STUNNEL_ACCEPT": f"127.0.0.1:{self.port}",
                    "STUNNEL_CONNECT": f"127.0.0.1:{connect_port}",
                    "STUNNEL_SERVER_NAME": server_name,
                    "STUNNEL_CA_FILE": str(ca),
                    "STUNNEL_CERT_FILE": str(pki / "client.crt"),
                    "STUNNEL_KEY_FILE": str(pki / "client.key")}
        self.log_path = Path(tempfile.mkstemp(prefix="stunnel-", suffix=".log")[1])
        self.proc = None

    def __enter__(self):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(["sh", str(SCRIPT)], env=self.env, stdout=self._log, stderr=self._log)
        wait_until(lambda: port_open(self.port), 10, what="stunnel to listen")
        return self

    def __exit__(self, *exc):
        terminate(self.proc, grace=5)
        self._log.close()
        self.log_path.unlink(missing_ok=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def probe(self) -> int:
        return subprocess.run(["sh", str(SCRIPT), "--probe"], env=self.env, timeout=10).returncode


@pytest.fixture
def redis_tls(pki):
    server = TlsRedis(pki)
    with server:
        server.cli("ACL", "SETUSER", USER, "on", f">{PASSWORD}", "~scalecache:*", "&scalecache:*", "+@all")
        yield server


@needs_stunnel
def test_the_sidecar_configuration_verifies_chain_and_name(pki):
    env = {**os.environ, "STUNNEL_CONNECT": "r:6380", "STUNNEL_SERVER_NAME": "r.example", "STUNNEL_CA_FILE": "/ca"}
    text = subprocess.run(["sh", str(SCRIPT), "--print"], env=env, check=True, capture_output=True,
                          text=True, timeout=10).stdout
    for line in ("client = yes", "accept = 127.0.0.1:6380", "connect = r:6380", "verifyChain = yes",
                 "CAfile = /ca", "checkHost = r.example", "sni = r.example"):
        assert line in text.splitlines(), line
    assert "cert =" not in text
    missing = subprocess.run(["sh", str(SCRIPT), "--print"], env={**os.environ, "STUNNEL_CONNECT": "r:1"},
                             capture_output=True, text=True, timeout=10)
    assert missing.returncode != 0 and "STUNNEL_SERVER_NAME" in missing.stderr


@needs_stunnel
def test_miss_then_hit_through_stunnel_with_an_acl_user(pki, redis_tls):
    with Stunnel(redis_tls.tls_port, pki / "ca.crt", pki) as tunnel:
        assert tunnel.probe() == 0
        # The extra hop through stunnel, under TSan, can take more than the
        # default 50 ms command timeout; this test is about TLS, not latency.
        env = {"SCALECACHE_REDIS_USERNAME": USER, "SCALECACHE_REDIS_PASSWORD": PASSWORD,
               "SCALECACHE_REDIS_TIMEOUT_MS": "1000"}
        url = f"redis://127.0.0.1:{tunnel.port}"
        with Scalecache(redis_url=url, origin_delay_ms=0, env=env) as a, \
                Scalecache(redis_url=url, origin_delay_ms=0, env=env) as b:
            wait_until(lambda: a.metric("scalecache_redis_up") == 1 and b.metric("scalecache_redis_up") == 1, 10,
                       what="both scalecache replicas up through stunnel")
            assert a.get_json("/data/tls-key")[1]["source"] == "origin"
            assert a.get_json("/data/tls-key")[1]["source"] == "l1"
            wait_until(lambda: redis_tls.cli("EXISTS", "scalecache:v:tls-key") == "1", 5,
                       what="the fill stored in Redis, over TLS")
            # B never saw the key: it comes from Redis, over TLS.
            assert b.get_json("/data/tls-key")[1]["source"] == "l2"


@needs_stunnel
@pytest.mark.parametrize("case", ["wrong CA", "wrong name"])
def test_a_wrong_ca_or_name_is_a_clear_stunnel_error_and_redis_up_0(pki, redis_tls, case):
    ca = pki / ("other-ca.crt" if case == "wrong CA" else "ca.crt")
    name = SERVER_NAME if case == "wrong CA" else "other.scalecache.test"
    with Stunnel(redis_tls.tls_port, ca, pki, server_name=name) as tunnel:
        with Scalecache(redis_url=f"redis://127.0.0.1:{tunnel.port}", origin_delay_ms=0,
                        env={"SCALECACHE_REDIS_USERNAME": USER, "SCALECACHE_REDIS_PASSWORD": PASSWORD}) as sc:
            assert sc.get_json("/data/k")[1]["source"] == "origin"
            want = "Rejected by CERT at depth=1" if case == "wrong CA" else "CERT: Subject checks failed"
            wait_until(lambda: want in tunnel.log() and "certificate verify failed" in tunnel.log(), 10,
                       what=f"stunnel's '{want}' and 'certificate verify failed' in its log")
            assert sc.metric("scalecache_redis_up") == 0
            assert sc.get_json("/data/k2")[1]["source"] == "origin"
            assert sc.proc.poll() is None
        assert redis_tls.cli("EXISTS", "scalecache:v:k") == "0"


# In-process TLS (redis.tls.*): scalecache's own tunnel, no sidecar, in every mode.

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
    url = f"redis://127.0.0.1:{redis_tls.tls_port}"
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
    with Scalecache(redis_url=f"redis://127.0.0.1:{redis_tls.tls_port}", origin_delay_ms=0,
                    env={**tls_env(pki), "SCALECACHE_REDIS_USERNAME": USER, "SCALECACHE_REDIS_PASSWORD": PASSWORD}) as sc:
        wait_until(lambda: sc.metric("scalecache_redis_up") == 1, 10, what="redis_up 1 over TLS")


@pytest.mark.parametrize("case", ["wrong CA", "wrong name", "no client certificate"])
def test_in_process_tls_refusals_are_clear_log_lines_and_redis_up_0(pki, redis_tls, case):
    env = {**tls_env(pki, ca="other-ca.crt" if case == "wrong CA" else "ca.crt",
                     server_name="other.scalecache.test" if case == "wrong name" else SERVER_NAME,
                     client_cert=case != "no client certificate"),
           "SCALECACHE_REDIS_USERNAME": USER, "SCALECACHE_REDIS_PASSWORD": PASSWORD}
    with Scalecache(redis_url=f"redis://127.0.0.1:{redis_tls.tls_port}", origin_delay_ms=0, env=env) as sc:
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
