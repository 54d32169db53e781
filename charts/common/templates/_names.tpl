{{- define "common.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "common.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "common.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "common.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* part-of is what the NetworkPolicies admit: every pod of the system carries it. */}}
{{- define "common.labels" -}}
{{ include "common.selector" . }}
app.kubernetes.io/part-of: microservices
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
{{- end -}}

{{/*
common.ports: the container's ports as a list of {name, port}: the chart's own (its "<chart>.ports")
and the plaintext health-only listener every host opens on Hosting:HealthPort.
*/}}
{{- define "common.ports" -}}
{{- $ports := include (printf "%s.ports" .Chart.Name) . | fromYamlArray -}}
{{- $ports = append $ports (dict "name" "health" "port" (int .Values.healthPort)) -}}
{{- toYaml $ports -}}
{{- end -}}

{{/* Whether this chart keeps a replica's data on a local volume ("<chart>.localData": SQLite). */}}
{{- define "common.localData" -}}
{{- include (printf "%s.localData" .Chart.Name) . | trim -}}
{{- end -}}
