"""Turn bench results into the Markdown table, the targets verdicts, the PNG
plot and the figures block of BENCHMARKS.md."""
import os

from . import topology, worker

BEGIN = "<!-- bench:figures:begin (written by make bench; edit outside this block) -->"
END = "<!-- bench:figures:end -->"


def _rows(results):
    """Matrix rows that have figures, by name."""
    return {r["name"]: r for r in results.get("matrix", {}).get("rows", []) if "rps" in r}


def _cell(text, limit):
    """Free text (an error, log lines) made safe for one Markdown table cell or code span."""
    return text[-limit:].replace("|", "/").replace("`", "'").replace("\n", " ")


def _fmt(value, pattern="%.2f", missing="–"):
    return missing if value is None else pattern % value


def targets(results):
    """The performance targets, each a ratio measured in this run: pass, miss or n/a."""
    rows = _rows(results)
    l1, l2 = rows.get("scalecache_l1"), rows.get("scalecache_l2")
    pc, ph = rows.get("nginx_proxy_cache"), rows.get("pistache_hello")
    out = []

    def add(name, measured, ok, shown):
        out.append({"target": name, "measured": measured, "pass": ok, "shown": shown})

    def ratio(a, b, key):
        return a[key] / b[key] if a and b and b[key] else None

    r = ratio(l1, pc, "rps")
    add("L1 hit req/s ≥ 1.0× NGINX proxy_cache", r, None if r is None else r >= 1.0, _fmt(r, "%.2f×"))
    r = ratio(l1, ph, "rps")
    add("L1 hit req/s ≥ 1.0× Pistache ceiling", r, None if r is None else r >= 1.0, _fmt(r, "%.2f×"))
    r = ratio(pc, l1, "cpu_s_per_10k")  # requests per CPU-second, L1 over proxy_cache
    add("L1 hit requests per CPU-second ≥ 1.3× NGINX proxy_cache", r, None if r is None else r >= 1.3,
        _fmt(r, "%.2f×"))
    sc = l1.get("syscalls") if l1 else None
    add("≤ 3.5 syscalls per L1 hit", sc and sc["per_request"], None if not sc else sc["per_request"] <= 3.5,
        _fmt(sc["per_request"] if sc else None, "%.2f"))
    r = ratio(l2, l1, "rps")
    add("L2 hit req/s ≥ 0.6× L1 hit", r, None if r is None else r >= 0.6, _fmt(r, "%.2f×"))
    r = ratio(l1, pc, "p99_ms")
    shown = None if r is None else "%.2f ms vs %.2f ms (%.2f×)" % (l1["p99_ms"], pc["p99_ms"], r)
    add("L1 hit p99 at 32 connections ≤ NGINX proxy_cache", r, None if r is None else r <= 1.0, shown or "–")
    r = ratio(l1, pc, "cpu_s_per_10k")
    shown = None if r is None else "%.3f vs %.3f CPU s/10k (%.2f×)" % (l1["cpu_s_per_10k"], pc["cpu_s_per_10k"], r)
    add("L1 hit CPU per request ≤ NGINX proxy_cache", r, None if r is None else r <= 1.0, shown or "–")
    x3 = [s for s in results.get("stampede", {}).get("scenarios", []) if s["label"].startswith("scalecache x3")]
    if x3:
        worst = max(x3[0]["origin_calls"])
        add("one origin call per cold key across 3 replicas", worst, worst == 1,
            "%s calls per key (%d keys)" % (x3[0]["origin_calls"], len(x3[0]["origin_calls"])))
    else:
        add("one origin call per cold key across 3 replicas", None, None, "–")
    cases = [c for c in results.get("memory", {}).get("cases", []) if not c.get("failed")]
    if cases:
        worst = max(c["rss_overhead_per_entry"] for c in cases)
        add("L1 overhead ≤ 100 B per entry beyond key and value (RSS, worst case)", worst, worst <= 100,
            "%.0f B (l1_bytes accounting: %.0f B)" % (worst, max(c["l1_overhead_per_entry"] for c in cases)))
    else:
        add("L1 overhead ≤ 100 B per entry beyond key and value (RSS, worst case)", None, None, "–")
    # The claim that spreading over replicas works, measured.
    spread = [r for r in results.get("scaleout", {}).get("rows", []) if "min_share_of_even" in r]
    if spread:
        worst = min(r["min_share_of_even"] for r in spread if r["replicas"] > 1)
        add("scale-out: every replica serves ≥ half an even share", worst, worst >= 0.5,
            "smallest share %.2f (%s)" % (worst, "; ".join(
                "%d replicas: %s" % (r["replicas"], ", ".join(map(str, r["per_replica_requests"])))
                for r in spread if r["replicas"] > 1)))
    else:
        add("scale-out: every replica serves ≥ half an even share", None, None, "not counted in this run")
    return out


def _verdict(ok):
    return "n/a" if ok is None else ("**pass**" if ok else "**MISS**")


def _matrix_lines(matrix, results):
    meta, rows = results["meta"], _rows(results)
    pc, ph = rows.get("nginx_proxy_cache"), rows.get("pistache_hello")
    lines = ["| system | req/s | × NGINX proxy_cache | × Pistache ceiling | p50 ms | p99 ms | p99.9 ms "
             "| CPU s / 10k req | CPU × proxy_cache | syscalls / req | peak RSS MiB | body B | errors "
             "| req/s per round | other load, CPUs |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in matrix["rows"]:
        if "rps" not in r:
            lines.append("| %s | **failed** (below) |%s" % (r["label"], " |" * 13))
            continue
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s | %.2f |" % (
            r["label"], "{:,.0f}".format(r["rps"]),
            _fmt(r["rps"] / pc["rps"] if pc else None, "%.2f×"),
            _fmt(r["rps"] / ph["rps"] if ph else None, "%.2f×"),
            _fmt(r["p50_ms"]), _fmt(r["p99_ms"]), _fmt(r["p999_ms"]),
            _fmt(r["cpu_s_per_10k"], "%.3f"),
            _fmt(r["cpu_s_per_10k"] / pc["cpu_s_per_10k"] if pc and pc["cpu_s_per_10k"] else None, "%.2f×"),
            _fmt(r["syscalls"]["per_request"] if r.get("syscalls") else None, "%.2f"),
            _fmt(r["peak_rss_mib"], "%.1f"), _fmt(r["body_bytes"], "%d"), r["errors"],
            ", ".join(f"{x:,}" for x in r["rps_rounds"]), r.get("other_cpus", 0.0)))
    lines.append("")
    for r in matrix["rows"]:
        if r.get("failed"):
            lines += ["**%s failed%s:** `%s`" % (r["label"], " after %d round(s)" % len(r["rps_rounds"])
                                                 if "rps_rounds" in r else "", _cell(r["failed"], 800)), ""]
    notes = []
    for r in rows.values():
        if r["sources"]:
            total = sum(r["sources"].values()) or 1
            notes.append("%s: answered from %s" % (r["label"], ", ".join(
                "%s %.1f%%" % (k, 100 * v / total) for k, v in r["sources"].items() if v)))
    for r in rows.values():
        if r.get("syscalls"):
            notes.append("%s: syscalls per request %s" % (r["label"], ", ".join(
                "%s %.2f" % kv for kv in list(r["syscalls"]["by_call"].items())[:6])))
    for name in ("nginx_proxy_cache", "varnish"):
        if name in rows:
            notes.append("%s: %d origin calls during the measured runs (0 = every answer a hit)"
                         % (rows[name]["label"], rows[name]["origin_calls_measured"]))
    return lines + [
        "CPU is utime+stime of every process of the system (for scalecache and Flask, their Redis included) "
        "over the measured seconds; peak RSS is the sum of VmHWM over those processes. Other load: CPUs kept "
        "busy by processes outside the bench while measuring (median; the machine has %d), the noise every "
        "ratio shares. Syscalls per request: `strace -c` on every thread of the serving processes (not "
        "scalecache's Redis) over a separate wrk run of up to 5 s after the timed rounds, the same way "
        "for every system counted. Checks: %s." % (meta["cpus"], "; ".join(notes)), ""]


def _stampede_lines(st, results):
    lines = ["%d concurrent requests for one cold key, the origin takes %d ms to answer."
             % (st["k"], st["origin_delay_ms"]), "",
             "| system | replicas | origin calls per key (each key) | answered 200 | slowest answer s |",
             "|---|---:|---|---:|---:|"]
    for s in st["scenarios"]:
        lines.append("| %s | %d | %.1f (%s) | %d/%d | %.2f |" % (
            s["label"], s["replicas"], s["calls_per_key"], ", ".join(map(str, s["origin_calls"])),
            s["ok"], s["requests"], s["max_s"]))
    return lines + [""]


def _scaleout_lines(so, results):
    lines = ["| replicas | req/s | × 1 replica | p99 ms | CPU s / 10k req (all) | "
             "CPU s / 10k req (replicas) | CPU s / 10k req (NGINX) | requests per replica | smallest share |",
             "|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    base = so["rows"][0]["rps"] if so["rows"] else None
    for r in so["rows"]:
        spread = r.get("per_replica_requests")  # absent in runs from before it was counted
        lines.append("| %d | %s | %s | %.2f | %.3f | %.3f | %.3f | %s | %s |" % (
            r["replicas"], "{:,.0f}".format(r["rps"]), _fmt(r["rps"] / base if base else None, "%.2f×"),
            r["p99_ms"], r["cpu_s_per_10k"], r["cpu_s_per_10k_replicas"], r["cpu_s_per_10k_lb"],
            ", ".join(f"{n:,}" for n in spread) if spread else "not counted in this run",
            _fmt(r.get("min_share_of_even"), "%.2f")))
    meta = results["meta"]
    note = ("Replicas run %d thread each and share one Redis; the balancer (the project's config, access log "
            "on) runs %d workers. All of it shares this machine's %d CPUs with wrk, so more replicas add no CPU "
            "here: the figures show what the balancer hop costs, not how a cluster scales. Requests per "
            "replica: counted by each replica (scalecache_http_requests_total{route=\"data\"}) over the "
            "measured runs; smallest share: the least-served replica's count against an even split (1.00 = "
            "even)." % (so.get("replica_threads", 1), meta["threads"], meta["cpus"]))
    return lines + ["", note, ""]


def _memory_lines(mem, results):
    lines = ["| keys | value B | entries in L1 | load s | RSS before → after MiB | scalecache_l1_bytes MiB "
             "| RSS B / entry | overhead B / entry beyond key+value (RSS) | (l1_bytes) | note |",
             "|---:|---:|---:|---:|---|---:|---:|---:|---:|---|"]
    for c in mem["cases"]:
        if c.get("failed"):
            lines.append("| %s | %d | **failed**: `%s` |%s" % ("{:,}".format(c["keys_wanted"]), c["value_bytes"],
                                                             _cell(c["failed"], 400), " |" * 7))
            continue
        lines.append("| %s | %d | %s | %.1f | %.0f → %.0f | %.1f | %.0f | %.0f | %.0f | %s |" % (
            "{:,}".format(c["keys_wanted"]), c["value_bytes"], "{:,}".format(c["entries"]),
            c["load_seconds"], c["rss_before_mib"], c["rss_after_mib"], c["l1_bytes_mib"],
            c["rss_per_entry"], c["rss_overhead_per_entry"], c["l1_overhead_per_entry"],
            "; ".join(n for n in (c["cut"], None if c["loaded_in_time"] else
                                  "%s of %s loaded within the time cap" % ("{:,}".format(c["entries"]),
                                                                           "{:,}".format(c["keys_asked"])))
                      if n)))
    return lines + [""]


def _micro_lines(micro, results):
    threads = sorted({r["threads"] for r in micro["rows"]})
    lines = ["| operation | " + " | ".join("%d thread%s M ops/s" % (t, "s" if t > 1 else "") for t in threads) + " |",
             "|---|" + "---:|" * len(threads)]
    for name in dict.fromkeys(r["name"] for r in micro["rows"]):
        by_t = {r["threads"]: r for r in micro["rows"] if r["name"] == name}
        lines.append("| %s | %s |" % (name, " | ".join(
            _fmt(by_t[t]["mops"] if t in by_t else None, "%.2f") for t in threads)))
    return lines + ["", "%s CPUs on this machine: more threads than CPUs measure contention, not scaling."
                    % micro["context"].get("num_cpus"), ""]


SECTIONS = [
    ("matrix", "Throughput, latency, CPU, memory", _matrix_lines),
    ("stampede", "Stampede", _stampede_lines),
    ("scaleout", "Scale-out: scalecache replicas behind the project's NGINX config (L1 hits)", _scaleout_lines),
    ("topology", "Topology: one Redis against a Redis Cluster (L1 off)", topology.markdown_lines),
    ("memory", "Memory: L1 only, keys loaded through HTTP (one miss each)", _memory_lines),
    ("micro", "L1 micro-benchmark (Google Benchmark, 100k entries of 100 B, 16 shards)", _micro_lines),
    ("worker", "Worker tier: misses through the queue vs the in-process origin", worker.lines),
]


def markdown(results):
    meta = results["meta"]
    lines = ["# scalecache bench: %s%s" % (meta["date"], " (quick check, not figures)" if meta["quick"] else ""), "",
             "Machine: %s CPUs, kernel %s; scalecache %s. Every server runs **%d threads/workers**; "
             "wrk %d thread, %d keep-alive connections (no Connection header sent), %.0f s warm-up + "
             "%.0f s measured, %d interleaved round(s), medians shown."
             % (meta["cpus"], meta["kernel"], meta.get("scalecache_commit") or "?", meta["threads"],
                meta["wrk_threads"], meta["connections"], meta["warmup_s"], meta["duration_s"], meta["rounds"]),
             ""]
    for key, title, render in SECTIONS:
        section = results.get(key)
        if not section:
            continue
        lines += ["## " + title, ""]
        if section.get("failed"):
            lines += ["**Failed:** `%s`" % _cell(section["failed"], 1500), ""]
        elif section.get("skipped"):
            lines += ["Skipped: %s" % section["skipped"], ""]
        else:
            lines += render(section, results)
    tg = results.get("targets")
    if tg:
        lines += ["## Targets, each a ratio from this run", "", "| target | measured | verdict |",
                  "|---|---|---|"]
        lines += ["| %s | %s | %s |" % (t["target"], t["shown"], _verdict(t["pass"])) for t in tg]
        lines.append("")
    timings = results.get("timings_s", {})
    lines += ["Runtime: " + ", ".join("%s %.0f s" % (k, v) for k, v in timings.items()), ""]
    return "\n".join(lines)


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    rows = [r for r in results["matrix"].get("rows", []) if "rps" in r]
    if not rows:
        return
    labels = [r["label"].replace(" (", "\n(") for r in rows]
    colours = ["#1f77b4" if r["name"].startswith("scalecache") else "#999999" for r in rows]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 8), sharex=True)
    top.bar(labels, [r["rps"] for r in rows], color=colours)
    top.set_ylabel("requests/s")
    top.set_title("scalecache vs alternatives: %d server threads, wrk 1 thread x %d connections (%s)"
                  % (results["meta"]["threads"], results["meta"]["connections"], results["meta"]["date"]))
    for i, r in enumerate(rows):
        top.text(i, r["rps"], "{:,.0f}".format(r["rps"]), ha="center", va="bottom", fontsize=8)
    bottom.bar(labels, [r["p99_ms"] for r in rows], color=colours)
    bottom.set_ylabel("p99 latency, ms (log)")
    bottom.set_yscale("log")
    bottom.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    bottom.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    for i, r in enumerate(rows):
        bottom.text(i, r["p99_ms"], "%.2f" % r["p99_ms"], ha="center", va="bottom", fontsize=8)
    plt.setp(bottom.get_xticklabels(), rotation=30, ha="right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def update_benchmarks_md(path, figures):
    """Replace the figures block of BENCHMARKS.md (the rest is written by hand)."""
    figures = figures.replace("# scalecache bench:", "### Latest run:", 1).replace("\n## ", "\n#### ")
    block = "%s\n\n%s\n%s" % (BEGIN, figures, END)
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            text = head + block + rest.split(END, 1)[1]
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
    else:
        text = "# Benchmarks\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)
