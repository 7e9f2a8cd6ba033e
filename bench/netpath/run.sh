#!/usr/bin/env bash
# bench/netpath: a pod reaching a ClusterIP through four data paths, side by side (`make bench-netpath`).
#
#   bench/netpath/run.sh [--quick] [--sizes "1 1000 10000"] [--rounds R] [--seconds S] [--cpu C] [--out DIR]
#                        [--paths "direct iptables nftables cgrouplb"] [--publish DOCS_DIR]
# --quick: 3 rounds of 2 s per test instead of 5 of 5 s. --publish: also write netpath.md, the PNGs and the raw
# results.tsv to DOCS_DIR (make bench-netpath uses docs/performance). --paths: which paths, in the order the rounds
# interleave them (direct first: it is the baseline of every ratio); the two yardsticks are opt-in, e.g.
# --paths "direct hooks minimal cgrouplb".
#
# The shape is two nodes made of network namespaces: a client pod, a node that routes (where kube-proxy would load
# its rules), and two backend pods, joined by veth pairs, on reserved test ranges, with no route out. Every path gets
# a sandbox of its own, so one path's rules or programs never sit on another path's packets:
#   direct    the client sends to the backend pod's IP: the physical limit, no Service at all
#   iptables  kube-proxy's iptables shape in the node namespace (iptables-restore --noflush, the measured Service last)
#   nftables  kube-proxy's nftables shape in the node namespace (its verdict maps, nft -f)
#   cgrouplb  the real agent (bin/cgroup-lb run --source <manifest>) attached to a child cgroup that holds the
#             client and backend pods of that sandbox
# and two yardsticks for the floor of any socket-level LB (not in the default --paths):
#   hooks     the cgrouplb sandbox's shape (its pods in a child cgroup of their own) with bench/bpfstats/empty.bpf.c
#             attached there (all eight sock_addr hooks, each returns 1) and the client sending to the backend pod's
#             IP as in direct: nothing translates, so it prices the hook dispatch alone (the kernel's work around
#             every connect4/sendmsg4/recvmsg4 program run), which every socket-level LB pays
#   minimal   the same with bench/bpfstats/minimal_lb.bpf.c on the four IPv4 hooks (one hash lookup, a UDP reverse
#             entry in an LRU), its bench_min_svc map holding the N Services (each port to its first endpoint, one
#             `bpftool batch file`), the client sending to the ClusterIP: a socket LB with no guarantees
# For each N (Services loaded), it proves each path reaches both backends and that the ClusterIP is unreachable
# without it, then runs R rounds of: direct, iptables, nftables, cgrouplb (interleaved; a last direct closes the
# run). Each run of a path: sockperf ping-pong UDP and TCP (--full-rtt), sockperf UDP throughput, and a connect/close
# loop against an accept-and-close server (connects/s and connect() latency). Client and servers are pinned to one
# CPU. Raw numbers go to OUT/results.tsv; bench/netpath/CgroupLb.Netpath.Report turns them into tables and plots.
#
# Safety: its own cgroups under the cgroup v2 root (never the root itself), its own bpffs directory, namespaces named
# cglbnp-<pid>-*, no change to the root namespace's routes, iptables or nftables. Everything it made is removed on
# exit, also on failure or Ctrl-C; it stops only the processes it started, by PID.
set -Eeuo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

SIZES="1 1000 10000"
ROUNDS=5
SECONDS_PER_TEST=5
CPU=$(( $(nproc) - 1 ))
OUT=""
QUICK=0
PUBLISH=""
PATHS="direct iptables nftables cgrouplb"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; ROUNDS=3; SECONDS_PER_TEST=2 ;;
    --sizes) SIZES="$2"; shift ;;
    --rounds) ROUNDS="$2"; shift ;;
    --seconds) SECONDS_PER_TEST="$2"; shift ;;
    --cpu) CPU="$2"; shift ;;
    --paths) PATHS="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    --publish) PUBLISH="$2"; shift ;;
    -h|--help) sed -n '2,/^set -E/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "bench-netpath: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

for p in $PATHS; do
  case $p in direct|hooks|minimal|iptables|nftables|cgrouplb) ;; *) echo "bench-netpath: unknown path '$p' (direct hooks minimal iptables nftables cgrouplb)" >&2; exit 2 ;; esac
done
has_path() { [[ " $PATHS " == *" $1 "* ]]; }
YARDSTICKS=""   # the yardstick paths of this run (hooks, minimal): programs loaded and attached by this script
for p in hooks minimal; do has_path $p && YARDSTICKS="$YARDSTICKS $p"; done
[ "$(id -u)" = 0 ] || { echo "bench-netpath: needs root (network namespaces, cgroups, BPF)" >&2; exit 1; }
for tool in sockperf iptables-restore nft ip taskset clang python3 $([ -z "$YARDSTICKS" ] || echo bpftool); do
  command -v $tool >/dev/null || { echo "bench-netpath: $tool is missing: run 'make bench-deps'" >&2; exit 1; }
done
AGENT=$ROOT/bin/cgroup-lb
[[ " $PATHS " != *" cgrouplb "* ]] || [ -x "$AGENT" ] || { echo "bench-netpath: $AGENT is missing: run 'make build'" >&2; exit 1; }

CGROOT=/sys/fs/cgroup/unified
[ -f /sys/fs/cgroup/cgroup.controllers ] && CGROOT=/sys/fs/cgroup
ID=cglbnp-$$
CG=$CGROOT/$ID
CG_PLAIN=$CG/plain   # pods of the direct, iptables and nftables sandboxes: no programs attached
CG_LB=$CG/lb         # pods of the cgrouplb sandbox: the agent attaches here
CG_HOOKS=$CG/hooks   # pods of the hooks sandbox: empty.bpf.c attaches here
CG_MIN=$CG/minimal   # pods of the minimal sandbox: minimal_lb.bpf.c attaches here
PIN=/sys/fs/bpf/$ID  # one directory per path that loads programs: $PIN/cgrouplb (the agent's), $PIN/hooks, $PIN/minimal
AGENT_PIN=$PIN/cgrouplb
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$ROOT/build/netpath/$STAMP}
BIN=$ROOT/build/netpath
VIP=198.19.255.10
POD1=198.18.2.2
PIDS=()
AGENT_PID=""

mkdir -p "$OUT" "$BIN"
RESULTS=$OUT/results.tsv
CHECKS=$OUT/checks.txt
LOG=$OUT/run.log
: > "$CHECKS"
printf 'n\tround\tpath\tmetric\tvalue\n' > "$RESULTS"

say() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$LOG"; }
check() { printf '%s\n' "$*" | tee -a "$CHECKS" "$LOG"; }
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >> "$RESULTS"; }
fail() { say "FAILED: $*"; exit 1; }

ns() { echo "$ID-$1-$2"; }   # ns PATH ROLE, ROLE in client node be1 be2
pods_cgroup() {
  case $1 in cgrouplb) echo "$CG_LB" ;; hooks) echo "$CG_HOOKS" ;; minimal) echo "$CG_MIN" ;; *) echo "$CG_PLAIN" ;; esac
}
POD2=198.18.3.2
# direct and hooks send to the pods themselves: nothing translates.
target_of() { case $1 in direct|hooks) echo "$POD1" ;; *) echo "$VIP" ;; esac; }
# The connect loop's target: for direct both pods in turn, as a Service spreads its connects over both.
connect_target_of() { case $1 in direct|hooks) echo "$POD1,$POD2" ;; *) echo "$VIP" ;; esac; }

# Runs a command as a pod would: first in the cgroup, then pinned, then inside the namespace (`ip netns exec`
# remounts /sys, so the cgroup is joined before entering it).
in_pod() {
  local cg=$1 netns=$2; shift 2
  bash -c 'echo $$ > "$1/cgroup.procs" && exec taskset -c "$2" ip netns exec "$3" "${@:4}"' _ "$cg" "$CPU" "$netns" "$@"
}

# Starts a long-running pod process in the background; its PID (the process itself: every step execs) goes to PIDS.
exec_in_pod() {
  local cg=$1 netns=$2; shift 2
  exec bash -c 'echo $$ > "$1/cgroup.procs" && exec taskset -c "$2" ip netns exec "$3" "${@:4}"' _ "$cg" "$CPU" "$netns" "$@"
}
spawn_in_pod() { exec_in_pod "$@" >> "$OUT/servers.log" 2>&1 & PIDS+=($!); }

stop_pid() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_agent() {
  if [ -n "$AGENT_PID" ]; then stop_pid "$AGENT_PID"; AGENT_PID=""; fi
  if [ -d "$AGENT_PIN" ]; then "$AGENT" detach --cgroup "$CG_LB" --bpffs "$AGENT_PIN" >> "$LOG" 2>&1 || true; rm -rf "$AGENT_PIN"; fi
}

# The yardsticks' objects, built as bench/bpfstats/run.py builds them.
yardstick_object() { case $1 in hooks) echo "$BIN/empty.bpf.o" ;; minimal) echo "$BIN/minimal_lb.bpf.o" ;; esac; }

# "HOOK ID" per program attached to a cgroup (nothing when there is none or the cgroup is gone), the hook named as
# `bpftool cgroup attach` takes it (bpftool -j shows the kernel's name: cgroup_udp4_sendmsg -> sendmsg4).
attached_programs() {
  bpftool -j cgroup show "$1" 2>/dev/null | python3 -c '
import json, re, sys
text = sys.stdin.read().strip()
for entry in json.loads(text) if text else []:
    print(re.sub(r"^cgroup_(?:inet|udp)([46])_(\w+)$", r"\2\1", entry["attach_type"]), entry["id"])'
}

# Loads a yardstick under $PIN/<path> and attaches each program to the sandbox's cgroup at the hook its name ends
# with (bench_empty_sendmsg4 -> sendmsg4); fails unless every hook the object has is attached.
attach_yardstick() {
  local p=$1 cg pin prog want got
  cg=$(pods_cgroup $p); pin=$PIN/$p
  mkdir -p "$pin"
  bpftool prog loadall "$(yardstick_object $p)" "$pin/progs" pinmaps "$pin/maps" >> "$LOG" 2>&1 || fail "bpftool prog loadall ($p)"
  for prog in "$pin"/progs/*; do
    bpftool cgroup attach "$cg" "${prog##*_}" pinned "$prog" >> "$LOG" 2>&1 || fail "bpftool cgroup attach $cg ${prog##*_} ($p)"
  done
  want=$(for prog in "$pin"/progs/*; do echo "${prog##*_}"; done | sort | xargs)
  got=$(attached_programs "$cg" | cut -d' ' -f1 | sort | xargs)
  [ -n "$want" ] && [ "$want" = "$got" ] || fail "$p: attached to $cg: '$got', expected '$want'"
}

# Detaches whatever is attached to a yardstick's cgroup (by id, so a half-done attach is undone too), then removes
# its pins. Safe to call when nothing was attached or the cgroup does not exist.
detach_yardstick() {
  local p=$1 cg type id
  cg=$(pods_cgroup $p)
  if [ -d "$cg" ]; then
    while read -r type id; do
      bpftool cgroup detach "$cg" "$type" id "$id" >> "$LOG" 2>&1 || say "warning: could not detach program $id ($type) from $cg"
    done < <(attached_programs "$cg")
  fi
  rm -rf "${PIN:?}/$p"
}

teardown_sandboxes() {
  local pid p r
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  PIDS=()
  for p in $PATHS; do for r in client node be1 be2; do ip netns del "$(ns $p $r)" 2>/dev/null || true; done; done
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  stop_agent
  for p in hooks minimal; do detach_yardstick $p; done
  teardown_sandboxes
  for d in "$CG_LB" "$CG_HOOKS" "$CG_MIN" "$CG_PLAIN" "$CG"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
  [ -d "$CG" ] && say "warning: could not remove $CG (a process is still in it?)"
  [ -d "$PIN" ] && rm -rf "$PIN"
  [ -d "$PIN" ] && say "warning: could not remove $PIN"
  say "cleaned up (namespaces $ID-*, cgroup $CG, pins $PIN); exit $rc"
  exit $rc
}
trap 'say "error: line $LINENO: $BASH_COMMAND exited with $?"' ERR
trap cleanup EXIT
trap 'exit 130' INT TERM

# One sandbox: client pod -- node (router) -- two backend pods, each pod with a default route to the node, the
# node with no default route at all (a packet to an unknown address gets ICMP unreachable and goes nowhere).
setup_sandbox() {
  local p=$1 client node be
  client=$(ns $p client); node=$(ns $p node)
  for r in client node be1 be2; do ip netns add "$(ns $p $r)"; ip -n "$(ns $p $r)" link set lo up; done
  ip link add eth0 netns "$client" type veth peer name pod-client netns "$node"
  ip -n "$client" addr add 198.18.1.2/24 dev eth0
  ip -n "$node" addr add 198.18.1.1/24 dev pod-client
  for i in 1 2; do
    be=$(ns $p be$i)
    ip link add eth0 netns "$be" type veth peer name pod-be$i netns "$node"
    ip -n "$be" addr add 198.18.$((i + 1)).2/24 dev eth0
    ip -n "$node" addr add 198.18.$((i + 1)).1/24 dev pod-be$i
    ip -n "$be" link set eth0 up
    ip -n "$node" link set pod-be$i up
    ip -n "$be" route add default via 198.18.$((i + 1)).1
  done
  ip -n "$client" link set eth0 up
  ip -n "$node" link set pod-client up
  ip -n "$client" route add default via 198.18.1.1
  ip netns exec "$node" sysctl -qw net.ipv4.ip_forward=1
  ip netns exec "$client" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
  local cg; cg=$(pods_cgroup $p)
  for i in 1 2; do
    be=$(ns $p be$i)
    spawn_in_pod "$cg" "$be" sockperf server -i 0.0.0.0 -p 11111
    spawn_in_pod "$cg" "$be" sockperf server --tcp -i 0.0.0.0 -p 11111
    spawn_in_pod "$cg" "$be" "$BIN/connloop" serve 8000 "$i"
  done
}

client_run() { local p=$1; shift; in_pod "$(pods_cgroup $p)" "$(ns $p client)" "$@"; }

# Received UDP ping-pong messages in a one-second sockperf run (0 when nothing came back).
udp_received() {
  local out
  out=$(in_pod "$1" "$2" timeout 20 sockperf ping-pong -i "$3" -p 11111 -t 1 2>&1) || true
  printf '%s\n' "$out" >> "$OUT/checks-sockperf.log"
  echo "$out" | sed -n 's/.*\[Valid Duration\].*ReceivedMessages=\([0-9]*\).*/\1/p' | tail -1 | grep . || echo 0
}

# Proof, per path: the ClusterIP answers through the path (both backends), and does not answer without it.
prove_unreachable() {
  local p=$1 n=$2 tcp udp
  tcp=$(client_run $p "$BIN/connloop" probe "$VIP" 8000 300 || true)
  udp=$(udp_received "$(pods_cgroup $p)" "$(ns $p client)" "$VIP")
  case "$tcp" in backend=*) fail "$p N=$n: $VIP:8000 answered before the path was loaded ($tcp)" ;; esac
  [ "$udp" = 0 ] || fail "$p N=$n: $VIP:11111/udp answered before the path was loaded"
  check "N=$n $p: before loading, $VIP is unreachable (tcp: ${tcp:-no answer}; udp ping-pong: 0 replies)"
}

prove_reachable() {
  local p=$1 n=$2 target loop udp
  target=$(target_of $p)
  loop=$(client_run $p "$BIN/connloop" loop "$(connect_target_of $p)" 8000 0.5 || true)
  udp=$(udp_received "$(pods_cgroup $p)" "$(ns $p client)" "$target")
  case "$loop" in *backends=*) ;; *) fail "$p N=$n: no connect reached a backend ($loop)" ;; esac
  if [ $p = minimal ]; then
    # The minimal LB has no backend choice: its map sends the Service to the first pod, and only there.
    [[ $loop =~ backends=1:[0-9]+($|[[:space:]]) ]] || fail "$p N=$n: connects did not all reach backend 1 ($loop)"
  else
    case "$loop" in *1:*2:*) ;; *) fail "$p N=$n: connects did not reach both backends ($loop)" ;; esac
  fi
  [ "$udp" -gt 0 ] || fail "$p N=$n: UDP ping-pong to $target got no reply"
  local reached="the backends"
  if [ $p = minimal ]; then reached="the first backend, the one its map names"; fi
  check "N=$n $p: $target reaches $reached (0.5 s connect loop: ${loop%% p50*} ${loop##* backends=}; udp ping-pong: $udp replies in 1 s)"
}

load_path() {
  local p=$1 n=$2 dir=$3 t0 t1 node
  node=$(ns $p node)
  case $p in
    direct) return 0 ;;
    hooks)
      attach_yardstick $p
      check "N=$n hooks: $(yardstick_object $p | xargs basename) attached to $CG_HOOKS at: $(attached_programs "$CG_HOOKS" | cut -d' ' -f1 | xargs)"
      return 0 ;;
    minimal)
      attach_yardstick $p
      # The N Services' entries (gen.py) as one bpftool batch, the pinned map's path put in front of each line.
      sed "s|^|map update pinned $PIN/minimal/maps/bench_min_svc |" "$dir/minimal_lb.entries" > "$dir/minimal_lb.batch"
      t0=$(date +%s%N)
      bpftool batch file "$dir/minimal_lb.batch" >> "$LOG" 2>&1 || fail "bpftool batch file $dir/minimal_lb.batch (N=$n)"
      t1=$(date +%s%N)
      check "N=$n minimal: $(yardstick_object $p | xargs basename) attached to $CG_MIN at: $(attached_programs "$CG_MIN" | cut -d' ' -f1 | xargs); bench_min_svc written with $(wc -l < "$dir/minimal_lb.batch") entries in one bpftool batch ($(( (t1 - t0) / 1000000 )) ms)"
      return 0 ;;
    iptables)
      t0=$(date +%s%N)
      ip netns exec "$node" iptables-restore --noflush < "$dir/iptables.rules" || fail "iptables-restore N=$n"
      t1=$(date +%s%N)
      local saved; saved=$(ip netns exec "$node" iptables-save -t nat)
      check "N=$n iptables: $(grep -c '^-A' <<< "$saved") nat rules, $(grep -c '^:KUBE-' <<< "$saved") KUBE chains ($(iptables --version))" ;;
    nftables)
      t0=$(date +%s%N)
      ip netns exec "$node" nft -f "$dir/kube-proxy.nft" || fail "nft -f N=$n"
      t1=$(date +%s%N)
      check "N=$n nftables: $(ip netns exec "$node" nft list table ip kube-proxy | grep -c '^[[:space:]]*chain ') chains in table ip kube-proxy ($(nft --version))" ;;
    cgrouplb)
      mkdir -p "$AGENT_PIN"
      t0=$(date +%s%N)
      "$AGENT" run --source "$dir/services.yaml" --cgroup "$CG_LB" --bpffs "$AGENT_PIN" --node-name netpath-node \
        --detach-on-exit --healthz-bind-address none --metrics-bind-address none > "$OUT/agent-$n.log" 2>&1 &
      AGENT_PID=$!
      client_run $p "$BIN/connloop" wait "$VIP" 8000 600000 > /dev/null || fail "the agent did not program $VIP within 600 s (N=$n, see $OUT/agent-$n.log)"
      t1=$(date +%s%N)
      kill -0 "$AGENT_PID" 2>/dev/null || fail "the agent exited (see $OUT/agent-$n.log)"
      local rss; rss=$(awk '/VmRSS/ {print $2}' /proc/$AGENT_PID/status)
      record "$n" 0 $p agent_rss_mb "$(( rss / 1024 ))"
      # The last Service can answer before the agent logs the end of its initial sync: give the line a moment.
      local synced=""
      for _ in $(seq 120); do
        synced=$(grep -o 'Initial sync written.*' "$OUT/agent-$n.log" | head -1 || true)
        [ -z "$synced" ] || break
        sleep 0.5
      done
      local sync_ms; sync_ms=$(echo "$synced" | sed -n 's/.* in \([0-9.]*\) ms.*/\1/p')
      [ -z "$sync_ms" ] || record "$n" 0 $p agent_initial_sync_ms "$sync_ms"
      check "N=$n cgrouplb: agent pid $AGENT_PID, RSS $(( rss / 1024 )) MB once the last Service answered; its log: ${synced:-no initial sync line}" ;;
  esac
  record "$n" 0 $p load_ms "$(( (t1 - t0) / 1000000 ))"
  say "N=$n $p loaded in $(( (t1 - t0) / 1000000 )) ms"
}

# CPU time (utime+stime, clock ticks) of the agent so far.
agent_ticks() { awk '{print $14 + $15}' "/proc/$AGENT_PID/stat" 2>/dev/null || echo 0; }

measure() {
  local p=$1 n=$2 round=$3 target out
  target=$(target_of $p)
  for proto in udp tcp; do
    local flag=""; [ $proto = tcp ] && flag=--tcp
    out=$(client_run $p sockperf ping-pong $flag -i "$target" -p 11111 -t "$SECONDS_PER_TEST" --full-rtt -m 64 --mps max 2>&1) \
      || fail "sockperf ping-pong $proto $p N=$n: $out"
    for q in 50.000:p50 99.000:p99 99.900:p999; do
      local v; v=$(echo "$out" | sed -n "s/.*percentile ${q%%:*} = *\([0-9.]*\).*/\1/p")
      [ -n "$v" ] || fail "no percentile ${q%%:*} in sockperf output ($p $proto N=$n): $out"
      record "$n" "$round" $p "${proto}_rtt_${q##*:}_us" "$v"
    done
  done
  out=$(client_run $p sockperf throughput -i "$target" -p 11111 -t "$SECONDS_PER_TEST" -m 64 --mps max 2>&1) \
    || fail "sockperf throughput $p N=$n: $out"
  local rate; rate=$(echo "$out" | sed -n 's/.*Message Rate is \([0-9]*\).*/\1/p')
  [ -n "$rate" ] || fail "no message rate in sockperf throughput output ($p N=$n): $out"
  record "$n" "$round" $p udp_msgs_per_s "$rate"
  out=$(client_run $p "$BIN/connloop" loop "$(connect_target_of $p)" 8000 "$SECONDS_PER_TEST") || fail "connect loop $p N=$n: $out"
  for kv in rate:tcp_connects_per_s p50_us:connect_p50_us p99_us:connect_p99_us p999_us:connect_p999_us failures:connect_failures; do
    record "$n" "$round" $p "${kv##*:}" "$(echo "$out" | sed -n "s/.* ${kv%%:*}=\([0-9.]*\).*/\1/p;s/^${kv%%:*}=\([0-9.]*\).*/\1/p" | head -1)"
  done
  say "N=$n round $round $p: ${out%% backends=*}, udp $rate msg/s"
}

# --- the machine, stated in the output ----------------------------------------------------------------------------
clang -O2 -Wall -Werror -o "$BIN/connloop" bench/netpath/connloop.c
if [ -n "$YARDSTICKS" ]; then
  for obj in empty minimal_lb; do
    clang -O2 -g -target bpf -Wall -Werror -I/usr/include/x86_64-linux-gnu -c "bench/bpfstats/$obj.bpf.c" -o "$BIN/$obj.bpf.o"
  done
fi
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src bpf 2>/dev/null || echo ' (src/bpf modified)')"
  echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')$(grep -qw hypervisor /proc/cpuinfo && echo ', a VM')"
  echo "memory: $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo)"
  echo "kernel: $(uname -r); $(. /etc/os-release; echo "$PRETTY_NAME")"
  echo "tools: $(sockperf --version 2>&1 | head -1 | sed 's/^sockperf, //'); $(iptables --version); $(nft --version); $(clang --version | head -1)$([ -z "$YARDSTICKS" ] || echo "; $(bpftool version | head -1)")"
  echo "pinning: every client and server runs on CPU $CPU (taskset -c $CPU); the agent is not pinned"
  echo "mode: $([ $QUICK = 1 ] && echo quick || echo full); sizes: $SIZES; rounds: $ROUNDS; seconds per test: $SECONDS_PER_TEST"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.txt"
sed 's/^/  /' "$OUT/machine.txt" | tee -a "$LOG"

mkdir -p "$CG_PLAIN" "$CG_LB"
for p in $YARDSTICKS; do mkdir -p "$(pods_cgroup $p)"; done
for n in $SIZES; do
  say "=== N=$n Services: generating, building the sandboxes ($PATHS)"
  GEN=$OUT/gen-$n
  python3 bench/netpath/gen.py "$n" "$GEN"
  for p in $PATHS; do setup_sandbox $p; done
  for p in $PATHS; do
    for i in 1 2; do
      in_pod "$(pods_cgroup $p)" "$(ns $p client)" "$BIN/connloop" wait 198.18.$((i + 1)).2 8000 10000 > /dev/null \
        || fail "$p: backend pod $i did not start"
    done
  done
  for p in $PATHS; do case $p in direct|hooks) ;; *) prove_unreachable $p "$n" ;; esac; done
  record "$n" 0 env loadavg "$(cut -d' ' -f1 /proc/loadavg)"
  for p in $PATHS; do load_path $p "$n" "$GEN"; done
  for p in $PATHS; do prove_reachable $p "$n"; done
  for p in cgrouplb minimal; do
    has_path $p || continue
    # Without the socket LB (same sandbox, a client outside the attached cgroup) the ClusterIP stays unreachable.
    tcp=$(in_pod "$CG_PLAIN" "$(ns $p client)" "$BIN/connloop" probe "$VIP" 8000 300 || true)
    case "$tcp" in backend=*) fail "$p N=$n: a client outside $(pods_cgroup $p) reached $VIP" ;; esac
    check "N=$n $p: a client in the same namespace but outside the attached cgroup still cannot reach $VIP (${tcp})"
  done

  ticks0=$(agent_ticks); ms0=$(date +%s%N)
  for round in $(seq "$ROUNDS"); do
    for p in $PATHS; do measure $p "$n" "$round"; done
  done
  [[ " $PATHS " != *" direct "* ]] || measure direct "$n" $((ROUNDS + 1))
  ticks1=$(agent_ticks); ms1=$(date +%s%N)
  [ -z "$AGENT_PID" ] || record "$n" 0 cgrouplb agent_cpu_percent "$(awk -v t=$((ticks1 - ticks0)) -v hz="$(getconf CLK_TCK)" -v ns=$((ms1 - ms0)) 'BEGIN {printf "%.1f", 100 * t / hz / (ns / 1e9)}')"
  record "$n" 0 env loadavg "$(cut -d' ' -f1 /proc/loadavg)"
  stop_agent
  for p in $YARDSTICKS; do detach_yardstick $p; done
  teardown_sandboxes
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
say "results in $OUT (results.tsv, checks.txt, machine.txt); tables and plots:"
dotnet run --project bench/netpath/CgroupLb.Netpath.Report -c Release -- "$OUT" "$OUT" netpath | tee -a "$LOG"
if [ -n "$PUBLISH" ]; then
  mkdir -p "$PUBLISH"
  cp "$OUT/netpath.md" "$OUT"/netpath-*.png "$PUBLISH/"
  cp "$OUT/results.tsv" "$PUBLISH/netpath-results.tsv"
  say "published to $PUBLISH (netpath.md, netpath-*.png, netpath-results.tsv)"
fi
