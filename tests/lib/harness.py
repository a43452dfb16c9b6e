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
from tls_pki import redis_cli_tls_args, redis_tls_args

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


class _StartStop:
    """`with` starts the thing and always stops it, also when starting failed part-way."""

    def __enter__(self):
        try:
            return self.start()
        except Exception:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()


class RedisServer:
    """A private redis-server: no persistence, loopback only, own temp dir."""

    def __init__(self, port: int | None = None, password: str | None = None, args: list[str] | None = None,
                 tls_pki: Path | None = None):
        self.port = port or free_port()
        self.password = password
        # TLS only, on self.port (tls_pki.make_pki's certificates), replication and cluster bus included.
        self.tls_pki = tls_pki
        tls = [*redis_tls_args(tls_pki, self.port), "--tls-replication", "yes", "--tls-cluster", "yes"] if tls_pki else []
        self.args = [*tls, *(args or [])]  # more redis-server options (cluster ones, say), which win
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
            args += ["--requirepass", self.password, "--masterauth", self.password]
        args += self.args
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: port_open(self.port), 10, what="redis-server to listen")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def cli(self, *args: str) -> str:
        cmd = ["redis-cli", "-p", str(self.port), *self.cli_tls()]
        if self.password:
            cmd += ["--no-auth-warning", "-a", self.password]
        return subprocess.run(cmd + list(args), check=True, capture_output=True,
                              text=True, timeout=10).stdout.strip()

    def cli_tls(self) -> list[str]:
        return redis_cli_tls_args(self.tls_pki) if self.tls_pki else []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisCluster(_StartStop):
    """A Redis Cluster on loopback: `masters` masters with `replicas` replicas
    each, made with `redis-cli --cluster create`. A short node timeout makes
    failovers take about a second; `cluster-require-full-coverage no` lets the
    shards that are up keep answering while one is down (as scalecache's
    docs/redis-topologies.md recommends)."""

    def __init__(self, masters: int = 3, replicas: int = 1, node_timeout_ms: int = 1000, tls_pki: Path | None = None):
        self.masters, self.replicas, self.node_timeout_ms = masters, replicas, node_timeout_ms
        self.tls_pki = tls_pki
        self.nodes: list[RedisServer] = []

    @staticmethod
    def _port() -> int:
        """A free port whose cluster bus port (port + 10000) is a valid, free port too."""
        for _ in range(1000):
            port = free_port()
            if port + 10000 <= 65535 and not port_open(port + 10000):
                return port
        raise RuntimeError("no loopback port with a free cluster bus port")

    def _node(self) -> RedisServer:
        node = RedisServer(port=self._port(), args=["--cluster-enabled", "yes", "--cluster-node-timeout", str(self.node_timeout_ms),
                                 "--cluster-require-full-coverage", "no", "--appendonly", "no"],
                           tls_pki=self.tls_pki)
        node.args += ["--cluster-config-file", os.path.join(node.dir, "nodes.conf")]
        return node

    def start(self) -> RedisCluster:
        for _ in range(self.masters * (1 + self.replicas)):
            self.nodes.append(self._node())
            self.nodes[-1].start()
        subprocess.run(["redis-cli", *self.nodes[0].cli_tls(), "--cluster", "create",
                        *[f"127.0.0.1:{n.port}" for n in self.nodes],
                        "--cluster-replicas", str(self.replicas), "--cluster-yes"],
                       check=True, capture_output=True, text=True, timeout=60)
        wait_until(self.healthy, 30, what="the cluster to cover every slot on every node")
        # A replica that never synced counts its data as too old to take over: failover tests need them in sync.
        wait_until(self.replicas_in_sync, 30, what="every replica to sync with its master")
        return self

    def replicas_in_sync(self) -> bool:
        infos = [n.cli("INFO", "replication") for n in self.live()]
        return sum("master_link_status:up" in info for info in infos) == self.masters * self.replicas

    @property
    def seeds(self) -> str:
        """Two seed nodes, as scalecache's redis.nodes takes them."""
        return ",".join(f"127.0.0.1:{n.port}" for n in self.nodes[:2])

    def env(self, **extra: str) -> dict[str, str]:
        return {"SCALECACHE_REDIS_MODE": "cluster", "SCALECACHE_REDIS_NODES": self.seeds, **extra}

    def live(self) -> list[RedisServer]:
        return [n for n in self.nodes if n.proc and n.proc.poll() is None]

    def node(self, port: int) -> RedisServer:
        return next(n for n in self.nodes if n.port == port)

    def healthy(self) -> bool:
        """Every live node says cluster_state:ok and agrees on who serves all 16384 slots, and those masters are alive."""
        maps = set()
        for n in self.live():
            try:
                if "cluster_state:ok" not in n.cli("CLUSTER", "INFO"):
                    return False
                maps.add(tuple(sorted((port, tuple(r)) for port, r in self.slot_owners(n).items())))
            except subprocess.SubprocessError:
                return False
        if len(maps) != 1:
            return False
        (owners,) = maps
        live = {n.port for n in self.live()}
        return all(port in live for port, _ in owners) and \
            sum(hi - lo + 1 for _, ranges in owners for lo, hi in ranges) == 16384

    @staticmethod
    def slot_owners(node: RedisServer) -> dict[int, list[tuple[int, int]]]:
        """Master port → slot ranges, as `node` sees it (CLUSTER NODES; failed masters left out)."""
        owners: dict[int, list[tuple[int, int]]] = {}
        for line in node.cli("CLUSTER", "NODES").splitlines():
            fields = line.split()
            if "master" not in fields[2] or "fail" in fields[2]:
                continue
            port = int(fields[1].split("@")[0].rsplit(":", 1)[1])
            for part in fields[8:]:
                if part.startswith("["):
                    continue  # a slot being migrated
                lo, _, hi = part.partition("-")
                owners.setdefault(port, []).append((int(lo), int(hi or lo)))
        return owners

    def keyslot(self, key: str) -> int:
        return int(self.live()[0].cli("CLUSTER", "KEYSLOT", key))

    def master_of(self, key: str) -> RedisServer:
        slot = self.keyslot(key)
        for port, ranges in self.slot_owners(self.live()[0]).items():
            if any(lo <= slot <= hi for lo, hi in ranges):
                return self.node(port)
        raise LookupError(f"no master serves slot {slot}")

    def node_id(self, node: RedisServer) -> str:
        return node.cli("CLUSTER", "MYID")

    def cli(self, *args: str) -> str:
        """A command on the master owning the key in args[1] (redis-cli -c follows MOVED)."""
        return subprocess.run(["redis-cli", "-c", "-p", str(self.live()[0].port), *args], check=True,
                              capture_output=True, text=True, timeout=10).stdout.strip()

    def reshard(self, source: RedisServer, target: RedisServer, slots: int) -> None:
        """Moves `slots` slots, keys included, from one master to another (redis-cli --cluster reshard)."""
        subprocess.run(["redis-cli", "--cluster", "reshard", f"127.0.0.1:{source.port}",
                        "--cluster-from", self.node_id(source), "--cluster-to", self.node_id(target),
                        "--cluster-slots", str(slots), "--cluster-yes"],
                       check=True, capture_output=True, text=True, timeout=300)
        wait_until(self.healthy, 30, what="every node to agree on the new slot owners")

    def add_master(self) -> RedisServer:
        """A new, empty master joined to the cluster, then given its share of slots (rebalance)."""
        node = self._node()
        self.nodes.append(node)
        node.start()
        subprocess.run(["redis-cli", "--cluster", "add-node", f"127.0.0.1:{node.port}",
                        f"127.0.0.1:{self.live()[0].port}"], check=True, capture_output=True, text=True, timeout=60)
        # Rebalancing before gossip has told every node of the newcomer fails half-way
        # ("I don't know about node"), leaving a slot open.
        ids = {self.node_id(n) for n in self.live()}
        # A newcomer that has not yet seen the cluster as ok answers MIGRATE with CLUSTERDOWN.
        wait_until(lambda: all(self.known_ids(n) >= ids and "cluster_state:ok" in n.cli("CLUSTER", "INFO")
                               for n in self.live()), 30, interval=0.1,
                   what="every node to know every other and see the cluster ok")
        done = subprocess.run(["redis-cli", "--cluster", "rebalance", f"127.0.0.1:{node.port}",
                               "--cluster-use-empty-masters"], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-2000:]
        wait_until(self.healthy, 30, what="every node to agree on the new slot owners")
        return node

    @staticmethod
    def known_ids(node: RedisServer) -> set[str]:
        """The nodes `node` knows, handshakes still in progress left out."""
        return {line.split()[0] for line in node.cli("CLUSTER", "NODES").splitlines()
                if "handshake" not in line.split()[2]}

    def stop(self):
        for n in self.nodes:
            n.__exit__(None, None, None)


class RedisSentinels(_StartStop):
    """One master, `replicas` replicas and `sentinels` sentinels (quorum 2) on
    loopback, the master named MASTER_NAME; down-after 1 s, so a failover
    takes a few seconds."""

    MASTER_NAME = "scalecache-master"

    def __init__(self, replicas: int = 2, sentinels: int = 3, tls_pki: Path | None = None):
        self.replica_count, self.sentinel_count = replicas, sentinels
        self.tls_pki = tls_pki  # TLS everywhere: servers, replication, the sentinels' own port
        self.servers: list[RedisServer] = []  # the first is the master at start
        self.sentinels: list[RedisServer] = []
        self._procs: list[subprocess.Popen] = []

    def start(self) -> RedisSentinels:
        self.servers.append(RedisServer(tls_pki=self.tls_pki))
        self.servers[0].start()
        for _ in range(self.replica_count):
            self.servers.append(RedisServer(args=["--replicaof", "127.0.0.1", str(self.servers[0].port)],
                                            tls_pki=self.tls_pki))
            self.servers[-1].start()
        wait_until(lambda: f"connected_slaves:{self.replica_count}" in self.servers[0].cli("INFO", "replication"),
                   30, what="the replicas to connect")
        for _ in range(self.sentinel_count):
            sentinel = RedisServer(tls_pki=self.tls_pki)
            conf = Path(sentinel.dir) / "sentinel.conf"
            # The TLS options as config lines ("--tls-port", "N" -> "tls-port N").
            tls = "".join(f"{k[2:]} {v or chr(34) * 2}\n" for k, v in zip(sentinel.args[::2], sentinel.args[1::2]))
            conf.write_text(f"port {sentinel.port}\nbind 127.0.0.1\ndir {sentinel.dir}\n{tls}"
                            f"sentinel monitor {self.MASTER_NAME} 127.0.0.1 {self.servers[0].port} 2\n"
                            f"sentinel down-after-milliseconds {self.MASTER_NAME} 1000\n"
                            f"sentinel failover-timeout {self.MASTER_NAME} 10000\n")
            sentinel.proc = subprocess.Popen(["redis-server", str(conf), "--sentinel"],
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.sentinels.append(sentinel)
            wait_until(lambda s=sentinel: port_open(s.port), 10, what="a sentinel to listen")
        # Every sentinel knows the others and the replicas before anything is killed.
        wait_until(lambda: all(
            s.cli("SENTINEL", "master", self.MASTER_NAME).count("\n") > 0
            and int(self._field(s, "num-other-sentinels")) == self.sentinel_count - 1
            and int(self._field(s, "num-slaves")) == self.replica_count for s in self.sentinels),
            30, what="the sentinels to find each other and the replicas")
        return self

    def _field(self, sentinel: RedisServer, name: str) -> str:
        lines = sentinel.cli("SENTINEL", "master", self.MASTER_NAME).splitlines()
        return lines[lines.index(name) + 1]

    @property
    def nodes(self) -> str:
        return ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)

    def env(self, **extra: str) -> dict[str, str]:
        return {"SCALECACHE_REDIS_MODE": "sentinel", "SCALECACHE_REDIS_SENTINEL_MASTER_NAME": self.MASTER_NAME,
                "SCALECACHE_REDIS_SENTINEL_NODES": self.nodes, **extra}

    def master_port(self) -> int:
        """The master's port as every sentinel names it (0 while they disagree)."""
        ports = {int(s.cli("SENTINEL", "get-master-addr-by-name", self.MASTER_NAME).split()[1])
                 for s in self.sentinels}
        return ports.pop() if len(ports) == 1 else 0

    def master(self) -> RedisServer:
        return next(s for s in self.servers if s.port == self.master_port())

    def stop(self):
        for s in [*self.sentinels, *self.servers]:
            s.__exit__(None, None, None)


class Scalecache(_StartStop):
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
            # Tests that keep Redis away on purpose need not wait the default 10 s
            # to be ready; test_lifecycle checks the wait itself.
            "SCALECACHE_REDIS_READY_WAIT_MS": "2000",
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
