{{/*
common.services: a ClusterIP Service (one stable address, kube-proxy spreads connections) and a
headless one (every ready pod's address: our dns:/// clients balance calls over them).
*/}}
{{- define "common.services" -}}
{{- $ports := include (printf "%s.ports" .Chart.Name) . | fromYamlArray -}}
{{- $tls := (include "common.effective" . | fromYaml).tls.existingSecret -}}
{{- range $headless := list false true }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "common.fullname" $ }}{{ if $headless }}-headless{{ end }}
  labels:
    {{- include "common.labels" $ | nindent 4 }}
spec:
  {{- if $headless }}
  clusterIP: None
  {{- else }}
  type: ClusterIP
  {{- end }}
  selector:
    {{- include "common.selector" $ | nindent 4 }}
  ports:
    {{- range $ports }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
      {{- if eq (.appProtocol | default "grpc") "http" }}
      appProtocol: {{ ternary "https" "http" (not (empty $tls)) }}
      {{- else if not $tls }}
      appProtocol: kubernetes.io/h2c   # cleartext HTTP/2; a TLS port names none (there is no standard h2 name)
      {{- end }}
    {{- end }}
{{- end }}
{{- end }}

{{- define "common.serviceaccount" -}}
{{- if .Values.serviceAccount.create }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "common.serviceAccountName" . }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
# The services never call the Kubernetes API.
automountServiceAccountToken: false
{{- end }}
{{- end }}

{{- define "common.pdb" -}}
{{- if .Values.podDisruptionBudget.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "common.fullname" . }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "common.selector" . | nindent 6 }}
{{- end }}
{{- end }}

{{- define "common.hpa" -}}
{{- $h := .Values.autoscaling -}}
{{- if $h.enabled }}
{{- if gt (int $h.minReplicas) (int $h.maxReplicas) }}{{ fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}{{ end }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "common.fullname" . }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "common.fullname" . }}
  minReplicas: {{ $h.minReplicas }}
  maxReplicas: {{ $h.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $h.targetCPUUtilizationPercentage }}
{{- end }}
{{- end }}

{{/*
common.networkpolicy: only the system's own pods (label app.kubernetes.io/part-of=microservices,
this namespace), the namespaces in networkPolicy.allowNamespaces and the CIDRs in
networkPolicy.allowCidrs (e.g. the nodes, for kubelet probes where the CNI filters them) reach
the ports; "<chart>.networkPolicyRules" may add rules (the blob gateway's readers).
*/}}
{{- define "common.networkpolicy" -}}
{{- $n := (include "common.effective" . | fromYaml).networkPolicy -}}
{{- if $n.enabled }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "common.fullname" . }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "common.selector" . | nindent 6 }}
  policyTypes: ["Ingress"]
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/part-of: microservices
        {{- range $n.allowNamespaces }}
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ . | quote }}
        {{- end }}
        {{- range $n.allowCidrs }}
        - ipBlock:
            cidr: {{ . | quote }}
        {{- end }}
      ports:
        {{- range (include "common.ports" . | fromYamlArray) }}
        - port: {{ .name }}
          protocol: TCP
        {{- end }}
    {{- with include (printf "%s.networkPolicyRules" .Chart.Name) . | trim }}{{ . | nindent 4 }}{{ end }}
{{- end }}
{{- end }}

{{/* common.pvc: a replica's local data (SQLite), only where the chart keeps it locally. */}}
{{- define "common.pvc" -}}
{{- if and .Values.persistence.enabled (eq (include "common.localData" .) "true") }}
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ include "common.fullname" . }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
spec:
  accessModes:
    - ReadWriteOnce
  {{- if .Values.persistence.storageClass }}
  storageClassName: {{ .Values.persistence.storageClass | quote }}
  {{- end }}
  resources:
    requests:
      storage: {{ .Values.persistence.size }}
{{- end }}
{{- end }}
