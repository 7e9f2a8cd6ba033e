#!/usr/bin/env bash
# The real agent at scale, from manifests: process start to every Service programmed (/readyz turns ready after the
# first complete sync), RSS, and CPU while nothing changes (utime+stime from /proc/PID/stat over a quiet window).
#
#   bench/agent/agent-scale.sh [quick|full] [services] [endpoints-per-service]
#
# quick samples idle CPU over 20 s, full over 60 s; both print the peak RSS (VmHWM). Needs root, cgroup v2 and bpffs.
# Everything runs in a child cgroup and a bpffs directory of its own, both removed on exit (also on failure or Ctrl-C);
# the agent is stopped by PID.
# CGROUP_LB_BIN picks another build of the agent (default: bin/cgroup-lb of this checkout). AGENT_ARGS adds run
# flags (e.g. AGENT_ARGS=--metrics-per-service). A last line times /metrics: the first scrape (it waits for the
# first map snapshot), later ones (served from the snapshot; a read runs in the background every 5 s at most), and
# /healthz as the HTTP round trip alone, with the number of series. CGROUP_LB_ARGS is the same as AGENT_ARGS (e.g.
# CGROUP_LB_ARGS='--sync-period 1h' to price the periodic full sync).
# Above about 23k Services x 10 the service maps (default 262144 entries: a master plus one per slot) need a bigger
# --bpf-lb-map-max, e.g. AGENT_ARGS='--bpf-lb-map-max 600000' for 50k x 10.
set -euo pipefail

mode=${1:-quick}
services=${2:-10000}
endpoints=${3:-10}
case "$mode" in
  quick) window=20 ;;
  full) window=60 ;;
  *) echo "usage: $0 [quick|full] [services] [endpoints-per-service]" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/../.." && pwd)
agent=${CGROUP_LB_BIN:-$root/bin/cgroup-lb}
if [[ $(id -u) -ne 0 ]]; then echo "agent-scale: needs root" >&2; exit 1; fi
if mountpoint -q /sys/fs/cgroup/unified; then cgroot=/sys/fs/cgroup/unified; else cgroot=/sys/fs/cgroup; fi

cgroup=$cgroot/cglb-agentbench-$$
bpffs=/sys/fs/bpf/cglb-agentbench-$$
work=$(mktemp -d /tmp/cglb-bench-XXXXXX)
port=$((20000 + $$ % 20000))
pid=

cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  fi
  "$agent" detach --cgroup "$cgroup" --bpffs "$bpffs" >/dev/null 2>&1 || true
  rm -rf "$bpffs" "$work"
  [[ -d $cgroup ]] && rmdir "$cgroup" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

mkdir "$cgroup"
mkdir "$work/manifests"
python3 - "$services" "$endpoints" "$work/manifests" <<'PY'
import sys
n, eps, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
# One file per 10000 Services (the reader refuses files over 64 MB). 16384 ClusterIPs; beyond them the port tells
# Services apart. Pod addresses repeat every 65536 endpoints (shared backends).
for first in range(0, n, 10000):
  with open(f"{out}/services-{first // 10000:02d}.yaml", "w") as f:
    chunk = range(first, min(n, first + 10000))
    for i in chunk:
        f.write(f"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i:05d}\n  namespace: bench\n"
                f"spec:\n  clusterIP: 198.18.{i >> 8 & 0x3f}.{i & 0xff}\n  ports:\n  - name: http\n    port: {80 + (i >> 14)}\n    protocol: TCP\n    targetPort: 8080\n")
    for i in chunk:
        f.write(f"---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: svc-{i:05d}-abcde\n  namespace: bench\n"
                f"  labels:\n    kubernetes.io/service-name: svc-{i:05d}\naddressType: IPv4\nports:\n- name: http\n  port: 8080\n  protocol: TCP\nendpoints:\n")
        for e in range(eps):
            p = i * eps + e
            f.write(f"- addresses: [\"198.19.{p >> 8 & 0xff}.{p & 0xff}\"]\n  conditions: {{ready: true}}\n")
PY

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
hwm_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

started=$(date +%s%N)
"$agent" run --source "$work/manifests" --cgroup "$cgroup" --bpffs "$bpffs" --node-name bench \
  --healthz-bind-address "127.0.0.1:$port" --metrics-bind-address "127.0.0.1:$port" --log-level Warning --detach-on-exit ${AGENT_ARGS:-} ${CGROUP_LB_ARGS:-} >"$work/agent.log" 2>&1 &
pid=$!
until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
  if ! kill -0 "$pid" 2>/dev/null; then echo "agent-scale: the agent exited:" >&2; cat "$work/agent.log" >&2; exit 1; fi
  sleep 0.05
done
ready=$(date +%s%N)
ready_ms=$(( (ready - started) / 1000000 ))
rss_ready=$(rss_mb "$pid")
cpu_to_ready=$(cpu_ticks "$pid")

# Let startup work (JIT, GC) settle before the quiet window.
sleep 5
before=$(cpu_ticks "$pid")
sleep "$window"
after=$(cpu_ticks "$pid")
idle=$(awk -v d=$((after - before)) -v t="$ticks" -v w="$window" 'BEGIN {printf "%.2f", 100 * d / t / w}')
rss_idle=$(rss_mb "$pid")
rss_peak=$(hwm_mb "$pid")

echo "| $services x $endpoints | $ready_ms ms | $(awk -v c="$cpu_to_ready" -v t="$ticks" 'BEGIN {printf "%.1f", c / t}') s | $rss_ready MB | $idle % over ${window} s | $rss_idle MB |"
echo "peak RSS (VmHWM, start to the end of the quiet window): $rss_peak MB"

scrape_ms() { # path
  local start; start=$(date +%s%N)
  curl -fs "http://127.0.0.1:$port$1" -o "$work/metrics.txt"
  echo $(( ($(date +%s%N) - start) / 1000000 ))
}
first=$(scrape_ms /metrics)
series=$(grep -vc '^#' "$work/metrics.txt")
later=$(for _ in 1 2 3 4 5; do sleep 2; scrape_ms /metrics; done | sort -n | head -1)
healthz=$(for _ in 1 2 3 4 5; do scrape_ms /healthz; done | sort -n | head -1)
echo "scrape: $series series; first $first ms, later (best of 5, 2 s apart) $later ms; /healthz (best of 5) $healthz ms"
