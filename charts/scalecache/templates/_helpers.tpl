{{/* Names ---------------------------------------------------------------- */}}

{{- define "scalecache.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "scalecache.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "scalecache.redisName" -}}
{{- printf "%s-redis" (include "scalecache.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "scalecache.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "scalecache.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "scalecache.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Labels ---------------------------------------------------------------
Selector labels never change over the life of a release (Deployment and
StatefulSet selectors are immutable): name, instance and component only.
*/}}

{{- define "scalecache.selectorLabels" -}}
app.kubernetes.io/name: {{ include "scalecache.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end }}

{{- define "scalecache.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ include "scalecache.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end }}

{{- define "scalecache.workerSelectorLabels" -}}
app.kubernetes.io/name: {{ include "scalecache.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: worker
{{- end }}

{{- define "scalecache.commonLabels" -}}
helm.sh/chart: {{ include "scalecache.chart" . }}
app.kubernetes.io/part-of: scalecache
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ include "scalecache.imageTag" . | quote }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "scalecache.labels" -}}
{{ include "scalecache.selectorLabels" . }}
{{ include "scalecache.commonLabels" . }}
{{- end }}

{{- define "scalecache.workerLabels" -}}
{{ include "scalecache.workerSelectorLabels" . }}
{{ include "scalecache.commonLabels" . }}
{{- end }}

{{- define "scalecache.workerName" -}}
{{- printf "%s-worker" (include "scalecache.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "scalecache.redisLabels" -}}
{{ include "scalecache.redisSelectorLabels" . }}
{{ include "scalecache.commonLabels" . }}
{{- end }}

{{/* Image ----------------------------------------------------------------- */}}

{{- define "scalecache.imageTag" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag | toString }}
{{- if eq $tag "latest" }}
{{- fail "image.tag must be a fixed version, not latest (latest switches the pull policy to Always and breaks kind/minikube image loading)" }}
{{- end }}
{{- $tag }}
{{- end }}

{{- define "scalecache.image" -}}
{{- printf "%s:%s" .Values.image.repository (include "scalecache.imageTag" .) }}
{{- end }}

{{/* Secrets --------------------------------------------------------------- */}}

{{- define "scalecache.secretName" -}}
{{- include "scalecache.fullname" . }}
{{- end }}

{{- define "scalecache.adminSecretName" -}}
{{- default (include "scalecache.secretName" .) .Values.admin.existingSecret }}
{{- end }}

{{- define "scalecache.adminSecretKey" -}}
{{- if .Values.admin.existingSecret }}{{ .Values.admin.existingSecretKey }}{{ else }}admin-token{{ end }}
{{- end }}

{{- define "scalecache.redisSecretName" -}}
{{- default (include "scalecache.secretName" .) .Values.redis.auth.existingSecret }}
{{- end }}

{{- define "scalecache.redisSecretKey" -}}
{{- if .Values.redis.auth.existingSecret }}{{ .Values.redis.auth.existingSecretKey }}{{ else }}redis-password{{ end }}
{{- end }}

{{/* True when scalecache authenticates to Redis: always for the in-chart Redis
(it gets a generated password), for an external one only when a password or
an existing Secret is given (a random password would break a Redis without AUTH). */}}
{{- define "scalecache.redisAuth" -}}
{{- if or .Values.redis.enabled .Values.redis.auth.password .Values.redis.auth.existingSecret }}true{{ end }}
{{- end }}

{{/* A secret value that survives upgrades: the given value, else the one in the
live Secret (lookup; empty under `helm template`), else a new random one.
Never empty: an empty value in the live Secret is replaced too (an empty
admin token would leave scalecache refusing every purge). */}}
{{- define "scalecache.keepSecret" -}}
{{- $ctx := index . 0 }}{{ $key := index . 1 }}{{ $given := index . 2 }}
{{- if $given }}
{{- $given }}
{{- else }}
{{- $live := lookup "v1" "Secret" $ctx.Release.Namespace (include "scalecache.secretName" $ctx) }}
{{- $kept := "" }}
{{- if and $live $live.data (hasKey $live.data $key) }}
{{- $kept = index $live.data $key | b64dec }}
{{- end }}
{{- if $kept }}
{{- $kept }}
{{- else }}
{{- randAlphaNum 32 }}
{{- end }}
{{- end }}
{{- end }}

{{/* Configuration ---------------------------------------------------------- */}}

{{- define "scalecache.redisUrl" -}}
{{- if ne .Values.redis.mode "standalone" }}
{{- else if .Values.redis.enabled }}
{{- printf "redis://%s:6379/0" (include "scalecache.redisName" .) }}
{{- else if .Values.redis.tls.enabled }}
{{- /* scalecache speaks plain RESP to the stunnel sidecar on loopback; the database stays the URL's. */}}
{{- $u := urlParse .Values.redis.external.url }}
{{- printf "redis://127.0.0.1:%d%s" (int .Values.redis.tls.localPort) (default "/0" $u.path) }}
{{- else }}
{{- .Values.redis.external.url }}
{{- end }}
{{- end }}

{{/* True when scalecache has a Redis of any mode to talk to. */}}
{{- define "scalecache.hasRedis" -}}
{{- if or .Values.redis.enabled .Values.redis.external.url .Values.redis.external.nodes .Values.redis.external.sentinel.nodes }}true{{ end }}
{{- end }}

{{/* In-chart Redis Cluster: true when the release deploys it. */}}
{{- define "scalecache.redisCluster" -}}
{{- if and .Values.redis.enabled (eq .Values.redis.mode "cluster") }}true{{ end }}
{{- end }}

{{- define "scalecache.redisHeadlessName" -}}
{{- printf "%s-headless" (include "scalecache.redisName" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "scalecache.redisClusterSize" -}}
{{- mul (int .Values.redis.cluster.masters) (add 1 (int .Values.redis.cluster.replicasPerMaster)) }}
{{- end }}

{{/* Seed nodes scalecache starts from in mode cluster: every pod of the in-chart
cluster by its stable DNS name (headless Service), or the external list. */}}
{{- define "scalecache.redisNodes" -}}
{{- if include "scalecache.redisCluster" . }}
{{- $nodes := list }}
{{- range $i := until (int (include "scalecache.redisClusterSize" .)) }}
{{- $nodes = append $nodes (printf "%s-%d.%s.%s.svc:6379" (include "scalecache.redisName" $) $i (include "scalecache.redisHeadlessName" $) $.Release.Namespace) }}
{{- end }}
{{- join "," $nodes }}
{{- else }}
{{- join "," .Values.redis.external.nodes }}
{{- end }}
{{- end }}

{{- define "scalecache.sentinelSecretName" -}}
{{- default (include "scalecache.secretName" .) .Values.redis.external.sentinel.auth.existingSecret }}
{{- end }}

{{- define "scalecache.sentinelSecretKey" -}}
{{- if .Values.redis.external.sentinel.auth.existingSecret }}{{ .Values.redis.external.sentinel.auth.existingSecretKey }}{{ else }}sentinel-password{{ end }}
{{- end }}

{{/* True when scalecache authenticates to the sentinels (mode sentinel, a password or a Secret given). */}}
{{- define "scalecache.sentinelAuth" -}}
{{- $a := .Values.redis.external.sentinel.auth }}
{{- if and (eq .Values.redis.mode "sentinel") (or $a.password $a.existingSecret) }}true{{ end }}
{{- end }}

{{/* The server name stunnel checks: tls.serverName, else the host of external.url. */}}
{{- define "scalecache.redisTlsServerName" -}}
{{- default (urlParse .Values.redis.external.url).hostname .Values.redis.tls.serverName }}
{{- end }}

{{/* host:port stunnel connects to (external.url's, port 6379 when the URL has none). */}}
{{- define "scalecache.redisTlsConnect" -}}
{{- $u := urlParse .Values.redis.external.url }}
{{- if contains ":" $u.host }}{{ $u.host }}{{ else }}{{ printf "%s:6379" $u.host }}{{ end }}
{{- end }}

{{/* The scalecache.yaml the service reads: values.config plus the keys the chart owns. */}}
{{- define "scalecache.configFile" -}}
{{- $cfg := deepCopy .Values.config }}
{{- $redis := get $cfg "redis" | default dict }}
{{- /* mode only when not the default: a standalone render stays what it was. */}}
{{- if ne .Values.redis.mode "standalone" }}
{{- $_ := set $redis "mode" .Values.redis.mode }}
{{- end }}
{{- if eq .Values.redis.mode "standalone" }}
{{- $_ := set $redis "url" (include "scalecache.redisUrl" .) }}
{{- else if eq .Values.redis.mode "cluster" }}
{{- $_ := set $redis "nodes" (include "scalecache.redisNodes" .) }}
{{- else }}
{{- $_ := set $redis "sentinel" (dict "master_name" .Values.redis.external.sentinel.masterName "nodes" (join "," .Values.redis.external.sentinel.nodes)) }}
{{- end }}
{{- with .Values.redis.username }}
{{- $_ := set $redis "username" . }}
{{- end }}
{{- $_ := set $cfg "redis" $redis }}
{{- if .Values.worker.enabled }}
{{- /* With the worker tier the serving pods never call the origin: their misses become jobs. */}}
{{- $origin := get $cfg "origin" | default dict }}
{{- $_ := set $origin "kind" "queue" }}
{{- $_ := set $cfg "origin" $origin }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/* Shutdown budget: preStop pause + drain + grace + margin. */}}
{{- define "scalecache.terminationGracePeriod" -}}
{{- $sd := .Values.config.shutdown | default dict }}
{{- $drain := 5 }}{{ if hasKey $sd "drain_seconds" }}{{ $drain = int $sd.drain_seconds }}{{ end }}
{{- $grace := 10 }}{{ if hasKey $sd "grace_seconds" }}{{ $grace = int $sd.grace_seconds }}{{ end }}
{{- $need := add (int .Values.lifecycle.preStopSleepSeconds) $drain $grace }}
{{- $computed := add $need (int .Values.lifecycle.terminationMarginSeconds) }}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- $computed }}
{{- else if le (int .Values.terminationGracePeriodSeconds) $need }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed lifecycle.preStopSleepSeconds + config.shutdown.drain_seconds + config.shutdown.grace_seconds (%d), or in-flight requests are killed on scale-down" (int .Values.terminationGracePeriodSeconds) $need) }}
{{- else }}
{{- int .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/* Guards evaluated by every render. */}}
{{- define "scalecache.validate" -}}
{{- if and .Values.autoscaling.enabled .Values.keda.enabled }}
{{- fail "autoscaling.enabled and keda.enabled are mutually exclusive: KEDA creates its own HPA, and two autoscalers on one Deployment fight each other" }}
{{- end }}
{{- if and .Values.worker.autoscaling.enabled .Values.worker.keda.enabled }}
{{- fail "worker.autoscaling.enabled and worker.keda.enabled are mutually exclusive: KEDA creates its own HPA for the workers" }}
{{- end }}
{{- if and .Values.worker.enabled (not (include "scalecache.redisUrl" .)) }}
{{- fail "worker.enabled needs Redis in mode standalone (redis.enabled or redis.external.url): the job queue lives there" }}
{{- end }}
{{- $r := .Values.redis }}
{{- if and $r.enabled (or $r.external.url $r.external.nodes $r.external.sentinel.nodes) }}
{{- fail "redis.external.* is set while redis.enabled is true: choose the in-chart Redis or an external one" }}
{{- end }}
{{- if and $r.enabled (eq $r.mode "sentinel") }}
{{- fail "redis.mode sentinel needs an external Redis with sentinels (redis.enabled false, redis.external.sentinel.*): the chart deploys standalone or cluster only" }}
{{- end }}
{{- if and $r.enabled $r.username }}
{{- fail "redis.username is for an external Redis: the in-chart Redis has only the default user" }}
{{- end }}
{{- if and (not $r.enabled) (eq $r.mode "cluster") (not $r.external.nodes) }}
{{- fail "redis.mode cluster with redis.enabled false needs redis.external.nodes (seed nodes)" }}
{{- end }}
{{- if and (eq $r.mode "sentinel") (not (and $r.external.sentinel.masterName $r.external.sentinel.nodes)) }}
{{- fail "redis.mode sentinel needs redis.external.sentinel.masterName and redis.external.sentinel.nodes" }}
{{- end }}
{{- if and (ne $r.mode "standalone") $r.external.url }}
{{- fail (printf "redis.external.url is for mode standalone, but redis.mode is %s" $r.mode) }}
{{- end }}
{{- if and (ne $r.mode "cluster") $r.external.nodes }}
{{- fail (printf "redis.external.nodes is for mode cluster, but redis.mode is %s" $r.mode) }}
{{- end }}
{{- if and (ne $r.mode "sentinel") (or $r.external.sentinel.nodes $r.external.sentinel.masterName) }}
{{- fail (printf "redis.external.sentinel.* is for mode sentinel, but redis.mode is %s" $r.mode) }}
{{- end }}
{{- if $r.tls.enabled }}
{{- if ne $r.mode "standalone" }}
{{- fail (printf "redis.tls.enabled with redis.mode %s is not supported: %s nodes announce their own addresses and scalecache connects to those directly, past a sidecar with one fixed endpoint (docs/redis-topologies.md, TLS)" $r.mode $r.mode) }}
{{- end }}
{{- if or $r.enabled (not $r.external.url) }}
{{- fail "redis.tls.enabled needs an external Redis (redis.enabled false, redis.external.url): the sidecar connects to it" }}
{{- end }}
{{- if not $r.tls.existingSecret }}
{{- fail "redis.tls.enabled needs redis.tls.existingSecret (a Secret with ca.crt)" }}
{{- end }}
{{- end }}
{{- if include "scalecache.redisCluster" . }}
{{- if lt (int $r.cluster.masters) 3 }}
{{- fail "redis.cluster.masters must be at least 3 (Redis Cluster needs a majority of masters for failover)" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Environment for Redis secrets (scalecache and worker containers): never in the ConfigMap. */}}
{{- define "scalecache.redisSecretEnv" -}}
{{- if include "scalecache.redisAuth" . }}
- name: SCALECACHE_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "scalecache.redisSecretName" . }}
      key: {{ include "scalecache.redisSecretKey" . }}
{{- end }}
{{- if include "scalecache.sentinelAuth" . }}
- name: SCALECACHE_REDIS_SENTINEL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "scalecache.sentinelSecretName" . }}
      key: {{ include "scalecache.sentinelSecretKey" . }}
{{- end }}
{{- end }}

{{/* The stunnel sidecar (redis.tls.enabled), a native sidecar (an init container
with restartPolicy Always): up before scalecache starts, stopped after it.
deploy/stunnel/redis-tls-client.sh in the image writes stunnel's configuration
from these variables; tests/integration/test_redis_tls.py runs the same script. */}}
{{- define "scalecache.stunnelSidecar" -}}
{{- $t := .Values.redis.tls }}
- name: redis-tls
  image: "{{ $t.image.repository }}:{{ $t.image.tag }}"
  imagePullPolicy: {{ $t.image.pullPolicy }}
  restartPolicy: Always
  env:
    - name: STUNNEL_ACCEPT
      value: "127.0.0.1:{{ $t.localPort }}"
    - name: STUNNEL_CONNECT
      value: {{ include "scalecache.redisTlsConnect" . | quote }}
    - name: STUNNEL_SERVER_NAME
      value: {{ include "scalecache.redisTlsServerName" . | quote }}
    - name: STUNNEL_CA_FILE
      value: /etc/scalecache/redis-tls/ca.crt
    {{- if $t.clientCert }}
    - name: STUNNEL_CERT_FILE
      value: /etc/scalecache/redis-tls/tls.crt
    - name: STUNNEL_KEY_FILE
      value: /etc/scalecache/redis-tls/tls.key
    {{- end }}
  # stunnel listens on loopback only: the probes connect from inside the container.
  startupProbe:
    exec:
      command: ["redis-tls-client.sh", "--probe"]
    periodSeconds: 1
    failureThreshold: 30
  readinessProbe:
    exec:
      command: ["redis-tls-client.sh", "--probe"]
    periodSeconds: 10
    timeoutSeconds: 2
  livenessProbe:
    exec:
      command: ["redis-tls-client.sh", "--probe"]
    periodSeconds: 10
    timeoutSeconds: 2
    failureThreshold: 3
  resources:
    {{- toYaml $t.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: redis-tls
      mountPath: /etc/scalecache/redis-tls
      readOnly: true
{{- end }}

{{- define "scalecache.stunnelVolume" -}}
- name: redis-tls
  secret:
    secretName: {{ .Values.redis.tls.existingSecret }}
    defaultMode: 0444
{{- end }}
