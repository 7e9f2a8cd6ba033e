#!/usr/bin/env bash
# `make demo`: CgroupLb on the embedded default (a manifest on disk), in a sandbox of its own.
#
# It builds a child cgroup, a client network namespace and three backend namespaces that each answer HTTP with
# their own name, runs the agent on a copy of examples/demo/web.yaml, sends requests to the Service's ClusterIP,
# shows `cgroup-lb status`, removes a backend from the manifest and shows the change take effect live.
# Everything it creates is removed on exit, also on Ctrl-C. It never touches the root cgroup or the host's routes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

[ "$(id -u)" = 0 ] || { echo "make demo needs root (it creates network namespaces and attaches BPF programs)"; exit 1; }

CGROOT=/sys/fs/cgroup/unified
[ -f /sys/fs/cgroup/cgroup.controllers ] && CGROOT=/sys/fs/cgroup
ID=cglb-demo
CG=$CGROOT/$ID
PIN=/sys/fs/bpf/$ID
WORK=$ROOT/build/demo
AGENT=$ROOT/bin/cgroup-lb
PEER=$ROOT/build/testpeer/cglb-testpeer
VIP=198.51.100.10
PIDS=()

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '   %s\n' "$*"; }

cleanup() {
  set +e
  bold "Cleaning up"
  if [ -n "${AGENT_PID:-}" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
    kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
  fi
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  [ -d "$PIN" ] && "$AGENT" detach --cgroup "$CG" --bpffs "$PIN" >/dev/null 2>&1
  rm -rf "$PIN"
  for ns in $ID-client $ID-be1 $ID-be2 $ID-be3; do ip netns del "$ns" 2>/dev/null; done
  [ -d "$CG" ] && rmdir "$CG" 2>/dev/null
  say "sandbox removed (cgroup $CG, namespaces $ID-*, pins $PIN)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Leftovers of an interrupted earlier run.
for ns in $ID-client $ID-be1 $ID-be2 $ID-be3; do ip netns del "$ns" 2>/dev/null || true; done
[ -d "$PIN" ] && { "$AGENT" detach --cgroup "$CG" --bpffs "$PIN" >/dev/null 2>&1 || true; rm -rf "$PIN"; }
[ -d "$CG" ] && rmdir "$CG" 2>/dev/null || true

bold "Sandbox: a client namespace and three backend pods, on reserved test addresses"
mkdir -p "$CG" "$WORK"
ip netns add $ID-client
ip -n $ID-client link set lo up
for i in 1 2 3; do
  ns=$ID-be$i
  ip netns add $ns
  ip -n $ns link set lo up
  ip link add cglbd-c$i netns $ID-client type veth peer name eth0 netns $ns
  ip -n $ID-client addr add 198.18.$i.1/24 dev cglbd-c$i
  ip -n $ID-client link set cglbd-c$i up
  ip -n $ns addr add 198.18.$i.2/24 dev eth0
  ip -n $ns link set eth0 up
  ip netns exec $ns "$PEER" serve --name backend-$i --http 8080 > "$WORK/backend-$i.log" 2>&1 &
  PIDS+=($!)
  say "backend-$i  198.18.$i.2:8080  (namespace $ns)"
done
say "client     namespace $ID-client, cgroup $CG"
say "no route to $VIP exists anywhere: only the socket load balancer can make it reachable"
for i in 1 2 3; do
  for _ in $(seq 50); do grep -q ready "$WORK/backend-$i.log" 2>/dev/null && break; sleep 0.1; done
done

# Runs a command as a pod would: first in the demo cgroup, then inside the client namespace.
in_client_sh() { sh -c 'echo $$ > "$1/cgroup.procs" && exec ip netns exec "$2" sh -c "$3"' _ "$CG" "$ID-client" "$1"; }

request() { in_client_sh "curl -s --max-time 2 http://$VIP/ || echo '(no answer)'"; }

bold "Before the agent: a request to the ClusterIP $VIP goes nowhere"
say "$(in_client_sh "curl -sS --max-time 2 http://$VIP/ 2>&1 || true")"

cp examples/demo/web.yaml "$WORK/web.yaml"
bold "The manifest (a copy of examples/demo/web.yaml): Service web + EndpointSlice with three endpoints"
sed 's/^/   /' "$WORK/web.yaml"

bold "Starting the agent: cgroup-lb run --source $WORK/web.yaml --cgroup $CG"
"$AGENT" run --source "$WORK/web.yaml" --cgroup "$CG" --bpffs "$PIN" --node-name demo-node \
  --detach-on-exit --healthz-bind-address none --metrics-bind-address none > "$WORK/agent.log" 2>&1 &
AGENT_PID=$!
for _ in $(seq 100); do
  # Captured, not piped into grep -q: under pipefail grep's early exit can fail the pipe after a match (SIGPIPE).
  [[ $("$AGENT" status --bpffs "$PIN" -o json 2>/dev/null) == *'"198.18.3.2"'* ]] && break
  kill -0 $AGENT_PID 2>/dev/null || { echo "the agent exited:"; cat "$WORK/agent.log"; exit 1; }
  sleep 0.2
done
sed 's/^/   agent| /' "$WORK/agent.log"

bold "Twelve requests to http://$VIP/ from the client namespace (each connect() picks a backend at random)"
for n in $(seq 12); do say "request $n -> $(request)"; done

bold "cgroup-lb status (read from the pinned kernel maps)"
"$AGENT" status --bpffs "$PIN" | sed 's/^/   /'

bold "Live edit: removing backend 198.18.2.2 from the EndpointSlice (no restart)"
# Drop the endpoint whose address is 198.18.2.2: its '- addresses:' item and the lines that belong to it.
awk '/^  - addresses:/ { skip = 0 } /^  - addresses:/ { getline nxt; if (nxt ~ /198\.18\.2\.2/) { skip = 1 } else { print; print nxt }; next } /^[^ ]/ { skip = 0 } !skip' \
  "$WORK/web.yaml" > "$WORK/web.yaml.new" && mv "$WORK/web.yaml.new" "$WORK/web.yaml"
for _ in $(seq 100); do
  [[ $("$AGENT" status --bpffs "$PIN" -o json) == *'"198.18.2.2"'* ]] || break
  sleep 0.1
done
say "the agent picked up the edit by itself:"
tail -1 "$WORK/agent.log" | sed 's/^/   agent| /'
for n in $(seq 6); do say "request $n -> $(request)"; done

bold "cgroup-lb status after the edit"
"$AGENT" status --bpffs "$PIN" | sed 's/^/   /'

bold "Done: pods reached a Service with no kube-proxy, no NAT and no conntrack: connect() itself was rewritten."
