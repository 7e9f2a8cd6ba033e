#!/usr/bin/env bash
# `make image-test`: builds the agent's image (deploy/build-image.sh, cached base) and runs it the way the
# chart's DaemonSet does: host network, root with only the chart's capabilities (not --privileged), the read-only
# root filesystem with a tmpfs on /tmp, the node's bpffs at the same path and the cgroup v2 root read-only under
# /host. It checks the version the image reports against Directory.Build.props and the chart, then runs the agent
# from the image on a manifest against a child cgroup of its own (never the root) with a client in a test network
# namespace: a connect to the ClusterIP reaches a backend, /healthz and /readyz answer, and stopping the container
# leaves the programs attached and translating. Then it detaches with the image's own `cgroup-lb detach`.
#
# Everything it creates carries the cglb-image-$$ prefix and is removed on exit, also on failure: containers,
# namespaces, the cgroup, the pins and the cgroups podman made for them. The images stay (they are `make
# image`'s product). Needs root, podman, buildah, runc, bpftool, curl (make deps).
# Usage: tests/image/test.sh     (CI=true turns "cannot run" into a failure)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VERSION=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$REPO/Directory.Build.props")
IMAGE_NAME=${IMAGE_NAME:-cgroup-lb}
IMAGE=localhost/$IMAGE_NAME:$VERSION
PEER=$REPO/build/testpeer/cglb-testpeer
CHART=$REPO/charts/cgroup-lb

CGROOT=/sys/fs/cgroup/unified
[[ -f /sys/fs/cgroup/cgroup.controllers ]] && CGROOT=/sys/fs/cgroup
NAME=cglb-image-$$
CG=$CGROOT/$NAME
PIN=/sys/fs/bpf/$NAME
NS_CLI=$NAME-cli
NS_BE=("$NAME-be1" "$NAME-be2")
CONTAINER=$NAME-agent
WORK=$(mktemp -d "/tmp/$NAME.XXXXXX")
SERVER_PIDS=()
FAILURES=0
STARTED=$SECONDS

# Reserved test addresses only; no route leaves the namespaces.
VIP=198.51.100.70
BE_IP=(198.18.71.2 198.18.72.2)
CLIENT_IP=(198.18.71.1 198.18.72.1)

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILURES=$((FAILURES + 1)); }
die() { echo "FAIL: $*"; exit 1; }
cannot_run() {
	[[ "${CI:-}" == "true" ]] && die "cannot run: $*"
	echo "SKIP: cannot run: $*"
	exit $((FAILURES > 0))
}

# podman 4.3 on these hosts: the default nofile ulimit it sets fails under runc here, crun refuses the hybrid
# cgroup layout, and the systemd cgroup manager needs a systemd that owns the hierarchy.
pm() { CONTAINERS_CONF=$WORK/containers.conf podman --runtime runc --cgroup-manager cgroupfs "$@"; }

# Cgroups podman's cgroupfs manager creates (libpod_parent, one per hierarchy) outlive the containers; the
# ones that did not exist before this test are removed with them.
libpod_parents() { find /sys/fs/cgroup -maxdepth 3 -type d -name libpod_parent 2>/dev/null | sort; }
LIBPOD_PARENTS_BEFORE=$(libpod_parents)

# "attach_type name id" per program attached to our cgroup (bpftool prints a bare newline for none).
attached_programs() {
	python3 -c 'import json, sys
for p in json.loads(sys.argv[1] or "[]"):
    print(p["attach_type"], p["name"], p["id"])' "$(bpftool -j cgroup show "$CG")"
}

cleanup() {
	local rc=$? pid type name id dir
	set +e
	pm rm --force --ignore --time 5 "$CONTAINER" "$NAME-detach" >/dev/null
	for pid in "${SERVER_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [[ -d "$CG" ]]; then
		[[ -d "$PIN" ]] && "$REPO/bin/cgroup-lb" detach --cgroup "$CG" --bpffs "$PIN" >/dev/null 2>&1
		while read -r type name id; do
			[[ -n "$id" ]] && bpftool cgroup detach "$CG" "$type" id "$id"
		done <<<"$(attached_programs 2>/dev/null)"
		rmdir "$CG"
	fi
	rm -rf "$PIN"
	for ns in "$NS_CLI" "${NS_BE[@]}"; do ip netns del "$ns" 2>/dev/null; done
	for dir in $(comm -13 <(echo "$LIBPOD_PARENTS_BEFORE") <(libpod_parents)); do
		find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	rm -rf "$WORK"
	echo "image test: $((SECONDS - STARTED)) s"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

expect_eq() { # what expected actual
	if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}

# ---------------------------------------------------------------- version
# One version (Directory.Build.props) for the agent, the image tag and the chart; checked even where the
# container tools are missing.
echo "== version $VERSION"
[[ -n "$VERSION" ]] || die "no <Version> in $REPO/Directory.Build.props"
[[ -x "$PEER" && -x "$REPO/bin/cgroup-lb" ]] || die "run make build first (no $PEER or bin/cgroup-lb)"
expect_eq "bin/cgroup-lb --version" "$VERSION" "$("$REPO/bin/cgroup-lb" --version)"
expect_eq "the chart's appVersion (its default image tag)" "$VERSION" \
	"$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$CHART/Chart.yaml")"
expect_eq "the chart's default image.repository" "$IMAGE_NAME" \
	"$(awk '/^image:/ { i = 1; next } i && /^ *repository:/ { print $2; exit }' "$CHART/values.yaml")"

# ---------------------------------------------------------------- preconditions
[[ "$(id -u)" == 0 ]] || cannot_run "needs root"
for tool in podman buildah runc bpftool curl ip python3; do
	command -v "$tool" >/dev/null || cannot_run "missing $tool (make deps)"
done
[[ -f "$CGROOT/cgroup.procs" ]] || cannot_run "no cgroup v2 at $CGROOT"
[[ "$(stat -f -c %T /sys/fs/bpf)" == bpf_fs ]] || cannot_run "no bpffs at /sys/fs/bpf (make mount-bpffs)"
printf '[containers]\ndefault_ulimits = []\n' >"$WORK/containers.conf"

echo "== image"
"$REPO/deploy/build-image.sh" "$VERSION"
pm image exists "$IMAGE" || die "$IMAGE is not in podman's storage after the build"
pass "$IMAGE built and in podman's local storage"
ARCHIVE=$REPO/build/image/$IMAGE_NAME-$VERSION.oci.tar
if command -v skopeo >/dev/null; then
	# What an operator pushes: the archive must hold the same image under the chart's reference.
	# (Same image: same config digest, which is podman's image id; layers may be compressed differently.)
	expect_eq "skopeo reads $ARCHIVE: the same image as $IMAGE" "sha256:$(pm image inspect --format '{{.Id}}' "$IMAGE")" \
		"$(skopeo inspect --raw "oci-archive:$ARCHIVE" | python3 -c 'import json, sys; print(json.load(sys.stdin)["config"]["digest"])')"
else
	[[ "${CI:-}" == "true" ]] && fail "skopeo is missing (make deps)" || echo "NOTE: no skopeo; $ARCHIVE not inspected"
fi

# The pod's security context, from the chart's values: its capabilities, root, a read-only root filesystem
# with only /tmp writable (the chart's emptyDir), seccomp left at the runtime's default.
mapfile -t CAPS < <(awk '/^podSecurity:/ { p = 1 } p && /^ *add:/ { a = 1; next } a && /^ *- / { print $2; next } a { exit }' "$CHART/values.yaml")
[[ ${#CAPS[@]} -gt 0 ]] || die "no capabilities found under podSecurity.capabilities.add in $CHART/values.yaml"
RUN_AS_POD=(--network host --user 0:0 --cap-drop ALL)
for cap in "${CAPS[@]}"; do RUN_AS_POD+=(--cap-add "$cap"); done
RUN_AS_POD+=(--read-only --read-only-tmpfs=false --tmpfs /tmp:rw,size=16m,mode=1777
	-v /sys/fs/bpf:/sys/fs/bpf:rslave -v "$CGROOT:/host$CGROOT:ro")
# The chart sets appArmorProfile Unconfined (the default profile refuses pins in bpffs); hosts without
# AppArmor have nothing to unconfine.
[[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" == Y ]] && RUN_AS_POD+=(--security-opt apparmor=unconfined)
agent_cli() { pm run --rm --name "$NAME-detach" "${RUN_AS_POD[@]}" --entrypoint /app/cgroup-lb "$IMAGE" "$@"; }

echo "== the image's version"
expect_eq "cgroup-lb --version in the image is Directory.Build.props' Version" "$VERSION" "$(agent_cli --version)"
expect_eq "the image's org.opencontainers.image.version label" "$VERSION" \
	"$(pm image inspect --format '{{index .Labels "org.opencontainers.image.version"}}' "$IMAGE")"

echo "== sandbox: cgroup $CG, client $NS_CLI, backends ${BE_IP[*]}"
mkdir "$CG"
ip netns add "$NS_CLI"
ip -n "$NS_CLI" link set lo up
for i in 0 1; do
	ns=${NS_BE[$i]}
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip link add "cglbi-c$i" netns "$NS_CLI" type veth peer name eth0 netns "$ns"
	ip -n "$NS_CLI" addr add "${CLIENT_IP[$i]}/24" dev "cglbi-c$i"
	ip -n "$NS_CLI" link set "cglbi-c$i" up
	ip -n "$ns" addr add "${BE_IP[$i]}/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip netns exec "$ns" "$PEER" serve --name "backend-$((i + 1))" --http 8080 >"$WORK/backend-$i.log" 2>&1 &
	SERVER_PIDS+=($!)
done
for i in 0 1; do
	for _ in $(seq 100); do grep -q ready "$WORK/backend-$i.log" && break; sleep 0.1; done
	grep -q ready "$WORK/backend-$i.log" || die "backend-$((i + 1)) did not start: $(cat "$WORK/backend-$i.log")"
done

# A request from the client namespace as a pod in our cgroup makes it: join the cgroup first, then enter the
# namespace (ip netns exec remounts /sys).
request() {
	sh -c 'echo $$ > "$1/cgroup.procs" && exec ip netns exec "$2" curl -s --max-time 2 "http://$3/"' \
		_ "$CG" "$NS_CLI" "$VIP" || echo "(no answer)"
}
expect_eq "before the agent, $VIP is unreachable" "(no answer)" "$(request)"

cat >"$WORK/web.yaml" <<EOF
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: ClusterIP
  clusterIP: $VIP
  clusterIPs: [$VIP]
  ports: [{name: http, protocol: TCP, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: default
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
  - {addresses: [${BE_IP[0]}], conditions: {ready: true}}
  - {addresses: [${BE_IP[1]}], conditions: {ready: true}}
EOF

echo "== agent in the container"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
METRICS_PORT=$(free_port)
# The chart's arguments (templates/_helpers.tpl cgroup-lb.args), with a manifest instead of the API server.
pm run -d --name "$CONTAINER" "${RUN_AS_POD[@]}" -v "$WORK/web.yaml:/etc/cgroup-lb/web.yaml:ro" "$IMAGE" \
	--source /etc/cgroup-lb/web.yaml --cgroup "/host$CG" --bpffs "$PIN" --node-name "$NAME" \
	--healthz-bind-address "127.0.0.1:$PORT" --metrics-bind-address "127.0.0.1:$METRICS_PORT" --log-format json --log-level Information >/dev/null
ready=""
for _ in $(seq 150); do
	ready=$(curl -s --max-time 1 "http://127.0.0.1:$PORT/readyz" -o /dev/null -w '%{http_code}' || true)
	[[ "$ready" == 200 ]] && break
	[[ "$(pm inspect --format '{{.State.Running}}' "$CONTAINER")" == true ]] || break
	sleep 0.2
done
if [[ "$ready" != 200 ]]; then
	pm logs "$CONTAINER" 2>&1 | tail -n 30 | sed 's/^/   agent| /'
	die "the agent in the container did not become ready (last /readyz: ${ready:-none})"
fi
pass "/readyz answers 200 (first sync in the maps)"
expect_eq "/healthz answers status ok" "ok" "$(curl -sf --max-time 2 "http://127.0.0.1:$PORT/healthz" |
	python3 -c 'import json, sys; print(json.load(sys.stdin).get("status"))' 2>/dev/null || echo "(no JSON answer)")"
grep -q '^cgroup_lb_' <(curl -s --max-time 2 "http://127.0.0.1:$METRICS_PORT/metrics") &&
	pass "/metrics serves cgroup_lb_ series on --metrics-bind-address" || fail "/metrics has no cgroup_lb_ series"
expect_eq "/metrics is not served on the healthz listener" "404" \
	"$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics" || true)"

seen=""
for _ in $(seq 16); do seen+="$(request) "; done
expect_eq "16 connects to $VIP:80 from the client namespace reach the two backends" \
	"backend-1 backend-2" "$(tr ' ' '\n' <<<"$seen" | grep -v '^$' | sort -u | tr '\n' ' ' | sed 's/ $//')"
attached=$(attached_programs | sort)
if grep -q '^cgroup_inet4_connect cglb_' <<<"$attached"; then
	pass "programs attached to $CG: $(awk '{print $2}' <<<"$attached" | tr '\n' ' ')"
else
	fail "no cglb connect4 program attached to $CG: '$attached'"
fi

# What an operator runs in the pod: status reads the pinned maps (and writes nothing).
# Captured first: `cmd | grep -q` under pipefail fails when grep's early exit cuts the writer off (SIGPIPE) after a match.
status_json=$(agent_cli status --bpffs "$PIN" -o json 2>&1) || true
grep -q "\"${BE_IP[1]}\"" <<<"$status_json" &&
	pass "cgroup-lb status -o json in the image shows the backends" ||
	fail "cgroup-lb status -o json in the image: no ${BE_IP[1]} in: $(grep -A12 '"backends"' <<<"$status_json" | head -40 || head -c 2000 <<<"$status_json")"
# The operator's self-check, from the image, on the running agent's cgroup and pins: everything required present
# (exit 0), the pin directory held by the agent, and the programs attached to the agent's cgroup.
doctor_rc=0
doctor=$(agent_cli doctor -o json --cgroup "/host$CG" --bpffs "$PIN" 2>"$WORK/doctor.err") || doctor_rc=$?
if python3 - "$doctor" "/host$CG" <<'PY' 2>"$WORK/doctor.check"; then
import json, sys
report, cgroup = json.loads(sys.argv[1]), sys.argv[2]
checks = {c["name"]: c for c in report["checks"]}
assert report["healthy"], [c for c in report["checks"] if c["required"] and c["status"] == "missing"]
assert checks["pin directory lock"]["detail"].startswith("held by"), checks["pin directory lock"]
assert "attached to " + cgroup in checks["attached programs"]["detail"], checks["attached programs"]
PY
	expect_eq "cgroup-lb doctor -o json in the image exits 0" "0" "$doctor_rc"
	pass "cgroup-lb doctor -o json in the image: healthy, pins held by the agent, programs on /host$CG"
else
	fail "cgroup-lb doctor -o json in the image (exit $doctor_rc): $(cat "$WORK/doctor.check") ${doctor:0:600} $(cat "$WORK/doctor.err")"
fi

echo "== stop the container"
pm stop -t 20 "$CONTAINER" >/dev/null
expect_eq "the agent exits 0 on SIGTERM" "0" "$(pm inspect --format '{{.State.ExitCode}}' "$CONTAINER")"
expect_eq "the same programs stay attached after the container stopped" "$attached" "$(attached_programs | sort)"
answer=$(request)
[[ "$answer" == backend-[12] ]] && pass "$VIP still reaches a backend without the agent ($answer)" ||
	fail "$VIP after the agent stopped: $answer"
pm rm "$CONTAINER" >/dev/null

echo "== detach with the image"
agent_cli detach --cgroup "/host$CG" --bpffs "$PIN" >"$WORK/detach.log" 2>&1 ||
	{ sed 's/^/   detach| /' "$WORK/detach.log"; fail "cgroup-lb detach in the image failed"; }
expect_eq "nothing attached to $CG after detach" "" "$(attached_programs)"
expect_eq "no pins left under $PIN" "" "$(find "$PIN" -mindepth 1 2>/dev/null | head -n 3)"
# The chart's uninstall hook runs it this way on every node, possibly more than once.
agent_cli detach --cgroup "/host$CG" --bpffs "$PIN" --wait 10s >"$WORK/detach2.log" 2>&1 &&
	grep -q "Detached 0 programs and removed 0 map pins" "$WORK/detach2.log" &&
	pass "a second detach --wait in the image finds nothing and succeeds" ||
	{ sed 's/^/   detach| /' "$WORK/detach2.log"; fail "a second cgroup-lb detach --wait in the image failed"; }
root_programs=$(bpftool cgroup show "$CGROOT")
if grep -q cglb_ <<<"$root_programs"; then
	fail "a cglb program is attached to the root cgroup $CGROOT"
else
	pass "the root cgroup carries no cglb program"
fi

if ((FAILURES > 0)); then
	echo "RESULT: FAIL ($FAILURES checks failed)"
	exit 1
fi
echo "RESULT: PASS"
