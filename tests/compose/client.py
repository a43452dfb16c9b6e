#!/usr/bin/env python3
"""Test client for tests/compose/run.sh. Standard library only; talks to 127.0.0.1.

  client.py load URL [options]      GET URL/data/<key> over a small key set; prints a JSON summary
  client.py prom URL QUERY          Prometheus instant query; prints "<instance> <value>" lines
  client.py targets URL JOB         number of healthy targets of JOB in Prometheus
  client.py calls URL [--prefix P]  calls the test origin counted for keys starting with P

load: each worker thread keeps one HTTP/1.1 keep-alive connection (or, with
--fresh-connections, opens a new one per request and sends
"Connection: close", so no request can meet a connection closed under it). Requests
are paced at --rate per second (0: as fast as possible) and stop after
--requests or --duration seconds, whichever comes first. A request fails when
it does not end in 200, times out, or the connection breaks -- with one
exception that every HTTP client makes (RFC 9110 9.2.2): when a *reused*
keep-alive connection turns out to be closed before any byte of the answer
arrived, the idempotent GET is sent once more on a new connection. Those
resends are counted separately ("resent") and reported.
"""
import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from helpers import percentile

class Worker:
    def __init__(self, host, port, timeout, keepalive=True):
        self.host, self.port, self.timeout = host, port, timeout
        self.keepalive = keepalive
        self.conn = None
        self.used = 0  # requests answered on the current connection

    def _connect(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.used = 0

    def get(self, path):
        """Returns (status, body bytes, resent flag); raises on failure."""
        if self.conn is None or not self.keepalive:
            self._connect()
        reused = self.used > 0
        try:
            return self._send(path) + (False,)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
            self._connect()
            return self._send(path) + (True,)

    def _send(self, path):
        try:
            self.conn.request("GET", path, headers={"Connection": "keep-alive" if self.keepalive else "close"})
            resp = self.conn.getresponse()
            body = resp.read()
        except Exception:
            self.conn.close()
            self.conn = None
            raise
        self.used += 1
        if resp.will_close or not self.keepalive:
            self.conn.close()
            self.conn = None
        return resp.status, body


def load(args):
    url = urllib.parse.urlsplit(args.url)
    keys = ["%s%d" % (args.prefix, i) for i in range(args.keys)]
    lock = threading.Lock()
    state = {"next": 0}
    results = []  # (status or None, source, latency_s, resent, error)
    t0 = time.monotonic()
    deadline = t0 + args.duration

    def take():
        with lock:
            i = state["next"]
            if i >= args.requests:
                return None
            state["next"] = i + 1
            return i

    def run():
        w = Worker(url.hostname, url.port or 80, args.timeout, keepalive=not args.fresh_connections)
        while True:
            i = take()
            if i is None:
                return
            if args.rate > 0:
                due = t0 + i / float(args.rate)
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            if time.monotonic() > deadline:
                return
            path = "/data/" + urllib.parse.quote(keys[i % len(keys)], safe="")
            start = time.monotonic()
            status, source, resent, error = None, "", False, ""
            try:
                status, body, resent = w.get(path)
                if status == 200:
                    source = json.loads(body).get("source", "")
                else:
                    error = "HTTP %d %s" % (status, body[:200].decode("utf-8", "replace"))
            except Exception as e:  # every failure is counted, none is fatal
                error = "%s: %s" % (type(e).__name__, e)
            with lock:
                results.append((status, source, time.monotonic() - start, resent, error))

    threads = [threading.Thread(target=run, daemon=True) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(args.duration + args.timeout + 5)
    elapsed = time.monotonic() - t0

    ok = [r for r in results if r[0] == 200]
    lat = sorted(r[2] for r in results)
    sources = {}
    statuses = {}
    for r in results:
        code = str(r[0]) if r[0] is not None else "none"
        statuses[code] = statuses.get(code, 0) + 1
        if r[0] == 200:
            sources[r[1]] = sources.get(r[1], 0) + 1
    summary = {
        "requests": len(results),
        "ok": len(ok),
        "failed": len(results) - len(ok),
        "resent": sum(1 for r in results if r[3]),
        "statuses": statuses,
        "sources": sources,
        "seconds": round(elapsed, 2),
        "req_per_s": round(len(results) / elapsed, 1) if elapsed > 0 else 0.0,
        "latency_ms": {
            "p50": round((percentile(lat, 50) or 0.0) * 1000, 1),
            "p99": round((percentile(lat, 99) or 0.0) * 1000, 1),
            "max": round(lat[-1] * 1000, 1) if lat else 0.0,
        },
        "errors": [r[4] for r in results if r[4]][:10],
    }
    json.dump(summary, sys.stdout)
    print()
    return 0


def prom_get(base, path, params):
    with urllib.request.urlopen(base + path + "?" + urllib.parse.urlencode(params), timeout=10) as r:
        doc = json.load(r)
    if doc.get("status") != "success":
        raise RuntimeError(doc)
    return doc["data"]


def prom(args):
    for s in prom_get(args.url, "/api/v1/query", {"query": args.query})["result"]:
        print(s["metric"].get("instance", "-"), s["value"][1])
    return 0


def targets(args):
    data = prom_get(args.url, "/api/v1/targets", {"state": "active"})
    print(sum(1 for t in data["activeTargets"]
              if t["labels"].get("job") == args.job and t["health"] == "up"))
    return 0


def calls(args):
    with urllib.request.urlopen(args.url + "/_calls", timeout=10) as r:
        counts = json.load(r)
    print(sum(n for key, n in counts.items() if key.startswith(args.prefix)))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    lp = sub.add_parser("load")
    lp.add_argument("url")
    lp.add_argument("--keys", type=int, default=20)
    lp.add_argument("--prefix", default="compose-key-")
    lp.add_argument("--requests", type=int, default=100)
    lp.add_argument("--rate", type=float, default=0.0, help="requests per second, 0 = unpaced")
    lp.add_argument("--duration", type=float, default=30.0, help="hard limit in seconds")
    lp.add_argument("--concurrency", type=int, default=4)
    lp.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    lp.add_argument("--fresh-connections", action="store_true", help="a new connection per request")
    lp.set_defaults(func=load)
    pp = sub.add_parser("prom")
    pp.add_argument("url")
    pp.add_argument("query")
    pp.set_defaults(func=prom)
    tp = sub.add_parser("targets")
    tp.add_argument("url")
    tp.add_argument("job")
    tp.set_defaults(func=targets)
    cp = sub.add_parser("calls")
    cp.add_argument("url")
    cp.add_argument("--prefix", default="")
    cp.set_defaults(func=calls)
    args = p.parse_args()
    host = urllib.parse.urlsplit(args.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        p.error("test traffic goes to loopback only, not %s" % host)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
