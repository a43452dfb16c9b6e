"""Scale-out: 1, 2 and 3 scalecache replicas behind the project's NGINX
load-balancer config (deploy/nginx/scalecache.conf), L1 hits through it.

The project's file is a conf.d snippet for the compose stack. The bench uses
it as it is, with three substitutions: the upstream's `server scalecache:8080`
line becomes one line per replica (same parameters), `listen 80` becomes a free
loopback port and the access log goes to the run directory. Replicas run with
1 thread each (one CPU per pod, as in the chart), share one Redis, and the
balancer runs with the bench's worker count. How the balancer spread the
measured requests is counted on the replicas themselves (each one's
scalecache_http_requests_total{route="data"} before and after the run).
"""
import os
import re
import statistics

from . import procs, systems, wrk

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SNIPPET = os.path.join(REPO, "deploy", "nginx", "scalecache.conf")
UPSTREAM_SERVER = re.compile(r"^(\s*)server\s+scalecache:8080([^;]*);", re.M)
LISTEN = re.compile(r"^(\s*)listen\s+80\s*;", re.M)
ACCESS_LOG = re.compile(r"access_log\s+/var/log/nginx/access\.log")
REPLICA_THREADS = 1


def render_snippet(text, replica_ports, lb_port, access_log):
    """The project's snippet pointed at loopback replicas; None when it no longer matches."""
    if not (UPSTREAM_SERVER.search(text) and LISTEN.search(text)):
        return None

    def servers(match):
        indent, params = match.group(1), match.group(2)
        return "\n".join("%sserver 127.0.0.1:%d%s;" % (indent, port, params) for port in replica_ports)

    text = UPSTREAM_SERVER.sub(servers, text, count=1)
    text = LISTEN.sub(lambda m: "%slisten 127.0.0.1:%d;" % (m.group(1), lb_port), text, count=1)
    return ACCESS_LOG.sub("access_log " + access_log, text)


def data_requests(replica):
    """The replica's own count of GET /data requests."""
    return sum(v for name, v in systems.metrics(replica).items()
               if name.startswith("scalecache_http_requests_total{") and 'route="data"' in name)


def start_balancer(run_dir, workers, replica_ports, name):
    with open(SNIPPET) as f:
        original = f.read()
    port = procs.free_port()
    snippet = render_snippet(original, replica_ports, port, os.path.join(run_dir, name + "-access.log"))
    if snippet is None:
        raise LookupError("deploy/nginx/scalecache.conf no longer has `server scalecache:8080` and `listen 80`")
    snippet_path = os.path.join(run_dir, name + "-scalecache.conf")
    with open(snippet_path, "w") as f:
        f.write(snippet)
    svc = systems.start_nginx(run_dir, name, "nginx_lb.conf", workers, port=port, snippet=snippet_path)
    procs.wait_http(svc.url + "/lb-health", svc.processes[0])
    return svc


def run(run_dir, args, settings, log):
    if not os.path.exists(SNIPPET):
        return {"skipped": "deploy/nginx/scalecache.conf is not in the repository"}
    redis = systems.start_redis(run_dir, "redis-scaleout")
    common = settings(redis_url=redis.redis_url, origin_kind="simulated", origin_simulated_delay_ms=0,
                      cache_ttl_seconds=3600, cache_l1_ttl_seconds=3600)  # hits stay hits for the whole run
    replicas = [systems.start_scalecache(run_dir, args.bin, "scalecache-scaleout-%d" % i, REPLICA_THREADS, **common)
                for i in range(3)]
    rows = []
    try:
        # One balancer per replica count, all up at once, measured in interleaved rounds.
        balancers = {count: start_balancer(run_dir, args.threads, [r.port for r in replicas[:count]],
                                           "nginx-lb-%d" % count) for count in (1, 2, 3)}
        runs = {count: [] for count in balancers}
        for round_index in range(min(args.rounds, 2)):
            for count, lb in balancers.items():
                wrk.run(lb.url, "hit_keys.lua", ("k", 1000), args.warmup)
                member_pids = procs.tree([r.processes[0].pid for r in replicas[:count]] + [redis.processes[0].pid])
                lb_pids = lb.pids()
                served_before = [data_requests(r) for r in replicas[:count]]
                before = procs.cpu_ticks(member_pids + lb_pids)
                result = wrk.run(lb.url, "hit_keys.lua", ("k", 1000), args.duration)
                after = procs.cpu_ticks(member_pids + lb_pids)
                result["per_replica"] = [data_requests(r) - b for r, b in zip(replicas[:count], served_before)]
                result["cpu_replicas"] = procs.cpu_seconds_between(
                    {p: before.get(p, 0) for p in member_pids}, {p: after[p] for p in member_pids if p in after})
                result["cpu_lb"] = procs.cpu_seconds_between(
                    {p: before.get(p, 0) for p in lb_pids}, {p: after[p] for p in lb_pids if p in after})
                runs[count].append(result)
                log("scale-out round %d, %d replica(s): %.0f req/s" % (round_index + 1, count, result["rps"]))
        for count, lb in balancers.items():
            lb.stop()
            requests = sum(r["requests"] for r in runs[count])
            row = {"replicas": count,
                   "rps": statistics.median(r["rps"] for r in runs[count]),
                   "p99_ms": statistics.median(r["latency_us"]["p99"] for r in runs[count]) / 1000,
                   "errors": sum(r["errors_total"] for r in runs[count]),
                   "cpu_s_per_10k_replicas": sum(r["cpu_replicas"] for r in runs[count]) / requests * 10000,
                   "cpu_s_per_10k_lb": sum(r["cpu_lb"] for r in runs[count]) / requests * 10000}
            row["cpu_s_per_10k"] = row["cpu_s_per_10k_replicas"] + row["cpu_s_per_10k_lb"]
            # Requests each replica counted over the measured runs, and the smallest share
            # against an even split (1.0: perfectly even, 0: a replica got nothing).
            row["per_replica_requests"] = [int(sum(r["per_replica"][i] for r in runs[count])) for i in range(count)]
            served = sum(row["per_replica_requests"])
            row["min_share_of_even"] = (min(row["per_replica_requests"]) * count / served) if served else 0.0
            rows.append(row)
            log("scale-out %d replica(s): %.0f req/s, p99 %.2f ms, CPU s/10k: replicas %.3f + nginx %.3f; "
                "requests per replica %s" % (count, row["rps"], row["p99_ms"], row["cpu_s_per_10k_replicas"],
                                             row["cpu_s_per_10k_lb"], row["per_replica_requests"]))
    except LookupError as error:
        return {"skipped": str(error)}
    finally:
        for r in replicas:
            r.stop()
        redis.stop()
    return {"rows": rows, "replica_threads": REPLICA_THREADS}
