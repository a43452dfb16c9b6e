"""Slow and idle clients: a slowloris is cut at server.header_timeout_ms,
thousands of idle keep-alive connections don't stop others being served,
and running out of file descriptors neither crashes the server nor stops it
for good.
"""
import http.client
import os
import resource
import socket
import threading
import time

import pytest

from faultlib import (SANITIZER, Scalecache, assert_clean_exit, assert_no_failures, log_lines, open_fds,
                      raise_nofile, read_responses, run_load, wait_until)

HEADER_TIMEOUT_MS = 1000
# src/lifecycle/fd_limit.cpp logs this once the open files reach 90 % of the limit.
FD_LIMIT_MESSAGE = "open files near the limit: new connections will be refused"


@pytest.fixture(scope="module")
def sc():
    with Scalecache(origin_delay_ms=0, env={"SCALECACHE_SERVER_HEADER_TIMEOUT_MS": str(HEADER_TIMEOUT_MS),
                                                  # a miss must fit in the request's time (--check-config)
                                                  "SCALECACHE_CACHE_LEASE_WAIT_MS": "400", "SCALECACHE_ORIGIN_TIMEOUT_MS": "600"}) as server:
        yield server


def dribble(port: int, payload: bytes, interval: float, limit: float,
            connected: threading.Semaphore | None = None) -> tuple[float, str]:
    """Sends `payload` a byte every `interval`s; returns when and how the server ended it.
    Releases `connected` once the connection is open."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as s:
        if connected:
            connected.release()
        s.setblocking(False)
        i = 0
        while time.monotonic() - started < limit:
            try:
                data = s.recv(4096)
                return time.monotonic() - started, "response" if data else "close"
            except BlockingIOError:
                pass
            except OSError:
                return time.monotonic() - started, "close"
            try:
                s.send(payload[i % len(payload):i % len(payload) + 1])
            except OSError:
                return time.monotonic() - started, "close"
            i += 1
            time.sleep(interval)
    return time.monotonic() - started, "still open"


def test_slowloris_is_cut_at_the_header_timeout(sc):
    endless = b"GET /data/slow HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 4000
    results = []
    connected = threading.Semaphore(0)
    threads = [threading.Thread(target=lambda: results.append(dribble(sc.port, endless, 0.05, 8, connected)))
               for _ in range(20)]
    for t in threads:
        t.start()
    for _ in threads:
        assert connected.acquire(timeout=5), "a slow client could not connect"
    # Meanwhile everyone else is served.
    stats = run_load(sc.port, 200, workers=4, paths=lambda w, i: f"/data/other-{i % 20}")
    for t in threads:
        t.join(15)
    assert_no_failures(stats, at_least=200)
    assert len(results) == 20
    for took, how in results:
        assert how in ("response", "close"), f"slowloris connection still open after {took:.1f}s"
        assert took < HEADER_TIMEOUT_MS / 1000 + 1.5, f"cut only after {took:.2f}s"


def test_thousands_of_idle_keepalive_connections(sc):
    n = min(2000, raise_nofile(8192) - 200)
    baseline = open_fds(sc.proc.pid)
    idle = []
    try:
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", sc.port), timeout=5)
            if i % 2 == 0:  # half have made one request and are now idle keep-alive, half never spoke
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                responses, _ = read_responses(s, limit=1, timeout=5)
                assert responses and responses[0].status == 200
            idle.append(s)
        wait_until(lambda: open_fds(sc.proc.pid) >= baseline + n * 0.9, 10,
                   what="the server to hold the idle connections")
        stats = run_load(sc.port, 800, workers=8, paths=lambda w, i: f"/data/busy-{i % 50}")
        print(f"{n} idle connections;", stats.summary())
        assert_no_failures(stats, at_least=800)
        assert stats.percentile(99) < 0.25, stats.summary()
    finally:
        for s in idle:
            s.close()
    # Every descriptor comes back once the clients have gone.
    wait_until(lambda: open_fds(sc.proc.pid) <= baseline + 10, 15, what="fds to return to the baseline")


def test_sigterm_after_slow_clients(sc):
    assert_clean_exit(sc)


def exhaust_fds(port: int, count: int) -> list[socket.socket]:
    """`count` connections started without waiting (the kernel queues what the server can't accept)."""
    held = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        held.append(s)
    return held


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture
def starved():
    if SANITIZER == "asan":
        pytest.skip("UBSan's vptr check opens a pipe to probe memory (IsAccessibleMemoryRange): at the "
                    "fd limit that fails and it reports a false 'invalid vptr' in shared_ptr code")
    # A server that may hold at most 256 open files (set with prlimit after start).
    with Scalecache(origin_delay_ms=0) as server:
        resource.prlimit(server.proc.pid, resource.RLIMIT_NOFILE, (256, 256))
        yield server


def test_open_file_limit_no_crash_and_recovery(starved):
    pid = starved.proc.pid
    client = http.client.HTTPConnection("127.0.0.1", starved.port, timeout=5)
    client.request("GET", "/healthz")
    assert client.getresponse().read()
    held = exhaust_fds(starved.port, 400)  # more than the server can accept
    try:
        wait_until(lambda: open_fds(pid) >= 250, 5, what="the server to reach its open-file limit")
        time.sleep(2.0)
        assert starved.proc.poll() is None, f"died at the fd limit:\n{starved.log()[-2000:]}"
        client.request("GET", "/data/at-the-limit")  # an open keep-alive connection is still served
        assert client.getresponse().status == 200
    finally:
        client.close()
        for s in held:
            s.close()
    # Once the clients are gone, new ones are served again.
    wait_until(lambda: starved.get("/healthz", timeout=2)[0] == 200, 10, what="service after the fd storm")
    stats = run_load(starved.port, 200, workers=4)
    assert_no_failures(stats, at_least=200)
    assert_clean_exit(starved)


def test_open_file_limit_does_not_spin(starved):
    """D4: at the limit Pistache's listener polled and failed accept4 in a loop; accept_backoff
    (src/http/accept_backoff.cpp) pauses it instead, so an idle server stays idle."""
    pid = starved.proc.pid
    held = exhaust_fds(starved.port, 400)
    try:
        wait_until(lambda: open_fds(pid) >= 250, 5, what="the server to reach its open-file limit")
        before = cpu_seconds(pid)
        time.sleep(3.0)
        used = cpu_seconds(pid) - before
        # Idle, the process uses ~0; the spin measured 0.2-0.95 CPU s per second (less when the CPU is shared).
        assert used < 0.3, f"{used:.2f} CPU seconds in 3 s while idle at the fd limit"
    finally:
        for s in held:
            s.close()


def test_open_file_limit_is_logged_clearly(starved):
    held = exhaust_fds(starved.port, 400)
    try:
        wait_until(lambda: open_fds(starved.proc.pid) >= 250, 5, what="the server to reach its open-file limit")
        # The service looks at its open files once a second: wait for that look, however it is phased.
        try:
            line = wait_until(lambda: next((e for e in log_lines(starved) if e.get("msg") == FD_LIMIT_MESSAGE), None),
                              5, what="the open-files error")
        except TimeoutError:
            pytest.fail(f"no {FD_LIMIT_MESSAGE!r} in the log:\n{starved.log()[-2000:]}")
        assert line["level"] == "error", line
        assert int(line["limit"]) == 256 and int(line["open_fds"]) * 10 >= 256 * 9, line  # warned from 90 %
    finally:
        for s in held:
            s.close()
