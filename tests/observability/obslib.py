"""Helpers for the observability suite: a private Prometheus, its HTTP API,
dashboard expression substitution, a paced HTTP workload and the PNG rendering.

Process management of redis-server and scalecache comes from tests/lib/harness.py.
"""
from __future__ import annotations

import http.client
import itertools
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "lib"))

from harness import free_port, terminate, wait_until  # noqa: E402

DASHBOARD = REPO_ROOT / "dashboards" / "scalecache.json"
RULES = REPO_ROOT / "deploy" / "prometheus" / "scalecache-rules.yaml"


# --------------------------------------------------------------------------- dashboard

def load_dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def panels(dashboard: dict) -> list[dict]:
    """Every panel with queries, rows' nested panels included."""
    out = []
    for p in dashboard["panels"]:
        if p.get("type") == "row":
            out.extend(q for q in p.get("panels", []) if q.get("targets"))
        elif p.get("targets"):
            out.append(p)
    return out


def row_panels(dashboard: dict, row_title: str) -> list[dict]:
    """The panels with queries laid out under the row titled `row_title` (up to the next row)."""
    out, inside = [], False
    for p in dashboard["panels"]:
        if p.get("type") == "row":
            inside = p["title"] == row_title
            if inside:
                out.extend(q for q in p.get("panels", []) if q.get("targets"))
        elif inside and p.get("targets"):
            out.append(p)
    return out


def all_values(dashboard: dict) -> dict[str, str]:
    """What each query variable becomes with 'All' selected (its allValue)."""
    return {v["name"]: v["allValue"] for v in dashboard["templating"]["list"]
            if v["type"] == "query" and v.get("includeAll")}


def substitute(expr: str, variables: dict[str, str], rate_interval: str,
               range_: str, interval: str = "15s") -> str:
    """Replace Grafana's variables the way Grafana does before sending a query."""
    builtins = {"__rate_interval": rate_interval, "__range": range_, "__interval": interval,
                "__range_s": range_.rstrip("s") if range_.endswith("s") else range_}
    values = {**variables, **builtins}
    for name in sorted(values, key=len, reverse=True):
        expr = expr.replace("${" + name + "}", values[name]).replace("$" + name, values[name])
    if "$" in expr:
        raise ValueError(f"unsubstituted variable left in: {expr}")
    return expr


def duration(seconds: float) -> str:
    """A PromQL duration in whole milliseconds."""
    return f"{max(1, round(seconds * 1000))}ms"


# --------------------------------------------------------------------------- prometheus

class Prometheus:
    """A private Prometheus on a loopback port with its own temp data dir."""

    def __init__(self, targets: list[str], rule_files: list[Path], scrape_interval: str = "1s",
                 worker_targets: list[str] | None = None):
        """`targets` are scraped as job "scalecache", `worker_targets` (scalecache
        worker processes) as job "scalecache-worker", as the chart and compose do."""
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="scalecache-prom-"))
        self.targets = targets
        self.log_path = self.dir / "prometheus.log"
        config = {
            "global": {"scrape_interval": scrape_interval, "scrape_timeout": scrape_interval,
                       "evaluation_interval": scrape_interval},
            "rule_files": [str(p) for p in rule_files],
            "scrape_configs": [
                {"job_name": "scalecache", "metrics_path": "/metrics",
                 "static_configs": [{"targets": targets}]},
                *([{"job_name": "scalecache-worker", "metrics_path": "/metrics",
                    "static_configs": [{"targets": worker_targets}]}] if worker_targets else []),
                # A second, non-scalecache job: panels on generic metrics (up, process_*)
                # must not pick it up.
                {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{self.port}"]}]},
            ],
        }
        # JSON is valid YAML
        (self.dir / "prometheus.yml").write_text(json.dumps(config, indent=2))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Prometheus:
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={self.dir / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.dir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}",
             "--storage.tsdb.retention.time=1h", "--log.level=warn"],
            stdout=self._log, stderr=self._log, cwd=self.dir)
        wait_until(self._ready, 30, interval=0.1, what="prometheus to be ready")
        return self

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"prometheus exited with {self.proc.returncode}:\n{self.log()}")
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self):
        terminate(self.proc)
        if self.proc:
            self._log.close()
        self.proc = None

    def __enter__(self):
        try:
            return self.start()
        except Exception:
            self.stop()
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- HTTP API
    def api(self, path: str, **params) -> dict:
        """GET /api/v1/<path>; returns the JSON body, errors included (status 'error')."""
        query = urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            body = e.read()
            try:
                return json.loads(body)
            except ValueError:
                return {"status": "error", "error": f"HTTP {e.code}: {body[:300]!r}"}

    def query(self, expr: str, at: float) -> dict:
        return self.api("query", query=expr, time=f"{at:.3f}")

    def value(self, expr: str, at: float) -> float | None:
        """The single value of an instant query, None when it returns nothing."""
        res = self.query(expr, at)
        assert res["status"] == "success", (expr, res)
        data = res["data"]["result"]
        if not data:
            return None
        assert len(data) == 1, (expr, data)
        return float(data[0]["value"][1])

    def query_range(self, expr: str, start: float, end: float, step: float) -> dict:
        return self.api("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=step)

    def last_scrape(self, job: str) -> float:
        """Oldest 'last scrape' time among the job's targets (0 before the first)."""
        res = self.api("targets", state="active")
        times = []
        for t in res["data"]["activeTargets"]:
            if t["labels"].get("job") == job:
                ts = t.get("lastScrape", "")
                times.append(_rfc3339(ts) if ts and not ts.startswith("0001") else 0.0)
        return min(times) if times else 0.0

    def wait_scraped_after(self, job: str, moment: float, scrapes: int = 1, timeout: float = 20):
        """Wait until every target of `job` was scraped `scrapes` times after `moment`."""
        for _ in range(scrapes):
            wait_until(lambda: self.last_scrape(job) > moment, timeout, interval=0.1,
                       what=f"a scrape of every {job} target after {moment:.3f}")
            moment = self.last_scrape(job)


def _rfc3339(text: str) -> float:
    # e.g. 2026-11-29T18:40:12.123456789Z or with +01:00; keep microseconds
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
    if not m:
        raise ValueError(text)
    from datetime import datetime
    base = datetime.fromisoformat(m.group(1) + ("+00:00" if m.group(3) == "Z" else m.group(3)))
    frac = float("0" + m.group(2)) if m.group(2) else 0.0
    return base.timestamp() + frac


# --------------------------------------------------------------------------- workload

class Result:
    __slots__ = ("done", "index", "key", "replica", "sent", "source", "status")

    def __init__(self, index, replica, key, sent, done, status, source):
        self.index, self.replica, self.key = index, replica, key
        self.sent, self.done, self.status, self.source = sent, done, status, source


class Client:
    """Keep-alive HTTP/1.1 connections, one per (worker, replica)."""

    def __init__(self, ports: list[int]):
        self.ports = ports
        self.conns: dict[int, http.client.HTTPConnection] = {}

    def get(self, replica: int, path: str) -> tuple[int, dict]:
        for attempt in (0, 1):
            conn = self.conns.get(replica)
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.ports[replica], timeout=10)
                self.conns[replica] = conn
            try:
                conn.request("GET", path, headers={"Connection": "keep-alive"})
                resp = conn.getresponse()
                body = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    self.conns.pop(replica, None)
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = {}
                return resp.status, doc
            except (http.client.HTTPException, OSError):
                # a kept-alive connection the server closed: reconnect once
                conn.close()
                self.conns.pop(replica, None)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        for c in self.conns.values():
            c.close()
        self.conns.clear()


def paced_run(ports: list[int], plan: list[tuple[int, str]], rate: float, workers: int,
              deadline_s: float) -> tuple[float, list[Result]]:
    """Send plan[i] = (replica, key) at t0 + i/rate from `workers` threads.

    Bounded: stops at len(plan) requests or deadline_s seconds, whichever first.
    Returns t0 and every completed request.
    """
    results: list[Result] = []
    lock = threading.Lock()
    counter = itertools.count()
    t0 = time.time() + 0.2
    stop_at = t0 + deadline_s
    errors: list[BaseException] = []

    def worker():
        client = Client(ports)
        try:
            while True:
                with lock:
                    i = next(counter)
                if i >= len(plan):
                    return
                due = t0 + i / rate
                now = time.time()
                if due > now:
                    time.sleep(due - now)
                if time.time() > stop_at:
                    return
                replica, key = plan[i]
                sent = time.time()
                status, doc = client.get(replica, f"/data/{key}")
                done = time.time()
                with lock:
                    results.append(Result(i, replica, key, sent, done, status, doc.get("source")))
        except BaseException as e:  # reported by the caller
            errors.append(e)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(deadline_s + 30)
    if errors:
        raise errors[0]
    results.sort(key=lambda r: r.index)
    return t0, results


# --------------------------------------------------------------------------- rendering

def render_png(series_by_panel: list[tuple[str, str, list[tuple[str, list[float], list[float]]]]],
               out: Path, window: tuple[float, float], t_origin: float, subtitle: str):
    """Plot query_range results panel by panel, in a Grafana-like dark theme."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    n = len(series_by_panel)
    cols = 3
    rows = math.ceil(n / cols)
    bg, panel_bg, fg, grid = "#111217", "#181b1f", "#ccccdc", "#2c3235"
    palette = ["#73bf69", "#f2cc0c", "#5794f2", "#ff9830", "#f2495c", "#b877d9", "#8ab8ff", "#ffb357"]
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 3.1 * rows), facecolor=bg)
    axes = list(axes.flat) if n > 1 else [axes]
    units = {
        "percentunit": FuncFormatter(lambda v, _: f"{v * 100:.0f}%"),
        "bytes": FuncFormatter(lambda v, _: _human_bytes(v)),
        "s": FuncFormatter(lambda v, _: f"{v * 1000:.0f} ms" if v < 1 else f"{v:.1f} s"),
    }
    styles = ["-", "--", ":", "-."]
    x_end = max((x for _, _, series in series_by_panel for _, xs, _ in series for x in xs), default=t_origin) - t_origin
    for k, (ax, (title, unit, series)) in enumerate(zip(axes, series_by_panel)):
        ax.set_facecolor(panel_bg)
        ax.set_title(title, color=fg, fontsize=10, loc="left")
        ax.tick_params(colors=fg, labelsize=8)
        for spine in ax.spines.values():
            spine.set_color(grid)
        ax.grid(color=grid, linewidth=0.6)
        ax.axvspan(window[0] - t_origin, window[1] - t_origin, color="#5794f2", alpha=0.10, lw=0,
                   label="_measured run")
        # identical series (e.g. three replicas with the same value) stay visible as dashes
        ordered = sorted(series, key=lambda s: s[0])
        for i, (label, xs, ys) in enumerate(ordered):
            ax.plot([x - t_origin for x in xs], ys, label=label, color=palette[i % len(palette)],
                    lw=1.6 if i == 0 else 1.3, ls=styles[i % len(styles)])
        if unit in units:
            ax.yaxis.set_major_formatter(units[unit])
        top = max((y for _, _, ys in ordered for y in ys), default=0)
        if unit == "bytes" and top > 0:
            step = 2 ** max(0, math.ceil(math.log2(top / 5)))
            ax.yaxis.set_major_locator(MultipleLocator(step))
        ax.set_xlim(0, x_end)
        ax.set_ylim(bottom=0)
        if unit == "percentunit":
            ax.set_ylim(0, 1.05)
        elif not any(y for _, _, ys in series for y in ys):
            ax.set_ylim(0, 1)
        if k == 0:
            ax.text((window[0] - t_origin) + 0.5, 0.04, "measured run", color="#8ab8ff", fontsize=8,
                    transform=ax.get_xaxis_transform())
        if series:
            leg = ax.legend(fontsize=7, loc="center right", facecolor=panel_bg, edgecolor=grid)
            for text in leg.get_texts():
                text.set_color(fg)
        else:
            ax.text(0.5, 0.5, "No data", color=fg, ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel("seconds since Prometheus started", color=fg, fontsize=8)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle("scalecache dashboard: " + subtitle, color=fg, fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80, facecolor=bg)
    plt.close(fig)


def _human_bytes(v: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(v) < 1024:
            return f"{v:.0f} {unit}" if unit == "B" or v >= 10 else f"{v:.1f} {unit}"
        v /= 1024
    return f"{v:.0f} TiB"


def env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value) if value else default
