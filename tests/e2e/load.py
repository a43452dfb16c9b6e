#!/usr/bin/env python3
"""Steady client load for tests/e2e that counts every failed request.

Half of the workers keep their HTTP/1.1 connection open (and reconnect when
the server answers `Connection: close`, as scalecache does while draining);
the other half open a new connection for every request, so kube-proxy spreads
them over whatever pods are ready at that moment. Nothing is retried: a
request that does not come back 200 with a JSON body is a failure.

  load.py --host 10.96.0.20 --port 80 --seconds 120 --rate 200 \
      [--workers 8] [--keys 300] [--prefill] [--stop-file F] [--started-file F]
      [--host-header NAME] [--out summary.json]

--host-header sends that Host (an Ingress or Gateway route matching on it).

Stops after --seconds or as soon as --stop-file exists. Prints one JSON
summary: requests, failures by kind (with the first few messages), source
counts (l1/l2/origin/stale), latency percentiles, requests per second, how
many requests the prefill sent and got an answer to, and when the first and
last answer from neither cache came (`not_cached`, epoch seconds: with L1 off,
how long L2 hits were missing), with their count per wall-clock second
(`per_second`, keyed by epoch second) so a gap and its stragglers can be told
apart.
"""
import argparse
import http.client
import json
import os
import random
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from helpers import percentile


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.ok = 0
        self.failed = 0
        self.kinds = {}
        self.examples = []
        self.sources = {}
        self.latencies = []
        self.reconnects = 0
        # Wall-clock times (epoch s) of the first and last answer that came
        # from neither cache (origin, stale...) once the run had gone warm:
        # with L1 off, how long L2 hits were missing.
        self.not_cached = {"count": 0, "first": None, "last": None, "per_second": {}}

    def success(self, latency, source):
        with self.lock:
            self.ok += 1
            self.latencies.append(latency)
            self.sources[source] = self.sources.get(source, 0) + 1
            if source not in ("l1", "l2"):
                now = time.time()
                nc = self.not_cached
                nc["count"] += 1
                nc["first"] = nc["first"] or now
                nc["last"] = now
                second = str(int(now))
                nc["per_second"][second] = nc["per_second"].get(second, 0) + 1

    def failure(self, kind, message, when):
        with self.lock:
            self.failed += 1
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
            if len(self.examples) < 10:
                self.examples.append({"t": round(when, 3), "kind": kind, "message": message[:200]})


def worker(args, keep_alive, stats, stop, t0, per_worker_rate, seed):
    rng = random.Random(seed)
    conn = None
    interval = 1.0 / per_worker_rate if per_worker_rate > 0 else 0.0
    next_at = time.monotonic()
    while not stop.is_set():
        if interval:
            now = time.monotonic()
            if now < next_at:
                time.sleep(next_at - now)
            next_at += interval
        key = f"e2e-load-{rng.randrange(args.keys)}"
        start = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(args.host, args.port, timeout=args.timeout)
            headers = dict(args.headers) if keep_alive else {**args.headers, "Connection": "close"}
            conn.request("GET", f"/data/{key}", headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            latency = time.monotonic() - start
            if resp.status != 200:
                stats.failure(f"http_{resp.status}", body.decode("utf-8", "replace"), start - t0)
            else:
                try:
                    source = json.loads(body).get("source", "?")
                except ValueError as exc:
                    stats.failure("bad_body", f"{exc}: {body[:80]!r}", start - t0)
                else:
                    stats.success(latency, source)
            if not keep_alive or resp.will_close:
                conn.close()
                conn = None
                if keep_alive:
                    with stats.lock:
                        stats.reconnects += 1
        except (OSError, http.client.HTTPException) as exc:
            kind = type(exc).__name__
            if isinstance(exc, socket.timeout):
                kind = "timeout"
            stats.failure(kind, str(exc) or kind, start - t0)
            if conn is not None:
                conn.close()
            conn = None
    if conn is not None:
        conn.close()


def prefill(args):
    """Fetch every key once, `workers` at a time, so the measured run starts warm.

    Returns how many of those requests were answered (any status)."""
    keys = [f"e2e-load-{i}" for i in range(args.keys)]
    lock = threading.Lock()
    answered = [0]

    def fill():
        while True:
            with lock:
                if not keys:
                    return
                key = keys.pop()
            try:
                conn = http.client.HTTPConnection(args.host, args.port, timeout=args.timeout)
                conn.request("GET", f"/data/{key}", headers={**args.headers, "Connection": "close"})
                conn.getresponse().read()
                conn.close()
                with lock:
                    answered[0] += 1
            except (OSError, http.client.HTTPException):
                pass

    threads = [threading.Thread(target=fill, daemon=True) for _ in range(max(args.workers, 16))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answered[0]


def percentile_ms(values, p):
    value = percentile(values, p)
    return None if value is None else round(value * 1000, 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--rate", type=float, default=200, help="total requests/s (0: as fast as possible)")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--keys", type=int, default=300)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--stop-file", default="")
    ap.add_argument("--started-file", default="", help="created when the measured run begins")
    ap.add_argument("--out", default="")
    ap.add_argument("--prefill", action="store_true",
                    help="request every key once before the measured run (misses wait for the origin)")
    ap.add_argument("--host-header", default="", help="Host header to send (default: --host)")
    args = ap.parse_args()
    args.headers = {"Host": args.host_header} if args.host_header else {}

    prefilled = prefill(args) if args.prefill else 0

    stats, stop = Stats(), threading.Event()
    t0, started_epoch = time.monotonic(), time.time()
    if args.started_file:
        open(args.started_file, "w").close()
    per_worker = args.rate / args.workers if args.rate > 0 else 0
    threads = []
    for i in range(args.workers):
        t = threading.Thread(target=worker, daemon=True,
                             args=(args, i % 2 == 0, stats, stop, t0, per_worker, 1000 + i))
        t.start()
        threads.append(t)
    while time.monotonic() - t0 < args.seconds:
        if args.stop_file and os.path.exists(args.stop_file):
            break
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(args.timeout + 5)
    elapsed = time.monotonic() - t0
    lat = sorted(stats.latencies)
    summary = {
        "seconds": round(elapsed, 1),
        "requests": stats.ok + stats.failed,
        "ok": stats.ok,
        "failed": stats.failed,
        "failures_by_kind": stats.kinds,
        "failure_examples": stats.examples,
        "sources": stats.sources,
        "not_cached": stats.not_cached,
        "started_epoch": round(started_epoch, 3),
        "keepalive_reconnects_on_close": stats.reconnects,
        "prefill_requests": prefilled,
        "req_per_s": round((stats.ok + stats.failed) / elapsed, 1) if elapsed else 0,
        "latency_ms": {"p50": percentile_ms(lat, 50), "p99": percentile_ms(lat, 99),
                       "max": round(lat[-1] * 1000, 2) if lat else None},
    }
    text = json.dumps(summary, indent=2, sort_keys=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
