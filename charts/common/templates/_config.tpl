{{/* Auth settings that are not secret (ConfigMap); fails without a key source. */}}
{{- define "common.authConfig" -}}
{{- $a := (include "common.effective" . | fromYaml).auth -}}
{{- $d := $a.delegation | default dict -}}
{{- if not $a.issuer }}{{ fail "auth.issuer (or global.auth.issuer) is required: every token's iss is checked" }}{{ end -}}
{{- if not (or $a.existingSecret $a.hmacKeyFile $a.publicKeyFiles $a.jwksFile $a.authority) }}{{ fail "set one token key source: auth.existingSecret (key HmacKey), auth.hmacKeyFile, auth.publicKeyFiles or auth.jwksFile (files in auth.keysSecret), or auth.authority" }}{{ end -}}
{{- if and (or $a.hmacKeyFile $a.publicKeyFiles $a.jwksFile $d.publicKeyFile) (not $a.keysSecret) }}{{ fail "auth.hmacKeyFile, auth.publicKeyFiles, auth.jwksFile and auth.delegation.publicKeyFile name files in auth.keysSecret: set it" }}{{ end -}}
{{- if and $d.issuer (not $d.publicKeyFile) }}{{ fail "auth.delegation.issuer needs auth.delegation.publicKeyFile (the export's EC public key, a file in auth.keysSecret)" }}{{ end -}}
Auth__Issuer: {{ $a.issuer | quote }}
Auth__Audience: {{ $a.audience | default "microservices" | quote }}
{{- if $a.authority }}
Auth__Authority: {{ $a.authority | quote }}
{{- end }}
{{- if $a.hmacKeyFile }}
Auth__HmacKeyFile: {{ printf "/etc/microservices/auth/%s" $a.hmacKeyFile | quote }}
{{- end }}
{{- range $i, $file := $a.publicKeyFiles }}
Auth__PublicKeyFiles__{{ $i }}: {{ printf "/etc/microservices/auth/%s" $file | quote }}
{{- end }}
{{- if $a.jwksFile }}
Auth__JwksFile: {{ printf "/etc/microservices/auth/%s" $a.jwksFile | quote }}
{{- end }}
{{- if $d.issuer }}
Auth__Delegation__Issuer: {{ $d.issuer | quote }}
Auth__Delegation__PublicKeyFile: {{ printf "/etc/microservices/auth/%s" $d.publicKeyFile | quote }}
{{- end }}
{{- end }}

{{/* TLS from a kubernetes.io/tls Secret, or plaintext only when asked for by name. */}}
{{- define "common.tlsConfig" -}}
{{- $e := include "common.effective" . | fromYaml -}}
{{- if $e.tls.existingSecret }}
Hosting__Tls__CertificatePath: /etc/microservices/tls/tls.crt
Hosting__Tls__KeyPath: /etc/microservices/tls/tls.key
{{- if eq ($e.tls.clientCertificateMode | default "None") "Require" }}
Hosting__Tls__ClientCertificateMode: Require
Hosting__Tls__ClientCaPath: /etc/microservices/tls/ca.crt
{{- end }}
{{- else if $e.allowPlaintext }}
Hosting__AllowPlaintext: "true"
{{- else }}
{{- fail "set tls.existingSecret (a kubernetes.io/tls Secret), or allowPlaintext=true to serve plaintext on purpose" }}
{{- end }}
{{- end }}

{{/*
Host settings: the serving port, the plaintext health-only port the kubelet's grpc probes reach
(TLS ports cannot be probed natively), and graceful shutdown: health says NOT_SERVING for
Hosting:ShutdownDelay before the listener closes, then calls get Hosting:ShutdownTimeout.
*/}}
{{- define "common.hostingConfig" -}}
{{- $s := .Values.shutdown -}}
{{- if le (int $s.terminationGracePeriodSeconds) (add $s.preStopSeconds $s.delaySeconds $s.timeoutSeconds | int) }}
{{- fail (printf "shutdown.terminationGracePeriodSeconds (%v) must exceed preStopSeconds + delaySeconds + timeoutSeconds (%v), or the kubelet kills calls still finishing" $s.terminationGracePeriodSeconds (add $s.preStopSeconds $s.delaySeconds $s.timeoutSeconds)) }}
{{- end }}
DataDirectory: /data
# With Hosting__Tls__* set, the host puts TLS on this endpoint too (services/Hosting/README.md).
Kestrel__Endpoints__Grpc__Url: {{ printf "http://0.0.0.0:%v" .Values.port | quote }}
Hosting__HealthPort: {{ .Values.healthPort | quote }}
Hosting__ShutdownDelay: {{ include "common.duration" $s.delaySeconds | quote }}
Hosting__ShutdownTimeout: {{ include "common.duration" $s.timeoutSeconds | quote }}
{{- $r := (include "common.effective" . | fromYaml).redis }}
{{- if not $r.existingSecret }}
Redis__ConnectionString: {{ $r.connectionString | quote }}
{{- end }}
{{- end }}

{{/* The ConfigMap: host, auth, TLS, the chart's own keys ("<chart>.config"), then env. */}}
{{- define "common.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "common.fullname" . }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
data:
  {{- include "common.hostingConfig" . | trim | nindent 2 }}
  {{- include "common.authConfig" . | trim | nindent 2 }}
  {{- include "common.tlsConfig" . | trim | nindent 2 }}
  {{- include (printf "%s.config" .Chart.Name) . | trim | nindent 2 }}
  {{- range $key, $value := .Values.env }}
  {{ $key }}: {{ $value | quote }}
  {{- end }}
{{- end }}
