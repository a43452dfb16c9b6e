"""The chart's Redis Cluster agent (charts/scalecache/files/redis-cluster-agent.sh)
with real redis-server processes, as the StatefulSet runs them: six "pods",
each a redis-server on its own address and port 6379 with its agent beside
it, in a network namespace the test makes (127.0.0.1 to 127.0.0.7 on its
loopback; root needed). PEER_HOSTS stands in for the headless Service's DNS
names, SELF for each pod's own loopback.

Checked: the agents create a 3 x 1 cluster with nobody's help; a master's
"pod" replaced (its server killed, a new empty one on a new address) has its
replica promoted, and the agents heal the cluster: the new node joins as a
replica, the failed one is forgotten, every master has a replica again.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from harness import REPO_ROOT, terminate
from helpers import wait_until

AGENT = REPO_ROOT / "charts" / "scalecache" / "files" / "redis-cluster-agent.sh"
PASSWORD = "agent-pass"
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("ip"),
                                reason="needs root to make a network namespace")


class Pods:
    def __init__(self):
        self.ns = f"scalecache-agent-{os.getpid()}"
        self.dir = Path(tempfile.mkdtemp(prefix="scalecache-agent-"))
        self.servers: dict[str, subprocess.Popen] = {}
        self.agents: dict[str, subprocess.Popen] = {}
        self.hosts = [f"127.0.0.{i}" for i in range(1, 7)]  # pod i's address, by ordinal

    def __enter__(self):
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        subprocess.run(["ip", "netns", "exec", self.ns, "ip", "link", "set", "lo", "up"], check=True)
        return self

    def __exit__(self, *exc):
        for p in list(self.agents.values()) + list(self.servers.values()):
            terminate(p, grace=5)
        subprocess.run(["ip", "netns", "del", self.ns], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, *args: str, **kw) -> subprocess.Popen:
        return subprocess.Popen(["ip", "netns", "exec", self.ns, *args], **kw)

    def start_server(self, ip: str) -> None:
        d = self.dir / ip
        d.mkdir()
        self.servers[ip] = self.run(
            "redis-server", "--bind", ip, "--port", "6379", "--requirepass", PASSWORD, "--masterauth", PASSWORD,
            "--cluster-enabled", "yes", "--cluster-config-file", str(d / "nodes.conf"), "--cluster-node-timeout",
            "1000", "--cluster-announce-ip", ip, "--cluster-require-full-coverage", "no",
            "--cluster-replica-validity-factor", "0", "--dir", str(d), "--save", "", "--appendonly", "no",
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self.cli(ip, "PING") == "PONG", 10, what=f"redis-server on {ip}")

    def start_agents(self) -> None:
        """(Re)start every pod's agent with the current names (they keep no state that matters)."""
        for p in self.agents.values():
            terminate(p, grace=5)
        self.agents = {}
        for ordinal, ip in enumerate(self.hosts):
            env = {**os.environ, "SELF": ip, "POD_IP": ip, "POD_NAME": f"redis-{ordinal}", "SIZE": "6",
                   "REPLICAS": "1", "REDISCLI_AUTH": PASSWORD, "PEER_HOSTS": " ".join(self.hosts),
                   "PERIOD": "1", "JOIN_AFTER": "3", "ALIVE_FILE": str(self.dir / f"alive-{ordinal}")}
            log = open(self.dir / f"agent-{ordinal}.log", "ab")
            self.agents[ip] = self.run("sh", str(AGENT), env=env, stdout=log, stderr=log)

    def cli(self, ip: str, *args: str) -> str:
        r = subprocess.run(["ip", "netns", "exec", self.ns, "redis-cli", "-h", ip, "-p", "6379", *args],
                           env={**os.environ, "REDISCLI_AUTH": PASSWORD}, capture_output=True, text=True, timeout=10)
        return r.stdout.replace("\r", "").strip()

    def nodes(self, ip: str) -> list[list[str]]:
        return [line.split() for line in self.cli(ip, "CLUSTER", "NODES").splitlines() if line]

    def healthy(self) -> bool:
        for ip in self.hosts:
            info = self.cli(ip, "CLUSTER", "INFO")
            if "cluster_state:ok" not in info or "cluster_known_nodes:6" not in info \
                    or "cluster_slots_ok:16384" not in info:
                return False
        rows = self.nodes(self.hosts[0])
        if any("fail" in r[2] for r in rows):
            return False
        masters = {r[0] for r in rows if "master" in r[2] and len(r) > 8}
        replicas = [r[3] for r in rows if "slave" in r[2]]
        return len(masters) == 3 and all(replicas.count(m) == 1 for m in masters)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()}" for p in sorted(self.dir.glob("agent-*.log")))


def test_agents_create_the_cluster_and_heal_it_after_a_master_pod_is_replaced():
    with Pods() as pods:
        for ip in pods.hosts:
            pods.start_server(ip)
        pods.start_agents()
        wait_until(pods.healthy, 60, what="the agents to create a 3 x 1 cluster\n" + pods.logs())

        rows = pods.nodes(pods.hosts[0])
        victim = next(r for r in rows if "master" in r[2] and len(r) > 8)
        victim_ip = victim[1].split(":")[0]
        replica_ip = next(r[1].split(":")[0] for r in rows if "slave" in r[2] and r[3] == victim[0])
        # The pod is replaced: its server dies with its nodes.conf, a new one comes up on a new address.
        t0 = time.monotonic()
        pods.servers.pop(victim_ip).kill()
        pods.hosts[pods.hosts.index(victim_ip)] = "127.0.0.7"
        pods.start_server("127.0.0.7")
        pods.start_agents()
        wait_until(lambda: pods.cli(replica_ip, "ROLE").startswith("master"), 30,
                   what=f"{replica_ip}, the replica of the killed master, to be promoted")
        promoted = time.monotonic() - t0
        wait_until(pods.healthy, 90, what="the agents to heal the cluster\n" + pods.logs())
        healed = time.monotonic() - t0
        rows = pods.nodes(pods.hosts[0])
        new = next(r for r in rows if r[1].startswith("127.0.0.7:"))
        assert "slave" in new[2], new
        assert not any(r[1].startswith(f"{victim_ip}:") for r in rows), "the failed node is still known"
        assert "forgetting failed node" in pods.logs()
        print(f"promoted after {promoted:.1f} s, healed after {healed:.1f} s")
