"""Stampede: K requests for one cold key sent at the same moment, spread round
robin over the replicas of one system; the origin counts how often it was asked."""
import http.client
import threading
import time
import urllib.parse


def _one(url, barrier, results, index):
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.connect()  # connect first so that only the request itself is raced
        barrier.wait()
        start = time.monotonic()
        conn.request("GET", parts.path)
        answer = conn.getresponse()
        answer.read()
        results[index] = (answer.status, time.monotonic() - start)
    except Exception as error:  # recorded, shown in the report
        results[index] = (repr(error), 0.0)
    finally:
        conn.close()


def stampede(base_urls, key, k):
    """Send k concurrent GET /data/<key>, round robin over base_urls.
    Returns {"ok": count of 200s, "statuses": {...}, "max_s": slowest answer}."""
    barrier = threading.Barrier(k)
    results = [None] * k
    threads = [threading.Thread(target=_one, args=("%s/data/%s" % (base_urls[i % len(base_urls)], key),
                                                   barrier, results, i))
               for i in range(k)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = {}
    for status, _ in (r or ("no answer", 0.0) for r in results):
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {"ok": statuses.get("200", 0), "statuses": statuses,
            "max_s": max((r[1] for r in results if r), default=0.0)}
