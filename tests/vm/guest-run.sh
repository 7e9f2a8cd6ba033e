#!/usr/bin/env bash
# Runs inside the test guest (chrooted by tests/vm/init into the host's root under a tmpfs overlay): the repository's
# kernel tests against the guest's kernel. Generic on purpose: every shell test in tests/bpf/ and every built test
# assembly's tests in the Kernel category run, so tests added to the tree run in the guests without changes here.
#
# The host passes the selection in /vm-results/request.env (see run.sh); results go to /vm-results: one
# "<name> <pass|fail> <seconds>" line per shell test in shell-results, its output in <name>.log, TRX files in trx/.
set -uo pipefail

repo=${1:?repository}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root CI=true
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Emulated CPUs make the JIT the bottleneck: fewer tiers means less compiling of code that runs a few times.
export DOTNET_TieredPGO=0
# The sandbox's limits for a hung peer assume real hardware (see SandboxTimeouts).
export CGLB_TEST_TIMEOUT_SCALE=${CGLB_TEST_TIMEOUT_SCALE:-10}
out=/vm-results
VM_CONFIG=Release
VM_SHELL_TESTS="tests/bpf/*.sh"
VM_DOTNET_FILTER="Category=Kernel"
VM_EXCLUDE_ASSEMBLIES=""
# shellcheck source=/dev/null
[[ -f "$out/request.env" ]] && . "$out/request.env"

cd "$repo" || exit 1
echo "guest: kernel $(uname -r), $(nproc) CPU, $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) MiB"

now() { date +%s; }
status=0

for test in $VM_SHELL_TESTS; do
	[[ -x "$test" ]] || continue
	name="$(basename "$(dirname "$test")")-$(basename "$test" .sh)"
	start=$(now)
	echo "guest: running $test"
	if "$test" >"$out/$name.log" 2>&1; then result=pass; else result=fail; status=1; fi
	echo "$name $result $(($(now) - start))" >>"$out/shell-results"
	echo "guest: $test: $result in $(($(now) - start)) s"
done

mkdir -p "$out/trx"
# Which assemblies: with the default filter only those carrying [Trait("Category", "Kernel")], found by the
# attribute's serialized arguments in the metadata; starting a test host just to find nothing costs minutes here.
assemblies=()
for project in tests/*.Tests/; do
	name="$(basename "$project")"
	assembly="$project/bin/$VM_CONFIG/net10.0/$name.dll"
	[[ -f "$assembly" ]] || continue
	[[ " $VM_EXCLUDE_ASSEMBLIES " == *" $name "* ]] && continue
	if [[ "$VM_DOTNET_FILTER" == Category=Kernel* ]] && ! LC_ALL=C grep -qF $'\x08Category\x06Kernel' "$assembly"; then
		continue
	fi
	assemblies+=("$assembly")
done
if [[ -n "$VM_DOTNET_FILTER" && ${#assemblies[@]} -gt 0 ]]; then
	# vstest.console on the built assemblies in one session: `dotnet test` on projects would run MSBuild first, and
	# every extra process start costs seconds under emulation.
	sdk="$(dotnet --list-sdks | tail -1 | sed -E 's/^([^ ]+) \[(.*)\]$/\2\/\1/')"
	start=$(now)
	echo "guest: running ${assemblies[*]##*/} ($VM_DOTNET_FILTER)"
	dotnet exec "$sdk/vstest.console.dll" "${assemblies[@]}" "--TestCaseFilter:$VM_DOTNET_FILTER" \
		"--logger:trx;LogFileName=kernel-tests.trx" "--logger:console;verbosity=normal" "--ResultsDirectory:$out/trx" >"$out/dotnet-tests.log" 2>&1
	rc=$?
	((rc == 0)) || status=1
	echo "guest: .NET tests: exit $rc in $(($(now) - start)) s"
fi
exit "$status"
