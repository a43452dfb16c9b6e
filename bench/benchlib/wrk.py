"""wrk runs: 1 thread, 32 keep-alive connections (wrk sends no Connection
header), one Lua script from bench/wrk that prints BENCH_JSON in done()."""
import json
import os
import signal
import subprocess
import time

from . import procs

WRK_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "wrk")
THREADS = 1
CONNECTIONS = 32


def run(url, script, script_args=(), duration=10.0, connections=CONNECTIONS, timeout_s=5):
    """One wrk run; returns the BENCH_JSON dict plus rps."""
    argv = ["wrk", "-t%d" % THREADS, "-c%d" % connections, "-d%.0fs" % duration, "--latency",
            "--timeout", "%ds" % timeout_s, "-s", os.path.join(WRK_DIR, script), url]
    if script_args:
        argv += ["--"] + [str(a) for a in script_args]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    return _parse(out.stdout, out.stderr, argv)


def _parse(stdout, stderr, argv):
    for line in stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result = json.loads(line[len("BENCH_JSON "):])
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            result["errors_total"] = sum(result["errors"].values())
            return result
    raise RuntimeError("wrk printed no BENCH_JSON (%s):\n%s\n%s" % (" ".join(argv), stdout, stderr))


def measure(service, script, script_args=(), warmup=3.0, duration=10.0, extra_pids=()):
    """Warm up, then measure: wrk figures plus CPU seconds and peak RSS of the
    service's process tree (and extra_pids, e.g. its Redis) over the measured run."""
    if warmup > 0:
        run(service.url, script, script_args, warmup)
    pids = procs.tree([p.pid for p in service.processes] + list(extra_pids))
    before = procs.cpu_ticks(pids)
    machine_before, wrk_before = procs.machine_busy_seconds(), procs.children_cpu_seconds()
    result = run(service.url, script, script_args, duration)
    machine_after, wrk_after = procs.machine_busy_seconds(), procs.children_cpu_seconds()
    pids = procs.tree([p.pid for p in service.processes] + list(extra_pids))
    after = procs.cpu_ticks(pids)
    result["cpu_s"] = procs.cpu_seconds_between(before, after)
    result["wrk_cpu_s"] = wrk_after - wrk_before
    # Noise: CPUs kept busy by everything else on the machine (other engineers' builds...).
    result["other_cpus"] = max(0.0, (machine_after - machine_before) - result["cpu_s"] - result["wrk_cpu_s"]) \
        / (result["duration_us"] / 1e6)
    result["cpu_s_per_10k"] = result["cpu_s"] / max(result["requests"], 1) * 10000
    result["peak_rss_kb"] = procs.peak_rss_kb(pids)
    result["pids"] = len(pids)
    if not service.alive():
        raise RuntimeError("%s died during the run" % service.name)
    return result


def load(url, prefix, count, max_seconds):
    """Ask for prefix0..prefix(count-1) once each (bench/wrk/load_keys.lua).
    wrk only stops at its deadline, so the script prints LOADED when the last
    answer is in and this sends SIGINT, on which wrk reports and exits.
    Returns (wrk result, seconds)."""
    argv = ["wrk", "-t1", "-c%d" % CONNECTIONS, "-d%ds" % max_seconds, "--timeout", "10s",
            "-s", os.path.join(WRK_DIR, "load_keys.lua"), url, "--", prefix, str(count)]
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("LOADED"):
                seconds = time.monotonic() - start
                proc.send_signal(signal.SIGINT)
                break
        else:
            seconds = time.monotonic() - start
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    result = _parse("".join(lines) + rest, err, argv)
    result["loaded"] = any(line.startswith("LOADED") for line in lines)
    return result, seconds
