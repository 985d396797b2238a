{{/* Chart name. */}}
{{- define "clipsift.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Resource name prefix: the release name, plus the chart name unless the release already carries it. */}}
{{- define "clipsift.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "clipsift.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels shared by every resource. */}}
{{- define "clipsift.labels" -}}
helm.sh/chart: {{ include "clipsift.chart" . }}
app.kubernetes.io/name: {{ include "clipsift.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: clipsift
{{- end -}}

{{/* Selector labels of one component. Call with (dict "root" $ "component" "gateway"). */}}
{{- define "clipsift.selectorLabels" -}}
app.kubernetes.io/name: {{ include "clipsift.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* All labels of one component. Call with (dict "root" $ "component" "gateway"). */}}
{{- define "clipsift.componentLabels" -}}
{{ include "clipsift.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Name of one service's resources (Deployment, Service, HPA...): <fullname>-<service>. */}}
{{- define "clipsift.serviceName" -}}
{{- printf "%s-%s" (include "clipsift.fullname" .root) .service | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "clipsift.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "clipsift.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Image of one service. Call with (dict "root" $ "svc" $svc). */}}
{{- define "clipsift.image" -}}
{{- $tag := .svc.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- if .root.Values.image.registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" .root.Values.image.registry) .svc.image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .svc.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Env prefix of one service's settings: CLIPSIFT_<SERVICE>_. */}}
{{- define "clipsift.envPrefix" -}}
{{- printf "CLIPSIFT_%s_" (upper .) -}}
{{- end -}}

{{/* "true" when the service runs on the GPU pool. Call with (dict "root" $ "svc" $svc). */}}
{{- define "clipsift.onGpu" -}}
{{- if and .root.Values.gpu.enabled .svc.gpu.enabled -}}true{{- end -}}
{{- end -}}

{{/* Secret that holds the PostgreSQL URL. */}}
{{- define "clipsift.databaseSecretName" -}}
{{- if .Values.database.url -}}
{{- printf "%s-database" (include "clipsift.fullname" .) -}}
{{- else -}}
{{- tpl .Values.database.existingSecret . -}}
{{- end -}}
{{- end -}}

{{- define "clipsift.databaseSecretKey" -}}
{{- if .Values.database.url -}}url{{- else -}}{{ .Values.database.existingSecretKey }}{{- end -}}
{{- end -}}

{{/* Claim that holds the blob store. */}}
{{- define "clipsift.blobClaimName" -}}
{{- default (printf "%s-blobs" (include "clipsift.fullname" .)) .Values.blobs.persistence.existingClaim -}}
{{- end -}}

{{/* The URL scheme of the blob store's bucket (s3, gs, az); empty in folder mode. */}}
{{- define "clipsift.blobScheme" -}}
{{- with .Values.blobs.url -}}{{- regexReplaceAll "^([a-z0-9]+)://.*$" . "${1}" -}}{{- end -}}
{{- end -}}

{{/*
The blob store's env entries: bucket mode (URL, options, plain HTTP, credentials from the Secret
by the URL's scheme) or folder mode (the mounted claim), and the scratch folder in both.
Call with (dict "root" $ "prefix" "CLIPSIFT_GATEWAY_").
*/}}
{{- define "clipsift.blobEnv" -}}
{{- $blobs := .root.Values.blobs -}}
{{- $scheme := include "clipsift.blobScheme" .root -}}
{{- if $blobs.url -}}
- name: {{ .prefix }}BLOB_URL
  value: {{ $blobs.url | quote }}
{{- with $blobs.options }}
- name: {{ $.prefix }}BLOB_OPTIONS
  value: {{ toJson . | quote }}
{{- end }}
{{- if $blobs.allowHttp }}
- name: {{ .prefix }}BLOB_ALLOW_HTTP
  value: "true"
{{- end }}
{{- if $blobs.existingSecret }}
{{- $secret := tpl $blobs.existingSecret .root }}
{{- $env := dict }}
{{- if eq $scheme "s3" }}
{{- $env = dict "AWS_ACCESS_KEY_ID" $blobs.secretKeys.awsAccessKeyId "AWS_SECRET_ACCESS_KEY" $blobs.secretKeys.awsSecretAccessKey }}
{{- with $blobs.secretKeys.awsSessionToken }}{{- $_ := set $env "AWS_SESSION_TOKEN" . }}{{- end }}
{{- else if eq $scheme "az" }}
{{- $env = dict "AZURE_STORAGE_ACCOUNT_KEY" $blobs.secretKeys.azureStorageAccountKey }}
{{- end }}
{{- range $name, $key := $env }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
{{- end }}
{{- if eq $scheme "gs" }}
- name: GOOGLE_APPLICATION_CREDENTIALS
  value: {{ printf "%s/%s" $blobs.googleCredentialsMountPath $blobs.secretKeys.googleApplicationCredentials | quote }}
{{- end }}
{{- end }}
{{- else -}}
- name: {{ .prefix }}BLOB_DIR
  value: {{ $blobs.mountPath | quote }}
{{- end }}
- name: {{ .prefix }}SCRATCH_DIR
  value: {{ $blobs.scratch.mountPath | quote }}
{{- end -}}

{{/* Values of the blob store that contradict each other fail the render (the schema cannot say it). */}}
{{- define "clipsift.blobChecks" -}}
{{- $blobs := .Values.blobs -}}
{{- $scheme := include "clipsift.blobScheme" . -}}
{{- if and (not $blobs.url) $blobs.existingSecret -}}
{{- fail "blobs.existingSecret holds bucket credentials: set blobs.url too (or empty existingSecret for the folder mode)" -}}
{{- end -}}
{{- if and $blobs.azureWorkloadIdentity (ne $scheme "az") -}}
{{- fail "blobs.azureWorkloadIdentity needs an az:// blobs.url" -}}
{{- end -}}
{{- end -}}

{{/* The database env entries (URL, and PGPASSWORD when the password lives in its own Secret). Call with (dict "root" $ "prefix" "CLIPSIFT_GATEWAY_"). */}}
{{- define "clipsift.databaseEnv" -}}
- name: {{ .prefix }}DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "clipsift.databaseSecretName" .root }}
      key: {{ include "clipsift.databaseSecretKey" .root }}
{{- with .root.Values.database.passwordSecret }}
{{- if .name }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ tpl .name $.root }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
NATS settings beyond the URL: stream replicas (the services' default is 1), the service's own
user (password from the Secret, key = service name) and inbox, TLS files from the mounted Secret.
Call with (dict "root" $ "name" "gateway" "prefix" "CLIPSIFT_GATEWAY_").
*/}}
{{- define "clipsift.natsEnv" -}}
{{- $prefix := .prefix -}}
{{- with .root.Values.nats }}
{{- if ne (int .streamReplicas) 1 }}
- name: {{ $prefix }}NATS_STREAM_REPLICAS
  value: {{ .streamReplicas | quote }}
{{- end }}
{{- if .auth.enabled }}
- name: {{ $prefix }}NATS_USER
  value: {{ $.name | quote }}
- name: {{ $prefix }}NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ tpl .auth.existingSecret $.root }}
      key: {{ $.name }}
- name: {{ $prefix }}NATS_INBOX_PREFIX
  value: {{ printf "_INBOX.%s" $.name | quote }}
{{- end }}
{{- if .tls.enabled }}
- name: {{ $prefix }}NATS_TLS_CA_FILE
  value: {{ printf "%s/ca.crt" .tls.mountPath | quote }}
{{- if .tls.clientCertificate }}
- name: {{ $prefix }}NATS_TLS_CERT_FILE
  value: {{ printf "%s/tls.crt" .tls.mountPath | quote }}
- name: {{ $prefix }}NATS_TLS_KEY_FILE
  value: {{ printf "%s/tls.key" .tls.mountPath | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
Environment of one service: every CLIPSIFT_<SERVICE>_* setting the chart owns, then the
service's own `env` map and `extraEnv` list. Call with (dict "root" $ "name" "gateway" "svc" $svc).
*/}}
{{- define "clipsift.env" -}}
{{- $root := .root -}}
{{- $svc := .svc -}}
{{- $prefix := include "clipsift.envPrefix" .name -}}
- name: {{ $prefix }}LOG_LEVEL
  value: {{ $root.Values.logLevel | quote }}
{{- with $root.Values.tracing }}
{{- if .otlpEndpoint }}
- name: {{ $prefix }}OTLP_ENDPOINT
  value: {{ .otlpEndpoint | quote }}
- name: {{ $prefix }}TRACE_SAMPLE_RATIO
  value: {{ .sampleRatio | toString | quote }}
{{- end }}
{{- end }}
{{- if eq $svc.protocol "http" }}
- name: {{ $prefix }}HTTP_PORT
  value: {{ $svc.port | quote }}
{{- else }}
- name: {{ $prefix }}GRPC_PORT
  value: {{ $svc.port | quote }}
{{- end }}
- name: {{ $prefix }}METRICS_PORT
  value: {{ $svc.metricsPort | quote }}
{{- if $svc.uses.nats }}
- name: {{ $prefix }}NATS_URL
  value: {{ tpl $root.Values.nats.url $root | quote }}
{{- include "clipsift.natsEnv" (dict "root" $root "name" .name "prefix" $prefix) }}
{{- end }}
{{- if $svc.uses.database }}
{{ include "clipsift.databaseEnv" (dict "root" $root "prefix" $prefix) }}
{{- end }}
{{- if $svc.uses.blobs }}
{{ include "clipsift.blobEnv" (dict "root" $root "prefix" $prefix) }}
{{- end }}
{{- range $field, $target := $svc.targets }}
{{- $targetSvc := index $root.Values.services $target }}
{{- if not $targetSvc }}{{ fail (printf "services.%s.targets.%s names %q, which is not a service" $.name $field $target) }}{{ end }}
{{- if not $targetSvc.enabled }}{{ fail (printf "services.%s.targets.%s names service %q, which is disabled" $.name $field $target) }}{{ end }}
- name: {{ $prefix }}{{ upper $field }}
  value: {{ printf "%s:%v" (include "clipsift.serviceName" (dict "root" $root "service" $target)) $targetSvc.port | quote }}
{{- end }}
{{- if and $svc.models.setting $svc.models.path }}
- name: {{ $prefix }}{{ upper $svc.models.setting }}
  value: {{ $svc.models.path | quote }}
{{- end }}
{{- if include "clipsift.onGpu" (dict "root" $root "svc" $svc) }}
{{- range $key, $value := $svc.gpu.env }}
- name: {{ $prefix }}{{ upper $key }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- range $key, $value := $svc.env }}
- name: {{ $prefix }}{{ upper $key }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- with $svc.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* NetworkPolicy peers from a values list (templated), or nothing. */}}
{{- define "clipsift.peers" -}}
{{- if .peers }}
to:
{{ tpl (toYaml .peers) .root | indent 2 }}
{{- end }}
{{- end -}}
