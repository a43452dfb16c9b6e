"""Graceful shutdown when a client has gone away while its miss was in flight."""
import socket
import threading
import time

from faultlib import Scalecache, wait_until

DRAIN_SECONDS = 2
GRACE_SECONDS = 5


def test_departed_client_during_drain_neither_breaks_other_waiters_nor_delays_exit(redis):
    env = {"SCALECACHE_SHUTDOWN_DRAIN_SECONDS": str(DRAIN_SECONDS),
           "SCALECACHE_SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS)}
    with Scalecache(redis_url=redis.url, origin_delay_ms=1000, env=env) as sc:
        # Client A asks for a cold key and hangs up while the origin works.
        with socket.create_connection(("127.0.0.1", sc.port), timeout=5) as a:
            a.sendall(b"GET /data/departed HTTP/1.1\r\nHost: t\r\n\r\n")
            # Hang up only once the miss is in flight: this replica took the fill lease.
            wait_until(lambda: sc.metric("scalecache_lease_total", outcome="acquired") >= 1, 5,
                       what="the miss to take its fill lease")
        started = time.monotonic()
        sc.signal()
        answer = {}
        b = threading.Thread(target=lambda: answer.update(r=sc.get("/data/departed", timeout=10)))
        b.start()  # client B joins the same flight while the replica drains
        code = sc.wait(GRACE_SECONDS + DRAIN_SECONDS + 5)
        took = time.monotonic() - started
        b.join(10)
        log = sc.log()
    assert code == 0
    assert answer["r"][0] == 200, f"client B got {answer['r'][:2]}"
    assert "grace period over" not in log and "fetch failed" not in log, log[-1500:]
    assert took < DRAIN_SECONDS + 1.5, f"exit took {took:.1f}s: an in-flight request leaked"
