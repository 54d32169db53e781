{{/*
common.merge (list CHART GLOBAL): CHART's values over GLOBAL's, key by key; an empty chart value
("" , [], null) leaves the global one. Sprig's mergeOverwrite would let "" win.
*/}}
{{- define "common.merge" -}}
{{- $c := index . 0 | default dict -}}
{{- $g := index . 1 | default dict -}}
{{- $out := dict -}}
{{- range $k, $v := $g }}{{ $_ := set $out $k $v }}{{ end -}}
{{- range $k, $v := $c -}}
{{- if and (kindIs "map" $v) (kindIs "map" (index $g $k)) -}}
{{- $_ := set $out $k (include "common.merge" (list $v (index $g $k)) | fromYaml) -}}
{{- else if or (not (empty $v)) (not (hasKey $g $k)) -}}
{{- $_ := set $out $k $v -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/*
common.effective: the settings the umbrella shares through global (auth, tls, allowPlaintext,
otel, networkPolicy, redis, image tag and pull policy), each chart's own value first.
*/}}
{{- define "common.effective" -}}
{{- $g := .Values.global | default dict -}}
auth: {{ include "common.merge" (list .Values.auth $g.auth) | fromYaml | toJson }}
tls: {{ include "common.merge" (list .Values.tls $g.tls) | fromYaml | toJson }}
otel: {{ include "common.merge" (list .Values.otel $g.otel) | fromYaml | toJson }}
networkPolicy: {{ include "common.merge" (list .Values.networkPolicy $g.networkPolicy) | fromYaml | toJson }}
allowPlaintext: {{ if or .Values.allowPlaintext $g.allowPlaintext }}true{{ else }}false{{ end }}
image:
  repository: {{ .Values.image.repository | quote }}
  tag: {{ coalesce .Values.image.tag ($g.image | default dict).tag .Chart.AppVersion | quote }}
  pullPolicy: {{ coalesce .Values.image.pullPolicy ($g.image | default dict).pullPolicy "IfNotPresent" | quote }}
{{- $gr := $g.redis | default dict }}
redis:
{{- if .Values.redis.existingSecret }}
  existingSecret: {{ .Values.redis.existingSecret | quote }}
{{- else if .Values.redis.connectionString }}
  connectionString: {{ .Values.redis.connectionString | quote }}
{{- else if $gr.existingSecret }}
  existingSecret: {{ $gr.existingSecret | quote }}
{{- else if $gr.connectionString }}
  connectionString: {{ $gr.connectionString | quote }}
{{- else if $gr.enabled }}
  # The umbrella's in-cluster Redis (its StatefulSet and Service are named after the release).
  connectionString: {{ printf "%s-redis:6379,abortConnect=false" .Release.Name | quote }}
{{- else }}
  connectionString: ""
{{- end }}
{{- end -}}

{{/* common.duration SECONDS: a TimeSpan as .NET configuration reads it (hh:mm:ss). */}}
{{- define "common.duration" -}}
{{- $s := int . -}}
{{- printf "%02d:%02d:%02d" (div $s 3600) (mod (div $s 60) 60) (mod $s 60) -}}
{{- end -}}
