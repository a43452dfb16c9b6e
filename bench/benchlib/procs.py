"""Processes the bench starts, and what /proc says about them.

Every process is started in its own session (its own process group) and
registered, so stop_all() can end exactly the groups the bench started, by id.
CPU time is utime+stime (+ reaped children) of every process in a tree, read
from /proc/<pid>/stat; peak memory is VmHWM from /proc/<pid>/status.
"""
import os
import signal
import subprocess
import sys
import time
import urllib.request

# free_port comes from the tests' shared helpers (tests/lib/helpers.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "lib"))
from helpers import free_port  # noqa: F401 (re-exported: procs.free_port)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_started = []  # Popen objects, newest last


def start(name, argv, logdir, env=None, cwd=None):
    """Start argv in a new session, output to logdir/<name>.log; registered for stop_all()."""
    log = open(os.path.join(logdir, name + ".log"), "ab")
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=full_env, cwd=cwd, start_new_session=True)
    proc.bench_name = name
    proc.bench_log = log.name
    _started.append(proc)
    return proc


def stop(proc, timeout=10.0):
    """SIGTERM the process group of proc, SIGKILL it after timeout."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    # Members of the group may outlive the leader (nginx workers, varnish child).
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if proc.poll() is None:
        proc.wait(5)
    if proc in _started:
        _started.remove(proc)


def stop_all():
    while _started:
        stop(_started[-1])


def log_tail(proc, lines=15):
    try:
        with open(proc.bench_log, "rb") as f:
            return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
    except OSError:
        return ""


def wait_http(url, proc=None, timeout=30.0, want=200):
    """Wait until GET url answers `want`; fail early when proc has exited."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s exited (%s) before %s answered:\n%s"
                               % (proc.bench_name, proc.returncode, url, log_tail(proc)))
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == want:
                    return
                last = answer.status
        except Exception as error:  # not listening yet, or an HTTP error code
            last = error
        time.sleep(0.05)
    raise RuntimeError("%s did not answer %d within %.0f s (last: %s)" % (url, want, timeout, last))


def http_get(url, timeout=10.0):
    """(status, body bytes) of a GET that sends no Connection header."""
    import http.client
    parts = urllib.request.urlparse(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path + ("?" + parts.query if parts.query else ""))
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def _ppid_map():
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except (OSError, IndexError):
                pass
    return children


def tree(root_pids):
    """root_pids and all their descendants that are alive now."""
    children = _ppid_map()
    seen, todo = set(), list(root_pids)
    while todo:
        pid = todo.pop()
        if pid not in seen and os.path.exists("/proc/%d" % pid):
            seen.add(pid)
            todo.extend(children.get(pid, []))
    return sorted(seen)


def cpu_ticks(pids):
    """{pid: utime+stime+cutime+cstime} in clock ticks."""
    ticks = {}
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            # fields[0] is field 3 (state): utime..cstime are fields 14..17.
            ticks[pid] = sum(int(v) for v in fields[11:15])
        except (OSError, IndexError):
            pass
    return ticks


def cpu_seconds_between(before, after):
    """CPU seconds used between two cpu_ticks() samples (new pids count whole)."""
    ticks = sum(max(0, t - before.get(pid, 0)) for pid, t in after.items())
    return ticks / CLOCK_TICKS


def machine_busy_seconds():
    """CPU seconds all CPUs of the machine spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def children_cpu_seconds():
    """CPU seconds of this process's waited-for children (wrk runs) so far."""
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _status_kb(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_kb(pids):
    """Sum of VmHWM (peak resident set) over pids, in KiB."""
    return sum(_status_kb(pid, "VmHWM") for pid in pids)


def rss_kb(pids):
    """Sum of VmRSS over pids, in KiB."""
    return sum(_status_kb(pid, "VmRSS") for pid in pids)
