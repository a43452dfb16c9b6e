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

from harness import REPO_ROOT, RedisServer, Scalecache, terminate, wait_until
from helpers import free_port, port_open

SCRIPT = REPO_ROOT / "deploy" / "stunnel" / "redis-tls-client.sh"
pytestmark = pytest.mark.skipif(not (shutil.which("stunnel4") or shutil.which("stunnel")),
                                reason="stunnel4 not installed (scripts/install-deps.sh test)")
USER, PASSWORD = "tls-user", "tls-pass-91c2"


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(d: Path, name: str) -> None:
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.crt", cwd=d)


def make_cert(d: Path, ca: str, name: str, dns: str, client: bool = False) -> None:
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={dns}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
    ext = d / f"{name}.ext"
    ext.write_text(f"subjectAltName=DNS:{dns}\nextendedKeyUsage={'clientAuth' if client else 'serverAuth'}\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-days", "2", "-extfile", ext.name, "-out", f"{name}.crt", cwd=d)


@pytest.fixture(scope="module")
def pki():
    d = Path(tempfile.mkdtemp(prefix="scalecache-tls-"))
    make_ca(d, "ca")
    make_ca(d, "other-ca")
    make_cert(d, "ca", "server", "redis.scalecache.test")
    make_cert(d, "ca", "client", "scalecache", client=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


class TlsRedis(RedisServer):
    """redis-server with only a TLS port (the plain port off), client certificates required."""

    def __init__(self, pki: Path):
        self.tls_port = free_port()
        super().__init__(args=["--port", "0", "--tls-port", str(self.tls_port),
                               "--tls-cert-file", str(pki / "server.crt"), "--tls-key-file", str(pki / "server.key"),
                               "--tls-ca-cert-file", str(pki / "ca.crt"), "--tls-auth-clients", "yes"])
        self.port = self.tls_port  # what start() waits on
        self.pki = pki

    def cli(self, *args: str) -> str:
        cmd = ["redis-cli", "-p", str(self.tls_port), "--tls", "--cacert", str(self.pki / "ca.crt"),
               "--cert", str(self.pki / "client.crt"), "--key", str(self.pki / "client.key"),
               "--sni", "redis.scalecache.test"]
        return subprocess.run(cmd + list(args), check=True, capture_output=True, text=True, timeout=10).stdout.strip()


class Stunnel:
    """deploy/stunnel/redis-tls-client.sh, configured through its environment as the chart's sidecar is."""

    def __init__(self, connect_port: int, ca: Path, pki: Path, server_name: str = "redis.scalecache.test"):
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


@pytest.mark.parametrize("case", ["wrong CA", "wrong name"])
def test_a_wrong_ca_or_name_is_a_clear_stunnel_error_and_redis_up_0(pki, redis_tls, case):
    ca = pki / ("other-ca.crt" if case == "wrong CA" else "ca.crt")
    name = "redis.scalecache.test" if case == "wrong CA" else "other.scalecache.test"
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
