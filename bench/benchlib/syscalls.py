"""Syscalls per request: `strace -c` on every thread of a serving process while
wrk runs (1 thread, 32 keep-alive connections, as in the matrix).

A separate, short pass after the timed rounds: strace stops the traced threads
at every syscall, so it slows them down and its run's req/s mean nothing; the
count per request is what is kept. Every system is counted the same way (all
threads of its serving processes: scalecache without its Redis, every nginx
process, the Pistache hello server).
"""
import os
import re
import signal
import subprocess
import tempfile
import threading

from . import procs, wrk

# "100.00    0.123456           1    123456      1234 total"
_TOTAL = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?total\s*$")
# "% time  seconds  usecs/call  calls  errors  syscall"
_ROW = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:(\d+)\s+)?([a-z_0-9]+)\s*$")


def parse(text):
    """(total calls, {syscall: (calls, errors)}) from strace -c's table."""
    total, rows = None, {}
    for line in text.splitlines():
        match = _TOTAL.match(line)
        if match:
            total = int(match.group(1))
            continue
        match = _ROW.match(line)
        if match and match.group(3) != "total":
            rows[match.group(3)] = (int(match.group(1)), int(match.group(2) or 0))
    if total is None:
        raise RuntimeError("no total line in strace -c output:\n" + text[-2000:])
    return total, rows


def per_request(url, pids, script, script_args=(), duration=3.0):
    """Counts the syscalls of every thread of `pids` over one wrk run; returns
    {"requests", "syscalls", "per_request", "by_call": {name: per request}}."""
    with tempfile.NamedTemporaryFile(prefix="strace-", suffix=".txt", delete=False) as out:
        path = out.name
    argv = ["strace", "-c", "-f", "-o", path]  # -f: every thread of each -p process, and new ones
    for pid in pids:
        argv += ["-p", str(pid)]
    tracer = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    attached = threading.Semaphore(0)

    def watch():  # strace says "Process N attached [with M threads]" once per -p
        for line in tracer.stderr:
            if "attached" in line:
                attached.release()

    threading.Thread(target=watch, daemon=True).start()
    try:
        for pid in pids:
            if not attached.acquire(timeout=10):
                raise RuntimeError("strace did not attach to %s" % pid)
        result = wrk.run(url, script, script_args, duration)
    finally:
        tracer.send_signal(signal.SIGINT)  # detaches and writes the summary
        try:
            tracer.wait(timeout=30)
        except subprocess.TimeoutExpired:
            procs.stop(tracer)
    with open(path) as f:
        text = f.read()
    os.unlink(path)
    total, rows = parse(text)
    requests = max(result["requests"], 1)
    return {"requests": result["requests"], "syscalls": total, "per_request": total / requests,
            "by_call": {name: calls / requests for name, (calls, _errors) in
                        sorted(rows.items(), key=lambda kv: -kv[1][0])}}
