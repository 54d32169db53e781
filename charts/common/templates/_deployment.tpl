{{/*
common.deployment: the chart's Deployment. The chart supplies "<chart>.ports", "<chart>.envFrom"
(Secrets read as environment), "<chart>.volumes" and "<chart>.volumeMounts" (Secrets read as
files) and "<chart>.localData"; "<chart>.validate" refuses values it cannot honour.
*/}}
{{- define "common.deployment" -}}
{{- include (printf "%s.validate" .Chart.Name) . -}}
{{- $e := include "common.effective" . | fromYaml -}}
{{- $local := eq (include "common.localData" .) "true" -}}
{{- $name := .Chart.Name -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "common.fullname" . }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicas }}
  {{- end }}
  {{- if $local }}
  strategy:
    type: Recreate   # the old pod must release the SQLite volume before the new one opens it
  {{- else }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0   # a new pod is ready before an old one is taken out of rotation
      maxSurge: 1
  {{- end }}
  selector:
    matchLabels:
      {{- include "common.selector" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "common.labels" . | nindent 8 }}
      annotations:
        checksum/config: {{ include "common.configmap" . | sha256sum }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "common.serviceAccountName" . }}
      automountServiceAccountToken: false
      # preStop sleep + Hosting:ShutdownDelay + Hosting:ShutdownTimeout, plus slack (checked at render).
      terminationGracePeriodSeconds: {{ .Values.shutdown.terminationGracePeriodSeconds }}
      securityContext:
        runAsNonRoot: true
        runAsUser: 1654
        runAsGroup: 1654
        fsGroup: 1654
        seccompProfile:
          type: RuntimeDefault
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $name }}
          image: {{ printf "%s:%s" $e.image.repository $e.image.tag | quote }}
          imagePullPolicy: {{ $e.image.pullPolicy }}
          securityContext:
            runAsNonRoot: true
            runAsUser: 1654
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
            seccompProfile:
              type: RuntimeDefault
          ports:
            {{- range (include "common.ports" . | fromYamlArray) }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: TCP
              {{- with (index $.Values.hostPorts .name) }}
              hostPort: {{ . }}
              {{- end }}
            {{- end }}
          envFrom:
            - configMapRef:
                name: {{ include "common.fullname" . }}
            {{- if $e.auth.existingSecret }}
            # Each key of the Secret is an Auth setting, e.g. HmacKey.
            - secretRef:
                name: {{ $e.auth.existingSecret }}
              prefix: Auth__
            {{- end }}
            {{- if $e.redis.existingSecret }}
            # Key ConnectionString: the whole StackExchange.Redis string (password, user, TLS).
            - secretRef:
                name: {{ $e.redis.existingSecret }}
              prefix: Redis__
            {{- end }}
            {{- with include (printf "%s.envFrom" $name) . | trim }}{{ . | nindent 12 }}{{ end }}
          env:
            # Only metadata.name from the downward API (podman kube play 4.3 handles name, uid, labels and
            # annotations, not namespace: the namespace is rendered in).
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: OTEL_SERVICE_NAME
              value: {{ $name | quote }}
            {{- if $e.otel.endpoint }}
            - name: OTEL_EXPORTER_OTLP_ENDPOINT
              value: {{ $e.otel.endpoint | quote }}
            {{- end }}
            {{- $attrs := dict "service.namespace" "microservices" "service.version" .Chart.AppVersion "service.instance.id" "$(POD_NAME)" "k8s.pod.name" "$(POD_NAME)" "k8s.namespace.name" .Release.Namespace }}
            {{- range $k, $v := $e.otel.resourceAttributes }}{{ $_ := set $attrs $k $v }}{{ end }}
            - name: OTEL_RESOURCE_ATTRIBUTES
              value: {{ include "common.resourceAttributes" $attrs | quote }}
          # grpc.health.v1 on the plaintext health-only port: NOT_SERVING once shutdown starts.
          startupProbe:
            grpc:
              port: {{ .Values.healthPort }}
            periodSeconds: 2
            failureThreshold: {{ .Values.startupFailureThreshold }}
          readinessProbe:
            grpc:
              port: {{ .Values.healthPort }}
            periodSeconds: 5
            failureThreshold: 1
          livenessProbe:
            grpc:
              port: {{ .Values.healthPort }}
            periodSeconds: 10
            failureThreshold: 3
          lifecycle:
            # Endpoints drop the pod while it still serves; no shell in the image, so the native sleep.
            preStop:
              sleep:
                seconds: {{ .Values.shutdown.preStopSeconds }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            - name: data
              mountPath: /data
            {{- if $e.tls.existingSecret }}
            - name: tls
              mountPath: /etc/microservices/tls
              readOnly: true
            {{- end }}
            {{- if $e.auth.keysSecret }}
            - name: auth-keys
              mountPath: /etc/microservices/auth
              readOnly: true
            {{- end }}
            {{- with include (printf "%s.volumeMounts" $name) . | trim }}{{ . | nindent 12 }}{{ end }}
      volumes:
        - name: tmp
          emptyDir: {}
        - name: data
          {{- if and $local .Values.persistence.enabled }}
          persistentVolumeClaim:
            claimName: {{ include "common.fullname" . }}
          {{- else }}
          emptyDir: {}
          {{- end }}
        {{- if $e.tls.existingSecret }}
        - name: tls
          secret:
            secretName: {{ $e.tls.existingSecret }}
            defaultMode: 0440
        {{- end }}
        {{- if $e.auth.keysSecret }}
        - name: auth-keys
          secret:
            secretName: {{ $e.auth.keysSecret }}
            defaultMode: 0440
        {{- end }}
        {{- with include (printf "%s.volumes" $name) . | trim }}{{ . | nindent 8 }}{{ end }}
{{- end }}

{{- define "common.resourceAttributes" -}}
{{- $pairs := list -}}
{{- range $k, $v := . }}{{ $pairs = append $pairs (printf "%s=%v" $k $v) }}{{ end -}}
{{- join "," $pairs -}}
{{- end -}}
