"""Throw-away certificates for the TLS tests, made with openssl on the spot.

`make_pki(d)` leaves in `d`: ca.{crt,key} and other-ca.{crt,key} (a CA nothing
is signed by, for "wrong CA" cases), server.{crt,key} for SERVER_NAME and
127.0.0.1 (signed by ca), client.{crt,key} (signed by ca).
"""
from __future__ import annotations

import subprocess
from pathlib import Path

SERVER_NAME = "redis.scalecache.test"


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(d: Path, name: str) -> None:
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.crt", cwd=d)


def make_cert(d: Path, ca: str, name: str, dns: str, usage: str = "serverAuth", ip: str | None = None) -> None:
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={dns}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
    ext = d / f"{name}.ext"
    san = f"DNS:{dns}" + (f",IP:{ip}" if ip else "")
    ext.write_text(f"subjectAltName={san}\nextendedKeyUsage={usage}\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-days", "2", "-extfile", ext.name, "-out", f"{name}.crt", cwd=d)


def make_pki(d: Path) -> Path:
    make_ca(d, "ca")
    make_ca(d, "other-ca")
    # serverAuth and clientAuth: cluster nodes and replicas use it both ways.
    make_cert(d, "ca", "server", SERVER_NAME, usage="serverAuth,clientAuth", ip="127.0.0.1")
    make_cert(d, "ca", "client", "scalecache", usage="clientAuth")
    return d


def redis_tls_args(pki: Path, port: int) -> list[str]:
    """redis-server options for a TLS-only server on `port` that asks for (but does not need) a client certificate."""
    return ["--port", "0", "--tls-port", str(port), "--tls-cert-file", str(pki / "server.crt"),
            "--tls-key-file", str(pki / "server.key"), "--tls-ca-cert-file", str(pki / "ca.crt"),
            "--tls-auth-clients", "optional"]


def redis_cli_tls_args(pki: Path) -> list[str]:
    return ["--tls", "--cacert", str(pki / "ca.crt"), "--cert", str(pki / "client.crt"),
            "--key", str(pki / "client.key"), "--sni", SERVER_NAME]
