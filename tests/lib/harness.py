"""Process harness for scalecache's Python tests.

Starts real processes on free loopback ports and always stops them:

    with RedisServer() as redis, Scalecache(redis_url=redis.url) as sc:
        status, body, headers = sc.get("/data/alpha")
        sc.metric("scalecache_cache_results_total", source="origin")
        sc.purge("/data/alpha")         # DELETE with the admin token

Every Scalecache gets the admin token ADMIN_TOKEN unless told otherwise
(admin_token=None starts it with none, as the defaults do: purges are then
refused with 403). The scalecache binary is taken from $SCALECACHE_BIN, else build/scalecache.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from helpers import free_port, port_open, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
SCALECACHE_BIN = os.environ.get("SCALECACHE_BIN", str(REPO_ROOT / "build" / "scalecache"))
# The admin token the harness gives scalecache by default and sends in purge().
ADMIN_TOKEN = "harness-admin-token"


def terminate(proc: subprocess.Popen | None, grace: float = 15, sig: int = signal.SIGTERM) -> None:
    """`sig` (SIGTERM), then SIGKILL if the process has not exited within `grace` seconds."""
    if proc and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class RedisServer:
    """A private redis-server: no persistence, loopback only, own temp dir."""

    def __init__(self, port: int | None = None, password: str | None = None):
        self.port = port or free_port()
        self.password = password
        self.dir = tempfile.mkdtemp(prefix="scalecache-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}"

    def start(self) -> RedisServer:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.dir]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: port_open(self.port), 10, what="redis-server to listen")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def cli(self, *args: str) -> str:
        cmd = ["redis-cli", "-p", str(self.port)]
        if self.password:
            cmd += ["--no-auth-warning", "-a", self.password]
        return subprocess.run(cmd + list(args), check=True, capture_output=True,
                              text=True, timeout=10).stdout.strip()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Scalecache:
    """One scalecache process. Extra settings go in as SCALECACHE_* variables
    (`env` wins, SCALECACHE_ADMIN_TOKEN included)."""

    def __init__(self, redis_url: str = "", origin_delay_ms: int = 0,
                 env: dict[str, str] | None = None, port: int | None = None,
                 config_file: str | None = None, admin_token: str | None = ADMIN_TOKEN):
        self.port = port or free_port()
        self.env = {
            "SCALECACHE_SERVER_HOST": "127.0.0.1",
            "SCALECACHE_SERVER_PORT": str(self.port),
            "SCALECACHE_SERVER_THREADS": "2",
            "SCALECACHE_REDIS_URL": redis_url,
            "SCALECACHE_ORIGIN_SIMULATED_DELAY_MS": str(origin_delay_ms),
            "SCALECACHE_SHUTDOWN_DRAIN_SECONDS": "0",
            "SCALECACHE_SHUTDOWN_GRACE_SECONDS": "5",
        }
        if admin_token is not None:
            self.env["SCALECACHE_ADMIN_TOKEN"] = admin_token
        self.env.update(env or {})
        self.admin_token = self.env.get("SCALECACHE_ADMIN_TOKEN", "")
        self.config_file = config_file
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(tempfile.mkstemp(prefix="scalecache-", suffix=".log")[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # Arguments before --config: the subcommand, for Worker.
    subcommand: tuple[str, ...] = ()

    def start(self, wait_ready: bool = True) -> Scalecache:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCALECACHE_")}
        env.update(self.env)
        args = [SCALECACHE_BIN, *self.subcommand]
        if self.config_file:
            args += ["--config", self.config_file]
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, env=env, stdout=self._log, stderr=self._log)
        if wait_ready:
            try:
                wait_until(self._ready, 15, what=f"scalecache on port {self.port} to be ready")
            except Exception:
                self.stop()  # never leave a process behind that never became ready
                raise
        return self

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"scalecache exited with {self.proc.returncode}:\n{self.log()}")
        try:
            return self.get("/readyz", timeout=1)[0] == 200
        except OSError:
            return False

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout)

    def stop(self):
        terminate(self.proc)
        if self.proc:
            self._log.close()
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def request(self, method: str, path: str, headers: dict | None = None,
                timeout: float = 10) -> tuple[int, str, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, headers=headers or {})
            resp = conn.getresponse()
            body = resp.read().decode("utf-8", "replace")
            return resp.status, body, {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()

    def get(self, path: str, **kw) -> tuple[int, str, dict]:
        return self.request("GET", path, **kw)

    def purge(self, path: str, **kw) -> tuple[int, str, dict]:
        """DELETE `path` (/data/<key> or /tags/<tag>, ?soft=1 allowed) with this
        process's admin token as a bearer token, when it has one."""
        headers = dict(kw.pop("headers", None) or {})
        if self.admin_token:
            headers.setdefault("Authorization", f"Bearer {self.admin_token}")
        return self.request("DELETE", path, headers=headers, **kw)

    def get_json(self, path: str, **kw) -> tuple[int, dict]:
        status, body, _ = self.get(path, **kw)
        return status, json.loads(body)

    def metrics_text(self) -> str:
        status, body, _ = self.get("/metrics")
        assert status == 200, body
        return body

    def metric(self, name: str, **labels: str) -> float:
        """Sum of every sample of `name` whose labels include `labels`."""
        return sum_samples(self.metrics_text(), name, **labels)

    def __enter__(self):
        try:
            return self.start()
        except Exception:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
        self.log_path.unlink(missing_ok=True)


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> list[tuple[str, dict, float]]:
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if m:
            labels = dict(_LABEL.findall(m.group(3) or ""))
            samples.append((m.group(1), labels, float(m.group(4))))
    return samples


def sum_samples(text: str, name: str, **labels: str) -> float:
    return sum(value for n, ls, value in parse_metrics(text)
               if n == name and all(ls.get(k) == v for k, v in labels.items()))


class Worker(Scalecache):
    """One `scalecache worker` process; `port` is its worker.port (/healthz,
    /readyz, /metrics), ready once its consumer group exists. Give it the
    serving replicas' settings (redis_url, the origin's env) plus worker ones."""

    subcommand = ("worker",)

    def __init__(self, redis_url: str, env: dict[str, str] | None = None, **kwargs):
        super().__init__(redis_url=redis_url, env=env, **kwargs)
        self.env["SCALECACHE_WORKER_PORT"] = str(self.port)
        self.env["SCALECACHE_SERVER_PORT"] = str(free_port())  # not listened on by a worker
        self.env.update(env or {})

    def kill(self):
        """SIGKILL: the worker dies holding whatever it held."""
        self.proc.kill()
        self.proc.wait(10)


class Fleet:
    """`count` scalecache replicas sharing the same settings (and so one Redis)."""

    def __init__(self, count: int, **kwargs):
        self.replicas = [Scalecache(**kwargs) for _ in range(count)]

    def __enter__(self) -> list[Scalecache]:
        started = []
        try:
            for replica in self.replicas:
                started.append(replica.__enter__())
        except Exception:
            for replica in started:
                replica.__exit__(None, None, None)
            raise
        return self.replicas

    def __exit__(self, *exc):
        for replica in self.replicas:
            replica.__exit__(*exc)


def total(replicas, name: str, **labels: str) -> float:
    """A metric summed over replicas, as a dashboard's sum() would."""
    return sum(r.metric(name, **labels) for r in replicas)
