"""Helpers shared by the Python tests and the bench: loopback ports, waiting on
a condition, percentiles.

Standard library only, and importable on its own: besides pytest suites it is
used by scripts that run outside them (bench/, tests/compose/client.py,
tests/e2e/load.py on the e2e node), which put tests/lib on sys.path.
"""
from __future__ import annotations

import socket
import time

_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback port nothing listens on now, never one handed out before in this
    process: the kernel may offer a port again until whoever got it binds it, and
    callers take several (a fleet's replicas, a deliberately closed origin) before
    anything binds them."""
    for _ in range(1000):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError("no loopback port left that this process has not handed out already")


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_until(predicate, timeout: float, interval: float = 0.02, what: str = "condition"):
    """predicate()'s first true value, polled every `interval` s; TimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def percentile(values, p: float):
    """The nearest-rank p-th percentile (0-100) of `values`, in any order; None when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, round(p / 100.0 * (len(ordered) - 1)))]
