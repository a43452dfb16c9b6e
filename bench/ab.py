#!/usr/bin/env python3
"""A/B of two scalecache binaries on the matrix's three scalecache rows.

    python3 bench/ab.py --a OLD_BINARY --b NEW_BINARY [--rounds 4] [--duration 8]

L1 hit, L2 hit (L1 off) and full miss (origin 0 ms), each binary with its own
Redis, measured in interleaved rounds (A then B, then B then A, ...) so drift
of the machine falls on both alike. Prints medians of req/s and CPU s per 10k
requests, and B/A ratios. For checking that a change costs nothing; `make
bench` stays the published figure.
"""
import argparse
import os
import statistics
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import procs, systems, wrk  # noqa: E402
from run import FRESH_SECONDS, HIT_KEYS, scalecache_settings  # noqa: E402

ROWS = [
    ("l1_hit", "hit_keys.lua", ("k", HIT_KEYS), {"cache_ttl_seconds": FRESH_SECONDS,
                                                 "cache_l1_ttl_seconds": FRESH_SECONDS}),
    ("l2_hit", "hit_keys.lua", ("k", HIT_KEYS), {"cache_ttl_seconds": FRESH_SECONDS,
                                                 "cache_l1_ttl_seconds": FRESH_SECONDS,
                                                 "cache_l1_max_entries": 0}),
    ("full_miss", "unique_keys.lua", ("u",), {}),
]


def start(run_dir, binary, label, row, threads):
    name, _, _, settings = row
    redis = systems.start_redis(run_dir, "redis-%s-%s" % (label, name))
    service = systems.start_scalecache(run_dir, binary, "scalecache-%s-%s" % (label, name), threads,
                                       **scalecache_settings(redis_url=redis.redis_url, origin_kind="simulated",
                                                             origin_simulated_delay_ms=0, **settings))
    service.processes.insert(0, redis.processes[0])
    return service, [redis.processes[0].pid]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, help="the baseline binary")
    parser.add_argument("--b", required=True, help="the changed binary")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    results = {(label, row[0]): [] for label in "AB" for row in ROWS}
    with tempfile.TemporaryDirectory(prefix="scalecache-ab-") as run_dir:
        try:
            services = {(label, row[0]): start(run_dir, binary, label, row, args.threads)
                        for label, binary in (("A", args.a), ("B", args.b)) for row in ROWS}
            for round_index in range(args.rounds):
                order = "AB" if round_index % 2 == 0 else "BA"
                for row in ROWS:
                    name, script, script_args, _ = row
                    for label in order:
                        service, extra = services[(label, name)]
                        run_args = list(script_args)
                        if script == "unique_keys.lua":
                            run_args = ["%s-%s-r%d" % (run_args[0], label, round_index)]
                        result = wrk.measure(service, script, run_args, args.warmup, args.duration, extra)
                        results[(label, name)].append(result)
                        print("round %d %s %-9s %8.0f req/s %.3f CPU s/10k" % (
                            round_index + 1, label, name, result["rps"], result["cpu_s_per_10k"]), flush=True)
        finally:
            procs.stop_all()

    print("\n%-10s %12s %12s %7s %14s %14s %7s" % ("row", "A req/s", "B req/s", "B/A", "A CPU s/10k",
                                                  "B CPU s/10k", "B/A"))
    for name, *_ in ROWS:
        a_rps = statistics.median(r["rps"] for r in results[("A", name)])
        b_rps = statistics.median(r["rps"] for r in results[("B", name)])
        a_cpu = statistics.median(r["cpu_s_per_10k"] for r in results[("A", name)])
        b_cpu = statistics.median(r["cpu_s_per_10k"] for r in results[("B", name)])
        print("%-10s %12.0f %12.0f %7.3f %14.3f %14.3f %7.3f" % (name, a_rps, b_rps, b_rps / a_rps, a_cpu, b_cpu,
                                                                b_cpu / a_cpu))


if __name__ == "__main__":
    main()
