{{/* What the common library asks of this chart (charts/common/templates/_deployment.tpl). */}}
{{- define "registry.ports" -}}
- name: grpc
  port: {{ .Values.port }}
{{- end -}}

{{- define "registry.localData" -}}{{ eq .Values.store.kind "sqlite" }}{{- end -}}

{{- define "registry.networkPolicyRules" -}}{{- end -}}

{{- define "registry.validate" -}}
{{- if eq .Values.store.kind "sqlite" }}
{{- if or (gt (int .Values.replicas) 1) .Values.autoscaling.enabled }}
{{- fail "store.kind=sqlite keeps one file on a ReadWriteOnce volume: use replicas=1 without autoscaling, or store.kind=postgres" }}
{{- end }}
{{- else if not .Values.store.postgres.existingSecret }}
{{- fail "store.kind=postgres needs store.postgres.existingSecret (a Secret with key ConnectionString, the Npgsql connection string)" }}
{{- end }}
{{- end -}}

{{- define "registry.config" -}}
Registry__Store__Kind: {{ .Values.store.kind | quote }}
Registry__Store__Sqlite__Path: {{ .Values.store.sqlite.path | quote }}
Registry__Store__Sqlite__BusyTimeoutMs: {{ .Values.store.sqlite.busyTimeoutMs | quote }}
Registry__Cache__Mode: {{ .Values.cache.mode | quote }}
{{- end -}}

{{- define "registry.envFrom" -}}
{{- if eq .Values.store.kind "postgres" }}
# Key ConnectionString.
- secretRef:
    name: {{ .Values.store.postgres.existingSecret }}
  prefix: Registry__Store__Postgres__
{{- end }}
{{- end -}}

{{- define "registry.volumeMounts" -}}{{- end -}}
{{- define "registry.volumes" -}}{{- end -}}
