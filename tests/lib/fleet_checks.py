"""Checks a test runs against any fleet, whatever Redis topology it shares
(one server, a cluster): the same assertions, written once."""
from __future__ import annotations

import json
import threading
import time

from harness import total, wait_until


def three_hundred_cold_requests_one_origin_call(fleet, origin, key: str = "stampede") -> None:
    """100 concurrent cold requests on each of 3 replicas make one origin call.
    The origin holds the one fill until all 300 requests wait for it: on each
    replica 99 join their replica's first request, and the two replicas
    without the lease wait for the fleet's fill."""
    calls = [lambda r=r: r.get_json(f"/data/{key}", timeout=30) for r in fleet for _ in range(100)]
    results = origin.hold_while(
        calls, lambda: (total(fleet, "scalecache_coalesced_requests_total") >= 297
                        and total(fleet, "scalecache_lease_total", outcome="waited") >= 2),
        what="every request to wait for the one fill")
    assert [s for s, _ in results] == [200] * 300
    assert {b["data"] for _, b in results} == {f"v1 of {key}"}
    assert origin.count(key) == 1
    assert total(fleet, "scalecache_origin_requests_total") == 1
    assert total(fleet, "scalecache_lease_total", outcome="acquired") == 1
    assert total(fleet, "scalecache_lease_total", outcome="waited") == 2
    assert total(fleet, "scalecache_lease_total", outcome="timed_out") == 0
    assert total(fleet, "scalecache_coalesced_requests_total") == 297

# Every request reads L2, so trouble with it shows in the answers.
L1_OFF = {"SCALECACHE_CACHE_L1_MAX_ENTRIES": "0"}

# For counting round trips: L1 off, so the hit reaches L2; a generous command
# timeout, since on a busy machine a read that times out skips the lease, and the count.
ROUND_TRIPS = {"SCALECACHE_REDIS_TIMEOUT_MS": "2000", **L1_OFF}


def a_miss_costs_two_round_trips_and_a_known_l2_hit_one_get(replica, monitor, key: str, named: str = "",
                                                             prefix: str = "scalecache:") -> None:
    """Round trips as Redis sees them (`monitor`: a RedisMonitor on the server
    owning `key`): a cold miss sends the lookup script (the read, and the fleet
    lease since nothing servable is there) and then the fill script, each in
    its own round trip; a hit on a key the replica saw in L2 is one GET, no
    script. `named`: the key as it appears in Redis names ("{key}" on a
    cluster). The replica runs with ROUND_TRIPS and has a pooled connection
    open already (its SCRIPT LOADs are not the request's)."""
    named = named or key
    assert replica.get_json(f"/data/{key}")[1]["source"] == "origin"
    miss = monitor.window()  # the answer came after the fill
    assert replica.get_json(f"/data/{key}")[1]["source"] == "l2"
    hit = monitor.window()
    # The lookup's 5 keys start with the lease, the fill's 4 with the value.
    assert [_shape(c) for c in miss] == [
        ("EVALSHA", "5", f"{prefix}l:{named}"), ("EVALSHA", "4", f"{prefix}v:{named}")], miss
    assert [_shape(c) for c in hit] == [("GET", f"{prefix}v:{named}")], hit


def _shape(command: tuple[str, ...]) -> tuple[str, ...]:
    """EVALSHA sha numkeys key... as (EVALSHA, numkeys, first key); any other command as (NAME, first argument)."""
    name = command[0].upper()
    return (name, *command[2:4]) if name == "EVALSHA" else (name, *command[1:2])


def fill(fleet, keys: list[str]) -> list[str]:
    """Each key fetched once on the first replica (so it is in L2); their paths."""
    paths = [f"/data/{k}" for k in keys]
    for path in paths:
        fleet[0].get(path)
    return paths


def warm_everywhere(fleet, path: str) -> None:
    """`path` fetched on every replica, then served from each one's L1."""
    for r in fleet:
        r.get(path)
    for r in fleet:
        assert r.get_json(path)[1]["source"] == "l1"


def purge_reaches_every_replica(fleet, key: str = "doc") -> None:
    """A purge on the first replica reaches the others: none serves the old value from L1 after."""
    path = f"/data/{key}"
    warm_everywhere(fleet, path)
    received = [r.metric("scalecache_invalidation_messages_total", direction="received") for r in fleet]
    assert fleet[0].purge(path)[0] == 200
    for r, before in zip(fleet[1:], received[1:]):
        wait_until(lambda r=r, before=before: r.metric("scalecache_invalidation_messages_total",
                                                       direction="received") > before,
                   5, what=f"replica {r.port} to receive the purge")
        assert r.get_json(path)[1]["source"] != "l1", "a replica served the purged value from L1"
    assert {r.get_json(path)[1]["data"] for r in fleet} == {f"v2 of {key}"}
    assert total(fleet, "scalecache_purges_total", kind="key") == 1


class SteadyLoad:
    """Requests for `paths` round-robin over the fleet from `workers` threads
    until the block ends; every answer is kept as (monotonic time, replica port,
    path, status, source), a failed connection as status 0."""

    def __init__(self, fleet, paths: list[str], workers: int = 4):
        self.fleet, self.paths, self.workers = fleet, paths, workers
        self.answers: list[tuple[float, int, str, int, str]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def _run(self, offset: int) -> None:
        n = offset
        while not self._stop.is_set():
            replica, path = self.fleet[n % len(self.fleet)], self.paths[n % len(self.paths)]
            n += self.workers
            try:
                status, body, _ = replica.get(path, timeout=10)
                source = json.loads(body).get("source", "") if status == 200 else ""
            except OSError:
                status, source = 0, ""
            with self._lock:
                self.answers.append((time.monotonic(), replica.port, path, status, source))

    def count(self) -> int:
        with self._lock:
            return len(self.answers)

    def wait_for_more(self, answers: int, what: str = "more answers") -> None:
        """Returns once `answers` more answers are in (the load ran on across whatever just happened)."""
        seen = self.count()
        wait_until(lambda: self.count() >= seen + answers, 30, what=what)

    def failures(self) -> list[tuple[float, int, str, int, str]]:
        with self._lock:
            return [a for a in self.answers if a[3] != 200]

    def __enter__(self) -> SteadyLoad:
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(self.workers)]
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)
