"""The worker tier (docs/worker-tier.md) against the in-process origin, one run.

drain    KEYS cold keys are asked for at once through one serving replica with
         `Prefer: respond-async`, so no client waits on them; the clock runs
         from the first request to the last origin call done, counted by the
         processes that call the origin (the replica's
         scalecache_origin_requests_total, or the workers'
         scalecache_worker_jobs_total{result="ok"}). Rows: the replica calling
         the origin itself with `concurrency` slots (origin.concurrency), then
         the replica queueing (origin.kind: queue) for 1, 2 and 4 workers of
         `concurrency` slots each (worker.concurrency). The simulated origin
         sleeps DELAY ms (no CPU), so the ideal drain is
         KEYS x DELAY / slots. Misses/s = KEYS / drain; the origin concurrency
         achieved = misses/s x DELAY (Little's law: calls in flight on average),
         against the slots configured.
latency  cold misses, 8 at a time, answered through the in-process origin vs
         through the queue and one worker, same delay: the difference of the
         p50s and of the p99s is what the queue adds per miss (an XADD, the
         worker's XREADGROUP wake-up, the fill notice).

Processes come from the integration tests' harness (tests/lib/harness.py): a
private redis-server and scalecache processes on free loopback ports, each
stopped when its measurement ends.
"""
import concurrent.futures
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKER_COUNTS = (1, 2, 4)
LATENCY_CLIENTS = 8

# Jobs must outlive the slowest drain: their lease is what keeps them. The
# replica's origin pool must hold the whole backlog for the in-process row.
LONG = {"SCALECACHE_CACHE_LEASE_TTL_MS": "600000", "SCALECACHE_ORIGIN_TIMEOUT_MS": "60000",
        "SCALECACHE_SERVER_HEADER_TIMEOUT_MS": "120000", "SCALECACHE_QUEUE_MAX_LENGTH": "100000",
        "SCALECACHE_ORIGIN_MAX_QUEUE": "100000", "SCALECACHE_REDIS_TIMEOUT_MS": "1000",
        "SCALECACHE_LOG_LEVEL": "warn"}


def _harness(binary):
    """The harness and its helpers, reading the binary measured from SCALECACHE_BIN."""
    os.environ["SCALECACHE_BIN"] = binary
    sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
    import harness
    import helpers
    return harness, helpers


def drain(h, keys, delay_ms, concurrency, workers):
    """Seconds from the first of KEYS cold requests to the last origin call done.
    workers 0: the replica calls the origin itself."""
    harness, helpers = h
    env = {**LONG, "SCALECACHE_ORIGIN_SIMULATED_DELAY_MS": str(delay_ms),
           "SCALECACHE_WORKER_CONCURRENCY": str(concurrency), "SCALECACHE_ORIGIN_CONCURRENCY": str(concurrency)}
    if workers:
        env["SCALECACHE_ORIGIN_KIND"] = "queue"
    with harness.RedisServer() as redis, harness.Scalecache(redis_url=redis.url, env=env) as replica:
        fleet = [harness.Worker(redis.url, env=env).start() for _ in range(workers)]
        try:
            if workers:
                done = lambda: sum(w.metric("scalecache_worker_jobs_total", result="ok") for w in fleet)  # noqa: E731
            else:
                done = lambda: replica.metric("scalecache_origin_requests_total", result="ok")  # noqa: E731
            started = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(32) as pool:
                statuses = list(pool.map(
                    lambda i: replica.get("/data/cold-%d" % i, headers={"Prefer": "respond-async"})[0], range(keys)))
            if not all(s in (200, 202) for s in statuses):
                raise RuntimeError("cold requests answered %s" % sorted(set(statuses)))
            helpers.wait_until(lambda: done() >= keys, 600, interval=0.05, what="%d origin calls done" % keys)
            return time.monotonic() - started
        finally:
            for w in fleet:
                w.stop()


def miss_latencies(h, delay_ms, queue, misses):
    """Milliseconds of `misses` cold GETs, LATENCY_CLIENTS at a time."""
    harness, _ = h
    env = {**LONG, "SCALECACHE_ORIGIN_SIMULATED_DELAY_MS": str(delay_ms)}
    if queue:
        env["SCALECACHE_ORIGIN_KIND"] = "queue"
    with harness.RedisServer() as redis, harness.Scalecache(redis_url=redis.url, env=env) as replica:
        worker = harness.Worker(redis.url, env=env).start() if queue else None
        try:
            def one(i):
                t = time.monotonic()
                status = replica.get("/data/miss-%d" % i, timeout=60)[0]
                if status != 200:
                    raise RuntimeError("a cold miss answered %d" % status)
                return (time.monotonic() - t) * 1000
            with concurrent.futures.ThreadPoolExecutor(LATENCY_CLIENTS) as pool:
                return list(pool.map(one, range(misses)))
        finally:
            if worker:
                worker.stop()


def run(args, log):
    """The section's figures: drain rows and the queue's latency per miss."""
    if not os.access(args.bin, os.X_OK):
        return {"skipped": "no scalecache binary"}
    h = _harness(args.bin)
    keys, delay_ms, concurrency, misses = args.worker_keys, args.worker_delay_ms, args.worker_concurrency, \
        args.worker_misses
    rows = []
    for workers in (0,) + WORKER_COUNTS:
        seconds = drain(h, keys, delay_ms, concurrency, workers)
        slots = concurrency * max(workers, 1)
        rows.append({"workers": workers, "label": "%d worker%s" % (workers, "s" * (workers > 1)) if workers
                     else "in-process origin", "keys": keys, "drain_s": seconds,
                     "ideal_s": keys * delay_ms / 1000 / slots, "misses_per_s": keys / seconds,
                     "slots": slots, "origin_concurrency": keys / seconds * delay_ms / 1000})
        r = rows[-1]
        log("worker %-18s %d cold keys drained in %.2f s (ideal %.2f): %.0f misses/s, origin concurrency %.1f of %d"
            % (r["label"], keys, seconds, r["ideal_s"], r["misses_per_s"], r["origin_concurrency"], slots))
    direct = miss_latencies(h, delay_ms, False, misses)
    queued = miss_latencies(h, delay_ms, True, misses)
    pct = h[1].percentile
    latency = {"misses": misses, "clients": LATENCY_CLIENTS,
               "in_process": {"p50_ms": pct(direct, 50), "p99_ms": pct(direct, 99)},
               "queue": {"p50_ms": pct(queued, 50), "p99_ms": pct(queued, 99)}}
    latency["added_p50_ms"] = latency["queue"]["p50_ms"] - latency["in_process"]["p50_ms"]
    latency["added_p99_ms"] = latency["queue"]["p99_ms"] - latency["in_process"]["p99_ms"]
    log("worker miss latency: in-process p50 %.1f / p99 %.1f ms, queue p50 %.1f / p99 %.1f ms: added %+.1f / %+.1f ms"
        % (latency["in_process"]["p50_ms"], latency["in_process"]["p99_ms"], latency["queue"]["p50_ms"],
           latency["queue"]["p99_ms"], latency["added_p50_ms"], latency["added_p99_ms"]))
    return {"origin_delay_ms": delay_ms, "concurrency": concurrency, "rows": rows, "latency": latency}


def add_arguments(parser):
    parser.add_argument("--worker-keys", type=int, default=1000, help="worker: cold keys per drain")
    parser.add_argument("--worker-delay-ms", type=int, default=200, help="worker: simulated origin delay (a sleep)")
    parser.add_argument("--worker-concurrency", type=int, default=8,
                        help="worker: origin calls at once per worker, and the in-process row's origin.concurrency")
    parser.add_argument("--worker-misses", type=int, default=200, help="worker: cold misses timed for the latency")


QUICK = {"worker_keys": 200, "worker_delay_ms": 100, "worker_misses": 40}


def lines(section, results):
    """The Markdown of the section (benchlib/report.py)."""
    base = section["rows"][0]["misses_per_s"] if section["rows"] else None
    out = ["%d cold keys queued at once (`Prefer: respond-async`) through one serving replica, until the last origin "
           "call is done. Simulated origin: %d ms, a sleep; %d origin calls at once per worker, and as the in-process "
           "row's origin.concurrency." % (section["rows"][0]["keys"], section["origin_delay_ms"],
                                            section["concurrency"]), "",
           "| origin calls made by | drain s (ideal) | misses/s | × in-process | origin concurrency (of slots) |",
           "|---|---:|---:|---:|---:|"]
    for r in section["rows"]:
        out.append("| %s | %.2f (%.2f) | %.0f | %.2f× | %.1f (of %d) |" % (
            r["label"], r["drain_s"], r["ideal_s"], r["misses_per_s"], r["misses_per_s"] / base if base else 0.0,
            r["origin_concurrency"], r["slots"]))
    lat = section["latency"]
    out += ["", "Origin concurrency: misses/s × the origin's delay (calls in flight on average, Little's law).", "",
            "| cold miss, %d at a time, %d misses | p50 ms | p99 ms |" % (lat["clients"], lat["misses"]),
            "|---|---:|---:|",
            "| in-process origin | %.1f | %.1f |" % (lat["in_process"]["p50_ms"], lat["in_process"]["p99_ms"]),
            "| through the queue, 1 worker | %.1f | %.1f |" % (lat["queue"]["p50_ms"], lat["queue"]["p99_ms"]),
            "| **added by the queue** | **%+.1f** | **%+.1f** |" % (lat["added_p50_ms"], lat["added_p99_ms"]), ""]
    return out
