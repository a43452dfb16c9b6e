#!/usr/bin/env python3
"""Policy checks on rendered Kubernetes manifests (helm template / kustomize build output).

For every file given (multi-document YAML):
  * every container of every workload has CPU and memory requests and limits,
    readiness and liveness probes (helm test pods are exempt from probes),
    runs as non-root, has a read-only root filesystem, no privilege
    escalation, all capabilities dropped and a RuntimeDefault seccomp profile,
    and a pinned image tag (no `latest`, no missing tag);
  * workload selectors match their pod template labels;
  * Service, PodDisruptionBudget, NetworkPolicy and ServiceMonitor selectors
    select something that exists in the same output;
  * Service targetPorts exist on the containers of the pods they select;
    Ingress and HTTPRoute backends name an existing Service and port;
  * an HPA and a KEDA ScaledObject never target the same Deployment, a scaled
    Deployment has no `replicas`, and a CPU-utilization HPA has CPU requests on
    every container it scales;
  * the scalecache Deployment rolls with maxUnavailable 0, carries the
    checksum/config annotation, and its terminationGracePeriodSeconds exceeds
    preStop sleep + shutdown.drain_seconds + shutdown.grace_seconds of the
    mounted configuration, and it takes SCALECACHE_ADMIN_TOKEN from a Secret
    with nothing (config or env) opening purges to anyone
    (admin.allow_unauthenticated_purge);
  * a worker Deployment (`scalecache worker`) mounts a configuration whose
    origin.kind is queue (else no job ever reaches it), outlives its grace
    period on SIGTERM, is not handed the admin token, and is covered by a
    NetworkPolicy that lets traffic in on its metrics port only and lets it
    out only to listed destinations.
  * Redis: no password in a ConfigMap or as a plain env value (Secrets
    only); the mode's keys are set (cluster seeds, sentinel master and
    nodes); no loopback redis.url and no other container in a scalecache
    pod (TLS is scalecache's own, no proxy sidecar); redis.tls files come
    from a Secret volume mounted read-only into the container that reads
    them (a ca_file outside any volume is the image's CA bundle); an
    in-chart Redis Cluster (seeds naming a StatefulSet's pods) has
    every pod in the seeds, cluster mode on without full coverage, a headless
    Service publishing not-ready pods, a PodDisruptionBudget, preferred pod
    anti-affinity, and NetworkPolicies that let its pods reach each other on
    the cluster bus and scalecache reach them.

Usage: policy.py FILE...   (exit 1 when any check fails)
"""
import sys

import yaml

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def name_of(obj):
    return f"{obj['kind']}/{obj['metadata']['name']}"


def pod_spec(obj):
    if obj["kind"] == "Pod":
        return obj["spec"]
    if obj["kind"] in WORKLOADS:
        return obj["spec"]["template"]["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def pod_labels(obj):
    if obj["kind"] == "Pod":
        return obj["metadata"].get("labels", {})
    if obj["kind"] in WORKLOADS:
        return obj["spec"]["template"]["metadata"].get("labels", {})
    return {}


def is_test_hook(obj):
    hooks = obj["metadata"].get("annotations", {}).get("helm.sh/hook", "")
    return "test" in [h.strip() for h in hooks.split(",")]


def matches(selector, labels):
    """LabelSelector (matchLabels / matchExpressions) or plain map against labels."""
    if selector is None:
        return False
    if "matchLabels" in selector or "matchExpressions" in selector:
        ml = selector.get("matchLabels", {}) or {}
        exprs = selector.get("matchExpressions", []) or []
    else:
        ml, exprs = selector, []
    if not ml and not exprs:
        return True
    if any(labels.get(k) != v for k, v in ml.items()):
        return False
    for e in exprs:
        key, op, vals = e["key"], e["operator"], e.get("values", [])
        if op == "In" and labels.get(key) not in vals:
            return False
        if op == "NotIn" and labels.get(key) in vals:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


class Checker:
    def __init__(self, path, docs):
        self.path, self.docs, self.errors = path, docs, []

    def fail(self, obj, msg):
        self.errors.append(f"{self.path}: {name_of(obj) if obj else '-'}: {msg}")

    def of_kind(self, *kinds):
        return [d for d in self.docs if d.get("kind") in kinds]

    def pods(self):
        return [d for d in self.docs if pod_spec(d) is not None]

    # -- containers ------------------------------------------------------
    def containers(self):
        for obj in self.pods():
            spec = pod_spec(obj)
            psc = spec.get("securityContext", {}) or {}
            for c in spec.get("initContainers", []) + spec.get("containers", []):
                self.container(obj, psc, c)
            if not spec.get("containers"):
                self.fail(obj, "no containers")

    def container(self, obj, psc, c):
        where = f"container {c['name']}"
        res = c.get("resources", {}) or {}
        for kind in ("requests", "limits"):
            for r in ("cpu", "memory"):
                if r not in (res.get(kind) or {}):
                    self.fail(obj, f"{where}: no {kind}.{r}")
        if not is_test_hook(obj) and obj["kind"] not in ("Job", "CronJob"):
            for probe in ("readinessProbe", "livenessProbe"):
                if not c.get(probe):
                    self.fail(obj, f"{where}: no {probe}")
        sc = c.get("securityContext", {}) or {}

        def eff(key):
            return sc.get(key, psc.get(key))
        if eff("runAsNonRoot") is not True:
            self.fail(obj, f"{where}: runAsNonRoot is not true")
        uid = eff("runAsUser")
        if uid is not None and uid == 0:
            self.fail(obj, f"{where}: runAsUser 0")
        if sc.get("readOnlyRootFilesystem") is not True:
            self.fail(obj, f"{where}: readOnlyRootFilesystem is not true")
        if sc.get("allowPrivilegeEscalation") is not False:
            self.fail(obj, f"{where}: allowPrivilegeEscalation is not false")
        if sc.get("privileged"):
            self.fail(obj, f"{where}: privileged")
        if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
            self.fail(obj, f"{where}: capabilities.drop lacks ALL")
        if (sc.get("capabilities") or {}).get("add"):
            self.fail(obj, f"{where}: adds capabilities")
        seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            self.fail(obj, f"{where}: seccompProfile is {seccomp!r}, want RuntimeDefault")
        image = c.get("image", "")
        last = image.rsplit("/", 1)[-1]
        if "@" not in last:
            if ":" not in last:
                self.fail(obj, f"{where}: image {image!r} has no tag")
            elif last.split(":", 1)[1] == "latest":
                self.fail(obj, f"{where}: image {image!r} uses latest")

    # -- selectors ------------------------------------------------------------
    def selectors(self):
        for obj in self.of_kind(*WORKLOADS):
            sel = obj["spec"].get("selector")
            if obj["kind"] != "Job" and not (sel or {}).get("matchLabels") and not (sel or {}).get("matchExpressions"):
                self.fail(obj, "no selector")
            elif sel and not matches(sel, pod_labels(obj)):
                self.fail(obj, f"selector {sel} does not match template labels {pod_labels(obj)}")
        workloads = [d for d in self.pods() if not is_test_hook(d)]
        for kind in ("Service", "PodDisruptionBudget", "NetworkPolicy"):
            for obj in self.of_kind(kind):
                sel = obj["spec"].get("selector") if kind != "NetworkPolicy" else obj["spec"].get("podSelector")
                if not sel:
                    self.fail(obj, "empty selector (selects every pod)")
                    continue
                if not any(matches(sel, pod_labels(w)) for w in workloads):
                    self.fail(obj, f"selector {sel} matches no pod template in this output")
        for obj in self.of_kind("ServiceMonitor"):
            sel = obj["spec"].get("selector", {})
            if not any(matches(sel, s["metadata"].get("labels", {})) for s in self.of_kind("Service")):
                self.fail(obj, f"selector {sel} matches no Service")
            ports = {p.get("name") for s in self.of_kind("Service") for p in s["spec"]["ports"]}
            for ep in obj["spec"].get("endpoints", []):
                if ep.get("port") and ep["port"] not in ports:
                    self.fail(obj, f"endpoint port {ep['port']!r} is no Service port name")

    # -- ports ------------------------------------------------------------------
    def ports(self):
        workloads = [d for d in self.pods() if not is_test_hook(d)]
        services = {s["metadata"]["name"]: s for s in self.of_kind("Service")}
        for svc in services.values():
            selected = [w for w in workloads if matches(svc["spec"].get("selector") or {"x": None}, pod_labels(w))]
            cports = [p for w in selected for c in pod_spec(w)["containers"] for p in c.get("ports", [])]
            for p in svc["spec"]["ports"]:
                target = p.get("targetPort", p["port"])
                if isinstance(target, str):
                    ok = any(cp.get("name") == target for cp in cports)
                else:
                    ok = any(cp.get("containerPort") == target for cp in cports)
                if not ok:
                    self.fail(svc, f"targetPort {target!r} exists on no container of the selected pods")
                if not p.get("name"):
                    self.fail(svc, f"port {p['port']} has no name")
        for ing in self.of_kind("Ingress"):
            for rule in ing["spec"].get("rules", []):
                for path in rule.get("http", {}).get("paths", []):
                    svc = path["backend"].get("service", {})
                    self.backend(ing, services, svc.get("name"), svc.get("port", {}).get("name"),
                                 svc.get("port", {}).get("number"))
        for route in self.of_kind("HTTPRoute"):
            for rule in route["spec"].get("rules", []):
                for ref in rule.get("backendRefs", []):
                    self.backend(route, services, ref["name"], None, ref.get("port"))
        for pod in workloads:
            names = {p.get("name") for c in pod_spec(pod)["containers"] for p in c.get("ports", [])}
            for c in pod_spec(pod)["containers"]:
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    for action in ("httpGet", "tcpSocket"):
                        port = ((c.get(probe) or {}).get(action) or {}).get("port")
                        if isinstance(port, str) and port not in names:
                            self.fail(pod, f"{probe} uses port {port!r}, not a container port name")

    def backend(self, obj, services, name, port_name, port_number):
        svc = services.get(name)
        if svc is None:
            self.fail(obj, f"backend Service {name!r} not in this output")
            return
        ports = svc["spec"]["ports"]
        if port_name and not any(p.get("name") == port_name for p in ports):
            self.fail(obj, f"backend port name {port_name!r} not on Service {name}")
        if port_number and not any(p["port"] == port_number for p in ports):
            self.fail(obj, f"backend port {port_number} not on Service {name}")

    # -- autoscaling ------------------------------------------------------------
    def autoscaling(self):
        deployments = {d["metadata"]["name"]: d for d in self.of_kind("Deployment")}
        targets = {}
        for obj in self.of_kind("HorizontalPodAutoscaler", "ScaledObject"):
            ref = obj["spec"]["scaleTargetRef"]
            kind = ref.get("kind", "Deployment")
            key = (kind, ref["name"])
            if key in targets:
                self.fail(obj, f"{kind}/{ref['name']} is also scaled by {targets[key]}: HPA and ScaledObject must never share a target")
            targets[key] = name_of(obj)
            dep = deployments.get(ref["name"]) if kind == "Deployment" else None
            if dep is None:
                self.fail(obj, f"scale target {kind}/{ref['name']} not in this output")
                continue
            if "replicas" in dep["spec"]:
                self.fail(dep, f"has spec.replicas while {name_of(obj)} scales it (helm upgrade would fight the autoscaler)")
            if obj["kind"] == "HorizontalPodAutoscaler":
                lo, hi = obj["spec"].get("minReplicas", 1), obj["spec"]["maxReplicas"]
                if lo > hi:
                    self.fail(obj, f"minReplicas {lo} > maxReplicas {hi}")
                for m in obj["spec"].get("metrics", []):
                    if m.get("type") == "Resource" and m["resource"]["target"].get("type") == "Utilization":
                        res = m["resource"]["name"]
                        for c in pod_spec(dep)["containers"]:
                            if res not in ((c.get("resources") or {}).get("requests") or {}):
                                self.fail(obj, f"{res} utilization target but container {c['name']} has no {res} request")

    # -- scalecache specifics ---------------------------------------------------
    def scalecache(self):
        configmaps = {c["metadata"]["name"]: c for c in self.of_kind("ConfigMap")}
        for dep in self.of_kind("Deployment"):
            spec = dep["spec"]["template"]["spec"]
            app = [c for c in spec["containers"] if c["name"] == "scalecache"]
            if not app:
                continue
            c = app[0]
            ru = (dep["spec"].get("strategy") or {}).get("rollingUpdate") or {}
            if (dep["spec"].get("strategy") or {}).get("type", "RollingUpdate") != "RollingUpdate" or ru.get("maxUnavailable") not in (0, "0%"):
                self.fail(dep, "scalecache must roll with maxUnavailable 0")
            if "checksum/config" not in (dep["spec"]["template"]["metadata"].get("annotations") or {}):
                self.fail(dep, "no checksum/config annotation on the pod template")
            if c.get("imagePullPolicy") != "IfNotPresent":
                self.fail(dep, f"scalecache imagePullPolicy is {c.get('imagePullPolicy')!r}, want IfNotPresent")
            if spec.get("topologySpreadConstraints") is None:
                self.fail(dep, "no topologySpreadConstraints")
            sleep = (((c.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}).get("seconds", 0)
            if ((c.get("lifecycle") or {}).get("preStop") or {}).get("exec"):
                self.fail(dep, "preStop exec needs a shell the image does not have; use the sleep action")
            cm_name = next((v["configMap"]["name"] for v in spec.get("volumes", []) if "configMap" in v), None)
            cfg = {}
            if cm_name in configmaps:
                cfg = yaml.safe_load(configmaps[cm_name]["data"].get("scalecache.yaml", "")) or {}
            else:
                self.fail(dep, f"config ConfigMap {cm_name!r} not in this output")
            shutdown = cfg.get("shutdown", {}) or {}
            need = sleep + shutdown.get("drain_seconds", 5) + shutdown.get("grace_seconds", 10)
            tgps = spec.get("terminationGracePeriodSeconds", 30)
            if tgps <= need:
                self.fail(dep, f"terminationGracePeriodSeconds {tgps} <= preStop {sleep} + drain + grace = {need}")
            env = {e["name"] for e in c.get("env", [])}
            token = next((e for e in c.get("env", []) if e["name"] == "SCALECACHE_ADMIN_TOKEN"), None)
            if not (token and ((token.get("valueFrom") or {}).get("secretKeyRef") or {}).get("key")):
                self.fail(dep, "SCALECACHE_ADMIN_TOKEN does not come from a Secret: purges would be refused (403)")
            open_env = [e for e in c.get("env", []) if e["name"] == "SCALECACHE_ADMIN_ALLOW_UNAUTHENTICATED_PURGE"]
            if (cfg.get("admin", {}) or {}).get("allow_unauthenticated_purge") or \
                    any(str(e.get("value", "")).lower() == "true" for e in open_env):
                self.fail(dep, "admin.allow_unauthenticated_purge is set: anyone reaching a pod could purge")
            if (cfg.get("server", {}) or {}).get("threads", 0) == 0 and "SCALECACHE_SERVER_THREADS" not in env:
                # Allowed: the binary then reads cgroup cpu.max; it still needs a CPU limit.
                if "cpu" not in ((c.get("resources") or {}).get("limits") or {}):
                    self.fail(dep, "threads follow the CPU limit, but the container has none")

    # -- the worker tier ---------------------------------------------------------
    def workers(self):
        configmaps = {c["metadata"]["name"]: c for c in self.of_kind("ConfigMap")}
        policies = self.of_kind("NetworkPolicy")
        for dep in self.of_kind("Deployment"):
            spec = dep["spec"]["template"]["spec"]
            for c in spec["containers"]:
                if (c.get("args") or [None])[0] != "worker":
                    continue
                cm_name = next((v["configMap"]["name"] for v in spec.get("volumes", []) if "configMap" in v), None)
                cfg = yaml.safe_load(configmaps[cm_name]["data"].get("scalecache.yaml", "")) if cm_name in configmaps else {}
                if ((cfg or {}).get("origin") or {}).get("kind") != "queue":
                    self.fail(dep, "workers run but the serving configuration's origin.kind is not queue: no job reaches them")
                grace = ((cfg or {}).get("shutdown") or {}).get("grace_seconds", 10)
                if spec.get("terminationGracePeriodSeconds", 30) <= grace:
                    self.fail(dep, f"terminationGracePeriodSeconds {spec.get('terminationGracePeriodSeconds', 30)} <= "
                                   f"shutdown.grace_seconds {grace}: held jobs would be killed, not handed back")
                if any(e["name"] == "SCALECACHE_ADMIN_TOKEN" for e in c.get("env", [])):
                    self.fail(dep, "a worker is handed the admin token it never uses")
                labels = pod_labels(dep)
                covering = [np for np in policies if matches(np["spec"].get("podSelector"), labels)]
                if not covering and policies:
                    self.fail(dep, "no NetworkPolicy covers the workers")
                for np in covering:
                    for rule in np["spec"].get("ingress") or []:
                        ports = [p.get("port") for p in rule.get("ports") or []]
                        if ports != ["metrics"]:
                            self.fail(np, f"worker ingress allows ports {ports or 'all'}: only metrics scraping may reach a worker")
                    for rule in np["spec"].get("egress") or []:
                        if not rule.get("to"):
                            self.fail(np, "worker egress rule without `to`: workers may reach only DNS, Redis and the origin")

    # -- Redis topology, secrets, TLS, in-chart cluster ----------------------------
    SECRET_ENV = ("SCALECACHE_REDIS_PASSWORD", "SCALECACHE_REDIS_SENTINEL_PASSWORD", "SCALECACHE_ADMIN_TOKEN")

    def redis(self):
        configmaps = {c["metadata"]["name"]: c for c in self.of_kind("ConfigMap")}
        for dep in self.of_kind("Deployment"):
            spec = dep["spec"]["template"]["spec"]
            apps = [c for c in spec["containers"] if c["name"] in ("scalecache", "worker")]
            if not apps:
                continue
            cm_name = next((v["configMap"]["name"] for v in spec.get("volumes", []) if "configMap" in v), None)
            cfg = yaml.safe_load(configmaps[cm_name]["data"].get("scalecache.yaml", "")) if cm_name in configmaps else {}
            rc = (cfg or {}).get("redis") or {}
            if rc.get("password") or (rc.get("sentinel") or {}).get("password") or "@" in str(rc.get("url", "")):
                self.fail(dep, "a Redis password is in the ConfigMap: it belongs in a Secret")
            for c in apps:
                for e in c.get("env", []):
                    if e["name"] in self.SECRET_ENV and "value" in e:
                        self.fail(dep, f"{e['name']} is a plain value: it must come from a Secret")
            mode = rc.get("mode", "standalone")
            if mode == "cluster" and not rc.get("nodes"):
                self.fail(dep, "redis.mode cluster without seed nodes")
            if mode == "sentinel" and not ((rc.get("sentinel") or {}).get("nodes") and (rc.get("sentinel") or {}).get("master_name")):
                self.fail(dep, "redis.mode sentinel without sentinel nodes and master name")
            url = str(rc.get("url", ""))
            hostport = url.split("://", 1)[-1].split("/", 1)[0]
            if hostport.split(":")[0] in ("127.0.0.1", "localhost"):
                self.fail(dep, f"redis.url points at {hostport}: nothing in the pod serves Redis (TLS is scalecache's own)")
            others = [c["name"] for c in spec.get("initContainers", []) + spec["containers"] if c not in apps]
            if others:
                self.fail(dep, f"containers besides scalecache/worker: {others} (no proxy sidecar: TLS is in-process)")
            for c in apps:
                self.tls_files(dep, spec, c, rc.get("tls") or {})
            if mode == "cluster":
                self.in_chart_cluster(dep, rc["nodes"] if rc.get("nodes") else "")

    def tls_files(self, dep, spec, c, tls):
        secret_volumes = {v["name"] for v in spec.get("volumes", []) if "secret" in v}
        for key in ("ca_file", "cert_file", "key_file"):
            path = str(tls.get(key) or "")
            if not path:
                continue
            mount = next((m for m in c.get("volumeMounts", [])
                          if path.startswith(m["mountPath"].rstrip("/") + "/")), None)
            if not mount and key == "ca_file":
                continue  # the image's CA bundle
            if not mount or mount["name"] not in secret_volumes:
                self.fail(dep, f"{c['name']}: redis.tls.{key} {path} does not come from a Secret volume")
            elif mount.get("readOnly") is not True:
                self.fail(dep, f"{c['name']}: the Secret volume of redis.tls.{key} is not mounted read-only")

    def in_chart_cluster(self, dep, nodes):
        seeds = [n.rsplit(":", 1)[0] for n in nodes.split(",") if n]
        for sts in self.of_kind("StatefulSet"):
            name, svc_name = sts["metadata"]["name"], sts["spec"]["serviceName"]
            mine = [h for h in seeds if h.startswith(f"{name}-") and h.split(".")[1:2] == [svc_name]]
            if not mine:
                continue
            n = sts["spec"]["replicas"]
            want = {f"{name}-{i}" for i in range(n)}
            got = {h.split(".")[0] for h in mine}
            if got != want:
                self.fail(dep, f"cluster seeds name pods {sorted(got)}, the StatefulSet has {sorted(want)}")
            pspec = sts["spec"]["template"]["spec"]
            labels = pod_labels(sts)
            redis = next((c for c in pspec["containers"] if c["name"] == "redis"), {})
            args = " ".join(redis.get("args", []))
            for need in ("--cluster-enabled yes", "--cluster-require-full-coverage no", "--cluster-announce-ip"):
                if need not in args:
                    self.fail(sts, f"redis-server lacks {need}")
            svc = next((s for s in self.of_kind("Service") if s["metadata"]["name"] == svc_name), None)
            if not svc or svc["spec"].get("clusterIP") != "None" or not svc["spec"].get("publishNotReadyAddresses"):
                self.fail(sts, f"Service {svc_name} is not headless with publishNotReadyAddresses")
            if not any(matches(p["spec"]["selector"], labels) for p in self.of_kind("PodDisruptionBudget")):
                self.fail(sts, "no PodDisruptionBudget covers the Redis Cluster pods")
            if not ((pspec.get("affinity") or {}).get("podAntiAffinity") or {}).get("preferredDuringSchedulingIgnoredDuringExecution"):
                self.fail(sts, "no preferred pod anti-affinity for the Redis Cluster pods")
            policies = self.of_kind("NetworkPolicy")
            if not policies:
                continue
            mine_np = [p for p in policies if matches(p["spec"]["podSelector"], labels)]
            bus_in = any(any(matches(f.get("podSelector"), labels) for f in r.get("from", []))
                         and any(pt.get("port") in ("bus", 16379) for pt in r.get("ports", []))
                         for p in mine_np for r in p["spec"].get("ingress") or [])
            bus_out = any(any(matches(t.get("podSelector"), labels) for t in r.get("to", []))
                          and any(pt.get("port") in ("bus", 16379) for pt in r.get("ports", []))
                          for p in mine_np for r in p["spec"].get("egress") or [])
            if not (bus_in and bus_out):
                self.fail(sts, "the NetworkPolicy does not let the Redis Cluster pods reach each other on the cluster bus")
            app_labels = pod_labels(dep)
            reach = any(any(matches(t.get("podSelector"), labels) for t in r.get("to", []))
                        for p in policies if matches(p["spec"]["podSelector"], app_labels)
                        for r in p["spec"].get("egress") or [])
            if not reach:
                self.fail(dep, "the NetworkPolicy does not let scalecache reach the Redis Cluster pods")

    def run(self):
        if not self.docs:
            self.errors.append(f"{self.path}: no objects")
            return self.errors
        for d in self.docs:
            if not d.get("kind") or not (d.get("metadata") or {}).get("name"):
                self.errors.append(f"{self.path}: object without kind or name: {str(d)[:80]}")
                return self.errors
        self.containers()
        self.selectors()
        self.ports()
        self.autoscaling()
        self.scalecache()
        self.workers()
        self.redis()
        return self.errors


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    errors, objects = [], 0
    for path in sys.argv[1:]:
        docs = load(path)
        objects += len(docs)
        errors += Checker(path, docs).run()
    for e in errors:
        print(f"  - {e}")
    if errors:
        print(f"policy: {len(errors)} violation(s)")
        sys.exit(1)
    print(f"policy: {objects} objects in {len(sys.argv) - 1} file(s), no violation")


if __name__ == "__main__":
    main()
