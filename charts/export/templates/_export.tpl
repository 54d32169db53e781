{{/* What the common library asks of this chart (charts/common/templates/_deployment.tpl). */}}
{{- define "export.ports" -}}
- name: grpc
  port: {{ .Values.port }}
{{- end -}}

{{/* Jobs live in Redis and archives in S3: nothing of a replica's is local. */}}
{{- define "export.localData" -}}false{{- end -}}

{{- define "export.networkPolicyRules" -}}{{- end -}}

{{- define "export.validate" -}}
{{- $e := include "common.effective" . | fromYaml -}}
{{- if not (or $e.redis.connectionString $e.redis.existingSecret) }}
{{- fail "the export keeps its jobs and leases in Redis: set redis.connectionString or redis.existingSecret (or global.redis in the umbrella)" }}
{{- end }}
{{- if not .Values.delegation.existingSecret }}
{{- fail "delegation.existingSecret is required: a Secret holding the EC P-256 private key (file delegation.file) the export signs delegated tokens with" }}
{{- end }}
{{- if not (include "export.delegationIssuer" .) }}
{{- fail "set delegation.issuer (or global.auth.delegation.issuer): the iss of the export's delegated tokens, which registry and blob trust" }}
{{- end }}
{{- if and (not .Values.signing.existingSecret) (or .Values.autoscaling.enabled (gt (int .Values.replicas) 1)) }}
{{- fail "several export replicas must sign archives with one key: set signing.existingSecret (without it each pod makes its own)" }}
{{- end }}
{{- end -}}

{{- define "export.delegationIssuer" -}}
{{- $e := include "common.effective" . | fromYaml -}}
{{- coalesce .Values.delegation.issuer ($e.auth.delegation | default dict).issuer | default "" -}}
{{- end -}}

{{/* Client settings for one peer: TLS from the pod's own Secret (its ca.crt; tls.crt/tls.key as the client certificate under mutual TLS). */}}
{{- define "export.client" -}}
{{- $e := include "common.effective" .ctx | fromYaml -}}
Clients__{{ .name }}__Address: {{ tpl .address .ctx | quote }}
{{- if $e.tls.existingSecret }}
Clients__{{ .name }}__Tls: "true"
Clients__{{ .name }}__CaCertificatePath: /etc/microservices/tls/ca.crt
{{- if eq ($e.tls.clientCertificateMode | default "None") "Require" }}
Clients__{{ .name }}__ClientCertificatePath: /etc/microservices/tls/tls.crt
Clients__{{ .name }}__ClientKeyPath: /etc/microservices/tls/tls.key
{{- end }}
{{- end }}
{{- end -}}

{{- define "export.config" -}}
{{- $s := .Values.s3 -}}
{{- $i := .Values.import -}}
{{- include "export.client" (dict "ctx" . "name" "Registry" "address" .Values.clients.registryAddress) }}
{{ include "export.client" (dict "ctx" . "name" "Blob" "address" .Values.clients.blobAddress) }}
Export__Installation: {{ .Values.installation | quote }}
Export__Window: {{ .Values.window | quote }}
Export__Lifetime: {{ .Values.lifetime | quote }}
Export__DownloadUrlLifetime: {{ .Values.downloadUrlLifetime | quote }}
Export__MaxConcurrentJobs: {{ .Values.maxConcurrentJobs | quote }}
Export__Lease: {{ .Values.lease | quote }}
Export__PartSize: {{ .Values.partSize | int64 | quote }}
Export__PartsInFlight: {{ .Values.partsInFlight | quote }}
Export__S3__ServiceUrl: {{ $s.serviceUrl | quote }}
Export__S3__PublicServiceUrl: {{ $s.publicServiceUrl | quote }}
Export__S3__Region: {{ $s.region | quote }}
Export__S3__Bucket: {{ $s.bucket | quote }}
Export__S3__Prefix: {{ $s.prefix | quote }}
Export__S3__Compatibility: {{ $s.compatibility | quote }}
Export__S3__CreateBucket: {{ $s.createBucket | quote }}
{{- if not $s.existingSecret }}
# No key in the image's appsettings may be used: empty means the pod's AWS identity.
Export__S3__AccessKey: ""
Export__S3__SecretKey: ""
{{- end }}
{{- if .Values.signing.existingSecret }}
Export__Signing__KeyPath: {{ printf "/etc/microservices/signing/%s" .Values.signing.file | quote }}
Export__Signing__CreateIfMissing: "false"
{{- else }}
Export__Signing__KeyPath: /data/export-signing-key.pem
Export__Signing__CreateIfMissing: "true"
{{- end }}
Export__Delegation__Issuer: {{ include "export.delegationIssuer" . | quote }}
Export__Delegation__KeyFile: {{ printf "/etc/microservices/delegation/%s" .Values.delegation.file | quote }}
Export__Delegation__Lifetime: {{ .Values.delegation.lifetime | quote }}
Export__Import__RequireSignature: {{ $i.requireSignature | quote }}
{{- range $n, $key := $i.trustedKeys }}
Export__Import__TrustedKeys__{{ $n }}: {{ $key | quote }}
{{- end }}
Export__Import__MaxArchiveBytes: {{ $i.maxArchiveBytes | int64 | quote }}
Export__Import__UploadLifetime: {{ $i.uploadLifetime | quote }}
Export__Import__AllowHttpUrls: {{ $i.allowHttpUrls | quote }}
{{- range $n, $host := $i.allowedUrlHosts }}
Export__Import__AllowedUrlHosts__{{ $n }}: {{ $host | quote }}
{{- end }}
{{- end -}}

{{- define "export.envFrom" -}}
{{- if .Values.s3.existingSecret }}
# Keys AccessKey and SecretKey.
- secretRef:
    name: {{ .Values.s3.existingSecret }}
  prefix: Export__S3__
{{- end }}
{{- end -}}

{{- define "export.volumeMounts" -}}
- name: delegation
  mountPath: /etc/microservices/delegation
  readOnly: true
{{- if .Values.signing.existingSecret }}
- name: signing
  mountPath: /etc/microservices/signing
  readOnly: true
{{- end }}
{{- end -}}

{{- define "export.volumes" -}}
- name: delegation
  secret:
    secretName: {{ .Values.delegation.existingSecret }}
    defaultMode: 0440
{{- if .Values.signing.existingSecret }}
- name: signing
  secret:
    secretName: {{ .Values.signing.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- end -}}
