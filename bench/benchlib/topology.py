"""Topology: the shared tier on one Redis against a Redis Cluster of 3
masters, in the same run, with the same scalecache settings (L1 off, so every
request reaches Redis; simulated origin, 0 ms): L2-hit and full-miss req/s,
and what each request costs Redis, counted on the Redis side over the
measured run, every node of the topology summed:

- round trips: INFO stats total_reads_processed, one per batch of commands
  Redis read off a connection (a pipeline counts once, so batching under
  load brings it below the count of an idle miss);
- scripts: cmdstat_evalsha calls (a hit read by a plain GET runs none);
- commands: every cmdstat_* call, those scripts run included (INFO
  commandstats cannot tell them apart), health checks and topology reads
  left out.

The cluster has no replicas: a replica only copies its master's writes, and
on this machine it would take CPU from everything measured. Cluster, nodes
and scalecaches are started here on loopback, in the run directory, and
stopped after the section.
"""
import os
import statistics
import subprocess
import time

from . import procs, systems, wrk

HIT_KEYS = 1000  # k1..k1000, warmed before the hit rows, fresh for the whole run
MASTERS = 3
# Commands of health checks, topology reads and the bench itself, not of requests.
IGNORED = {"info", "ping", "cluster", "script", "auth", "command", "config", "client", "hello", "select",
           "subscribe", "replconf"}
CASES = (("l2_hit", "L2 hit (L1 off)", "hit_keys.lua"), ("miss", "full miss (origin 0 ms)", "unique_keys.lua"))


def redis_cli(port, *words):
    return subprocess.run(["redis-cli", "-p", str(port), *words], capture_output=True, text=True, timeout=10,
                          check=True).stdout


def counters(ports):
    """{reads, scripts, commands} summed over the nodes at `ports` (see the module's docstring)."""
    totals = {"reads": 0, "scripts": 0, "commands": 0}
    for port in ports:
        for line in redis_cli(port, "INFO", "stats").splitlines():
            if line.startswith("total_reads_processed:"):
                totals["reads"] += int(line.split(":")[1])
        for line in redis_cli(port, "INFO", "commandstats").splitlines():
            if not line.startswith("cmdstat_"):
                continue
            name = line[len("cmdstat_"):].split(":")[0].split("|")[0]
            calls = int(line.split("calls=")[1].split(",")[0])
            if name not in IGNORED:
                totals["commands"] += calls
            if name == "evalsha":
                totals["scripts"] += calls
    return totals


def cluster_port():
    """A free loopback port whose cluster bus port (port + 10000) is free too."""
    from helpers import port_open  # tests/lib, on the path through procs
    for _ in range(1000):
        port = procs.free_port()
        if port + 10000 <= 65535 and not port_open(port + 10000):
            return port
    raise RuntimeError("no loopback port with a free cluster bus port")


def start_cluster(run_dir, masters=MASTERS):
    """`masters` cluster-enabled redis-servers joined by `redis-cli --cluster create`; their Services."""
    nodes = []
    for i in range(masters):
        name = "redis-cluster-%d" % i
        port = cluster_port()
        d = systems._service_dir(run_dir, name)
        p = procs.start(name, ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--daemonize", "no", "--dir", d,
                               "--cluster-enabled", "yes", "--cluster-config-file", os.path.join(d, "nodes.conf"),
                               "--cluster-node-timeout", "5000",
                               "--maxmemory", "2gb", "--maxmemory-policy", "allkeys-lru"], run_dir)
        systems._wait_redis(port, p)
        nodes.append(systems.Service(name, port, [p]))
    subprocess.run(["redis-cli", "--cluster", "create", *["127.0.0.1:%d" % n.port for n in nodes],
                    "--cluster-replicas", "0", "--cluster-yes"], check=True, capture_output=True, timeout=60)
    deadline = time.monotonic() + 30
    while not all("cluster_state:ok" in redis_cli(n.port, "CLUSTER", "INFO") for n in nodes):
        if time.monotonic() > deadline:
            raise RuntimeError("the bench's Redis Cluster did not reach cluster_state:ok in 30 s")
        time.sleep(0.1)
    return nodes


def measure(topology, script, script_args, args, sources):
    """Warm-up, then one measured wrk run with the Redis-side counts per request."""
    service, ports = topology["service"], topology["ports"]
    warm_args = [script_args[0] + "-warm"] if script == "unique_keys.lua" else script_args
    if args.warmup > 0:
        wrk.run(service.url, script, warm_args, args.warmup)
    before, sources_before = counters(ports), sources(service)
    # The Redis nodes' CPU is charged too (they are in service.processes, so wrk.measure counts them).
    result = wrk.measure(service, script, script_args, 0, args.duration)
    after, sources_after = counters(ports), sources(service)
    requests = max(result["requests"], 1)
    for key in before:
        result[key + "_per_request"] = (after[key] - before[key]) / requests
    result["sources"] = {k: v - sources_before.get(k, 0.0) for k, v in sources_after.items()}
    return result


def run(run_dir, args, settings, log, sources):
    """`settings`: run.py's scalecache_settings; `sources`: answers by source of a scalecache."""
    common = {"origin_kind": "simulated", "origin_simulated_delay_ms": 0, "cache_l1_max_entries": 0,
              "cache_ttl_seconds": 3600, "cache_l1_ttl_seconds": 3600}
    redis = systems.start_redis(run_dir, "redis-topology")
    nodes = start_cluster(run_dir)
    topologies = []
    try:
        for label, extra, servers in (
                ("standalone", {"redis_url": redis.redis_url}, [redis]),
                ("cluster, %d masters" % len(nodes),
                 {"redis_mode": "cluster", "redis_nodes": ",".join("127.0.0.1:%d" % n.port for n in nodes)}, nodes)):
            service = systems.start_scalecache(run_dir, args.bin, "scalecache-topology-%d" % len(topologies),
                                               args.threads, **settings(**common, **extra))
            # Stopped after it (stop() goes from the last), charged to it.
            service.processes[:0] = [s.processes[0] for s in servers]
            topologies.append({"label": label, "service": service, "ports": [s.port for s in servers]})
        runs = {(t["label"], case): [] for t in topologies for case, _, _ in CASES}
        for round_index in range(args.rounds):
            for t in topologies:
                for case, case_label, script in CASES:
                    script_args = ("k", HIT_KEYS) if case == "l2_hit" else ("topo%d-r%d-%s" % (
                        len(t["ports"]), round_index, time.strftime("%H%M%S")),)
                    result = measure(t, script, list(script_args), args, sources)
                    runs[(t["label"], case)].append(result)
                    log("round %d topology %-20s %-24s %8.0f req/s  round trips %.2f, scripts %.2f, "
                        "commands %.2f per request" % (round_index + 1, t["label"], case_label, result["rps"],
                                                       result["reads_per_request"], result["scripts_per_request"],
                                                       result["commands_per_request"]))
    finally:
        for t in topologies:
            t["service"].stop()
        for server in [redis] + nodes:
            server.stop()
    rows = []
    for (label, case), results in runs.items():
        requests = sum(r["requests"] for r in results)
        rows.append({
            "topology": label, "case": case, "label": {name: text for name, text, _ in CASES}[case],
            "rps": statistics.median(r["rps"] for r in results),
            "rps_rounds": [round(r["rps"]) for r in results],
            "p99_ms": statistics.median(r["latency_us"]["p99"] for r in results) / 1000,
            "cpu_s_per_10k": sum(r["cpu_s"] for r in results) / max(requests, 1) * 10000,
            "errors": sum(r["errors_total"] for r in results),
            "requests": requests,
            "sources": {k: sum(r["sources"].get(k, 0) for r in results)
                        for k in sorted({k for r in results for k in r["sources"]})},
            **{key: sum(r[key] * r["requests"] for r in results) / max(requests, 1)
               for key in ("reads_per_request", "scripts_per_request", "commands_per_request")},
        })
    return {"rows": rows, "masters": len(nodes)}


def markdown_lines(section, results):
    lines = ["| topology | case | req/s | × standalone | p99 ms | CPU s / 10k req (scalecache + Redis) "
             "| round trips / req | scripts / req | commands / req (scripts' own included) | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    base = {r["case"]: r["rps"] for r in section["rows"] if r["topology"] == "standalone"}
    for r in section["rows"]:
        ratio = r["rps"] / base[r["case"]] if base.get(r["case"]) else None
        lines.append("| %s | %s | %s | %s | %.2f | %.3f | %.2f | %.2f | %.2f | %d |" % (
            r["topology"], r["label"], "{:,.0f}".format(r["rps"]), "%.2f×" % ratio if ratio else "–",
            r["p99_ms"], r["cpu_s_per_10k"], r["reads_per_request"], r["scripts_per_request"],
            r["commands_per_request"], r["errors"]))
    note = ("Counted on the Redis side over the measured runs, every node summed: round trips are "
            "INFO stats total_reads_processed (a pipeline is one, so the L2 read batcher brings a loaded "
            "miss below the 2 an idle one costs), scripts are EVALSHA calls (a hit on a key the replica "
            "has seen in Redis is a plain GET), commands include those scripts run. What %d CPUs can show: "
            "the %d masters, scalecache and wrk all share them, so the cluster adds no Redis capacity here; "
            "the rows show what slot routing costs per request (scalecache's CPU, round trips, scripts), "
            "not the throughput a cluster on its own machines would add." % (results["meta"]["cpus"],
                                                                              section.get("masters", 3)))
    return lines + ["", note, ""]
