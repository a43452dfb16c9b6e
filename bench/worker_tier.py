#!/usr/bin/env python3
"""The worker tier measured: how fast N workers drain a backlog, and what the
queue adds to a miss.

    python3 bench/worker_tier.py [--keys 1000] [--delay-ms 200] [--concurrency 8] [--workers 1,2,4]

drain    KEYS cold keys are queued at once through one serving replica
         (Prefer: respond-async, so no client waits on them); the clock runs
         from the first request to the last job done, by the workers' own
         ok counters. Each worker computes CONCURRENCY jobs at once with the
         simulated origin (DELAY ms, a sleep: no CPU), so the ideal drain is
         KEYS x DELAY / (N x CONCURRENCY) and N workers should be N x faster.
latency  cold misses, 8 at a time, answered by the replica's in-process
         origin vs through the queue and one worker, same origin delay: the
         difference of the medians and of the p99s is the queue's cost per miss.

Everything runs on 127.0.0.1 with a private redis-server (tests/lib/harness.py).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lib"))
from harness import RedisServer, Scalecache, Worker  # noqa: E402
from helpers import percentile, wait_until  # noqa: E402

# Jobs must outlive the slowest drain (1 worker): their lease is what keeps them.
LONG = {"SCALECACHE_CACHE_LEASE_TTL_MS": "600000", "SCALECACHE_ORIGIN_TIMEOUT_MS": "60000",
        "SCALECACHE_SERVER_HEADER_TIMEOUT_MS": "120000", "SCALECACHE_QUEUE_MAX_LENGTH": "100000",
        "SCALECACHE_REDIS_TIMEOUT_MS": "1000", "SCALECACHE_LOG_LEVEL": "warn"}


def drain(keys: int, delay_ms: int, concurrency: int, workers: int) -> float:
    env = {**LONG, "SCALECACHE_ORIGIN_KIND": "queue", "SCALECACHE_ORIGIN_SIMULATED_DELAY_MS": str(delay_ms),
           "SCALECACHE_WORKER_CONCURRENCY": str(concurrency)}
    with RedisServer() as redis, Scalecache(redis_url=redis.url, env=env) as replica:
        fleet = [Worker(redis.url, env=env).start() for _ in range(workers)]
        try:
            started = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(32) as pool:
                statuses = list(pool.map(
                    lambda i: replica.get(f"/data/cold-{i}", headers={"Prefer": "respond-async"})[0], range(keys)))
            assert all(s in (200, 202) for s in statuses), set(statuses)
            done = lambda: sum(w.metric("scalecache_worker_jobs_total", result="ok") for w in fleet)  # noqa: E731
            wait_until(lambda: done() >= keys, 600, interval=0.05, what=f"{keys} jobs done")
            return time.monotonic() - started
        finally:
            for w in fleet:
                w.stop()


def miss_latencies(delay_ms: int, queue: bool, misses: int = 200) -> list[float]:
    env = {**LONG, "SCALECACHE_ORIGIN_SIMULATED_DELAY_MS": str(delay_ms)}
    if queue:
        env["SCALECACHE_ORIGIN_KIND"] = "queue"
    with RedisServer() as redis, Scalecache(redis_url=redis.url, env=env) as replica:
        worker = Worker(redis.url, env=env).start() if queue else None
        try:
            def one(i):
                t = time.monotonic()
                status = replica.get(f"/data/miss-{i}", timeout=60)[0]
                assert status == 200, status
                return (time.monotonic() - t) * 1000
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                return list(pool.map(one, range(misses)))
        finally:
            if worker:
                worker.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--delay-ms", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--workers", default="1,2,4")
    args = ap.parse_args()
    os.environ.setdefault("SCALECACHE_BIN", str(ROOT / "build" / "scalecache"))

    times = {}
    for n in (int(x) for x in args.workers.split(",")):
        times[n] = drain(args.keys, args.delay_ms, args.concurrency, n)
        ideal = args.keys * args.delay_ms / 1000 / (n * args.concurrency)
        print(f"drain: {args.keys} keys, {n} worker(s) x {args.concurrency}: {times[n]:.2f} s "
              f"(ideal {ideal:.2f} s, {args.keys / times[n]:.0f} jobs/s)", flush=True)
    base = min(times)
    print("speed-up: " + ", ".join(f"{n} workers {times[base] / t:.2f}x" for n, t in sorted(times.items())))

    direct, queued = miss_latencies(args.delay_ms, False), miss_latencies(args.delay_ms, True)
    for name, values in (("in-process origin", direct), ("worker tier", queued)):
        print(f"miss latency, {name}: p50 {percentile(values, 50):.1f} ms, p99 {percentile(values, 99):.1f} ms")
    print(f"queue adds per miss: p50 {percentile(queued, 50) - percentile(direct, 50):+.1f} ms, "
          f"p99 {percentile(queued, 99) - percentile(direct, 99):+.1f} ms")


if __name__ == "__main__":
    main()
