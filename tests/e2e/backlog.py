#!/usr/bin/env python3
"""A backlog of cold keys for the worker tier, for tests/e2e's worker step.

  backlog.py push --host IP --keys N --prefix P     ask for N cold keys at once
  backlog.py answered --host IP --keys N --prefix P exit 0 when all N are cached

push: GET /data/<P><i> for i < N, 8 at a time, each with `Prefer:
respond-async`, so every client is answered at once (202 while its job is
queued) and the jobs pile up on the queue. Prints {"202": n, ...}; exits 1
unless every answer is 200 or 202.
answered: GET each key again, still with `Prefer: respond-async`: 200 once
the job's fill is in Redis, 202 while it is not done. Prints the count of
200s; exits 0 only when all N answered 200 with "cached": true.
"""
import argparse
import concurrent.futures
import http.client
import json
import sys
from collections import Counter


def get(host, port, path):
    conn = http.client.HTTPConnection(host, port, timeout=15)
    try:
        conn.request("GET", path, headers={"Prefer": "respond-async"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    except OSError as error:
        return type(error).__name__, b""
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["push", "answered"])
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--keys", type=int, required=True)
    ap.add_argument("--prefix", required=True)
    args = ap.parse_args()
    paths = ["/data/%s%d" % (args.prefix, i) for i in range(args.keys)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda p: get(args.host, args.port, p), paths))
    statuses = Counter(str(status) for status, _ in answers)
    if args.mode == "push":
        print(json.dumps(dict(statuses)))
        return 0 if set(statuses) <= {"200", "202"} else 1
    cached = sum(1 for status, body in answers if status == 200 and b'"cached":true' in body.replace(b" ", b""))
    print(cached)
    return 0 if cached == args.keys else 1


if __name__ == "__main__":
    sys.exit(main())
