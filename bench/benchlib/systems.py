"""Start every system the bench compares, each on a free loopback port with its
own directory under the run directory (config, pid file, logs, temp files).

Each start_* returns a Service: its base URL, the Popen objects to stop, and
the root pids whose process trees are charged for CPU and memory.
"""
import json
import os
import shutil
import subprocess
import urllib.request

from . import procs

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONF_DIR = os.path.join(BENCH_DIR, "conf")


class Service:
    def __init__(self, name, port, processes, path_prefix=""):
        self.name = name
        self.port = port
        self.processes = list(processes)
        self.url = "http://127.0.0.1:%d%s" % (port, path_prefix)

    def pids(self):
        """Every live pid of this service (the started processes and their children)."""
        return procs.tree([p.pid for p in self.processes])

    def alive(self):
        return all(p.poll() is None for p in self.processes)

    def stop(self):
        for p in reversed(self.processes):
            procs.stop(p)


class Origin(Service):
    """bench/origin.py: counts calls per key; see its docstring."""

    def stats(self, per_key=False):
        url = "%s/__stats%s" % (self.url, "?per_key=1" if per_key else "")
        with urllib.request.urlopen(url, timeout=5) as answer:
            return json.load(answer)

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(self.url + "/__reset", method="POST"),
                               timeout=5).read()


def _render(template, values):
    with open(os.path.join(CONF_DIR, template)) as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace("{{%s}}" % key, str(value))
    return text


def _service_dir(run_dir, name):
    path = os.path.join(run_dir, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def start_redis(run_dir, name="redis"):
    port = procs.free_port()
    d = _service_dir(run_dir, name)
    p = procs.start(name, ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                           "--save", "", "--appendonly", "no", "--daemonize", "no",
                           "--dir", d, "--maxmemory", "2gb", "--maxmemory-policy", "allkeys-lru"],
                    run_dir)
    svc = Service(name, port, [p])
    svc.redis_url = "redis://127.0.0.1:%d" % port
    _wait_redis(port, p)
    return svc


def _wait_redis(port, proc):
    import socket
    import time
    for _ in range(200):
        if proc.poll() is not None:
            raise RuntimeError("redis exited:\n" + procs.log_tail(proc))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis on port %d did not answer PING" % port)


def redis_command(svc, *words):
    """Send one inline command to a bench Redis; returns the raw reply bytes."""
    import socket
    with socket.create_connection(("127.0.0.1", svc.port), timeout=10) as s:
        s.sendall(" ".join(words).encode() + b"\r\n")
        return s.recv(65536)


def start_origin(run_dir, name="origin", delay_ms=0, size=0):
    port = procs.free_port()
    p = procs.start(name, ["/usr/bin/python3", os.path.join(BENCH_DIR, "origin.py"),
                           "--port", str(port), "--delay-ms", str(delay_ms), "--size", str(size)],
                    run_dir)
    svc = Origin(name, port, [p])
    procs.wait_http(svc.url + "/__stats", p)
    return svc


def _nginx_common(d, workers):
    user = "user root;" if os.geteuid() == 0 else ""
    return _render("nginx_common.inc", {"user": user, "workers": workers, "dir": d})


def start_nginx(run_dir, name, template, workers, port=None, **values):
    """nginx -c <rendered template> in its own prefix; values fill {{...}} slots."""
    port = port or procs.free_port()
    d = _service_dir(run_dir, name)
    values = dict(values, dir=d, port=port, common=_nginx_common(d, workers))
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(_render(template, values))
    check = subprocess.run(["nginx", "-t", "-q", "-p", d, "-c", conf, "-e", os.path.join(d, "error.log")],
                           capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError("nginx config %s refused: %s" % (conf, check.stderr))
    p = procs.start(name, ["nginx", "-p", d, "-c", conf, "-e", os.path.join(d, "error.log")], run_dir)
    svc = Service(name, port, [p])
    svc.conf = conf
    return svc


def start_nginx_return(run_dir, workers, body):
    svc = start_nginx(run_dir, "nginx-return", "nginx_return.conf", workers, body=body)
    procs.wait_http(svc.url + "/", svc.processes[0])
    return svc


def start_nginx_proxy_cache(run_dir, workers, origin, name="nginx-proxy-cache"):
    svc = start_nginx(run_dir, name, "nginx_proxy_cache.conf", workers, origin_port=origin.port)
    procs.wait_http(svc.url + "/data/__ready", svc.processes[0])
    return svc


def start_varnish(run_dir, workers, origin, name="varnish"):
    port = procs.free_port()
    d = _service_dir(run_dir, name)
    vcl = os.path.join(d, "default.vcl")
    with open(vcl, "w") as f:
        f.write(_render("varnish.vcl", {"origin_port": origin.port}))
    os.chmod(d, 0o755)
    os.chmod(vcl, 0o644)
    p = procs.start(name, ["varnishd", "-F", "-n", os.path.join(d, "work"), "-a", "127.0.0.1:%d" % port,
                           "-f", vcl, "-s", "malloc,512m", "-T", "none",
                           "-p", "thread_pools=%d" % workers], run_dir)
    svc = Service(name, port, [p])
    procs.wait_http(svc.url + "/data/__ready", p)
    return svc


def build_pistache_hello(out_dir):
    """g++ bench/pistache_hello.cpp against Debian's libpistache (pkg-config)."""
    binary = os.path.join(out_dir, "pistache_hello")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libpistache"],
                           check=True, capture_output=True, text=True).stdout.split()
    subprocess.run(["g++", "-O2", "-std=c++17", "-o", binary,
                    os.path.join(BENCH_DIR, "pistache_hello.cpp")] + flags + ["-pthread"], check=True)
    return binary


def start_pistache_hello(run_dir, binary, threads, body):
    port = procs.free_port()
    p = procs.start("pistache-hello", [binary, str(port), str(threads), body], run_dir)
    svc = Service("pistache-hello", port, [p])
    procs.wait_http(svc.url + "/", p)
    return svc


def start_flask(run_dir, workers, redis, origin_url="", origin_delay_ms=0, name="flask-gunicorn"):
    port = procs.free_port()
    env = {"REDIS_URL": redis.redis_url + "/0", "ORIGIN_URL": origin_url,
           "ORIGIN_DELAY_MS": str(origin_delay_ms), "PYTHONDONTWRITEBYTECODE": "1"}
    p = procs.start(name, ["/usr/bin/python3", "-m", "gunicorn", "-w", str(workers), "-k", "sync",
                           "-b", "127.0.0.1:%d" % port, "--backlog", "2048",
                           "--chdir", os.path.join(BENCH_DIR, "flask_app"), "app:app"],
                    run_dir, env=env)
    svc = Service(name, port, [p])
    procs.wait_http(svc.url + "/data/__ready", p)
    return svc


def start_scalecache(run_dir, binary, name, threads, port=None, **settings):
    """build/scalecache with SCALECACHE_* overrides; settings: key=value, e.g.
    cache_l1_max_entries=0 becomes SCALECACHE_CACHE_L1_MAX_ENTRIES=0."""
    port = port or procs.free_port()
    env = {"SCALECACHE_SERVER_HOST": "127.0.0.1", "SCALECACHE_SERVER_PORT": str(port),
           "SCALECACHE_SERVER_THREADS": str(threads), "SCALECACHE_LOG_LEVEL": "warn"}
    for key, value in settings.items():
        env["SCALECACHE_" + key.upper()] = str(value)
    p = procs.start(name, [binary], run_dir, env=env)
    svc = Service(name, port, [p])
    svc.env = env
    procs.wait_http(svc.url + "/readyz", p)
    return svc


def metrics(svc):
    """Prometheus text of a scalecache as {name_with_labels: value}."""
    with urllib.request.urlopen(svc.url + "/metrics", timeout=10) as answer:
        text = answer.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                values[name] = float(value)
            except ValueError:
                pass
    return values
