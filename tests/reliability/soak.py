#!/usr/bin/env python3
"""`make soak` (not in CI): mixed load for --minutes with periodic Redis restarts.

One scalecache with a private Redis. Eight keep-alive clients mix hot keys,
a key space larger than L1 (evictions), short TTLs (expiry, refills from L2
and the origin) and a trickle of bad keys (400). Redis is killed and started
empty every --restart-every seconds. RSS, open fds and threads of the
process are sampled every 2 s and plotted to OUT/soak.png (samples in
OUT/soak.csv, figures in OUT/soak.json).

Fails (exit 1) when a client request fails, the process dies or does not exit
0 on SIGTERM, or RSS / fds grow after the warm-up: a linear fit over the
measured window must project less than max(8 MiB, 5 %) of RSS growth, and the
last quarter's fds may not exceed the second quarter's by more than 8.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faultlib import Load, RedisServer, Scalecache, open_fds, rss_bytes


def soak_paths(worker: int, i: int) -> str:
    if i % 50 == 0:
        return "/data/bad%zz"  # 400, never cached
    if i % 10 < 7:
        return f"/data/hot-{(worker * 131 + i) % 1000}"
    return f"/data/wide-{(worker * 7919 + i * 104729) % 20000}"


def threads_of(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def slope_per_second(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0


def plot(samples: list[dict], restarts: list[float], warmup: float, path: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s["t"] / 60 for s in samples]
    fig, axes = plt.subplots(3, 1, figsize=(10, 8), sharex=True)
    series = [("rss_mib", "RSS (MiB)"), ("fds", "open fds"), ("rps", "answers/s")]
    for ax, (key, label) in zip(axes, series):
        ax.plot(t, [s[key] for s in samples], lw=1.2)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        for r in restarts:
            ax.axvline(r / 60, color="tab:red", alpha=0.4, lw=0.8)
        ax.axvspan(0, warmup / 60, color="grey", alpha=0.12)
    axes[0].set_title("scalecache soak: mixed load, Redis restarts (red), warm-up (grey)")
    axes[-1].set_xlabel("minutes")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--restart-every", type=float, default=0,
                    help="seconds between Redis restarts (default: duration / 6, at least 20)")
    ap.add_argument("--out", default="build/soak")
    args = ap.parse_args()

    duration = args.minutes * 60
    restart_every = args.restart_every or max(20.0, duration / 6)
    warmup = max(30.0, duration * 0.2)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = {"SCALECACHE_CACHE_L1_MAX_ENTRIES": "5000", "SCALECACHE_CACHE_TTL_SECONDS": "30",
           "SCALECACHE_CACHE_L1_TTL_SECONDS": "10", "SCALECACHE_REDIS_BACKOFF_MAX_MS": "500"}

    samples: list[dict] = []
    restarts: list[float] = []
    with RedisServer() as redis, Scalecache(redis_url=redis.url, origin_delay_ms=20, env=env) as sc:
        pid = sc.proc.pid
        stop = threading.Event()
        load = Load(sc.port, workers=8, paths=soak_paths, duration=duration + 60,
                    max_requests=10**9, ok_statuses=(200, 400))

        def restarter():
            while not stop.wait(restart_every):
                redis.stop()
                time.sleep(1.0)
                redis.start()
                restarts.append(time.monotonic() - t0)

        t0 = time.monotonic()
        load.start()
        threading.Thread(target=restarter, daemon=True).start()
        last_done, last_t = 0, t0
        while time.monotonic() - t0 < duration:
            time.sleep(2.0)
            if sc.proc.poll() is not None:
                print(f"soak: scalecache died with {sc.proc.returncode}\n{sc.log()[-3000:]}")
                return 1
            now, done = time.monotonic(), load.completed()
            samples.append({"t": now - t0, "rss_mib": rss_bytes(pid) / 2**20, "fds": open_fds(pid),
                            "threads": threads_of(pid), "rps": (done - last_done) / (now - last_t)})
            last_done, last_t = done, now
        stop.set()
        stats = load.stop()
        sc.signal()
        exit_code = sc.wait(30)

    measured = [s for s in samples if s["t"] >= warmup]
    xs = [s["t"] for s in measured]
    rss = [s["rss_mib"] for s in measured]
    growth = slope_per_second(xs, rss) * (xs[-1] - xs[0])
    quarter = max(1, len(samples) // 4)
    fds_q2 = max(s["fds"] for s in samples[quarter:2 * quarter])
    fds_q4 = max(s["fds"] for s in samples[-quarter:])
    allowed = max(8.0, 0.05 * (sum(rss) / len(rss)))
    figures = {
        "minutes": args.minutes, "requests": stats.total, "failed": stats.failed,
        "statuses": stats.statuses, "p99_ms": round(stats.percentile(99) * 1000, 1),
        "redis_restarts": len(restarts), "exit_code": exit_code,
        "rss_mib_start": round(measured[0]["rss_mib"], 1), "rss_mib_end": round(measured[-1]["rss_mib"], 1),
        "rss_mib_max": round(max(s["rss_mib"] for s in samples), 1),
        "rss_trend_mib_over_window": round(growth, 2), "rss_trend_allowed_mib": round(allowed, 2),
        "fds_q2_max": fds_q2, "fds_q4_max": fds_q4,
        "threads_end": samples[-1]["threads"],
    }
    with open(out / "soak.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(samples[0]))
        w.writeheader()
        w.writerows(samples)
    (out / "soak.json").write_text(json.dumps(figures, indent=2) + "\n")
    plot(samples, restarts, warmup, out / "soak.png")
    print("soak:", json.dumps(figures))
    print(f"soak: plot {out / 'soak.png'}")

    problems = []
    if stats.failed:
        problems.append(f"{stats.failed} failed requests: {stats.first_failures()}")
    if exit_code != 0:
        problems.append(f"exit code {exit_code} after SIGTERM")
    if growth > allowed:
        problems.append(f"RSS grows: {growth:.1f} MiB over the measured window (allowed {allowed:.1f})")
    if fds_q4 > fds_q2 + 8:
        problems.append(f"open fds grow: {fds_q2} -> {fds_q4}")
    for p in problems:
        print("soak: FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
