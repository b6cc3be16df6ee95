{{/* Names, labels and derived values shared by every template of the chart. */}}

{{- define "tessera.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name, unless it already contains the chart name. */}}
{{- define "tessera.fullname" -}}
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

{{- define "tessera.issuerService" -}}
{{- include "tessera.fullname" . }}
{{- end }}

{{- define "tessera.webhookService" -}}
{{- printf "%s-webhook" (include "tessera.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tessera.serviceAccountName" -}}
{{- include "tessera.fullname" . }}
{{- end }}

{{- define "tessera.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tessera.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "tessera.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "tessera.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: tessera
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* image reference: repository@digest when a digest is set, else repository:tag (tag defaults to appVersion). */}}
{{- define "tessera.image" -}}
{{- $img := index . 0 }}{{- $root := index . 1 }}
{{- if $img.digest }}
{{- printf "%s@%s" $img.repository $img.digest }}
{{- else }}
{{- printf "%s:%s" $img.repository (default $root.Chart.AppVersion $img.tag) }}
{{- end }}
{{- end }}

{{- define "tessera.issuerUrl" -}}
{{- if .Values.issuer.publicUrl }}
{{- .Values.issuer.publicUrl }}
{{- else }}
{{- printf "https://%s.%s.svc" (include "tessera.issuerService" .) .Release.Namespace }}
{{- end }}
{{- end }}

{{/* DNS names of the serving certificate: both Services (short and cluster-local forms), the issuer URL's host, extras. */}}
{{- define "tessera.dnsNames" -}}
{{- $ns := .Release.Namespace }}
{{- $names := list }}
{{- range $svc := list (include "tessera.issuerService" .) (include "tessera.webhookService" .) }}
{{- $names = append $names (printf "%s.%s.svc" $svc $ns) }}
{{- $names = append $names (printf "%s.%s.svc.cluster.local" $svc $ns) }}
{{- end }}
{{- $names = append $names (urlParse (include "tessera.issuerUrl" .)).hostname }}
{{- $names = concat $names .Values.issuer.extraDnsNames }}
{{- $names | uniq | join "," }}
{{- end }}

{{/* TokenReview is needed for subject verification in tokenreview mode, and to authenticate audit callers. */}}
{{- define "tessera.needsTokenReview" -}}
{{- if or (eq .Values.issuer.subjectVerification "tokenreview") .Values.audit.introspectCallers .Values.audit.revokeCallers .Values.audit.explainCallers }}true{{- end }}
{{- end }}

{{- define "tessera.certManager" -}}
{{- if eq .Values.tls.mode "cert-manager" }}true{{- end }}
{{- end }}

{{/* Checks JSON schema cannot express; the controller would refuse the same values at startup. */}}
{{- define "tessera.validate" -}}
{{- $le := .Values.controller.leaderElection }}
{{- if ge (float64 $le.renewDeadlineSeconds) (float64 $le.leaseDurationSeconds) }}
{{- fail "controller.leaderElection.renewDeadlineSeconds must be shorter than leaseDurationSeconds" }}
{{- end }}
{{- if ge (float64 $le.retryPeriodSeconds) (float64 $le.renewDeadlineSeconds) }}
{{- fail "controller.leaderElection.retryPeriodSeconds must be shorter than renewDeadlineSeconds" }}
{{- end }}
{{- $p := .Values.controller.ports }}
{{- if ne 3 (len (uniq (list (toString $p.issuer) (toString $p.admission) (toString $p.health)))) }}
{{- fail "controller.ports: issuer, admission and health must differ" }}
{{- end }}
{{- end }}
