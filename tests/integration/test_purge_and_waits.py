"""Purges that win, tag sets that tell the truth, waits that scale (issue 15,
items 4, 6, 7 and 9): each test fails on the build before those fixes."""
import asyncio
import resource
import socket
import struct
import time

from harness import Fleet, Scalecache, wait_until
from origin_server import HOLDABLE, OriginServer

PREFIX = "scalecache:"


class Resp:
    """A minimal RESP client for writing many commands at once (redis-cli
    runs one process per command)."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.reader = self.sock.makefile("rb")

    @staticmethod
    def encode(*words) -> bytes:
        out = [b"*%d\r\n" % len(words)]
        for word in words:
            raw = word if isinstance(word, bytes) else str(word).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
        return b"".join(out)

    def pipeline(self, commands) -> list:
        self.sock.sendall(b"".join(self.encode(*c) for c in commands))
        return [self._reply() for _ in commands]

    def _reply(self):
        line = self.reader.readline()
        kind, rest = line[:1], line[1:-2]
        if kind in (b"+", b"-", b":"):
            return rest
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.reader.read(n + 2)[:-2]
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        raise ValueError(line)

    def close(self):
        self.sock.close()


def encoded_entry(data: bytes, ttl_ms: int = 300_000) -> bytes:
    """An entry in the entry_codec layout (src/cache/entry_codec.hpp)."""
    now = int(time.time() * 1000)
    return struct.pack("<2sBBqqiiiQ", b"SC", 1, 0, now, now + ttl_ms, 1, 60, 300, 7) + data


def fill_notice(key: str, stamp_ms: int) -> bytes:
    """What a replica publishes after a fill (src/redis/event_bus.cpp)."""
    return b"F" + b"e" * 32 + b":" + b"%016x" % stamp_ms + b":" + key.encode()


# 4. A fetch in flight never undoes a purge --------------------------------------

def test_a_purge_wins_over_a_fetch_in_flight(redis):
    with OriginServer() as origin, Fleet(2, redis_url=redis.url, env=origin.env(**HOLDABLE)) as (a, b):
        purged = []

        def purge_once_the_origin_answers():
            if origin.count("race") < 1:
                return False  # a's fetch has not reached the origin yet
            if not purged:
                purged.append(b.purge("/data/race")[0])
            return True

        [(status, body)] = origin.hold_while([lambda: a.get_json("/data/race", timeout=30)],
                                             purge_once_the_origin_answers, what="a's fetch at the origin")
        assert purged == [200]
        assert status == 200 and body["data"] == "v1 of race"  # served once to whoever asked...
        assert redis.cli("EXISTS", PREFIX + "v:race") == "0", "...but the purged answer was stored"
        again = a.get_json("/data/race")[1]
        assert again["source"] == "origin" and again["data"] == "v2 of race"


# 6. Thousands of waits on fills ---------------------------------------------

async def _get(port: int, path: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    body = await reader.readexactly(length)
    writer.close()
    return body


def commands_processed(resp: Resp) -> int:
    info = resp.pipeline([("INFO", "stats")])[0].decode()
    return int(next(line.split(":")[1] for line in info.splitlines() if line.startswith("total_commands_processed:")))


def test_five_thousand_waits_cost_redis_work_per_notice_not_per_waiting_key(redis):
    """5,000 requests wait on leases another replica holds; it fills the keys
    100 at a time, each with its notice. Every request gets its fill, none
    times out, and the Redis work that costs is bounded by the keys notified
    (a waiter that looks at every waiting key on every notice does ~255,000
    commands here: 2 per remaining key per batch)."""
    keys = [f"w{i}" for i in range(5000)]
    batches = [keys[i:i + 100] for i in range(0, len(keys), 100)]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 20000)), hard))
    resp = Resp(redis.port)
    loop = asyncio.new_event_loop()
    try:
        resp.pipeline([("SET", PREFIX + "l:" + k, "holder", "PX", "300000") for k in keys])
        # Polls far apart: only notices (and each wait's first look) drive the waiter here.
        env = {"SCALECACHE_CACHE_LEASE_WAIT_MS": "120000", "SCALECACHE_CACHE_LEASE_POLL_MS": "10000",
               "SCALECACHE_SERVER_HEADER_TIMEOUT_MS": "240000"}
        with Scalecache(redis_url=redis.url, env=env) as sc:
            tasks = {k: loop.create_task(_get(sc.port, f"/data/{k}")) for k in keys}

            def run_until(predicate, what):
                wait_until(lambda: loop.run_until_complete(asyncio.sleep(0.02)) or predicate(), 120, what=what)

            run_until(lambda: sc.metric("scalecache_lease_total", outcome="waited") >= len(keys),
                      "every request to wait for its fill")
            before = commands_processed(resp)
            for batch in batches:
                now_ms = int(time.time() * 1000)
                commands = []
                for k in batch:
                    commands.append(("SET", PREFIX + "v:" + k, encoded_entry(b"filled " + k.encode()), "PX", "300000"))
                    commands.append(("PUBLISH", PREFIX + "events", fill_notice(k, now_ms)))
                    commands.append(("DEL", PREFIX + "l:" + k))
                resp.pipeline(commands)
                run_until(lambda b=batch: all(tasks[k].done() for k in b), "the batch's requests to be answered")
            spent = commands_processed(resp) - before
            wrong = [k for k in keys if b'"filled ' + k.encode() + b'"' not in tasks[k].result()]
            assert not wrong, f"{len(wrong)} answers not from their fill, e.g. {tasks[wrong[0]].result()[:200]!r}"
            assert sc.metric("scalecache_origin_requests_total", result="ok") == 0
            assert sc.metric("scalecache_lease_total", outcome="timed_out") == 0
            # This test's own writes are 15,000 commands; the waiter's are ~3 per key per look.
            assert spent < 100_000, f"{spent} Redis commands while 5,000 waits were filled"
    finally:
        loop.close()
        resp.close()


# 7. Tag sets ------------------------------------------------------------------

def test_a_tag_purge_that_fails_part_way_says_so(redis):
    with OriginServer() as origin, Scalecache(redis_url=redis.url, env=origin.env()) as sc:
        for key in ("tagged-grp-1", "tagged-grp-2"):
            assert sc.get(f"/data/{key}")[0] == 200
        # Redis now refuses every command on one of the two entries (as a failing
        # shard or an ACL would): the purge cannot reach it.
        redis.cli("ACL", "SETUSER", "default", "resetkeys", f"~{PREFIX}t:*", f"~{PREFIX}g:*", f"~{PREFIX}l:*",
                  f"~{PREFIX}v:tagged-grp-1")
        try:
            status, body, _ = sc.purge("/tags/grp")
        finally:
            redis.cli("ACL", "SETUSER", "default", "allkeys")
        assert status == 503, body
        assert '"purge_incomplete"' in body and "1 tagged keys purged" in body
        assert redis.cli("EXISTS", PREFIX + "v:tagged-grp-2") == "1"


def test_a_soft_tag_purge_drops_members_whose_entries_are_gone(redis):
    with OriginServer() as origin, Scalecache(redis_url=redis.url, env=origin.env()) as sc:
        for key in ("tagged-grp3-1", "tagged-grp3-2"):
            sc.get(f"/data/{key}")
        redis.cli("DEL", PREFIX + "v:tagged-grp3-2")  # expired, say
        status, body, _ = sc.purge("/tags/grp3?soft=1")
        assert status == 200, body
        assert redis.cli("SMEMBERS", PREFIX + "t:grp3").split() == ["tagged-grp3-1"]


# 9. Smaller ones --------------------------------------------------------------

def test_a_refused_subscription_is_counted_and_retried(redis):
    redis.cli("ACL", "SETUSER", "default", "resetchannels")
    try:
        with Scalecache(redis_url=redis.url) as sc:
            wait_until(lambda: sc.metric("scalecache_invalidation_subscribe_errors_total") >= 1, 10,
                       what="the refused subscription to be counted")
            assert "invalidation subscription refused" in sc.log()
            redis.cli("ACL", "SETUSER", "default", "allchannels")
            wait_until(lambda: redis.cli("PUBSUB", "NUMSUB", PREFIX + "events").split()[-1] == "1", 15,
                       what="the subscription to be retried and taken")
    finally:
        redis.cli("ACL", "SETUSER", "default", "allchannels")


def test_a_missed_purge_is_not_served_stale_past_l1_ttl(redis):
    env = {"SCALECACHE_CACHE_TTL_SECONDS": "1", "SCALECACHE_CACHE_L1_TTL_SECONDS": "1",
           "SCALECACHE_CACHE_STALE_WHILE_REVALIDATE": "60", "SCALECACHE_CACHE_TTL_JITTER": "0"}
    with OriginServer() as origin, Scalecache(redis_url=redis.url, env=origin.env(**env)) as sc:
        assert sc.get_json("/data/missed")[1]["data"] == "v1 of missed"
        # A purge whose notice this replica never got: gone from Redis only.
        redis.cli("DEL", PREFIX + "v:missed")
        stored = time.monotonic()
        wait_until(lambda: time.monotonic() - stored > 1.2, 5, what="one L1 period")
        body = sc.get_json("/data/missed")[1]
        assert body["data"] != "v1 of missed", "the purged copy was served stale from L1 past l1_ttl_seconds"


def test_scripts_come_back_after_a_script_flush(redis):
    """The lease and fill scripts run by SHA-1. A SCRIPT FLUSH makes Redis
    answer NOSCRIPT: those requests are still answered (from the origin, not
    shared), the connections that saw it are dropped, and new ones load the
    scripts again, so fills reach Redis again within a few requests."""
    with Scalecache(redis_url=redis.url) as sc:
        assert sc.get("/data/before-flush")[0] == 200
        assert redis.cli("EXISTS", PREFIX + "v:before-flush") == "1"
        redis.cli("SCRIPT", "FLUSH")
        shared = []
        for i in range(50):  # the pool holds redis.pool_size (4) connections
            status, _, _ = sc.get(f"/data/after-flush-{i}")
            assert status == 200
            if redis.cli("EXISTS", PREFIX + f"v:after-flush-{i}") == "1":
                shared.append(i)
                break
        assert shared, "no fill reached Redis again after SCRIPT FLUSH"
