"""Shared helpers of the reliability, hostile and soak suites.

Builds on tests/lib/harness.py (RedisServer, Scalecache, free_port, wait_until)
and adds what fault tests need: a bounded keep-alive load generator, process
RSS and fd readings from /proc, a configurable local HTTP origin, a delaying
TCP proxy (a slow Redis), an NGINX load balancer rendered from
deploy/nginx/scalecache.conf, and raw-socket HTTP helpers.

Everything listens on 127.0.0.1, on free ports, with private temp dirs, and
is stopped by its context manager.
"""
from __future__ import annotations

import http.client
import http.server
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from harness import REPO_ROOT, RedisServer, Scalecache, free_port, port_open, terminate, wait_until  # noqa: F401 (re-exported)
from helpers import percentile

NGINX_SITE = REPO_ROOT / "deploy" / "nginx" / "scalecache.conf"


# ----------------------------------------------------------------- processes

def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


# tests/sanitizers/run.sh sets SCALECACHE_SANITIZER. Shadow memory, redzones and
# ASan's quarantine of freed blocks (256 MiB) multiply RSS: measured growth under
# load was 440-700 MiB with ASan and 210 MiB with TSan where the plain build
# grows by less than 10 MiB. The real bounds are asserted on the plain build.
SANITIZER = os.environ.get("SCALECACHE_SANITIZER", "")
_RSS_FACTOR = 16 if SANITIZER else 1


def rss_budget(nominal: int) -> int:
    """An RSS growth bound in bytes, scaled up for sanitizer builds."""
    return nominal * _RSS_FACTOR


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def raise_nofile(wanted: int) -> int:
    """Raises this process's open-file soft limit (children inherit it); returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft
    if hard != resource.RLIM_INFINITY and hard < wanted:
        try:  # root may raise the hard limit too
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            return wanted
        except (ValueError, OSError):
            wanted = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return wanted


def stop_process(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, grace: float = 10):
    """Sends `sig`, waits up to `grace` seconds, then kills."""
    terminate(proc, grace, sig)



def alive(sc: Scalecache) -> bool:
    return sc.proc is not None and sc.proc.poll() is None


def stop_and_expect_clean_exit(sc: Scalecache, timeout: float = 20) -> int:
    """SIGTERM, then the exit code (0 expected by the callers)."""
    sc.signal(signal.SIGTERM)
    return sc.wait(timeout)


# --------------------------------------------------------------------- load

@dataclass
class LoadStats:
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[tuple[float, str, str]] = field(default_factory=list)  # (time, path, what)
    latencies: list[float] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + sum(1 for f in self.failures if f[2].startswith("exception"))

    @property
    def failed(self) -> int:
        return len(self.failures)

    def percentile(self, p: float) -> float:
        return percentile(self.latencies, p) or 0.0

    def rate(self) -> float:
        return self.total / max(1e-9, self.finished - self.started)

    def summary(self) -> str:
        return (f"{self.total} requests in {self.finished - self.started:.1f}s ({self.rate():.0f}/s), "
                f"{self.failed} failed, statuses {dict(sorted(self.statuses.items()))}, "
                f"sources {self.sources}, p50 {self.percentile(50) * 1000:.1f} ms, "
                f"p99 {self.percentile(99) * 1000:.1f} ms, max {max(self.latencies, default=0) * 1000:.1f} ms")

    def first_failures(self, n: int = 5) -> str:
        return "; ".join(f"t+{t - self.started:.2f}s {p}: {w}" for t, p, w in self.failures[:n])


def mixed_paths(hot_keys: int = 200, cold_every: int = 5, prefix: str = "k") -> Callable[[int, int], str]:
    """Mostly hot keys (cache hits after the first pass), every `cold_every`-th a new key (a miss)."""
    def path(worker: int, i: int) -> str:
        if cold_every and i % cold_every == 0:
            return f"/data/{prefix}-cold-{worker}-{i}-{time.monotonic_ns()}"
        return f"/data/{prefix}-hot-{(worker * 7919 + i) % hot_keys}"
    return path


class Load:
    """Closed-loop load from `workers` threads, each on its own keep-alive connection.

    Bounded: stops at `duration` seconds, at `max_requests` per worker, or on stop().
    A request fails when it raises or its status is not in `ok_statuses`; a
    connection the server closed (Connection: close) is reopened, as any
    HTTP/1.1 client does.
    """

    def __init__(self, port: int, workers: int = 8, paths: Callable[[int, int], str] | None = None,
                 duration: float = 30.0, max_requests: int = 100_000, timeout: float = 10.0,
                 ok_statuses: tuple[int, ...] = (200,), pause: float = 0.0):
        self.port = port
        self.workers = workers
        self.paths = paths or mixed_paths()
        self.duration = duration
        self.max_requests = max_requests
        self.timeout = timeout
        self.ok_statuses = ok_statuses
        self.pause = pause
        self.stats = LoadStats()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _record(self, status: int | None, path: str, latency: float, what: str = "", source: str = ""):
        with self._lock:
            if status is not None:
                self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
                self.stats.latencies.append(latency)
                if source:
                    self.stats.sources[source] = self.stats.sources.get(source, 0) + 1
            if what:
                self.stats.failures.append((time.monotonic(), path, what))

    def _worker(self, index: int):
        deadline = self.stats.started + self.duration
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            for i in range(self.max_requests):
                if self._stop.is_set() or time.monotonic() >= deadline:
                    return
                path = self.paths(index, i)
                started = time.monotonic()
                try:
                    conn.request("GET", path)
                    resp = conn.getresponse()
                    body = resp.read()
                    latency = time.monotonic() - started
                    source = ""
                    if resp.status == 200 and body.startswith(b"{"):
                        try:
                            source = json.loads(body).get("source", "")
                        except ValueError:
                            source = ""
                    what = "" if resp.status in self.ok_statuses else f"status {resp.status}: {body[:120]!r}"
                    self._record(resp.status, path, latency, what, source)
                    if resp.will_close:
                        conn.close()
                except (OSError, http.client.HTTPException) as e:
                    self._record(None, path, time.monotonic() - started, f"exception {type(e).__name__}: {e}")
                    conn.close()
                if self.pause:
                    time.sleep(self.pause)
        finally:
            conn.close()

    def start(self) -> Load:
        self.stats.started = time.monotonic()
        self._threads = [threading.Thread(target=self._worker, args=(i,), daemon=True)
                         for i in range(self.workers)]
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> LoadStats:
        self._stop.set()
        for t in self._threads:
            t.join(self.timeout + 5)
        self.stats.finished = time.monotonic()
        return self.stats

    def join(self) -> LoadStats:
        """Waits for every worker to finish its requests (or reach the duration), then the statistics."""
        for t in self._threads:
            t.join(self.duration + self.timeout + 5)
        self.stats.finished = time.monotonic()
        return self.stats

    def completed(self) -> int:
        with self._lock:
            return sum(self.stats.statuses.values())

    def answered_more(self, n: int, timeout: float = 20.0, what: str = "answers") -> None:
        """Returns once `n` more requests were answered than at the call: the load is making
        progress. TimeoutError after `timeout` s."""
        base = self.completed()
        wait_until(lambda: self.completed() >= base + n, timeout, what=f"{n} more {what}")

    def __enter__(self) -> Load:
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def run_load(port: int, requests: int, workers: int = 4, timeout: float = 60.0, **kw) -> LoadStats:
    """`requests` requests spread over `workers` keep-alive connections, then their statistics.

    A count, not a duration, so a slow machine takes longer instead of asserting
    less; `timeout` s only bounds a load that stalls (assert_no_failures then sees
    it ran short)."""
    load = Load(port, workers=workers, duration=timeout, max_requests=-(-requests // workers), **kw)
    return load.start().join()


# ------------------------------------------------------------------- origin

class OriginHandler(http.server.BaseHTTPRequestHandler):
    """A local upstream whose behaviour is picked by the key's prefix:

    ok-*       200 "upstream <key>"          err-*      500
    slow-*     answers after `slow_seconds`  big-*      200 with `big_bytes` bytes
    missing-*  404                           garbage-*  bytes that are not HTTP, then close
    trunc-*    Content-Length 1000, 10 bytes, then close
    """
    protocol_version = "HTTP/1.1"
    slow_seconds = 2.0
    big_bytes = 200_000

    def do_GET(self):
        key = self.path.rsplit("/", 1)[-1]
        server: LocalOrigin = self.server.owner  # type: ignore[attr-defined]
        server.count(key)
        kind = key.split("-", 1)[0]
        if kind == "slow":
            time.sleep(self.slow_seconds)
        if kind == "garbage":
            self.wfile.write(b"\x00\x01 this is not http\r\n\r\n")
            self.close_connection = True
            return
        if kind == "trunc":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
            self.close_connection = True
            return
        status = {"err": 500, "missing": 404}.get(kind, 200)
        body = (b"x" * self.big_bytes) if kind == "big" else f"upstream {key}".encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class LocalOrigin:
    """A threaded HTTP origin on 127.0.0.1 (see OriginHandler); counts calls per key."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()
        self.server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def count(self, key: str):
        with self._lock:
            self.calls[key] = self.calls.get(key, 0) + 1

    def calls_for(self, prefix: str) -> int:
        with self._lock:
            return sum(n for k, n in self.calls.items() if k.startswith(prefix))

    def start(self) -> LocalOrigin:
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), OriginHandler)
        self.server.daemon_threads = True
        self.server.owner = self  # type: ignore[attr-defined]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def http_origin_env(url: str, timeout_ms: int = 300, **extra: str) -> dict[str, str]:
    env = {"SCALECACHE_ORIGIN_KIND": "http", "SCALECACHE_ORIGIN_URL": url,
           "SCALECACHE_ORIGIN_TIMEOUT_MS": str(timeout_ms)}
    env.update(extra)
    return env


# ---------------------------------------------------------- slow TCP proxy

class DelayProxy:
    """TCP proxy 127.0.0.1:port -> 127.0.0.1:target that holds every chunk
    `delay` seconds in each direction (settable while running): a slow Redis."""

    def __init__(self, target_port: int, delay: float = 0.0):
        self.target_port = target_port
        self.delay = delay
        self.port = free_port()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def _pipe(self, src: socket.socket, dst: socket.socket):
        try:
            while not self._stop.is_set():
                data = src.recv(65536)
                if not data:
                    break
                if self.delay:
                    time.sleep(self.delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _accept(self):
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def start(self) -> DelayProxy:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(128)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        self._stop.set()
        if self._listener:
            self._listener.close()
        with self._lock:
            for s in self._sockets:
                s.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# -------------------------------------------------------------------- nginx

def render_nginx_site(upstream_ports: list[int], listen_port: int, log_dir: str) -> str:
    """deploy/nginx/scalecache.conf with its addresses moved to 127.0.0.1 ports.

    Everything else (passive health checks, retries, timeouts, keep-alive) is
    kept as written for compose; a substitution that no longer matches fails
    loudly so the two files can't drift apart silently.
    """
    site = NGINX_SITE.read_text()
    replacements = [
        (r"^\s*server scalecache:8080 (max_fails=\S+ fail_timeout=\S+);$",
         lambda m: "\n".join(f"    server 127.0.0.1:{p} {m.group(1)};" for p in upstream_ports)),
        (r"^\s*listen 80;$", lambda m: f"    listen 127.0.0.1:{listen_port};"),
        (r"/var/log/nginx/access\.log", lambda m: f"{log_dir}/access.log"),
    ]
    for pattern, repl in replacements:
        site, n = re.subn(pattern, repl, site, flags=re.M)
        assert n == 1, f"{NGINX_SITE}: expected one match of {pattern!r}, found {n}"
    return site


class NginxLB:
    """nginx (Debian) with a private prefix, pid, logs and temp dirs, in front of `upstream_ports`."""

    def __init__(self, upstream_ports: list[int], port: int | None = None):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="scalecache-nginx-")
        self.upstream_ports = upstream_ports
        self.proc: subprocess.Popen | None = None

    def start(self) -> NginxLB:
        d = self.dir
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(f"{d}/tmp/{sub}", exist_ok=True)
        Path(f"{d}/site.conf").write_text(render_nginx_site(self.upstream_ports, self.port, d))
        Path(f"{d}/nginx.conf").write_text(f"""
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    include {d}/site.conf;
}}
""")
        self.proc = subprocess.Popen(["nginx", "-p", d, "-c", f"{d}/nginx.conf", "-e", f"{d}/error.log",
                                      "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_until(lambda: self.proc.poll() is not None or port_open(self.port), 10, what="nginx to listen")
        except TimeoutError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            raise RuntimeError(f"nginx exited: {self.proc.stderr.read().decode()} {self.error_log()}")
        return self

    def error_log(self) -> str:
        p = Path(self.dir, "error.log")
        return p.read_text(errors="replace") if p.exists() else ""

    def stop(self):
        stop_process(self.proc, signal.SIGQUIT)  # nginx's graceful shutdown
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# ------------------------------------------------------------- raw sockets

@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def read_responses(sock: socket.socket, limit: int = 10, timeout: float = 5.0) -> tuple[list[RawResponse], str]:
    """Reads HTTP responses from `sock` until it closes, `limit` are read or nothing comes for `timeout`.

    Returns the responses and how the exchange ended: "close" (EOF or reset),
    "idle" (still open, nothing more came) or "limit".
    """
    sock.settimeout(timeout)
    buf = b""
    out: list[RawResponse] = []
    ended = "idle"
    while len(out) < limit:
        while b"\r\n\r\n" not in buf:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                return out, "idle"
            except OSError:
                return out, "close"
            if not chunk:
                return out, "close"
            buf += chunk
        head, _, buf = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        while len(buf) < length:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, OSError):
                chunk = b""
            if not chunk:
                break
            buf += chunk
        out.append(RawResponse(status, headers, buf[:length]))
        buf = buf[length:]
    ended = "limit"
    return out, ended


def raw_exchange(port: int, payload: bytes, limit: int = 10, timeout: float = 5.0,
                 chunk_delay: float = 0.0) -> tuple[list[RawResponse], str]:
    """Sends raw bytes on a new connection (optionally dribbled) and reads what comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            if chunk_delay:
                for i in range(len(payload)):
                    s.sendall(payload[i:i + 1])
                    time.sleep(chunk_delay)
            else:
                s.sendall(payload)
        except OSError:
            pass  # the server may refuse and close before everything is sent
        return read_responses(s, limit=limit, timeout=timeout)


# ------------------------------------------------------------ assertions

def assert_no_failures(stats: LoadStats, at_least: int = 1):
    assert stats.failed == 0, f"{stats.failed} failed requests: {stats.first_failures()} -- {stats.summary()}"
    assert stats.total >= at_least, f"the load ran only {stats.total} requests: {stats.summary()}"


def assert_clean_exit(sc: Scalecache):
    """The process survived the test and exits 0 on SIGTERM."""
    assert alive(sc), f"scalecache died with {sc.proc.returncode}:\n{sc.log()[-3000:]}"
    code = stop_and_expect_clean_exit(sc)
    assert code == 0, f"exit code {code} after SIGTERM:\n{sc.log()[-3000:]}"


def log_lines(sc: Scalecache) -> list[dict]:
    """The JSON log lines of a scalecache process (other lines are skipped)."""
    out = []
    for line in sc.log().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out
