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
{{- if .Values.redis.enabled }}
{{- printf "redis://%s:6379/0" (include "scalecache.redisName" .) }}
{{- else }}
{{- .Values.redis.external.url }}
{{- end }}
{{- end }}

{{/* The scalecache.yaml the service reads: values.config plus the keys the chart owns. */}}
{{- define "scalecache.configFile" -}}
{{- $cfg := deepCopy .Values.config }}
{{- $redis := get $cfg "redis" | default dict }}
{{- $_ := set $redis "url" (include "scalecache.redisUrl" .) }}
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
{{- fail "worker.enabled needs Redis (redis.enabled or redis.external.url): the job queue lives there" }}
{{- end }}
{{- if and .Values.redis.enabled .Values.redis.external.url }}
{{- fail "redis.external.url is set while redis.enabled is true: choose the in-chart Redis or an external one" }}
{{- end }}
{{- end }}
