{{/* The chart name, truncated to the 63 characters a label allows. */}}
{{- define "nightshift.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the prefix of every object this chart creates. */}}
{{- define "nightshift.fullname" -}}
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

{{- define "nightshift.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "nightshift.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nightshift.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "nightshift.labels" -}}
helm.sh/chart: {{ include "nightshift.chart" . }}
{{ include "nightshift.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: nightshift
{{- end }}

{{- define "nightshift.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "nightshift.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "nightshift.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "nightshift.dataClaimName" -}}
{{- default (printf "%s-data" (include "nightshift.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}

{{/* Combinations the schema cannot express; fails the render with how to fix it. */}}
{{- define "nightshift.validate" -}}
{{- $backend := dig "graph" "backend" "embedded" .Values.config }}
{{- if and (gt (int .Values.replicaCount) 1) (ne $backend "neo4j") }}
{{- fail "replicaCount > 1 needs config.graph.backend: neo4j (the embedded graph lives on one pod's volume)" }}
{{- end }}
{{- if and (hasKey .Values.config "server") (or (hasKey .Values.config.server "host") (hasKey .Values.config.server "port")) }}
{{- fail "config.server.host and config.server.port are set by the chart; use containerPort instead" }}
{{- end }}
{{- if hasKey .Values.config "dataDir" }}
{{- fail "config.dataDir is set by the chart (the data volume); remove it" }}
{{- end }}
{{- end }}
