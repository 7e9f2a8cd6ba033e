#!/usr/bin/env bash
# The kernel tests on the LTS kernels clusters run, each in a qemu guest: Debian bullseye's 5.10 and bookworm's 6.1
# (generic amd64 flavour, from the archive apt uses; see fetch-kernel.sh). One guest at a time, plain TCG emulation
# (-enable-kvm hangs after the firmware on these machines), no network device. The guest mounts the host's / over
# 9p read-only under a tmpfs overlay and runs tests/vm/guest-run.sh: tests/bpf/*.sh and the Kernel-category tests of
# every built test assembly. Logs of the last run stay in build/vm/last-run/<release>/.
#
# Usage: tests/vm/run.sh [SUITE:SERIES ...]       default: bullseye:5.10 bookworm:6.1
# Environment: VM_DOTNET_FILTER (vstest filter, default Category=Kernel&FullyQualifiedName!~Churn: the two churn tests
# count connects per second of wall time, which emulation cannot reach, and check the writer's ordering, which does
# not depend on the kernel; empty runs no .NET tests), VM_SHELL_TESTS
# (glob, default tests/bpf/*.sh), VM_EXCLUDE_ASSEMBLIES (test assembly names, default CgroupLb.Agent.Tests: each of
# its tests starts the agent and three backend processes, which under emulation overruns the sandbox's 30 s
# readiness limit; the agent runs the same loader and maps the data path tests cover), VM_CPUS (default 2), VM_MEMORY_MB (default 3072), VM_TIMEOUT_S (per guest,
# default 2400: the 5.10 guest needed about 1190 s on a loaded 2-core machine), CONFIG (default Release).
# Exit: 0 when every test passed (a kernel whose package cannot be downloaded is SKIPPED with the reason), 1 when a
# test failed or a guest did not boot, mount or finish.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$REPO_ROOT/tests/vm"
CACHE="$REPO_ROOT/build/vm"
CONFIG=${CONFIG:-Release}
VM_CPUS=${VM_CPUS:-2}
VM_MEMORY_MB=${VM_MEMORY_MB:-3072}
VM_TIMEOUT_S=${VM_TIMEOUT_S:-2400}
KERNELS=("$@")
((${#KERNELS[@]})) || KERNELS=(bullseye:5.10 bookworm:6.1)

WORK=""
QEMU_PID=""
cleanup() {
	local rc=$?
	set +e
	if [[ -n "$QEMU_PID" ]] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill "$QEMU_PID"
		wait "$QEMU_PID" 2>/dev/null
	fi
	[[ -n "$WORK" ]] && rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "vm: FAIL: $*"; exit 1; }

[[ "$(id -u)" == 0 ]] || die "needs root (the guest reads the whole host root; the run writes build/ as root)"
for tool in qemu-system-x86_64 busybox modprobe depmod cpio dpkg-deb curl xz gzip; do
	command -v "$tool" >/dev/null || die "missing $tool (make deps installs qemu-system-x86, busybox-static, kmod, cpio)"
done
[[ -x "$REPO_ROOT/bin/cgroup-lb" && -f "$REPO_ROOT/build/bpf/cgroup_lb.bpf.o" ]] || die "nothing built: run make build first"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cglb-vm.XXXXXX")"
mkdir -p "$CACHE/last-run"
passed=0 failed=0 skipped=0
summary=()

# Sums the Counters of the TRX files in $1: "passed failed skipped".
trx_counts() {
	local p=0 f=0 t=0 e=0 file line
	for file in "$1"/*.trx; do
		[[ -f "$file" ]] || continue
		line=$(grep -o '<Counters [^>]*' "$file" | head -1)
		get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$line"; }
		p=$((p + $(get passed))); f=$((f + $(get failed))); t=$((t + $(get total))); e=$((e + $(get executed)))
	done
	echo "$p $f $((t - e))"
}

# The failed tests in the TRX files in $1: each one's name, its failure message and the end of what it logged, so a
# CI log that keeps only this summary still says why (the guest's results stay in build/vm/last-run/ only locally).
trx_failures() {
	python3 - "$1"/*.trx <<-'PY' 2>/dev/null || grep -ho '<UnitTestResult [^>]*outcome="Failed"' "$1"/*.trx | sed -n 's/.*testName="\([^"]*\)".*/\1/p'
		import sys, xml.etree.ElementTree as ET
		ns = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
		for path in sys.argv[1:]:
		    for result in ET.parse(path).iter(ns + "UnitTestResult"):
		        if result.get("outcome") != "Failed":
		            continue
		        print(result.get("testName"))
		        text = lambda tag: "\n".join(e.text or "" for e in result.iter(ns + tag))
		        for line in text("Message").strip().splitlines()[:12]:
		            print("    " + line)
		        logged = text("StdOut").strip().splitlines()
		        if logged:
		            print("    -- the last of its %d logged lines:" % len(logged))
		            for line in logged[-25:]:
		                print("    | " + line[:240])
		PY
}

run_kernel() { # suite series
	local suite=$1 series=$2 fetched rc root release version
	echo "== kernel $series ($suite)"
	set +e
	fetched="$("$HERE/fetch-kernel.sh" "$suite" "$series" "$CACHE")"
	rc=$?
	set -e
	if ((rc == 3)); then
		echo "SKIP: Linux $series ($suite): the kernel package cannot be downloaded (see above)"
		skipped=$((skipped + 1))
		summary+=("Linux $series ($suite): SKIPPED, kernel package not downloadable")
		return 0
	fi
	((rc == 0)) || die "fetching the $suite kernel failed"
	read -r root release version <<<"$fetched"

	local guest="$WORK/$release" results
	results="$guest/results"
	mkdir -p "$results"
	"$HERE/make-initramfs.sh" "$root" "$release" "$guest/initramfs.cpio.gz"
	cat >"$results/request.env" <<-EOF
		VM_CONFIG=$(printf '%q' "$CONFIG")
		VM_SHELL_TESTS=$(printf '%q' "${VM_SHELL_TESTS:-tests/bpf/*.sh}")
		VM_DOTNET_FILTER=$(printf '%q' "${VM_DOTNET_FILTER-Category=Kernel&FullyQualifiedName!~Churn}")
		VM_EXCLUDE_ASSEMBLIES=$(printf '%q' "${VM_EXCLUDE_ASSEMBLIES-CgroupLb.Agent.Tests}")
	EOF

	local started=$SECONDS
	echo "vm: booting $release (Debian $version), $VM_CPUS vCPU TCG, $VM_MEMORY_MB MiB"
	: >"$guest/console.log"
	qemu-system-x86_64 -accel tcg -cpu max -smp "$VM_CPUS" -m "$VM_MEMORY_MB" \
		-display none -no-reboot -nic none -serial "file:$guest/console.log" -monitor none \
		-kernel "$root/boot/vmlinuz-$release" -initrd "$guest/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 quiet loglevel=3 cglb.repo=$REPO_ROOT cglb.modules=$root/lib/modules/$release" \
		-virtfs "local,path=/,mount_tag=host0,security_model=none,readonly=on,multidevs=remap" \
		-virtfs "local,path=$results,mount_tag=results,security_model=none" &
	QEMU_PID=$!
	tail -n +1 --pid="$QEMU_PID" -f "$guest/console.log" 2>/dev/null | sed -u "s/^/[$series] /" &
	local tail_pid=$! timed_out="" cpu_ticks=0 stat
	while kill -0 "$QEMU_PID" 2>/dev/null; do
		# qemu's user+system CPU time, the cost of the run independent of what else the machine runs.
		stat="$(cat "/proc/$QEMU_PID/stat" 2>/dev/null || true)"
		[[ -n "$stat" ]] && cpu_ticks=$(awk '{print $12 + $13}' <<<"${stat##*) }" 2>/dev/null || echo "$cpu_ticks")
		if ((SECONDS - started > VM_TIMEOUT_S)); then
			timed_out=yes
			kill "$QEMU_PID"
			break
		fi
		sleep 2
	done
	wait "$QEMU_PID" 2>/dev/null || true
	QEMU_PID=""
	wait "$tail_pid" 2>/dev/null || true
	local elapsed=$((SECONDS - started)) cpu_seconds=$((cpu_ticks / $(getconf CLK_TCK)))

	local keep="$CACHE/last-run/$release"
	rm -rf "$keep"
	cp -r "$results" "$keep"
	cp "$guest/console.log" "$keep/"

	local problems=() kernel_seen p f s name result seconds shell_pass=0 shell_fail=0
	kernel_seen="$(cat "$results/kernel" 2>/dev/null || true)"
	[[ -z "$timed_out" ]] || problems+=("guest did not finish within ${VM_TIMEOUT_S}s")
	[[ -f "$results/init-error" ]] && problems+=("guest init: $(cat "$results/init-error")")
	[[ "$kernel_seen" == "$release" ]] || problems+=("guest did not report running $release (boot failed?)")
	[[ -f "$results/exit-code" ]] || problems+=("guest runner did not finish")
	if [[ -f "$results/shell-results" ]]; then
		while read -r name result seconds; do
			if [[ "$result" == pass ]]; then
				shell_pass=$((shell_pass + 1))
			else
				shell_fail=$((shell_fail + 1))
				echo "---- $name failed on $release; its failing checks:"
				grep -E '^(FAIL|SKIP)' "$results/$name.log" || tail -n 20 "$results/$name.log"
			fi
		done <"$results/shell-results"
	fi
	read -r p f s < <(trx_counts "$results/trx")
	if ((f > 0)); then
		echo "---- .NET tests failed on $release:"
		trx_failures "$results/trx" | sed 's/^/  /' || true
	fi
	if [[ -f "$results/exit-code" && "$(cat "$results/exit-code")" != 0 ]] && ((f == 0 && shell_fail == 0)); then
		problems+=("guest runner exited $(cat "$results/exit-code") without a failed test (see $keep)")
	fi
	((shell_pass + shell_fail + p + f > 0)) || problems+=("no test ran")

	passed=$((passed + shell_pass + p))
	failed=$((failed + shell_fail + f + ${#problems[@]}))
	skipped=$((skipped + s))
	local line="Linux $release (Debian $version, $suite): shell $shell_pass passed, $shell_fail failed; .NET $p passed, $f failed, $s skipped; ${elapsed}s wall, ${cpu_seconds}s qemu CPU"
	for problem in "${problems[@]}"; do
		echo "vm: FAIL: $release: $problem"
		line+="; FAIL: $problem"
	done
	summary+=("$line")
}

for kernel in "${KERNELS[@]}"; do
	run_kernel "${kernel%%:*}" "${kernel##*:}"
done

echo "== kernels tested in guests (logs in build/vm/last-run/)"
printf '%s\n' "${summary[@]}"
echo "kernels: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
