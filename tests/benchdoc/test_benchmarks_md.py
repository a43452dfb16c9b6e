"""BENCHMARKS.md's hand-written reading quotes its run exactly.

The figures block of BENCHMARKS.md is generated from bench/results/latest.json;
the prose after it ("What the figures mean") is written by hand about the same
run. Each figure that prose quotes from that run is listed here with how it
follows from latest.json, formatted as the prose writes it; the prose must
contain it (whitespace and line breaks aside). After a new `make bench`, the
prose is rewritten to the new figures, or this test says which quote is stale.
"""
import difflib
import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "BENCHMARKS.md"
RESULTS = REPO / "bench" / "results" / "latest.json"
END_OF_GENERATED = "<!-- bench:figures:end -->"


def hand_written() -> str:
    text = DOC.read_text()
    assert END_OF_GENERATED in text, "the figures block of BENCHMARKS.md lost its end marker"
    return " ".join(text.split(END_OF_GENERATED, 1)[1].split())


def quotes(r: dict) -> list[str]:
    m = {row["name"]: row for row in r["matrix"]["rows"] if "rps" in row}
    l1, l2, miss, pc = m["scalecache_l1"], m["scalecache_l2"], m["scalecache_miss"], m["nginx_proxy_cache"]
    ph, flask = m["pistache_hello"], m["flask"]
    st = {s["label"]: s for s in r["stampede"]["scenarios"]}
    nginx_max = max(s["max_s"] for label, s in st.items() if label.startswith("NGINX"))
    so = {row["replicas"]: row["rps"] for row in r["scaleout"]["rows"]}
    mem = {(c["keys_wanted"], c["value_bytes"]): c for c in r["memory"]["cases"] if not c.get("failed")}
    l1_acc = [c["l1_overhead_per_entry"] for c in mem.values()]
    big = [c["rss_overhead_per_entry"] for (_, size), c in mem.items() if size == 10240]
    date = r["meta"]["date"]
    return [
        f"after the run of {date[:16]} UTC (service at commit `{r['meta']['scalecache_commit']}`",
        f"scalecache answered {l1['rps'] / pc['rps']:.2f}× NGINX proxy_cache's requests/s",
        f"and {l1['rps'] / ph['rps']:.2f}× the Pistache hello ceiling",
        f"({l1['p99_ms']:.2f} ms against proxy_cache's {pc['p99_ms']:.2f} ms)",
        f"CPU per request was {l1['cpu_s_per_10k'] / pc['cpu_s_per_10k']:.2f}× proxy_cache's "
        f"({l1['cpu_s_per_10k']:.3f} against {pc['cpu_s_per_10k']:.3f} CPU s per 10k requests)",
        f"**L2 hit = {l2['rps'] / l1['rps']:.2f}× L1**",
        f"**A full miss costs {miss['cpu_s_per_10k'] / l1['cpu_s_per_10k']:.1f}× the CPU of a hit** "
        f"({miss['cpu_s_per_10k']:.2f} CPU s per 10k requests, scalecache and its Redis, against "
        f"{l1['cpu_s_per_10k']:.3f}) and runs at {miss['rps'] / 1000:.1f}k req/s",
        f"the 49 waiters are answered at {st['scalecache x3 (one Redis)']['max_s']:.2f} s",
        f"so they get their answer at {nginx_max:.1f} s",
        f"gunicorn's 2 sync workers makes {st['Flask + Redis, gunicorn']['calls_per_key']:.0f} calls",
        f"{so[1] / 1000:.1f}k req/s with one replica, {so[2] / 1000:.1f}k and {so[3] / 1000:.1f}k with two and three",
        f"accounting is {min(l1_acc):.0f}–{max(l1_acc):.0f} B per entry beyond key and value",
        f"RSS grows {mem[(1000000, 100)]['rss_overhead_per_entry']:.0f} B per entry beyond key and value at 1M "
        f"keys ({mem[(100000, 100)]['rss_overhead_per_entry']:.0f} B at 100k",
        f"with 10 KB values {min(big):.0f}–{max(big):.0f} B ({min(big) / 10240 * 100:.0f}–"
        f"{max(big) / 10240 * 100:.0f} % of the value)",
        f"serves {flask['rps'] / pc['rps']:.2f}× what NGINX does, at "
        f"{flask['cpu_s_per_10k'] / pc['cpu_s_per_10k']:.0f}× its CPU per request; scalecache's L1 serves "
        f"{l1['rps'] / flask['rps']:.0f}× Flask's throughput",
        f"| {l1['p99_ms']:.2f} / {pc['p99_ms']:.2f} ms |",
        f"| {miss['rps']:,.0f}, {miss['cpu_s_per_10k']:.2f} |",
    ]


@pytest.mark.parametrize("index", range(len(quotes(json.loads(RESULTS.read_text())))))
def test_prose_quotes_the_latest_run(index):
    results = json.loads(RESULTS.read_text())
    quote = " ".join(quotes(results)[index].split())
    text = hand_written()
    assert quote in text, (
        f"BENCHMARKS.md's hand-written part does not say {quote!r}, which is what "
        f"bench/results/latest.json ({results['meta']['date']}) gives; nearest: "
        f"{difflib_nearest(text, quote)!r}")


def difflib_nearest(text: str, quote: str) -> str:
    """The stretch of text most like the quote, starting where its first word does."""
    words = quote.split()
    head = re.escape(words[0]) if words else ""
    starts = [m.start() for m in re.finditer(head, text)] or [0]
    candidates = [text[i:i + len(quote)] for i in starts]
    return max(candidates, key=lambda c: difflib.SequenceMatcher(None, c, quote).ratio())
