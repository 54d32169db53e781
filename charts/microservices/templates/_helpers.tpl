{{- define "microservices.redisName" -}}
{{- printf "%s-redis" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "microservices.redisSelector" -}}
app.kubernetes.io/name: redis
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "microservices.redisLabels" -}}
{{ include "microservices.redisSelector" . }}
app.kubernetes.io/part-of: microservices
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
{{- end -}}

{{/* The subcharts read Redis from global.redis: in-cluster and external at once is ambiguous. */}}
{{- define "microservices.validate" -}}
{{- $r := .Values.global.redis -}}
{{- if and $r.enabled (or $r.connectionString $r.existingSecret) }}
{{- fail "global.redis.enabled runs Redis in the cluster; global.redis.connectionString and existingSecret name an external one: set global.redis.enabled=false to use it" }}
{{- end }}
{{- end -}}
