#!/usr/bin/python3
"""`make bench`: scalecache side by side with the systems users would pick instead.

Sections (all by default, or a comma list with --only):
  matrix    req/s, p50/p99/p99.9, CPU s per 10k requests, peak RSS of:
            scalecache L1 hit, L2 hit (L1 off), full miss (simulated origin 0 ms),
            Pistache hello, nginx `return 200`, NGINX proxy_cache hit, Varnish hit,
            Flask + Redis under gunicorn; interleaved rounds, medians. Then
            syscalls per request (strace -c, benchlib/syscalls.py) of the L1 and
            L2 hits, Pistache hello, nginx return 200 and NGINX proxy_cache.
  stampede  K concurrent requests for one cold key, 500 ms origin: origin calls.
  scaleout  1, 2, 3 scalecache replicas behind the project's NGINX config.
  topology  L2 hit (L1 off) and full miss on one Redis against a 3-master Redis
            Cluster, with round trips, scripts and commands per request (benchlib/topology.py).
  memory    RSS and scalecache_l1_bytes after loading 100k / 1M keys of 100 B / 10 KB.
  micro     Google Benchmark of the L1 cache (bench/l1_bench.cpp).
  worker    misses/s and origin concurrency, in-process origin vs 1, 2, 4 workers,
            and the queue's added latency per miss (benchlib/worker.py).

Everything runs on 127.0.0.1 with free ports and a private run directory; every
process started is stopped on exit (also on SIGTERM/SIGINT). A full run writes
bench/results/latest.{json,md,png} and refreshes the figures block of
BENCHMARKS.md; --only and --quick runs write to build/bench-partial and
build/bench-quick instead (or --results-dir), leaving the published run alone.
"""
import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import procs, report, syscalls, systems, wrk  # noqa: E402
from benchlib.stampede import stampede  # noqa: E402
from benchlib import worker  # noqa: E402

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
SECTIONS = ["matrix", "stampede", "scaleout", "topology", "memory", "micro", "worker"]
HIT_KEYS = 1000          # hit tests cycle over k1..k1000, all cached by the warm-up
SAMPLE_KEY = "k500"      # the body the ceilings answer is scalecache's L1 answer for it
FRESH_SECONDS = 3600     # TTL of hit tests for every cache (origin max-age, scalecache TTLs): longer than a run


def log(message):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description="scalecache benchmarks (make bench)")
    parser.add_argument("--bin", default=os.environ.get("SCALECACHE_BIN", os.path.join(REPO, "build", "scalecache")))
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma list of: " + ", ".join(SECTIONS))
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the matrix (scale-out: up to 2)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up before each measurement")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of each measurement")
    parser.add_argument("--threads", type=int, default=2,
                        help="server threads / workers / processes for every system")
    parser.add_argument("--stampede-k", type=int, default=50)
    parser.add_argument("--stampede-keys", type=int, default=3, help="cold keys per stampede scenario")
    parser.add_argument("--memory-keys", default="100000,1000000")
    parser.add_argument("--memory-sizes", default="100,10240")
    parser.add_argument("--memory-fraction", type=float, default=0.3,
                        help="largest share of MemAvailable one memory case may fill")
    parser.add_argument("--memory-load-seconds", type=int, default=100, help="time cap of one bulk load")
    parser.add_argument("--quiet-wait", type=float, default=60,
                        help="at start, wait up to this many seconds for other processes to leave the CPUs")
    parser.add_argument("--noisy-cpus", type=float, default=0.75,
                        help="a matrix measurement taken while others kept more CPUs than this busy is "
                             "repeated once (at most --noisy-retries times per run)")
    parser.add_argument("--noisy-retries", type=int, default=6)
    parser.add_argument("--quick", action="store_true",
                        help="check the harness: 1 round of 1 s + 3 s, small memory cases")
    parser.add_argument("--results-dir", default=None,
                        help="default bench/results for a full run, build/bench-partial with --only, "
                             "build/bench-quick with --quick")
    parser.add_argument("--keep-run-dir", action="store_true", help="keep configs and logs after the run")
    parser.add_argument("--render-only", action="store_true",
                        help="measure nothing: rewrite latest.md, latest.png and BENCHMARKS.md from latest.json")
    worker.add_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        vars(args).update(worker.QUICK)
        args.rounds, args.warmup, args.duration, args.quiet_wait, args.noisy_retries = 1, 1.0, 3.0, 0, 0
        args.memory_keys, args.stampede_keys = "20000", 1
    args.sections = [s for s in args.only.split(",") if s]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error("unknown section(s): %s" % ", ".join(sorted(unknown)))
    if args.results_dir is None:
        # Only a full run replaces bench/results: BENCHMARKS.md's prose quotes it
        # (tests/benchdoc), and a partial or quick run would leave it quoting
        # figures that are no longer there.
        full = args.render_only or (set(args.sections) == set(SECTIONS) and not args.quick)
        partial = "bench-quick" if args.quick else "bench-partial"
        args.results_dir = os.path.join(BENCH_DIR, "results") if full else os.path.join(REPO, "build", partial)
    return args


def scalecache_settings(**extra):
    """Settings every bench scalecache shares: no drain on stop, quiet logs."""
    base = {"shutdown_drain_seconds": 0, "shutdown_grace_seconds": 2, "log_level": "warn"}
    base.update(extra)
    return base


# --------------------------------------------------------------------------- matrix

def start_matrix_systems(run_dir, args, have_scalecache):
    """Start every system of the matrix at once (idle ones cost nothing measurable)."""
    t = args.threads
    origin = systems.start_origin(run_dir, "origin")
    entries = []

    def add(name, label, service, script, script_args=(), extra=(), kind="other"):
        entries.append({"name": name, "label": label, "service": service, "script": script,
                        "args": list(script_args), "extra_pids": list(extra), "kind": kind})

    if have_scalecache:
        # Each scalecache gets its own Redis, so its CPU and memory are charged to it alone.
        def scalecache_with_redis(name, **settings):
            redis = systems.start_redis(run_dir, "redis-" + name)
            service = systems.start_scalecache(
                run_dir, args.bin, name, t, **scalecache_settings(
                    redis_url=redis.redis_url, origin_kind="simulated", origin_simulated_delay_ms=0, **settings))
            service.processes.insert(0, redis.processes[0])  # stopped with it
            return service, [redis.processes[0].pid]

        # Hit rows: entries stay fresh for the whole run (as the origin's max-age does for NGINX and
        # Varnish), so every answer measured is a hit of the tier named.
        fresh = {"cache_ttl_seconds": FRESH_SECONDS, "cache_l1_ttl_seconds": FRESH_SECONDS}
        l1, l1_redis = scalecache_with_redis("scalecache-l1", **fresh)
        l2, l2_redis = scalecache_with_redis("scalecache-l2", cache_l1_max_entries=0, **fresh)
        miss, miss_redis = scalecache_with_redis("scalecache-miss")
        add("scalecache_l1", "scalecache L1 hit", l1, "hit_keys.lua", ("k", HIT_KEYS), l1_redis, "scalecache")
        add("scalecache_l2", "scalecache L2 hit (L1 off)", l2, "hit_keys.lua", ("k", HIT_KEYS), l2_redis,
            "scalecache")
        add("scalecache_miss", "scalecache full miss (origin 0 ms)", miss, "unique_keys.lua", ("u",), miss_redis,
            "scalecache")
        procs.http_get(l1.url + "/data/" + SAMPLE_KEY)
        status, body = procs.http_get(l1.url + "/data/" + SAMPLE_KEY)
        body = body.decode()
    else:
        log("no scalecache binary at %s: scalecache rows skipped, ceilings answer the origin's body" % args.bin)
        status, body = procs.http_get(origin.url + "/data/" + SAMPLE_KEY)
        body = body.decode()

    pistache_bin = systems.build_pistache_hello(run_dir)
    add("pistache_hello", "Pistache hello (ceiling)", systems.start_pistache_hello(run_dir, pistache_bin, t, body),
        "fixed.lua")
    add("nginx_return", "nginx return 200 (ceiling)", systems.start_nginx_return(run_dir, t, body), "fixed.lua")
    add("nginx_proxy_cache", "NGINX proxy_cache hit", systems.start_nginx_proxy_cache(run_dir, t, origin),
        "hit_keys.lua", ("k", HIT_KEYS), kind="origin")
    add("varnish", "Varnish hit", systems.start_varnish(run_dir, t, origin), "hit_keys.lua", ("k", HIT_KEYS),
        kind="origin")
    flask_redis = systems.start_redis(run_dir, "redis-flask")
    add("flask", "Flask + Redis, gunicorn", systems.start_flask(run_dir, t, flask_redis, origin_delay_ms=0),
        "hit_keys.lua", ("k", HIT_KEYS), [flask_redis.processes[0].pid])
    return entries, origin, body


def scalecache_sources(service):
    """{source: answers so far} from scalecache_cache_results_total (l1, l2, origin, stale, ...)."""
    sources = {}
    for name, value in systems.metrics(service).items():
        match = re.match(r'scalecache_cache_results_total\{.*source="([^"]+)"', name)
        if match:
            sources[match.group(1)] = sources.get(match.group(1), 0.0) + value
    return sources


def measure_entry(e, args, origin, run_id, round_index):
    """Warm-up then one measured wrk run of a matrix entry, with its sanity checks."""
    script_args = list(e["args"])
    if e["script"] == "unique_keys.lua":
        script_args = ["%s-%s-r%d" % (script_args[0], run_id, round_index)]
    if args.warmup > 0:
        warm_args = script_args
        if e["script"] == "unique_keys.lua":
            warm_args = [script_args[0] + "-warm"]
        wrk.run(e["service"].url, e["script"], warm_args, args.warmup)
    origin_before = origin.stats()["calls"]
    sources_before = scalecache_sources(e["service"]) if e["kind"] == "scalecache" else None
    result = wrk.measure(e["service"], e["script"], script_args, 0, args.duration, e["extra_pids"])
    result["origin_calls"] = origin.stats()["calls"] - origin_before
    if sources_before is not None:
        after = scalecache_sources(e["service"])
        result["sources"] = {k: after[k] - sources_before.get(k, 0.0) for k in after}
    return result


# The rows whose syscalls per request are counted (the issue-18 comparison).
SYSCALL_ROWS = ("scalecache_l1", "scalecache_l2", "pistache_hello", "nginx_return", "nginx_proxy_cache")


def count_syscalls(entries, args, failures):
    """{row name: syscalls.per_request result}, after the timed rounds (strace slows what it traces)."""
    counted = {}
    for e in entries:
        if e["name"] not in SYSCALL_ROWS or e["name"] in failures:
            continue
        helpers = set(procs.tree(e["extra_pids"]))  # scalecache's Redis is not the serving process
        pids = [p for p in e["service"].pids() if p not in helpers]
        try:
            counted[e["name"]] = syscalls.per_request(e["service"].url, pids, e["script"], e["args"],
                                                      duration=min(args.duration, 5.0))
        except Exception as error:
            log("syscalls of %s not counted: %s" % (e["label"], error))
            continue
        c = counted[e["name"]]
        log("syscalls %-36s %5.2f per request (%s)" % (e["label"], c["per_request"], ", ".join(
            "%s %.2f" % kv for kv in list(c["by_call"].items())[:6])))
    return counted


def describe_failure(service, error):
    """The error, and when the service died: its exit status and last log lines."""
    dead = [p for p in service.processes if p.poll() is not None]
    if not dead:
        return str(error)
    p = dead[0]
    how = "killed by signal %d" % -p.returncode if p.returncode < 0 else "exit %d" % p.returncode
    return "%s %s; last log lines: %s" % (service.name, how, procs.log_tail(p, 3).replace("\n", " // "))


def run_matrix(run_dir, args, have_scalecache, run_id):
    entries, origin, body = start_matrix_systems(run_dir, args, have_scalecache)
    rounds = {e["name"]: [] for e in entries}
    failures = {}
    retries = [0]
    for r in range(args.rounds):
        order = entries[r % len(entries):] + entries[:r % len(entries)]  # rotate: drift is shared
        for e in order:
            if e["name"] in failures:
                continue
            try:
                result = measure_entry(e, args, origin, run_id, r)
                if result["other_cpus"] > args.noisy_cpus and retries[0] < args.noisy_retries:
                    retries[0] += 1
                    log("round %d %s: other processes kept %.2f CPUs busy, measuring again"
                        % (r + 1, e["label"], result["other_cpus"]))
                    again = measure_entry(e, args, origin, run_id, r + 100 * retries[0])
                    again["retried"] = True
                    result = min(result, again, key=lambda x: x["other_cpus"])
                rounds[e["name"]].append(result)
            except Exception as error:
                failures[e["name"]] = describe_failure(e["service"], error)
                log("round %d %s FAILED: %s" % (r + 1, e["label"], failures[e["name"]]))
                continue
            result = rounds[e["name"]][-1]
            log("round %d %-36s %9.0f req/s  p99 %6.2f ms  cpu %.3f s/10k  errors %d  other load %.2f CPUs"
                % (r + 1, e["label"], result["rps"], result["latency_us"]["p99"] / 1000,
                   result["cpu_s_per_10k"], result["errors_total"], result["other_cpus"]))
    counted = count_syscalls(entries, args, failures)
    rows = []
    for e in entries:
        runs = rounds[e["name"]]
        if not runs:
            rows.append({"name": e["name"], "label": e["label"], "failed": failures.get(e["name"], "no run")})
            continue
        try:
            status, sample = procs.http_get(e["service"].url + ("/data/" + SAMPLE_KEY if e["script"] != "fixed.lua"
                                                                else "/"))
        except OSError:
            status, sample = None, b""
        rows.append({
            "name": e["name"], "label": e["label"], "failed": failures.get(e["name"]),
            "rps": statistics.median(x["rps"] for x in runs),
            "rps_rounds": [round(x["rps"]) for x in runs],
            "p50_ms": statistics.median(x["latency_us"]["p50"] for x in runs) / 1000,
            "p99_ms": statistics.median(x["latency_us"]["p99"] for x in runs) / 1000,
            "p999_ms": statistics.median(x["latency_us"]["p999"] for x in runs) / 1000,
            "cpu_s_per_10k": sum(x["cpu_s"] for x in runs) / sum(x["requests"] for x in runs) * 10000,
            "peak_rss_mib": max(x["peak_rss_kb"] for x in runs) / 1024,
            "processes": max(x["pids"] for x in runs),
            "other_cpus": statistics.median(x["other_cpus"] for x in runs),
            "errors": sum(x["errors_total"] for x in runs),
            "requests": sum(x["requests"] for x in runs),
            "origin_calls_measured": sum(x["origin_calls"] for x in runs),
            "sources": {k: sum(x.get("sources", {}).get(k, 0) for x in runs)
                        for k in sorted({k for x in runs for k in x.get("sources", {})})}
            if e["kind"] == "scalecache" else None,
            "body_bytes": len(sample) if status == 200 else None,
            "syscalls": counted.get(e["name"]),
        })
    for e in entries:
        e["service"].stop()
    origin.stop()
    return {"rows": rows, "body": body, "body_bytes": len(body), "noisy_retries": retries[0]}


# --------------------------------------------------------------------------- stampede

def run_stampede(run_dir, args, have_scalecache, run_id):
    origin = systems.start_origin(run_dir, "origin-slow", delay_ms=500)
    k, t = args.stampede_k, args.threads
    scenarios = []

    def measure(label, urls, replicas):
        calls = []
        details = []
        for i in range(args.stampede_keys):
            slug = "".join(c if c.isalnum() else "-" for c in label.lower())
            key = "cold-%s-%s-%d" % (run_id, slug, i)
            before = origin.stats()["calls"]
            outcome = stampede(urls, key, k)
            time.sleep(0.2)
            calls.append(origin.stats()["calls"] - before)
            details.append(outcome)
        scenarios.append({"label": label, "replicas": replicas, "k": k, "origin_calls": calls,
                          "calls_per_key": statistics.mean(calls),
                          "ok": sum(d["ok"] for d in details), "requests": k * len(details),
                          "statuses": [d["statuses"] for d in details],
                          "max_s": max(d["max_s"] for d in details)})
        log("stampede %-30s origin calls per key %s (%d/%d answered 200)"
            % (label, calls, scenarios[-1]["ok"], scenarios[-1]["requests"]))

    if have_scalecache:
        redis = systems.start_redis(run_dir, "redis-stampede")
        common = scalecache_settings(redis_url=redis.redis_url, origin_kind="http", origin_url=origin.url)
        replicas = [systems.start_scalecache(run_dir, args.bin, "scalecache-stampede-%d" % i, t, **common)
                    for i in range(3)]
        measure("scalecache x1", [replicas[0].url], 1)
        measure("scalecache x3 (one Redis)", [r.url for r in replicas], 3)
        for r in replicas:
            r.stop()
        redis.stop()
    nginx = [systems.start_nginx_proxy_cache(run_dir, t, origin, name="nginx-stampede-%d" % i) for i in range(3)]
    measure("NGINX proxy_cache x1", [nginx[0].url], 1)
    measure("NGINX proxy_cache x3", [n.url for n in nginx], 3)
    for n in nginx:
        n.stop()
    flask_redis = systems.start_redis(run_dir, "redis-flask-stampede")
    flask = systems.start_flask(run_dir, t, flask_redis, origin_url=origin.url, name="flask-stampede")
    measure("Flask + Redis, gunicorn", [flask.url], 1)
    flask.stop()
    flask_redis.stop()
    origin.stop()
    return {"k": k, "origin_delay_ms": 500, "scenarios": scenarios}


# --------------------------------------------------------------------------- scale-out

def run_scaleout(run_dir, args, have_scalecache):
    from benchlib import scaleout
    if not have_scalecache:
        return {"skipped": "no scalecache binary"}
    return scaleout.run(run_dir, args, scalecache_settings, log)


def run_topology(run_dir, args, have_scalecache):
    from benchlib import topology
    if not have_scalecache:
        return {"skipped": "no scalecache binary"}
    return topology.run(run_dir, args, scalecache_settings, log, scalecache_sources)


# --------------------------------------------------------------------------- memory

def mem_available_bytes():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def run_memory(run_dir, args, have_scalecache, run_id):
    if not have_scalecache:
        return {"skipped": "no scalecache binary"}
    cases = []
    for size in [int(s) for s in args.memory_sizes.split(",")]:
        origin = systems.start_origin(run_dir, "origin-%dB" % size, size=size)
        for wanted in [int(n) for n in args.memory_keys.split(",")]:
            prefix = "m%d-" % size
            budget = args.memory_fraction * mem_available_bytes()
            per_entry_guess = size + 200 + len(prefix) + 7
            count, cut = wanted, None
            if wanted * per_entry_guess > budget:
                count = int(budget // per_entry_guess) // 10000 * 10000
                cut = "cut to %d keys: %d x %d B would not fit in %.0f%% of MemAvailable (%.1f GiB)" % (
                    count, wanted, size, args.memory_fraction * 100, mem_available_bytes() / 2**30)
            try:
                case = memory_case(run_dir, args, origin, prefix, wanted, count, size, cut)
            except Exception as error:
                case = {"keys_wanted": wanted, "value_bytes": size, "failed": str(error)[-1000:]}
                log("memory %7d x %5d B FAILED: %s" % (wanted, size, case["failed"]))
            cases.append(case)
        origin.stop()
    return {"cases": cases}


def memory_case(run_dir, args, origin, prefix, wanted, count, size, cut):
    """Start an L1-only scalecache, load `count` keys of `size` bytes, measure."""
    sc = systems.start_scalecache(
        run_dir, args.bin, "scalecache-memory", args.threads,
        **scalecache_settings(redis_url="", origin_kind="http", origin_url=origin.url,
                              cache_l1_max_entries=2 * count, cache_l1_max_bytes=1 << 45,
                              cache_ttl_seconds=86400, cache_l1_ttl_seconds=86400))
    try:
        pids = sc.pids()
        procs.http_get(sc.url + "/data/__warm")  # first request allocates per-thread buffers
        rss_before = procs.rss_kb(pids) * 1024
        result, seconds = wrk.load(sc.url, prefix, count, args.memory_load_seconds)
        time.sleep(0.5)
        if not sc.alive():
            raise RuntimeError(describe_failure(sc, "died while loading"))
        m = systems.metrics(sc)
        entries = int(m.get("scalecache_l1_entries", 0)) - 1  # less __warm
        rss_after = procs.rss_kb(pids) * 1024
        peak_rss = procs.peak_rss_kb(pids) * 1024
    finally:
        sc.stop()
    l1_bytes = m.get("scalecache_l1_bytes", 0.0)
    key_bytes = sum(len(prefix) + len(str(i)) for i in range(count)) / count
    payload = key_bytes + size
    case = {"keys_wanted": wanted, "keys_asked": count, "entries": entries, "value_bytes": size,
            "avg_key_bytes": key_bytes, "load_seconds": seconds, "loaded_in_time": result["loaded"],
            "load_errors": result["errors_total"], "cut": cut,
            "rss_before_mib": rss_before / 2**20, "rss_after_mib": rss_after / 2**20,
            "peak_rss_mib": peak_rss / 2**20, "l1_bytes_mib": l1_bytes / 2**20,
            "rss_per_entry": (rss_after - rss_before) / max(entries, 1),
            "l1_bytes_per_entry": l1_bytes / max(entries + 1, 1)}
    case["rss_overhead_per_entry"] = case["rss_per_entry"] - payload
    case["l1_overhead_per_entry"] = case["l1_bytes_per_entry"] - payload
    log("memory %7d x %5d B: %d entries in %.1f s, RSS %.0f -> %.0f MiB, l1_bytes %.0f MiB, "
        "overhead/entry: RSS %.0f B, l1_bytes %.0f B%s"
        % (wanted, size, entries, seconds, case["rss_before_mib"], case["rss_after_mib"],
           case["l1_bytes_mib"], case["rss_overhead_per_entry"], case["l1_overhead_per_entry"],
           " (%s)" % cut if cut else ""))
    return case


# --------------------------------------------------------------------------- micro

def l1_bench_build_commands(run_dir):
    """Ways to build bench/l1_bench.cpp, best first: with the CMake build's flags
    (build/compile_commands.json) against build/libscalecache_core.a and the
    libraries the scalecache binary links; else alone with l1_cache.cpp."""
    src = os.path.join(REPO, "src")
    build_dir = os.path.join(REPO, "build")
    binary = os.path.join(run_dir, "l1_bench")
    bench_src = os.path.join(BENCH_DIR, "l1_bench.cpp")
    l1_src = os.path.join(src, "cache", "l1_cache.cpp")
    flags = ["-O2", "-DNDEBUG", "-std=c++20", "-I" + src]
    try:
        with open(os.path.join(build_dir, "compile_commands.json")) as f:
            for entry in json.load(f):
                if entry["file"].endswith("src/cache/l1_cache.cpp"):
                    words = entry["command"].split()[1:]
                    flags = [w for i, w in enumerate(words)
                             if w not in ("-o", "-c") and words[i - 1] not in ("-o", "-c")
                             and not w.startswith("-W")]
    except (OSError, ValueError, KeyError):
        pass
    absl = subprocess.run(["pkg-config", "--libs", "absl_flat_hash_set", "absl_hash"],
                          capture_output=True, text=True).stdout.split()
    common_libs = absl + ["-lbenchmark", "-pthread"]
    commands = []
    core = os.path.join(build_dir, "libscalecache_core.a")
    if os.path.exists(core):
        link = []
        try:
            with open(os.path.join(build_dir, "build.ninja")) as f:
                text = f.read()
            block = text[text.index("build scalecache:"):]
            line = next(text for text in block.splitlines() if text.strip().startswith("LINK_LIBRARIES"))
            link = [w if w.startswith("-") or os.path.isabs(w) else os.path.join(build_dir, w)
                    for w in line.split("=", 1)[1].split()]
        except (OSError, ValueError, StopIteration):
            link = [core]
        commands.append(["g++"] + flags + ["-o", binary, bench_src] + link + common_libs)
    helpers = [os.path.join(src, "cache", name) for name in ("freshness.cpp", "entry_codec.cpp", "entry.cpp")
               if os.path.exists(os.path.join(src, "cache", name))]
    commands.append(["g++"] + flags + ["-o", binary, bench_src, l1_src] + helpers + common_libs)
    return binary, commands


def run_micro(run_dir, args):
    binary, commands = l1_bench_build_commands(run_dir)
    errors = []
    for command in commands:
        build = subprocess.run(command, capture_output=True, text=True)
        if build.returncode == 0:
            break
        errors.append(build.stderr[-1500:])
    else:
        return {"skipped": "l1_bench did not build: " + "\n---\n".join(errors)}
    out = subprocess.run([binary, "--benchmark_format=json", "--benchmark_min_time=%s"
                          % ("0.1" if args.quick else "0.5")],
                         capture_output=True, text=True, timeout=600, check=True)
    data = json.loads(out.stdout)
    rows = []
    for b in data["benchmarks"]:
        name, _, threads = b["name"].partition("/real_time/threads:")
        rows.append({"name": name, "threads": int(threads or 1), "ns_per_op": b["real_time"],
                     "mops": b.get("items_per_second", 0) / 1e6, "hit_ratio": b.get("hit_ratio")})
        if rows[-1]["hit_ratio"] is not None and rows[-1]["hit_ratio"] < 0.99 and name == "BM_L1Get":
            log("micro %s: only %.0f%% hits: the L1 API or its expiry rules changed, check bench/l1_bench.cpp"
                % (name, 100 * rows[-1]["hit_ratio"]))
        log("micro %-12s threads %d: %.2f M ops/s (%.0f ns per op per thread)"
            % (name, rows[-1]["threads"], rows[-1]["mops"], b["real_time"]))
    return {"rows": rows, "context": {k: data["context"].get(k) for k in ("num_cpus", "mhz_per_cpu")}}


# --------------------------------------------------------------------------- main

def write_outputs(results, args):
    """latest.json, latest.md (also printed), latest.png; BENCHMARKS.md after a full run."""
    os.makedirs(args.results_dir, exist_ok=True)
    with open(os.path.join(args.results_dir, "latest.json"), "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    markdown = report.markdown(results)
    with open(os.path.join(args.results_dir, "latest.md"), "w") as f:
        f.write(markdown)
    print(markdown)
    if "matrix" in results:
        report.plot(results, os.path.join(args.results_dir, "latest.png"))
    meta = results["meta"]
    if set(meta["sections"]) == set(SECTIONS) and not meta["quick"]:
        report.update_benchmarks_md(os.path.join(REPO, "BENCHMARKS.md"), markdown)
        log("BENCHMARKS.md figures refreshed")


def main():
    args = parse_args()
    if args.render_only:
        with open(os.path.join(args.results_dir, "latest.json")) as f:
            results = json.load(f)
        results["targets"] = report.targets(results)
        write_outputs(results, args)
        return
    started = time.monotonic()
    have_scalecache = os.access(args.bin, os.X_OK)
    run_id = time.strftime("%H%M%S")
    run_dir = tempfile.mkdtemp(prefix="scalecache-bench-")
    os.chmod(run_dir, 0o755)  # varnish's and nginx's workers read their files here

    def on_signal(signum, frame):
        raise SystemExit("bench: stopped by signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    results = {"meta": {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "host": platform.node(),
                        "cpus": os.cpu_count(), "kernel": platform.release(),
                        "threads": args.threads, "rounds": args.rounds, "warmup_s": args.warmup,
                        "duration_s": args.duration, "wrk_threads": wrk.THREADS,
                        "connections": wrk.CONNECTIONS, "quick": args.quick,
                        "sections": args.sections, "scalecache_bin": args.bin,
                        "scalecache_commit": git_commit(), "versions": versions()},
               "timings_s": {}}
    log("run dir %s; sections %s; %d server threads/workers; %d rounds of %.0f s + %.0f s warm-up"
        % (run_dir, ",".join(args.sections), args.threads, args.rounds, args.duration, args.warmup))
    try:
        results["meta"]["other_cpus_at_start"] = wait_for_quiet(args.quiet_wait)
        runners = {"matrix": lambda: run_matrix(run_dir, args, have_scalecache, run_id),
                   "stampede": lambda: run_stampede(run_dir, args, have_scalecache, run_id),
                   "scaleout": lambda: run_scaleout(run_dir, args, have_scalecache),
                   "topology": lambda: run_topology(run_dir, args, have_scalecache),
                   "memory": lambda: run_memory(run_dir, args, have_scalecache, run_id),
                   "micro": lambda: run_micro(run_dir, args),
                   "worker": lambda: worker.run(args, log)}
        for section in args.sections:
            t0 = time.monotonic()
            log("section %s" % section)
            try:
                results[section] = runners[section]()
            except Exception as error:  # one broken section must not lose the others' figures
                log("section %s failed: %s" % (section, error))
                results[section] = {"failed": str(error)[-3000:]}
            results["timings_s"][section] = round(time.monotonic() - t0, 1)
            procs.stop_all()
    finally:
        procs.stop_all()
        if not args.keep_run_dir:
            subprocess.run(["rm", "-rf", run_dir])
        else:
            log("run dir kept: %s" % run_dir)
    results["timings_s"]["total"] = round(time.monotonic() - started, 1)
    results["targets"] = report.targets(results)
    write_outputs(results, args)
    log("done in %.0f s; results in %s" % (results["timings_s"]["total"], args.results_dir))


def wait_for_quiet(max_seconds, threshold=0.3, window=3.0):
    """Wait (bounded) until processes outside the bench leave the CPUs mostly idle."""
    deadline = time.monotonic() + max_seconds
    while True:
        before = procs.machine_busy_seconds()
        time.sleep(window)
        busy = (procs.machine_busy_seconds() - before) / window
        if busy <= threshold or time.monotonic() >= deadline:
            log("other processes keep %.2f CPUs busy; starting%s"
                % (busy, "" if busy <= threshold else " anyway (waited %.0f s)" % max_seconds))
            return busy


def git_commit():
    out = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or None


def versions():
    def first_line(argv):
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return None
    return {"nginx": first_line(["nginx", "-v"]), "varnish": first_line(["varnishd", "-V"]),
            "wrk": first_line(["wrk", "-v"]), "redis": first_line(["redis-server", "--version"]),
            "gunicorn": first_line(["/usr/bin/python3", "-m", "gunicorn", "--version"])}


if __name__ == "__main__":
    main()
