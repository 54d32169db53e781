{{/* What the common library asks of this chart (charts/common/templates/_deployment.tpl). */}}
{{- define "blob.ports" -}}
- name: grpc
  port: {{ .Values.port }}
{{- if gt (int .Values.gateway.port) 0 }}
- name: gateway
  port: {{ .Values.gateway.port }}
  appProtocol: http
{{- end }}
{{- end -}}

{{- define "blob.shared" -}}{{ and (eq .Values.storage.kind "s3") (eq .Values.index.kind "postgres") }}{{- end -}}

{{/* Objects and index are local unless both are shared (S3 and PostgreSQL). */}}
{{- define "blob.localData" -}}{{ ne (include "blob.shared" .) "true" }}{{- end -}}

{{- define "blob.validate" -}}
{{- if and (ne (include "blob.shared" .) "true") (or (gt (int .Values.replicas) 1) .Values.autoscaling.enabled) }}
{{- fail "several blob replicas need storage.kind=s3 and index.kind=postgres (objects and index every replica shares): use replicas=1 without autoscaling otherwise" }}
{{- end }}
{{- if and (eq .Values.index.kind "postgres") (not .Values.index.postgres.existingSecret) }}
{{- fail "index.kind=postgres needs index.postgres.existingSecret (a Secret with key ConnectionString, the Npgsql connection string)" }}
{{- end }}
{{- if and .Values.encryption.activeKeyId (not .Values.encryption.existingSecret) }}
{{- fail "encryption.activeKeyId names a key in encryption.existingSecret: set it" }}
{{- end }}
{{- end -}}

{{- define "blob.config" -}}
{{- $s := .Values.storage.s3 -}}
Blob__Gateway__Port: {{ .Values.gateway.port | quote }}
Blob__Gateway__Host: "*"
Blob__Gateway__PublicUrl: {{ .Values.gateway.publicUrl | quote }}
Blob__Gateway__AllowDigestOnly: {{ .Values.gateway.allowDigestOnly | quote }}
Blob__Gateway__CapabilityLifetime: {{ .Values.gateway.capabilityLifetime | quote }}
Blob__Storage__Kind: {{ .Values.storage.kind | quote }}
Blob__Storage__S3__ServiceUrl: {{ $s.serviceUrl | quote }}
Blob__Storage__S3__Region: {{ $s.region | quote }}
Blob__Storage__S3__Bucket: {{ $s.bucket | quote }}
Blob__Storage__S3__Prefix: {{ $s.prefix | quote }}
Blob__Storage__S3__Compatibility: {{ $s.compatibility | quote }}
Blob__Storage__S3__CreateBucket: {{ $s.createBucket | quote }}
Blob__Index__Kind: {{ .Values.index.kind | quote }}
Blob__Cache__MaxBytes: {{ .Values.cache.maxBytes | int64 | quote }}
Blob__Encryption__ActiveKeyId: {{ .Values.encryption.activeKeyId | quote }}
Blob__Gc__GracePeriod: {{ .Values.gc.gracePeriod | quote }}
Blob__Gc__Interval: {{ .Values.gc.interval | quote }}
{{- end -}}

{{- define "blob.envFrom" -}}
{{- if .Values.gateway.capabilityKeySecret }}
# Key CapabilityKey.
- secretRef:
    name: {{ .Values.gateway.capabilityKeySecret }}
  prefix: Blob__Gateway__
{{- end }}
{{- if .Values.encryption.existingSecret }}
# Each key is a master key id, its value base64 of 32 bytes.
- secretRef:
    name: {{ .Values.encryption.existingSecret }}
  prefix: Blob__Encryption__Keys__
{{- end }}
{{- if and (eq .Values.storage.kind "s3") .Values.storage.s3.existingSecret }}
# Keys AccessKey and SecretKey.
- secretRef:
    name: {{ .Values.storage.s3.existingSecret }}
  prefix: Blob__Storage__S3__
{{- end }}
{{- if eq .Values.index.kind "postgres" }}
# Key ConnectionString.
- secretRef:
    name: {{ .Values.index.postgres.existingSecret }}
  prefix: Blob__Index__
{{- end }}
{{- end -}}

{{- define "blob.networkPolicyRules" -}}
{{- if and .Values.networkPolicy.gatewayFromAnywhere (gt (int .Values.gateway.port) 0) }}
- ports:
    - port: gateway
      protocol: TCP
{{- end }}
{{- end -}}

{{- define "blob.volumeMounts" -}}{{- end -}}
{{- define "blob.volumes" -}}{{- end -}}
