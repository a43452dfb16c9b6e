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

{{/* Where the redis.tls Secret is mounted (scalecache and worker containers).
Not under /etc/scalecache: that is the ConfigMap's read-only volume. */}}
{{- define "scalecache.redisTlsDir" -}}
/etc/redis-tls
{{- end }}

{{/* config `redis.tls` from the chart's redis.tls: the files of the mounted
Secret, the name to verify. Without a Secret the CA bundle the image ships
(Debian's ca-certificates): the scratch image has no OpenSSL directory, so an
empty ca_file would trust nothing there. */}}
{{- define "scalecache.redisTlsConfig" -}}
{{- $t := .Values.redis.tls }}
{{- $dir := include "scalecache.redisTlsDir" . }}
{{- $tls := dict "enabled" true }}
{{- if include "scalecache.redisTlsMounted" . }}
{{- $_ := set $tls "ca_file" (printf "%s/ca.crt" $dir) }}
{{- else }}
{{- $_ := set $tls "ca_file" "/etc/ssl/certs/ca-certificates.crt" }}
{{- end }}
{{- if $t.clientCert }}
{{- $_ := set $tls "cert_file" (printf "%s/tls.crt" $dir) }}
{{- $_ := set $tls "key_file" (printf "%s/tls.key" $dir) }}
{{- end }}
{{- with $t.serverName }}
{{- $_ := set $tls "server_name" . }}
{{- end }}
{{- toYaml $tls }}
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
{{- if .Values.redis.tls.enabled }}
{{- $_ := set $redis "tls" (include "scalecache.redisTlsConfig" . | fromYaml) }}
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
{{- if $r.enabled }}
{{- fail (printf "redis.tls.enabled needs an external Redis (redis.enabled false and redis.external.*): the in-chart Redis (mode %s) does not serve TLS" $r.mode) }}
{{- end }}
{{- if not (include "scalecache.hasRedis" .) }}
{{- fail "redis.tls.enabled without a Redis: set redis.external.url, redis.external.nodes or redis.external.sentinel.*" }}
{{- end }}
{{- if and $r.tls.clientCert (not $r.tls.existingSecret) }}
{{- fail "redis.tls.clientCert needs redis.tls.existingSecret (a Secret with tls.crt and tls.key)" }}
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

{{/* The redis.tls Secret, read-only (redis.tls.existingSecret): only the keys
scalecache reads, so a missing one stops the pod at mount time, and a client
key is not mounted unless used. Mode 0440: readable through the pod's fsGroup. */}}
{{- define "scalecache.redisTlsMounted" -}}
{{- if and .Values.redis.tls.enabled .Values.redis.tls.existingSecret }}true{{ end }}
{{- end }}

{{- define "scalecache.redisTlsVolume" -}}
- name: redis-tls
  secret:
    secretName: {{ .Values.redis.tls.existingSecret }}
    defaultMode: 0440
    items:
      - key: ca.crt
        path: ca.crt
      {{- if .Values.redis.tls.clientCert }}
      - key: tls.crt
        path: tls.crt
      - key: tls.key
        path: tls.key
      {{- end }}
{{- end }}

{{- define "scalecache.redisTlsMount" -}}
- name: redis-tls
  mountPath: {{ include "scalecache.redisTlsDir" . }}
  readOnly: true
{{- end }}
