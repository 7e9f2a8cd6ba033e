{{/* Names, labels and the agent's command line, shared by every template. */}}

{{- define "cgroup-lb.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name, capped at 63 characters (the DNS label limit for object names). */}}
{{- define "cgroup-lb.fullname" -}}
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

{{- define "cgroup-lb.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: fixed for the life of a release, since a DaemonSet's selector cannot change. */}}
{{- define "cgroup-lb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cgroup-lb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cgroup-lb.labels" -}}
helm.sh/chart: {{ include "cgroup-lb.chart" . }}
{{ include "cgroup-lb.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: node-agent
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "cgroup-lb.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cgroup-lb.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name: set the name of an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "cgroup-lb.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Where the node's cgroup v2 directory appears in the container; --cgroup gets this path. */}}
{{- define "cgroup-lb.cgroupMountPath" -}}
{{- printf "/host%s" (.Values.cgroupPath | trimSuffix "/") -}}
{{- end -}}

{{/* host:port for --health-address; an IPv6 host needs brackets. */}}
{{- define "cgroup-lb.healthAddress" -}}
{{- $host := .Values.healthBindAddress -}}
{{- if and (contains ":" $host) (not (hasPrefix "[" $host)) -}}
{{- $host = printf "[%s]" $host -}}
{{- end -}}
{{- printf "%s:%d" $host (int .Values.healthPort) -}}
{{- end -}}

{{/* podSecurity.appArmorProfile in the annotation syntax that Kubernetes before 1.30 reads. */}}
{{- define "cgroup-lb.legacyAppArmorAnnotation" -}}
{{- $profile := .Values.podSecurity.appArmorProfile -}}
{{- if eq $profile.type "Unconfined" -}}
unconfined
{{- else if eq $profile.type "RuntimeDefault" -}}
runtime/default
{{- else -}}
{{- printf "localhost/%s" (required "podSecurity.appArmorProfile.localhostProfile: a Localhost profile needs the profile's name" $profile.localhostProfile) -}}
{{- end -}}
{{- end -}}

{{/*
Combinations the schema cannot express. Each fails the render with the value to change and why, instead of
an object the API server rejects or an agent that cannot start.
*/}}
{{- define "cgroup-lb.validate" -}}
{{- $root := .Values.bpffsRoot | trimSuffix "/" -}}
{{- if not (hasPrefix (printf "%s/" $root) .Values.bpffsPath) -}}
{{- fail (printf "bpffsPath %q must be a directory under bpffsRoot %q: only bpffsRoot is mounted into the pod" .Values.bpffsPath .Values.bpffsRoot) -}}
{{- end -}}
{{- if and (eq .Values.bpffsMountPropagation "Bidirectional") (not .Values.podSecurity.privileged) -}}
{{- fail "bpffsMountPropagation Bidirectional needs podSecurity.privileged: true (the API server allows Bidirectional propagation only in privileged containers); HostToContainer is enough for the agent" -}}
{{- end -}}
{{- if and .Values.k8sServiceHost (not .Values.k8sServicePort) -}}
{{- fail "k8sServicePort: set it together with k8sServiceHost (the client reads both KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT)" -}}
{{- end -}}
{{- if and .Values.k8sServicePort (not .Values.k8sServiceHost) -}}
{{- fail "k8sServiceHost: set it together with k8sServicePort" -}}
{{- end -}}
{{- end -}}

{{/* The agent's flags, one per value; the image's entrypoint is `cgroup-lb run`. */}}
{{- define "cgroup-lb.args" -}}
- --cgroup
- {{ include "cgroup-lb.cgroupMountPath" . | quote }}
- --bpffs
- {{ .Values.bpffsPath | quote }}
- --node-name
- "$(NODE_NAME)"
- --health-address
- {{ include "cgroup-lb.healthAddress" . | quote }}
- --log-format
- {{ .Values.logFormat | quote }}
- --log-level
- {{ .Values.logLevel | quote }}
{{- if .Values.detachOnExit }}
- --detach-on-exit
{{- end }}
{{- if .Values.socketLB.terminatePodConnections }}
- --bpf-lb-sock-terminate-pod-connections
{{- end }}
{{- range .Values.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}
