"""The dashboard's Worker tier row and the worker alert rules against a real
Prometheus scraping a real `scalecache worker` under its own job
(scalecache-worker, as the chart and compose scrape workers) and a serving
replica with origin.kind: queue under job scalecache: the replica makes jobs,
the worker computes them, every Worker tier panel query must return numbers,
and "Replicas reporting" counts the serving replica only.

test_dashboard.py's run has no worker, so it checks these panels only for
query errors.
"""
from __future__ import annotations

import contextlib
import math
import time

from obslib import RULES, Prometheus, all_values, load_dashboard, panels, row_panels, substitute
from harness import RedisServer, Scalecache, Worker, wait_until
from origin_server import OriginServer

JOBS = 5


def worker_panels(dashboard: dict) -> list[dict]:
    return row_panels(dashboard, "Worker tier")


def test_worker_tier_panels_show_a_real_worker():
    with contextlib.ExitStack() as stack:
        redis = stack.enter_context(RedisServer())
        origin = stack.enter_context(OriginServer())
        env = {"SCALECACHE_ORIGIN_KIND": "queue", "SCALECACHE_ORIGIN_URL": origin.url,
               "SCALECACHE_WORKER_ORIGIN_KIND": "http", "SCALECACHE_REDIS_TIMEOUT_MS": "1000",
               "SCALECACHE_LOG_LEVEL": "warn"}
        replica = stack.enter_context(Scalecache(redis_url=redis.url, env=env))
        worker = stack.enter_context(Worker(redis.url, env=env))
        prom = stack.enter_context(Prometheus([f"127.0.0.1:{replica.port}"], [RULES],
                                              worker_targets=[f"127.0.0.1:{worker.port}"]))
        for job in ("scalecache", "scalecache-worker"):
            prom.wait_scraped_after(job, time.time(), scrapes=1)
        for i in range(JOBS):
            assert replica.get(f"/data/w{i}")[0] == 200
        # The fill wakes the client before the worker counts its job done: wait for the count.
        wait_until(lambda: worker.metric("scalecache_worker_jobs_total", result="ok") == JOBS, 10,
                   what=f"the worker to count {JOBS} jobs ok")
        for job in ("scalecache", "scalecache-worker"):
            prom.wait_scraped_after(job, time.time(), scrapes=2)
        tq = time.time()

        d = load_dashboard()
        subst = all_values(d)
        found = worker_panels(d)
        assert len(found) == 5, [p["title"] for p in found]
        failures = []
        for p in found:
            for t in p["targets"]:
                expr = substitute(t["expr"], subst, "1m", "5m")
                res = prom.query(expr, tq)
                if res["status"] != "success" or not res["data"]["result"]:
                    failures.append(f"{p['title']} [{t['refId']}]: {res.get('error', 'no data')}\n  {expr}")
                    continue
                for sample in res["data"]["result"]:
                    v = float(sample["value"][1])
                    if math.isnan(v) or math.isinf(v):
                        failures.append(f"{p['title']} [{t['refId']}]: {v}")
        assert not failures, "\n".join(failures)
        done = prom.value(substitute('sum(increase(scalecache_worker_jobs_total{namespace=~"$namespace", '
                                     'job=~"$worker_job", result="ok"}[5m]))', subst, "1m", "5m"), tq)
        assert done is not None and done >= JOBS - 0.5, done

        # Workers are not replicas: with every job selected, the one serving replica is counted, not the worker.
        reporting = next(p for p in panels(d) if p["title"] == "Replicas reporting")
        counts = [prom.value(substitute(t["expr"], subst, "1m", "5m"), tq) for t in reporting["targets"]]
        assert counts == [1, 1], (counts, [t["expr"] for t in reporting["targets"]])
        cpu = next(p for p in panels(d) if p["title"] == "CPU per replica")["targets"][0]["expr"]
        series = prom.query(substitute(cpu, subst, "1m", "5m"), tq)["data"]["result"]
        assert [s["metric"]["instance"] for s in series] == [f"127.0.0.1:{replica.port}"], series

        # Rules: they evaluate; with a healthy tier neither worker alert fires.
        wait_until(lambda: all(r["health"] == "ok" and r.get("lastEvaluation", "").startswith("2")
                               for g in prom.api("rules")["data"]["groups"] for r in g["rules"]),
                   20, what="every rule evaluated")
        firing = prom.query('ALERTS{alertstate="firing"}', time.time())["data"]["result"]
        assert not firing, firing
