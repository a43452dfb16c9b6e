#!/usr/bin/python3
"""Profile one scalecache case of the bench under load with perf.

    bench/profile.py l1|l2|miss [--seconds 10] [--threads 2] [--bin build/scalecache]

Starts scalecache (and a Redis) the way bench/run.py does, warms it up, runs
wrk (1 thread, 32 connections) while `perf record -g` samples the scalecache
process, then prints the hottest functions (self time) and the per-thread CPU
split. Everything is on 127.0.0.1 and stopped on exit.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import procs, systems, wrk  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def thread_cpu(pid):
    """{thread name: CPU seconds} of every thread of pid."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                text = f.read()
            name = text[text.index("(") + 1:text.rindex(")")]
            fields = text.rsplit(")", 1)[1].split()
            out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / procs.CLOCK_TICKS
        except (OSError, ValueError):
            pass
    return out


def _rows(perf_stdout):
    """perf report --stdio lines without comments, whitespace squeezed, long symbols cut."""
    return [" ".join(line.split())[:160] for line in perf_stdout.splitlines()
            if line.strip() and not line.startswith("#")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=["l1", "l2", "miss"])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bin", default=os.path.join(REPO, "build", "scalecache"))
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args()
    run_dir = tempfile.mkdtemp(prefix="scalecache-profile-")
    try:
        redis = systems.start_redis(run_dir)
        settings = {"redis_url": redis.redis_url, "origin_kind": "simulated", "origin_simulated_delay_ms": 0,
                    "shutdown_drain_seconds": 0, "log_level": "warn"}
        if args.case == "l2":
            settings["cache_l1_max_entries"] = 0
        sc = systems.start_scalecache(run_dir, args.bin, "scalecache-profile", args.threads, **settings)
        script, script_args = ("unique_keys.lua", ["p-warm"]) if args.case == "miss" else ("hit_keys.lua", ["k", 1000])
        wrk.run(sc.url, script, script_args, 3)
        if args.case == "miss":
            script_args = ["p-measure"]
        pid = sc.processes[0].pid
        data = os.path.join(run_dir, "perf.data")
        before = thread_cpu(pid)
        result = {}
        load = threading.Thread(target=lambda: result.update(wrk.run(sc.url, script, script_args, args.seconds)))
        load.start()
        subprocess.run(["perf", "record", "-q", "-g", "-F", "999", "-p", str(pid), "-o", data,
                        "--", "sleep", str(args.seconds - 1)], check=True)
        load.join()
        after = thread_cpu(pid)
        print("%s: %.0f req/s, p99 %.2f ms" % (args.case, result["rps"], result["latency_us"]["p99"] / 1000))
        print("CPU seconds per thread over the run:")
        for name, seconds in sorted(after.items(), key=lambda kv: -(kv[1] - before.get(kv[0], 0))):
            if seconds - before.get(name, 0) > 0:
                print("  %-16s %.2f" % (name, seconds - before.get(name, 0)))
        report = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "-g", "none",
                                 "--percent-limit", "0.7", "--sort", "dso,symbol"],
                                capture_output=True, text=True)
        print("Hottest functions (self time):")
        print("\n".join(_rows(report.stdout)[:args.top]))
        by_dso = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "-g", "none",
                                 "--sort", "dso"],
                                capture_output=True, text=True)
        print("By library:")
        print("\n".join(_rows(by_dso.stdout)[:10]))
        inclusive = subprocess.run(["perf", "report", "-i", data, "--children", "--stdio", "-g", "none",
                                    "--sort", "dso,symbol", "--percent-limit", "1.5"],
                                   capture_output=True, text=True)
        own = os.path.basename(args.bin)
        print("%s functions, time including callees (children, self, dso, symbol):" % own)
        print("\n".join([r for r in _rows(inclusive.stdout) if " %s " % own in r][:args.top]))
    finally:
        procs.stop_all()
        if os.environ.get("PROFILE_KEEP"):
            print("perf data kept in", run_dir)
        else:
            subprocess.run(["rm", "-rf", run_dir])


if __name__ == "__main__":
    main()
