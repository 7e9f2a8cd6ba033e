#!/usr/bin/env bash
# End-to-end smoke test of build/bpf/cgroup_lb.bpf.o on the running kernel.
#
# Builds the object, loads and pins it with bpftool, attaches the four hooks to
# a child cgroup of its own, seeds the maps with bpftool, and drives real
# sockets from a client network namespace (inside that cgroup) towards two
# backend namespaces. Everything it creates carries the cglb-bpfsmoke-$$
# prefix and is removed on exit, also on failure.
#
# Needs root, clang, bpftool and Debian's python3 (apt package python3).
# Usage: tests/bpf/smoke.sh        (CI=true turns "cannot run" into a failure)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PROBE="$REPO_ROOT/tests/bpf/sockprobe.py"
PYTHON="${PYTHON:-/usr/bin/python3}"
OBJ="$REPO_ROOT/build/bpf/cgroup_lb.bpf.o"
ABI_OBJ="$REPO_ROOT/build/bpf/abi_check.bpf.o"

CGROUP_ROOT=/sys/fs/cgroup/unified
[ -f /sys/fs/cgroup/cgroup.controllers ] && CGROUP_ROOT=/sys/fs/cgroup
NAME="cglb-bpfsmoke-$$"
CG="$CGROUP_ROOT/$NAME"
PIN="/sys/fs/bpf/$NAME"
NS_CLI="$NAME-cli"
NS_BE1="$NAME-be1"
NS_BE2="$NAME-be2"
WORK="$(mktemp -d "/tmp/$NAME.XXXXXX")"
SERVER_PIDS=()
FAILURES=0

# Addresses: documentation/benchmark ranges only, no route out of the netns.
CLIENT_IP=198.18.0.1
BE1_IP=198.18.1.1
BE2_IP=198.18.1.2
VIP=198.51.100.10        # frontend with two backends (TCP :80, UDP :53)
EMPTY_VIP=198.51.100.20  # frontend without backends (TCP :80, UDP :53)
TORN_VIP=198.51.100.30   # frontends whose slot (:80) or backend (:81) is missing
MULTI_VIP=198.51.100.40  # UDP :53 on be1 only, UDP :54 on be2 only
UNFILTERED_VIP=198.51.100.50 # a frontend left out of lb4_fe_filter on purpose
BACKEND_TCP_PORT=8080    # differs from the frontend port on purpose: a byte
BACKEND_UDP_PORT=5353    # order slip in the port rewrite cannot go unnoticed

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILURES=$((FAILURES + 1)); }
die() { echo "FAIL: $*"; exit 1; }

cannot_run() {
	if [[ "${CI:-}" == "true" ]]; then
		die "cannot run: $*"
	fi
	echo "SKIP: cannot run: $*"
	exit 0
}

cleanup() {
	local rc=$?
	set +e
	for pid in "${SERVER_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [[ -d "$CG" ]]; then
		detach_all
		rmdir "$CG"
	fi
	for ns in "$NS_CLI" "$NS_BE1" "$NS_BE2"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$PIN" "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # make the EXIT trap run on interruption too

# One "attach_type name id" line per program attached to a cgroup (ours by
# default). bpftool prints a bare newline, not [], for a cgroup without
# programs; before Linux 6.0 bpftool 7.1 fails to query (see sockprobe.py) and
# sockprobe.py asks the kernel itself.
attached_programs() {
	local json cg="${1:-$CG}"
	if ! json="$(bpftool -j cgroup show "$cg" 2>/dev/null)" || ! kernel_at_least 6 0; then
		"$PYTHON" "$PROBE" cgroup-progs "$cg"
		return
	fi
	"$PYTHON" -c 'import json, sys
for p in json.loads(sys.argv[1] or "[]"):
    print(p["attach_type"], p["name"], p["id"])' "$json"
}

# Detaches whatever is attached to our cgroup, by program id.
detach_all() {
	local attached type name id
	attached="$(attached_programs)"
	while read -r type name id; do
		[[ -n "$id" ]] && bpftool cgroup detach "$CG" "$type" id "$id"
	done <<<"$attached"
}

# ---------------------------------------------------------------- encoding
# Keys and values are encoded by field name from the BTF clang emitted for
# lb_abi.h (tests/bpf/lbabi.py), never byte by byte here: a field that moves in
# the header moves in these bytes too.
LBABI="$REPO_ROOT/tests/bpf/lbabi.py"
abi_hex() { "$PYTHON" "$LBABI" "$OBJ" hex "$@"; } # struct field=value...
le32_hex() { printf '%02x %02x %02x %02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }

service_key() { # ip port slot proto
	abi_hex lb4_service_key address="$1" port="$2" backend_slot="$3" proto="$4"
}
declare -A BACKEND_OF=() # backend id -> "ip port", as lb4_backends_v2 holds it
service_value() { # backend_id service_id count flags
	local backend=(${BACKEND_OF[$1]:-0 0}) # a slot copies its backend; an unknown id stays 0.0.0.0:0
	abi_hex lb_service_value_v2 backend_id="$1" service_id="$2" count="$3" flags="$4" \
		backend_address="${backend[0]}" backend_port="${backend[1]}"
}
backend_value() { # ip port proto
	abi_hex lb4_backend address="$1" port="$2" proto="$3"
}

map_update() { # map key-hex value-hex
	bpftool map update pinned "$PIN/maps/$1" key hex $2 value hex $3
}

# Writes a frontend the way the agent does: backends, then slots, then master.
add_frontend() { # vip port proto service_id backend_id...
	local vip=$1 port=$2 proto=$3 service_id=$4 slot=0 id
	shift 4
	for id in "$@"; do
		slot=$((slot + 1))
		map_update lb4_services_v2 "$(service_key "$vip" "$port" "$slot" "$proto")" \
			"$(service_value "$id" "$service_id" 0 0)"
	done
	map_update lb4_services_v2 "$(service_key "$vip" "$port" 0 "$proto")" \
		"$(service_value 0 "$service_id" "$slot" "$CLUSTER_IP_FLAG")"
}

stats_of() { # service_id -> "translated=N refused_no_backend=N reverse_translated=N"
	bpftool -j map lookup pinned "$PIN/maps/lb_svc_stats" key hex $(le32_hex "$1") | "$PYTHON" "$PROBE" sum-stats
}

# ---------------------------------------------------------------- running
# Joins the cgroup before entering the namespace: `ip netns exec` remounts
# /sys, after which the cgroup path would not resolve.
in_client() {
	bash -c 'echo $$ > "$1/cgroup.procs" && shift && exec ip netns exec "$@"' \
		_ "$CG" "$NS_CLI" "$PYTHON" "$PROBE" "$@"
}

start_server() { # netns name kind port
	local ready="$WORK/ready-$2-$3"
	ip netns exec "$1" "$PYTHON" "$PROBE" "serve-$3" "$2" "$4" "$ready" &
	SERVER_PIDS+=($!)
	for _ in $(seq 50); do
		[[ -s "$ready" ]] && return 0
		sleep 0.1
	done
	die "server $2/$3 did not start"
}

expect_eq() { # what expected actual
	if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}

expect_all_lines() { # what pattern output
	local bad
	bad="$(grep -vE "$2" <<<"$3" || true)"
	if [[ -n "$3" && -z "$bad" ]]; then pass "$1"; else fail "$1: unexpected: ${bad:-no output}"; fi
}

kernel_at_least() { # major minor
	local v major minor
	v="$(uname -r)"
	major="${v%%.*}"
	minor="${v#*.}"
	minor="${minor%%[!0-9]*}"
	((major > $1 || (major == $1 && minor >= $2)))
}

# ---------------------------------------------------------------- setup
[[ "$(id -u)" == 0 ]] || cannot_run "needs root"
for tool in clang bpftool ip "$PYTHON"; do
	command -v "$tool" >/dev/null || cannot_run "missing $tool"
done
[[ -f "$CGROUP_ROOT/cgroup.procs" ]] || cannot_run "no cgroup v2 at $CGROUP_ROOT"

echo "== build"
make -s -C "$REPO_ROOT/bpf"
# bpf_rdonly_cast is a 6.2 kfunc, and only the build for kernels with BTF calls it, with TCP claims (lb4_sk_claim,
# sock_claim.h) beside it: the variant is that build where the loader would take it (the kernel's BTF names the
# kfunc), else the build without BTF, as on such a kernel.
RDONLY_CAST=0 CLAIM_SLOTS=0 KNOBS_OBJ=cgroup_lb.bpf.o
if [[ -f /sys/kernel/btf/vmlinux ]] && grep -qaF 'bpf_rdonly_cast' /sys/kernel/btf/vmlinux; then
	RDONLY_CAST=1 CLAIM_SLOTS=1024 KNOBS_OBJ=cgroup_lb_btf.bpf.o
fi
make -s -C "$REPO_ROOT/bpf" OUT="$WORK/retval" \
	EXTRA_BPF_CFLAGS="-DCGLB_DEFAULT_HAVE_SET_RETVAL=1 -DCGLB_DEFAULT_HAVE_SK_STORAGE=1 -DCGLB_DEFAULT_HAVE_RINGBUF=1 -DCGLB_DEFAULT_HAVE_RDONLY_CAST=$RDONLY_CAST -DCGLB_DEFAULT_SK_CLAIM_SLOTS=$CLAIM_SLOTS -DCGLB_SK_CLAIM_MAP_ENTRIES=$((CLAIM_SLOTS > 0 ? CLAIM_SLOTS : 1))"
pass "built $OBJ and a variant with every probed knob on (set_retval, sk_storage, ringbuf, rdonly_cast=$RDONLY_CAST, sk_claim_slots=$CLAIM_SLOTS: $KNOBS_OBJ)"

# Struct layouts and enum values are checked against the C# mirrors by
# tests/CgroupLb.Datapath.Tests/AbiLayoutTests; here they are only read.
CLUSTER_IP_FLAG="$("$PYTHON" "$LBABI" "$ABI_OBJ" enum lb_service_flags LB_SVC_F_CLUSTER_IP)"

echo "== namespaces"
for ns in "$NS_CLI" "$NS_BE1" "$NS_BE2"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
link_backend() { # backend-ns backend-ip client-side-ifname
	ip link add "$3" netns "$NS_CLI" type veth peer name eth0 netns "$1"
	ip -n "$NS_CLI" addr add "$CLIENT_IP/32" dev "$3"
	ip -n "$NS_CLI" link set "$3" up
	ip -n "$NS_CLI" route add "$2/32" dev "$3"
	ip -n "$1" addr add "$2/32" dev eth0
	ip -n "$1" link set eth0 up
	ip -n "$1" route add "$CLIENT_IP/32" dev eth0
}
link_backend "$NS_BE1" "$BE1_IP" to-be1
link_backend "$NS_BE2" "$BE2_IP" to-be2
start_server "$NS_BE1" be1 tcp "$BACKEND_TCP_PORT"
start_server "$NS_BE1" be1 udp "$BACKEND_UDP_PORT"
start_server "$NS_BE2" be2 tcp "$BACKEND_TCP_PORT"
start_server "$NS_BE2" be2 udp "$BACKEND_UDP_PORT"
pass "client and two backends up"

echo "== load and attach"
mkdir "$CG" "$PIN"
bpftool prog loadall "$OBJ" "$PIN/progs" pinmaps "$PIN/maps"
declare -A HOOK=([connect4]=cglb_sock4_connect [sendmsg4]=cglb_sock4_sendmsg
	[recvmsg4]=cglb_sock4_recvmsg [getpeername4]=cglb_sock4_getpeername)
for type in "${!HOOK[@]}"; do
	bpftool cgroup attach "$CG" "$type" pinned "$PIN/progs/${HOOK[$type]}"
done
attached="$(attached_programs)"
expect_eq "four hooks attached to $CG" \
	"cgroup_inet4_connect:cglb_sock4_connect cgroup_inet4_getpeername:cglb_sock4_getpeername cgroup_udp4_recvmsg:cglb_sock4_recvmsg cgroup_udp4_sendmsg:cglb_sock4_sendmsg" \
	"$(awk '{print $1 ":" $2}' <<<"$attached" | sort | tr '\n' ' ' | sed 's/ $//')"

xlated="$(bpftool prog dump xlated pinned "$PIN/progs/cglb_sock4_connect")"
if grep -q 'call bpf_set_retval' <<<"$xlated"; then
	fail "cfg_have_set_retval=0: bpf_set_retval call still in the verified program"
else
	pass "cfg_have_set_retval=0: verifier removed the bpf_set_retval branch"
fi
if grep -q 'call bpf_sk_storage_get' <<<"$xlated"; then
	fail "cfg_have_sk_storage=0: bpf_sk_storage_get call still in the verified program"
else
	pass "cfg_have_sk_storage=0: verifier removed the socket storage branch"
fi
if grep -q 'call bpf_ringbuf_reserve' <<<"$xlated"; then
	fail "cfg_have_ringbuf=0: bpf_ringbuf_reserve call still in the verified program"
else
	pass "cfg_have_ringbuf=0: verifier removed the trace code"
fi

add_backend() { # id ip port proto
	map_update lb4_backends_v2 "$(le32_hex "$1")" "$(backend_value "$2" "$3" "$4")"
	BACKEND_OF[$1]="$2 $3"
}
add_backend 1 "$BE1_IP" "$BACKEND_TCP_PORT" tcp
add_backend 2 "$BE2_IP" "$BACKEND_TCP_PORT" tcp
add_backend 3 "$BE1_IP" "$BACKEND_UDP_PORT" udp
add_backend 4 "$BE2_IP" "$BACKEND_UDP_PORT" udp
add_frontend "$VIP" 80 tcp 1 1 2
add_frontend "$VIP" 53 udp 2 3 4
add_frontend "$EMPTY_VIP" 80 tcp 3
add_frontend "$EMPTY_VIP" 53 udp 4
# Broken frontends, as a reader racing the agent could see them: a master
# whose slot is missing, and a slot without a backend address (id 99 is unknown).
map_update lb4_services_v2 "$(service_key "$TORN_VIP" 80 0 tcp)" "$(service_value 0 5 1 "$CLUSTER_IP_FLAG")"
add_frontend "$TORN_VIP" 81 tcp 6 99
add_frontend "$MULTI_VIP" 53 udp 7 3
add_frontend "$MULTI_VIP" 54 udp 8 4
pass "maps seeded: 8 frontends, 4 backends"

# Forward and reverse translation as the application sees it. Run once per
# set of knobs: first the object as built (every probed knob off: reverse
# entries in the LRU map), later the variant with the knobs on (socket storage).
check_translation() { # label
	echo "== forward and reverse translation ($1)"
	local out unstable
	out="$(in_client tcp-connect "$VIP" 80 20)"
	expect_all_lines "$1: TCP connect $VIP:80 reaches a backend, getpeername shows the frontend" \
		"^reply=be[12] peer=$VIP:80$" "$out"
	expect_eq "$1: TCP connects spread over both backends" "be1 be2" \
		"$(grep -oE 'reply=be[12]' <<<"$out" | cut -d= -f2 | sort -u | tr '\n' ' ' | sed 's/ $//')"

	out="$(in_client udp-sendto "$VIP" 53 16 3)"
	expect_all_lines "$1: UDP sendto $VIP:53: reply source is the frontend (recvmsg4)" \
		"^socket=[0-9]+ reply=be[12] from=$VIP:53$" "$out"
	unstable="$(awk '{split($2, r, "="); if ($1 in seen && seen[$1] != r[2]) print $1; seen[$1] = r[2]}' <<<"$out")"
	expect_eq "$1: UDP: each socket keeps one backend" "" "$unstable"
	expect_eq "$1: UDP sockets spread over both backends" "be1 be2" \
		"$(grep -oE 'reply=be[12]' <<<"$out" | cut -d= -f2 | sort -u | tr '\n' ' ' | sed 's/ $//')"

	out="$(in_client udp-connected "$VIP" 53)"
	expect_all_lines "$1: connected UDP $VIP:53: reply source and getpeername show the frontend" \
		"^reply=be[12] from=$VIP:53 peer=$VIP:53$" "$out"

	# One unconnected socket, two frontends on two backends: the second
	# backend's reverse entry cannot share the first one's socket storage.
	out="$(in_client udp-alternate "$MULTI_VIP" 53 54 3)"
	expect_eq "$1: one UDP socket to two frontends: each reply comes from the frontend it was sent to" \
		"reply=be1 from=$MULTI_VIP:53 reply=be2 from=$MULTI_VIP:54 reply=be1 from=$MULTI_VIP:53 reply=be2 from=$MULTI_VIP:54 reply=be1 from=$MULTI_VIP:53 reply=be2 from=$MULTI_VIP:54" \
		"$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"
}
check_translation "knobs off"

echo "== untouched destinations"
out="$(in_client tcp-connect "$BE1_IP" "$BACKEND_TCP_PORT")"
expect_eq "TCP to a backend directly is not rewritten" "reply=be1 peer=$BE1_IP:$BACKEND_TCP_PORT" "$out"
out="$(in_client tcp-connect "$VIP" 8080)"
expect_eq "TCP to $VIP:8080 (no such frontend) is not rewritten: no route" "error=ENETUNREACH" "$out"
out="$(in_client udp-sendto "$VIP" 80)"
expect_eq "UDP to $VIP:80 (a TCP-only frontend) is not rewritten: no route" "socket=0 error=ENETUNREACH" "$out"

echo "== frontends without backends (cfg_have_set_retval=0)"
expect_eq "TCP connect $EMPTY_VIP:80 refused with EPERM" "error=EPERM" "$(in_client tcp-connect "$EMPTY_VIP" 80)"
expect_eq "UDP sendto $EMPTY_VIP:53 refused with EPERM" "socket=0 error=EPERM" "$(in_client udp-sendto "$EMPTY_VIP" 53)"
expect_eq "TCP connect $TORN_VIP:80 (slot missing) refused, not sent to the frontend" "error=EPERM" \
	"$(in_client tcp-connect "$TORN_VIP" 80)"
expect_eq "TCP connect $TORN_VIP:81 (slot without backend) refused, not sent to the frontend" "error=EPERM" \
	"$(in_client tcp-connect "$TORN_VIP" 81)"

refusals=1
translations=1
if kernel_at_least 5 18; then
	echo "== every probed knob on (set_retval, sk_storage)"
	bpftool prog loadall "$WORK/retval/$KNOBS_OBJ" "$PIN/progs-retval" \
		map name lb4_services_v2 pinned "$PIN/maps/lb4_services_v2" \
		map name lb4_backends_v2 pinned "$PIN/maps/lb4_backends_v2" \
		map name lb4_reverse_sk pinned "$PIN/maps/lb4_reverse_sk" \
		map name lb4_sk_frontend pinned "$PIN/maps/lb4_sk_frontend" \
		map name lb4_fe_filter pinned "$PIN/maps/lb4_fe_filter" \
		map name lb_svc_stats pinned "$PIN/maps/lb_svc_stats"
	# Captured first: with pipefail, grep -q ending early would fail the pipeline through bpftool's SIGPIPE.
	xlated_connect="$(bpftool prog dump xlated pinned "$PIN/progs-retval/cglb_sock4_connect")"
	xlated_getpeername="$(bpftool prog dump xlated pinned "$PIN/progs-retval/cglb_sock4_getpeername")"
	if grep -q 'call bpf_set_retval' <<<"$xlated_connect"; then
		pass "cfg_have_set_retval=1: bpf_set_retval call kept"
	else
		fail "cfg_have_set_retval=1: bpf_set_retval call missing"
	fi
	if grep -q 'call bpf_sk_storage_get' <<<"$xlated_getpeername"; then
		pass "cfg_have_sk_storage=1: getpeername4 reads socket storage"
	else
		fail "cfg_have_sk_storage=1: bpf_sk_storage_get call missing"
	fi
	if grep -q 'call bpf_ringbuf_reserve' <<<"$xlated_connect"; then
		pass "cfg_have_ringbuf=1: connect4 keeps the trace code"
	else
		fail "cfg_have_ringbuf=1: bpf_ringbuf_reserve call missing"
	fi
	if ((CLAIM_SLOTS > 0)); then
		if grep -q 'cmpxchg' <<<"$xlated_connect"; then
			pass "sk_claim_slots=$CLAIM_SLOTS: connect4 claims lb4_sk_claim entries (compare-and-swap kept)"
		else
			fail "sk_claim_slots=$CLAIM_SLOTS: no compare-and-swap in the verified connect4"
		fi
		# connect6 claims twice over: in lb4_sk_claim for a v4-mapped peer (the IPv4 core), in lb6_sk_claim otherwise.
		xlated_connect6="$(bpftool prog dump xlated pinned "$PIN/progs-retval/cglb_sock6_connect")"
		if (($(grep -c 'cmpxchg' <<<"$xlated_connect6") >= 2)); then
			pass "sk_claim_slots=$CLAIM_SLOTS: connect6 claims lb4_sk_claim and lb6_sk_claim entries"
		else
			fail "sk_claim_slots=$CLAIM_SLOTS: connect6 lacks a compare-and-swap for each family"
		fi
	fi
	for type in connect4 sendmsg4 recvmsg4 getpeername4; do
		bpftool cgroup detach "$CG" "$type" pinned "$PIN/progs/${HOOK[$type]}"
		bpftool cgroup attach "$CG" "$type" pinned "$PIN/progs-retval/${HOOK[$type]}"
	done
	check_translation "knobs on"
	translations=2

	echo "== frontend address filter armed"
	# As the agent does: bits for every frontend address, then the armed word.
	while IFS='|' read -r key value; do
		map_update lb4_fe_filter "$key" "$value"
	done < <("$PYTHON" "$LBABI" "$OBJ" fe-filter "$VIP" "$EMPTY_VIP" "$TORN_VIP" "$MULTI_VIP")
	check_translation "filter armed"
	translations=3
	out="$(in_client tcp-connect "$BE1_IP" "$BACKEND_TCP_PORT")"
	expect_eq "filter armed: TCP to a backend directly is not rewritten" "reply=be1 peer=$BE1_IP:$BACKEND_TCP_PORT" "$out"
	# A frontend written without its filter bit (which the agent never does)
	# is skipped: proof that the programs consult the filter at all.
	add_frontend "$UNFILTERED_VIP" 80 tcp 9 1 2
	expect_eq "filter armed: a frontend whose address bit is clear is not translated" "error=ENETUNREACH" \
		"$(in_client tcp-connect "$UNFILTERED_VIP" 80)"
	expect_eq "TCP connect $EMPTY_VIP:80 refused with ECONNREFUSED" "error=ECONNREFUSED" \
		"$(in_client tcp-connect "$EMPTY_VIP" 80)"
	expect_eq "UDP sendto $EMPTY_VIP:53 refused with ECONNREFUSED" "socket=0 error=ECONNREFUSED" \
		"$(in_client udp-sendto "$EMPTY_VIP" 53)"
	refusals=2
else
	echo "NOTE: kernel $(uname -r) < 5.18 has no bpf_set_retval; ECONNREFUSED path not run"
fi

echo "== counters"
# Per check_translation: 20 TCP connects + 20 getpeername; 16x3 UDP sends/
# receives + 1 connect, one receive and one getpeername on the connected
# socket; 3 sends and receives to each of the two single-backend frontends.
expect_eq "lb_svc_stats[1] (TCP frontend)" \
	"translated=$((20 * translations)) refused_no_backend=0 reverse_translated=$((20 * translations))" "$(stats_of 1)"
expect_eq "lb_svc_stats[2] (UDP frontend)" \
	"translated=$((49 * translations)) refused_no_backend=0 reverse_translated=$((50 * translations))" "$(stats_of 2)"
expect_eq "lb_svc_stats[8] (second frontend of one UDP socket)" \
	"translated=$((3 * translations)) refused_no_backend=0 reverse_translated=$((3 * translations))" "$(stats_of 8)"
expect_eq "lb_svc_stats[3] (empty TCP)" "translated=0 refused_no_backend=$refusals reverse_translated=0" "$(stats_of 3)"
expect_eq "lb_svc_stats[4] (empty UDP)" "translated=0 refused_no_backend=$refusals reverse_translated=0" "$(stats_of 4)"
expect_eq "lb_svc_stats[5] (slot missing)" "translated=0 refused_no_backend=1 reverse_translated=0" "$(stats_of 5)"
expect_eq "lb_svc_stats[6] (slot without backend)" "translated=0 refused_no_backend=1 reverse_translated=0" "$(stats_of 6)"

echo "== teardown"
detach_all
attached="$(attached_programs)"
expect_eq "nothing left attached to $CG" "" "$attached"
root_attached="$(attached_programs "$CGROUP_ROOT")"
if grep -q cglb_sock4 <<<"$root_attached"; then
	fail "a cglb program is attached to the root cgroup"
else
	pass "root cgroup carries no cglb program"
fi

if ((FAILURES > 0)); then
	echo "RESULT: FAIL ($FAILURES checks failed)"
	exit 1
fi
echo "RESULT: PASS"
