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

{{/* repository:tag, or repository[:tag]@digest when a digest pins the image. */}}
{{- define "cgroup-lb.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Where the node's cgroup v2 directory appears in the container; --cgroup gets this path. */}}
{{- define "cgroup-lb.cgroupMountPath" -}}
{{- printf "/host%s" (.Values.cgroupPath | trimSuffix "/") -}}
{{- end -}}

{{/* host:port for a bind-address flag, from a dict with host and port; an IPv6 host needs brackets. */}}
{{- define "cgroup-lb.hostPort" -}}
{{- $host := .host -}}
{{- if and (contains ":" $host) (not (hasPrefix "[" $host)) -}}
{{- $host = printf "[%s]" $host -}}
{{- end -}}
{{- printf "%s:%d" $host (int .port) -}}
{{- end -}}

{{/* --healthz-bind-address. */}}
{{- define "cgroup-lb.healthzAddress" -}}
{{- include "cgroup-lb.hostPort" (dict "host" .Values.healthzBindAddress "port" .Values.healthzPort) -}}
{{- end -}}

{{/*
The host /metrics binds to: metricsBindAddress when set ("none" for no listener); else the pod's address
(the node's, with hostNetwork; $(POD_IP) is expanded by the kubelet) when the ServiceMonitor scrapes it,
else loopback as kube-proxy.
*/}}
{{- define "cgroup-lb.metricsHost" -}}
{{- if .Values.metricsBindAddress -}}
{{- .Values.metricsBindAddress -}}
{{- else if .Values.serviceMonitor.enabled -}}
$(POD_IP)
{{- else -}}
127.0.0.1
{{- end -}}
{{- end -}}

{{/* --metrics-bind-address. */}}
{{- define "cgroup-lb.metricsAddress" -}}
{{- $host := include "cgroup-lb.metricsHost" . -}}
{{- if eq $host "none" -}}
none
{{- else -}}
{{- include "cgroup-lb.hostPort" (dict "host" $host "port" .Values.metricsPort) -}}
{{- end -}}
{{- end -}}

{{/* True (non-empty) when /metrics listens on an address other pods can reach, so the port is declared. */}}
{{- define "cgroup-lb.metricsExposed" -}}
{{- $host := include "cgroup-lb.metricsHost" . -}}
{{- if not (or (eq $host "none") (hasPrefix "127." $host) (eq $host "::1") (eq $host "[::1]")) -}}
true
{{- end -}}
{{- end -}}

{{/* True (non-empty) before Kubernetes 1.30, where the AppArmor profile is an annotation, not a field. */}}
{{- define "cgroup-lb.legacyAppArmor" -}}
{{- if semverCompare "<1.30.0-0" .Capabilities.KubeVersion.Version -}}
true
{{- end -}}
{{- end -}}

{{/* The container securityContext from podSecurity, shared by the agent and the cleanup pods. */}}
{{- define "cgroup-lb.securityContext" -}}
privileged: {{ .Values.podSecurity.privileged }}
{{- with .Values.podSecurity.capabilities }}
capabilities:
  {{- toYaml . | nindent 2 }}
{{- end }}
readOnlyRootFilesystem: {{ .Values.podSecurity.readOnlyRootFilesystem }}
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsNonRoot: {{ gt (int .Values.podSecurity.runAsUser) 0 }}
{{- with .Values.podSecurity.seccompProfile }}
seccompProfile:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if and .Values.podSecurity.appArmorProfile (not (include "cgroup-lb.legacyAppArmor" .)) }}
appArmorProfile:
  {{- toYaml .Values.podSecurity.appArmorProfile | nindent 2 }}
{{- end }}
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
{{- if and .Values.serviceMonitor.enabled (not (include "cgroup-lb.metricsExposed" .)) -}}
{{- fail (printf "serviceMonitor.enabled: /metrics binds to %q, which Prometheus cannot reach; leave metricsBindAddress empty (the node's address) or set a reachable one" (include "cgroup-lb.metricsHost" .)) -}}
{{- end -}}
{{- if or (eq (.Values.stateDir | trimSuffix "/") $root) (hasPrefix (printf "%s/" $root) .Values.stateDir) -}}
{{- fail (printf "stateDir %q must not lie under bpffsRoot %q: bpffs holds only BPF objects" .Values.stateDir .Values.bpffsRoot) -}}
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
- --healthz-bind-address
- {{ include "cgroup-lb.healthzAddress" . | quote }}
- --metrics-bind-address
- {{ include "cgroup-lb.metricsAddress" . | quote }}
- --state-dir
- {{ .Values.stateDir | quote }}
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
{{- if .Values.socketLB.hostNamespaceOnly }}
- --host-namespace-only
{{- end }}
{{- range .Values.socketLB.excludeNetns }}
- --exclude-netns
- {{ . | quote }}
{{- end }}
{{- with .Values.bpf.lbMapMax }}
- --bpf-lb-map-max
- {{ . | int64 | quote }}
{{- end }}
{{- if .Values.bpf.preallocateMaps }}
- --preallocate-bpf-maps
{{- end }}
{{- range .Values.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}
