"""The Grafana dashboard and the Prometheus rules, proven against a real Prometheus.

Static checks of dashboards/scalecache.json first (no processes). Then one run:
a real redis-server, 3 scalecache replicas sharing it and an HTTP origin that
counts its calls, Prometheus (1 s scrapes, rules loaded) scraping them; a known
paced workload; then every panel query of the dashboard goes through
Prometheus' HTTP API and is compared with what the workload and the origin's
own call counts say it must show (never with the service's own `source`
labels, which are the very decisions the metrics count). The main panels are
rendered to a PNG from query_range data.

Environment:
  SCALECACHE_BIN   the binary (default build/scalecache)
  OBS_OUT          directory for dashboard.png and summary.json
                   (default: $TMPDIR/scalecache-observability)
  OBS_PNG          where to write the PNG instead (e.g. docs/img/dashboard.png)
"""
from __future__ import annotations

import contextlib
import json
import math
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from obslib import (DASHBOARD, RULES, Client, Prometheus, all_values, duration,
                    env_path, load_dashboard, paced_run, panels, render_png, row_panels, substitute)
from harness import SCALECACHE_BIN, RedisServer, Scalecache, total, wait_until
from origin_server import HOLDABLE, OriginServer

# The workload: N requests over KEYS keys, request i asks key i % KEYS on replica
# i % REPLICAS, paced at RATE requests/s. Every key visits every replica, so per
# key there is one origin call, L2 hits on the other replicas, then L1 hits
# (expected_layers() works this out from the plan alone).
REPLICAS = 3
KEYS = 100
N = 3000
RATE = 100.0            # requests/s -> 30 s of traffic
WORKERS = 12
ORIGIN_DELAY_MS = 50
RUN_DEADLINE_S = 60     # hard bound of the paced run
HIT_TOLERANCE = 0.02    # 2 percentage points
RATE_TOLERANCE = 0.10   # 10 %
BURST = 8               # concurrent requests for one new key, per replica, during the warm-up

OUT_DIR = env_path("OBS_OUT", Path(tempfile.gettempdir()) / "scalecache-observability")
PNG_PATH = env_path("OBS_PNG", OUT_DIR / "dashboard.png")

HPA_SKIP_REASON = ("HPA panel: kube_horizontalpodautoscaler_* come from kube-state-metrics, "
                   "which does not exist outside Kubernetes; only checked for query errors")


def is_hpa_panel(panel: dict) -> bool:
    return any("kube_horizontalpodautoscaler" in t["expr"] for t in panel["targets"])


WORKER_SKIP_REASON = ("Worker tier panels: this run has no worker; test_worker_panels.py checks them "
                      "for data against a worker of its own")


def is_worker_panel(panel: dict) -> bool:
    return panel["title"] in {p["title"] for p in row_panels(load_dashboard(), "Worker tier")}


def panel_by_title(dashboard: dict, prefix: str) -> dict:
    found = [p for p in panels(dashboard) if p["title"].startswith(prefix)]
    assert len(found) == 1, f"expected one panel titled {prefix!r}, found {[p['title'] for p in found]}"
    return found[0]


# =========================================================================== static checks

def test_dashboard_static_shape():
    text = DASHBOARD.read_text()
    d = json.loads(text)
    assert d["uid"] == "scalecache" and d["title"]
    assert d["schemaVersion"] >= 36
    # sidecar provisioning can't resolve import-time inputs
    assert "__inputs" not in d and "DS_PROMETHEUS" not in text and "${DS_" not in text

    variables = {v["name"]: v for v in d["templating"]["list"]}
    ds = variables["datasource"]
    assert ds["type"] == "datasource" and ds["query"] == "prometheus"
    for name in ("namespace", "job", "instance", "worker_job"):
        v = variables[name]
        assert v["type"] == "query" and v["includeAll"] and v["allValue"] == ".*", name
        assert v["datasource"]["uid"] == "${datasource}", name
        assert v["definition"].startswith("label_values("), name
    # ".*" also matches an absent namespace label (compose, local runs)
    assert re.fullmatch(variables["namespace"]["allValue"], "")

    titles = [p["title"] for p in panels(d)]
    for wanted in ("Cache hit ratio", "Hit ratio by layer", "Requests/s by status code",
                   "GET /data latency p50 / p95 / p99", "Origin calls/s by result", "Origin errors",
                   "Coalesced and stale-served answers/s", "Redis up per replica",
                   "L1 entries per replica", "L1 bytes per replica", "Replicas reporting",
                   "CPU per replica", "Memory (RSS) per replica", "HPA replicas (kube-state-metrics)",
                   "Queue: jobs pending and waiting", "Oldest queued job age", "Worker jobs/s by result",
                   "Worker job duration p50 / p99", "Jobs in progress and claims/s"):
        assert wanted in titles, f"missing panel {wanted!r}"
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"


def test_every_panel_query_uses_the_variables():
    d = load_dashboard()
    for p in panels(d):
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]
        for t in p["targets"]:
            expr = t["expr"]
            assert t["datasource"]["uid"] == "${datasource}", p["title"]
            # rate windows come from Grafana, never hard-coded
            for fn, window in re.findall(r"\b(rate|irate|increase)\((?:[^()\[]|\([^()]*\))*\[([^\]]+)\]", expr):
                assert window in ("$__rate_interval", "$__range"), (p["title"], fn, window)
            # every selector of a scalecache or per-process metric honours namespace/job/instance;
            # the Worker tier row's selectors honour namespace and the workers' own job
            # (workers are scraped under a job of their own: not replicas)
            for metric, matchers in re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}", expr):
                if metric.startswith(("scalecache_worker_", "scalecache_queue_")):
                    assert 'namespace=~"$namespace"' in matchers and 'job=~"$worker_job"' in matchers, \
                        (p["title"], metric)
                elif metric.startswith(("scalecache_", "process_")) or metric == "up":
                    for var in ("namespace", "job", "instance"):
                        assert f'{var}=~"${var}"' in matchers, (p["title"], metric, var)
                elif metric.startswith("kube_"):
                    assert 'namespace=~"$namespace"' in matchers, (p["title"], metric)
            # ratios: the denominator is guarded, so no traffic gives no data, not NaN
            if re.search(r"\)\s*/\s*", expr):
                assert re.search(r"/\s*(ignoring \(\w+\) group_left \(\)\s*)?\(.*>\s*0\)\s*$", expr, re.S), \
                    (p["title"], expr)
            if "histogram_quantile" in expr:
                assert expr.rstrip().endswith(">= 0"), (p["title"], "NaN guard")


def test_generic_metrics_are_joined_to_scalecache_targets():
    """up and process_* exist on every target: panels must keep only scalecache replicas."""
    d = load_dashboard()
    for p in panels(d):
        for t in p["targets"]:
            if re.search(r"\b(up|process_[a-z_]+)\{", t["expr"]):
                assert re.search(r"\band on \((namespace, job(, instance)?)\)", t["expr"]), (p["title"], t["expr"])


# =========================================================================== the live run

@pytest.fixture(scope="module")
def live():
    if not Path(SCALECACHE_BIN).exists():
        pytest.fail(f"{SCALECACHE_BIN} does not exist: run `make build` first")
    assert shutil.which("prometheus"), "Debian package prometheus is not installed (run.sh installs it)"
    timings = {"start": time.time()}
    with contextlib.ExitStack() as stack:
        redis = stack.enter_context(RedisServer())
        origin = stack.enter_context(OriginServer())
        origin.delay = ORIGIN_DELAY_MS / 1000
        replicas = [stack.enter_context(Scalecache(redis_url=redis.url,
                                                   env=origin.env(SCALECACHE_LOG_LEVEL="warn", **HOLDABLE)))
                    for _ in range(REPLICAS)]
        ports = [r.port for r in replicas]
        prom = stack.enter_context(Prometheus([f"127.0.0.1:{p}" for p in ports], [RULES]))
        timings["prometheus_started"] = time.time()
        prom.wait_scraped_after("scalecache", time.time(), scrapes=1)

        # Warm-up, outside the measured window: make every source appear on every replica
        # (l1, l2, origin) and provoke coalescing, so all counter series already exist
        # when the measured window starts.
        client = Client(ports)
        warm = {"l1": 0, "l2": 0, "origin": 0}
        for r in range(REPLICAS):
            for step in (0, 1, 2, 3):
                status, doc = client.get((r + step) % REPLICAS, f"/data/warm-{r}")
                assert status == 200, (status, doc)
                warm[doc["source"]] = warm.get(doc["source"], 0) + 1
        client.close()
        # A burst per replica: the origin holds the one fill until the other BURST - 1
        # requests have joined it, so the coalesced count is exact however slow the machine.
        burst_results: dict[int, list] = {}
        for r in range(REPLICAS):
            before = replicas[r].metric("scalecache_coalesced_requests_total")
            burst_results[r] = origin.hold_while(
                [lambda r=r: one_get(ports, r, f"/data/burst-{r}") for _ in range(BURST)],
                lambda r=r: replicas[r].metric("scalecache_coalesced_requests_total") - before == BURST - 1,
                what=f"{BURST - 1} requests to join the burst's fill on replica {r}")
        burst_sources = [f"{status}:{doc.get('source')}" for rs in burst_results.values() for status, doc in rs]
        t_warm_done = time.time()
        prom.wait_scraped_after("scalecache", t_warm_done, scrapes=2)
        timings["warmup_done"] = t_warm_done

        plan = [(i % REPLICAS, f"k{i % KEYS:03d}") for i in range(N)]
        origin_before_run = dict(origin.calls)
        t0, results = paced_run(ports, plan, RATE, WORKERS, RUN_DEADLINE_S)
        t1 = max(r.done for r in results)
        timings["run"] = (t0, t1)
        prom.wait_scraped_after("scalecache", t1, scrapes=2)
        tq = time.time()
        timings["query_time"] = tq

        yield {
            "prom": prom, "replicas": replicas, "redis": redis, "dashboard": load_dashboard(),
            "t_prom": timings["prometheus_started"], "t_warm_done": t_warm_done,
            "t0": t0, "t1": t1, "tq": tq, "results": results, "warm": warm, "plan": plan,
            "origin": origin, "origin_before_run": origin_before_run,
            "burst_results": burst_results, "burst_sources": burst_sources, "timings": timings, "summary": {},
        }


def one_get(ports: list[int], replica: int, path: str) -> tuple[int, dict]:
    """One request on its own connection."""
    client = Client(ports)
    try:
        return client.get(replica, path)
    finally:
        client.close()


def client_view(results) -> dict:
    """What the answers say (their `source` field): kept for the summary only."""
    ok = [r for r in results if r.status == 200]
    by_source: dict[str, int] = {}
    for r in ok:
        by_source[r.source] = by_source.get(r.source, 0) + 1
    hits = sum(by_source.get(s, 0) for s in ("l1", "l2", "stale"))
    return {"sent": len(results), "ok": len(ok), "by_source": by_source,
            "hit_ratio": hits / len(ok) if ok else float("nan")}


def expected_layers(plan) -> dict[str, int]:
    """Where each request of the plan must be answered from, from the plan alone: the first
    visit of a key goes to the origin, a replica's first visit of a key already filled
    finds it in Redis (L2), later visits find it in that replica's L1 (its TTL, 60 s,
    outlasts the run)."""
    filled, seen, out = set(), set(), {"origin": 0, "l2": 0, "l1": 0}
    for replica, key in plan:
        layer = "l1" if (replica, key) in seen else "l2" if key in filled else "origin"
        out[layer] += 1
        filled.add(key)
        seen.add((replica, key))
    return out


def origin_calls_in_run(live) -> dict[str, int]:
    """Calls the origin itself counted during the measured run, per key."""
    before = live["origin_before_run"]
    return {k: n - before.get(k, 0) for k, n in live["origin"].calls.items() if n != before.get(k, 0)}


def expected_hit_ratio(live) -> float:
    """1 - origin calls / answers: from the origin's count, not from the service."""
    answered = sum(1 for r in live["results"] if r.status == 200)
    return 1 - sum(origin_calls_in_run(live).values()) / answered


def test_workload_ran_as_planned(live):
    results = live["results"]
    view = client_view(results)
    live["summary"]["client"] = view
    assert view["sent"] == N, f"only {view['sent']} of {N} requests completed within {RUN_DEADLINE_S}s"
    assert view["ok"] == N, {r.status for r in results}
    duration_s = live["t1"] - live["t0"]
    assert duration_s < N / RATE * 1.5, f"client fell behind its pace: {duration_s:.1f}s"


def test_origin_was_called_once_per_key(live):
    """The origin's own count: one call per key of the run, none for anything else."""
    calls = origin_calls_in_run(live)
    live["summary"]["origin_calls_in_run"] = sum(calls.values())
    assert calls == {f"k{k:03d}": 1 for k in range(KEYS)}, calls
    assert expected_layers(live["plan"])["origin"] == KEYS


def test_burst_was_coalesced_into_one_origin_call(live):
    origin, replicas = live["origin"], live["replicas"]
    for r, answers in live["burst_results"].items():
        assert [status for status, _ in answers] == [200] * BURST, answers
        assert {doc["data"] for _, doc in answers} == {f"v1 of burst-{r}"}, answers
        assert origin.count(f"burst-{r}") == 1, f"burst-{r}: {origin.count(f'burst-{r}')} origin calls"
    assert total(replicas, "scalecache_coalesced_requests_total") == REPLICAS * (BURST - 1)


def test_variable_queries_resolve(live):
    """label_values() of each query variable, as Grafana would ask Prometheus."""
    prom, d = live["prom"], live["dashboard"]
    subst = all_values(d)
    got = {}
    for v in d["templating"]["list"]:
        if v["type"] != "query":
            continue
        m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", v["definition"], re.S)
        assert m, v["definition"]
        selector = substitute(m.group(1), subst, "1m", "1h")
        res = prom.api(f"label/{m.group(2)}/values", **{"match[]": selector})
        assert res["status"] == "success", (v["name"], res)
        got[v["name"]] = res["data"]
    assert got["job"] == ["scalecache"], got
    assert sorted(got["instance"]) == sorted(f"127.0.0.1:{r.port}" for r in live["replicas"]), got
    assert got["namespace"] == [], "no namespace label outside Kubernetes"


def test_every_panel_query_succeeds_and_returns_data(live):
    prom, d, tq = live["prom"], live["dashboard"], live["tq"]
    subst = all_values(d)
    range_ = duration(tq - live["t_prom"])
    checked, failures, skipped = 0, [], []
    for p in panels(d):
        for t in p["targets"]:
            expr = substitute(t["expr"], subst, "1m", range_)
            res = prom.query(expr, tq)
            checked += 1
            if res["status"] != "success":
                failures.append(f"{p['title']} [{t['refId']}]: {res.get('error')}\n  {expr}")
                continue
            if res.get("warnings"):
                failures.append(f"{p['title']} [{t['refId']}]: warnings {res['warnings']}")
            data = res["data"]["result"]
            if is_hpa_panel(p):
                skipped.append(p["title"])
                continue
            if is_worker_panel(p):
                continue
            if not data:
                failures.append(f"{p['title']} [{t['refId']}]: no data\n  {expr}")
            for s in data:
                v = float(s["value"][1])
                if math.isnan(v) or math.isinf(v):
                    failures.append(f"{p['title']} [{t['refId']}]: {v} for {s['metric']}")
    live["summary"]["panel_queries_checked"] = checked
    live["summary"]["skipped_data_check"] = {"panels": sorted(set(skipped)), "reason": HPA_SKIP_REASON}
    assert not failures, "\n".join(failures)
    assert skipped, "the HPA panel should exist"


def _ratio_window(live) -> tuple[str, str]:
    """A window from just after the warm-up (counters flat, already scraped) to the
    query time (counters flat again): it brackets the whole measured run."""
    w = duration(live["tq"] - live["t_warm_done"] - 0.05)
    return w, w


def test_hit_ratio_panels_match_the_origin_count(live):
    prom, d, tq = live["prom"], live["dashboard"], live["tq"]
    subst = all_values(d)
    rate_w, range_w = _ratio_window(live)
    expected = expected_hit_ratio(live)
    assert abs(expected - (1 - KEYS / N)) < 1e-9, "one origin call per key (test_origin_was_called_once_per_key)"

    ts_panel = panel_by_title(d, "Cache hit ratio")
    stat_panel = panel_by_title(d, "Hit ratio (whole time range)")
    from_ts = prom.value(substitute(ts_panel["targets"][0]["expr"], subst, rate_w, range_w), tq)
    from_stat = prom.value(substitute(stat_panel["targets"][0]["expr"], subst, rate_w, range_w), tq)
    live["summary"]["hit_ratio"] = {"expected": expected, "client": client_view(live["results"])["hit_ratio"],
                                    "panel_rate": from_ts, "panel_increase": from_stat, "window": rate_w}
    assert from_ts is not None and from_stat is not None
    assert abs(from_ts - expected) <= HIT_TOLERANCE, (from_ts, expected)
    assert abs(from_stat - expected) <= HIT_TOLERANCE, (from_stat, expected)

    layer_panel = panel_by_title(d, "Hit ratio by layer")
    res = prom.query(substitute(layer_panel["targets"][0]["expr"], subst, rate_w, range_w), tq)
    assert res["status"] == "success", res
    layers = {s["metric"]["source"]: float(s["value"][1]) for s in res["data"]["result"]}
    want = {layer: n / N for layer, n in expected_layers(live["plan"]).items() if layer != "origin"}
    live["summary"]["hit_ratio"]["by_layer_panel"] = layers
    live["summary"]["hit_ratio"]["by_layer_expected"] = want
    for source in ("l1", "l2"):
        assert abs(layers.get(source, 0.0) - want[source]) <= HIT_TOLERANCE, (source, layers, want)
    assert layers.get("stale", 0.0) == 0.0, layers
    assert abs(sum(layers.values()) - from_ts) < 1e-6, "layers must add up to the overall hit ratio"


def test_coalesced_panel_shows_the_burst(live):
    """Over Prometheus' whole life the panel's rate, times the window, is the burst's
    REPLICAS x (BURST - 1) coalesced answers, the only ones (Prometheus extrapolates
    at the window's edges: RATE_TOLERANCE); nothing was served stale."""
    prom, d, tq = live["prom"], live["dashboard"], live["tq"]
    subst = all_values(d)
    window = tq - live["t_prom"]
    p = panel_by_title(d, "Coalesced and stale-served answers/s")
    coalesced = prom.value(substitute(p["targets"][0]["expr"], subst, duration(window), duration(window)), tq)
    stale = prom.value(substitute(p["targets"][1]["expr"], subst, duration(window), duration(window)), tq)
    want = REPLICAS * (BURST - 1)
    live["summary"]["coalesced_panel"] = {"rate": coalesced, "window_s": window, "expected_count": want}
    assert coalesced is not None and abs(coalesced * window - want) <= RATE_TOLERANCE * want, (coalesced, window)
    assert stale == 0.0, stale


def test_requests_per_second_matches_the_client(live):
    """rate() over exactly the window the client drove traffic in, evaluated at its end."""
    prom, d = live["prom"], live["dashboard"]
    subst = all_values(d)
    t0, t1 = live["t0"], live["t1"]
    sent = sum(1 for r in live["results"] if t0 <= r.done <= t1)
    client_rate = sent / (t1 - t0)
    panel = panel_by_title(d, "Requests/s by status code")
    res = prom.query(substitute(panel["targets"][0]["expr"], subst, duration(t1 - t0), duration(t1 - t0)), t1)
    assert res["status"] == "success", res
    by_code = {s["metric"].get("code"): float(s["value"][1]) for s in res["data"]["result"]}
    panel_rate = sum(by_code.values())
    live["summary"]["requests_per_second"] = {"client": client_rate, "panel": panel_rate,
                                              "by_code": by_code, "window_s": t1 - t0}
    assert abs(panel_rate - client_rate) <= RATE_TOLERANCE * client_rate, (panel_rate, client_rate)
    assert set(by_code) == {"200"}, by_code


def test_replica_panels_show_exactly_the_replicas(live):
    prom, d, tq = live["prom"], live["dashboard"], live["tq"]
    subst = all_values(d)
    instances = {f"127.0.0.1:{r.port}" for r in live["replicas"]}

    def series(title, ref=0):
        p = panel_by_title(d, title)
        res = prom.query(substitute(p["targets"][ref]["expr"], subst, "1m", "1h"), tq)
        assert res["status"] == "success", res
        return {s["metric"].get("instance"): float(s["value"][1]) for s in res["data"]["result"]}

    # the prometheus self-scrape job is not a replica
    assert set(series("CPU per replica")) == instances
    assert set(series("Memory (RSS) per replica")) == instances
    redis_up = series("Redis up per replica")
    assert redis_up == dict.fromkeys(instances, 1.0), redis_up
    assert series("Replicas reporting", 0) == {None: 3.0}
    assert series("Replicas reporting", 1) == {None: 3.0}
    entries = series("L1 entries per replica")
    assert set(entries) == instances and all(v > 0 for v in entries.values()), entries
    live["summary"]["l1_entries"] = entries
    assert all(v > 0 for v in series("L1 bytes per replica").values())


def test_recording_and_alerting_rules_evaluate_cleanly(live):
    prom, tq = live["prom"], live["tq"]
    res = prom.api("rules")
    assert res["status"] == "success", res
    rules = [r for g in res["data"]["groups"] for r in g["rules"]]
    assert len(rules) >= 14
    bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert not bad, bad
    ratio = prom.value('scalecache:cache_hit_ratio:rate5m{job="scalecache"}', tq)
    assert ratio is not None and 0.5 < ratio <= 1, ratio
    live["summary"]["recorded_hit_ratio_5m_including_warmup"] = ratio
    firing = prom.query('ALERTS{alertstate="firing"}', tq)["data"]["result"]
    assert not firing, f"no alert should fire on a healthy run: {firing}"


def test_render_dashboard_png(live):
    pytest.importorskip("matplotlib", reason="matplotlib missing: run.sh installs it")
    prom, d = live["prom"], live["dashboard"]
    subst = all_values(d)
    start, end = live["t_prom"], live["tq"]
    wanted = ["Cache hit ratio", "Hit ratio by layer", "Requests/s by status code",
              "GET /data latency p50 / p95 / p99", "Origin calls/s by result",
              "Coalesced and stale-served answers/s", "L1 entries per replica", "L1 bytes per replica",
              "Redis up per replica", "Replicas reporting", "CPU per replica", "Memory (RSS) per replica"]
    ports = {f"127.0.0.1:{r.port}": f"replica {i + 1}" for i, r in enumerate(live["replicas"])}
    plotted = []
    for title in wanted:
        p = panel_by_title(d, title)
        lines = []
        for t in p["targets"]:
            # Grafana's $__rate_interval for a 1 s scrape interval and 1 s steps is 4 s
            expr = substitute(t["expr"], subst, "4s", duration(end - start), "1s")
            res = prom.query_range(expr, start, end, 1)
            assert res["status"] == "success", (title, res)
            for s in res["data"]["result"]:
                legend = t.get("legendFormat") or "value"
                legend = re.sub(r"\{\{\s*(\w+)\s*\}\}",
                                lambda m: ports.get(s["metric"].get(m.group(1), ""), s["metric"].get(m.group(1), "")),
                                legend)
                xs = [float(x) for x, _ in s["values"]]
                ys = [float(y) for _, y in s["values"]]
                lines.append((legend, xs, ys))
        plotted.append((title, p["fieldConfig"]["defaults"].get("unit", "short"), lines))
    hit = live["summary"].get("hit_ratio", {})
    rps = live["summary"].get("requests_per_second", {})
    subtitle = (f"3 replicas + Redis, {N} requests over {KEYS} keys at {RATE:.0f}/s (shaded); "
                f"hit ratio from origin calls {hit.get('expected', float('nan')):.2%} vs panel {hit.get('panel_rate') or float('nan'):.2%}; "
                f"req/s client {rps.get('client', float('nan')):.1f} vs panel {rps.get('panel', float('nan')):.1f}")
    render_png(plotted, PNG_PATH, (live["t0"], live["t1"]), start, subtitle)
    assert PNG_PATH.stat().st_size > 10_000
    live["summary"]["png"] = str(PNG_PATH)


def test_a_stopped_replica_shows_up_in_panels_and_alerts(live):
    """Last: stops replica 3. 'Replicas reporting' drops to 2 of 3 and the
    not-scraped alert goes pending (it fires after its for: 2m)."""
    prom, d = live["prom"], live["dashboard"]
    subst = all_values(d)
    victim = live["replicas"][-1]
    instance = f"127.0.0.1:{victim.port}"
    victim.stop()
    t_stop = time.time()
    wait_until(lambda: prom.value(f'up{{instance="{instance}"}}', time.time()) == 0.0, 15, interval=0.2,
               what="Prometheus to see the stopped replica down")
    pending = f'ALERTS{{alertname="ScalecacheReplicaNotScraped", alertstate="pending", instance="{instance}"}}'
    wait_until(lambda: prom.value(pending, time.time()) == 1.0, 15, interval=0.2,
               what="ScalecacheReplicaNotScraped to go pending")
    now = time.time()
    p = panel_by_title(d, "Replicas reporting")
    up = prom.value(substitute(p["targets"][0]["expr"], subst, "1m", "1h"), now)
    targets = prom.value(substitute(p["targets"][1]["expr"], subst, "1m", "1h"), now)
    assert (up, targets) == (2.0, 3.0)
    live["summary"]["replica_down"] = {"seconds_to_pending": round(now - t_stop, 1), "up": up, "targets": targets}


@pytest.fixture(autouse=True)
def _dump_summary(request):
    """After each live test, keep summary.json up to date (read by run.sh)."""
    yield
    if "live" in request.fixturenames:
        live = request.getfixturevalue("live")
        t = live["timings"]
        summary = dict(live["summary"])
        summary["timings_s"] = {"setup": round(t["warmup_done"] - t["start"], 1),
                                "measured_run": round(t["run"][1] - t["run"][0], 1),
                                "until_queries": round(t["query_time"] - t["start"], 1)}
        summary["warmup_sources"] = live["warm"]
        summary["burst_sources"] = sorted(live["burst_sources"])
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        (OUT_DIR / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
