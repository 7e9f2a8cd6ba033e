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
out=/vm-results
VM_CONFIG=Release
VM_SHELL_TESTS="tests/bpf/*.sh"
VM_DOTNET_FILTER="Category=Kernel"
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
if [[ -n "$VM_DOTNET_FILTER" ]]; then
	for project in tests/*/; do
		name="$(basename "$project")"
		assembly="$project/bin/$VM_CONFIG/net10.0/$name.dll"
		[[ -f "$assembly" && "$name" == *.Tests ]] || continue
		start=$(now)
		echo "guest: running $name ($VM_DOTNET_FILTER)"
		# The built assembly, not the project: dotnet test on a project would run MSBuild first, minutes under TCG.
		dotnet test "$assembly" --filter "$VM_DOTNET_FILTER" --logger "trx;LogFileName=$name.trx" \
			--results-directory "$out/trx" >"$out/$name.log" 2>&1
		rc=$?
		# vstest exits non-zero when the filter matched no test in an assembly; only a TRX with failures counts.
		if [[ $rc -ne 0 ]] && ! grep -q "No test matches the given testcase filter" "$out/$name.log"; then
			status=1
		fi
		echo "guest: $name: exit $rc in $(($(now) - start)) s"
	done
fi
exit "$status"
