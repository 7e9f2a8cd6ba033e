#!/usr/bin/env python3
"""ns per call of each CgroupLb hook, from the kernel's own counters.

With kernel.bpf_stats_enabled=1 the kernel adds every program run's duration to
run_time_ns and counts it in run_cnt, so run_time_ns/run_cnt is the time spent
inside one program, free of scheduler noise and of the syscall around it.

The run builds a sandbox of its own: one network namespace (loopback only,
reserved addresses), a child cgroup per variant under one parent cgroup, and a
pin directory under /sys/fs/bpf. Each variant's four hooks are attached to its
own cgroup:

    cglb       this tree's cgroup_lb_btf.bpf.o (cgroup_lb.bpf.o on a kernel without BTF), knobs as the loader would
               probe them here, claims of connected sockets (lb4_sk_claim, lb6_sk_claim) included on 6.2+
    cglb-lru   the same object with socket storage off (the fallback of older kernels)
    baseline   cgroup_lb.bpf.o built from --baseline REF (optional; the "before")
    before     cgroup_lb.bpf.o built from --before REF with cglb's knobs (optional): the same programs before a
               change, e.g. `make bench-bpf-trace` prices the trace hook with no tracer attached (cglb has
               the trace code, switched off as it is whenever no `cgroup-lb trace` runs)
    minimal    bench/bpfstats/minimal_lb.bpf.c, the yardstick of issue 13
    minimal-sk, minimal-lru  (opt-in, --yardsticks) the same yardstick keeping getpeername() of a TCP socket on
               the frontend, as CgroupLb does: its TCP entry in socket storage, or in the cookie-keyed LRU map
               (Cilium's way); what the guarantee costs the least LB that keeps it
    empty      bench/bpfstats/empty.bpf.c, the floor for the miss path

The workload (workload.py) runs once per phase and variant, inside that
variant's cgroup, interleaved round by round, so every variant sees the same
machine state. The IPv4 and IPv6 hooks are attached (the minimal LB has
IPv4 hooks only, so its IPv6 cells stay empty); a
cgroup/sock_release program in an experiment (variants.py claim) is attached
too, and its run per closing TCP socket is added to the "per socket, all hooks"
row, the figure on which a design that moves work from connect() to close()
must be compared. So is a tracing program of an experiment (fentry/tcp_close of
variants.py claimfentry, tp_btf/tcp_destroy_sock of claimtp), attached as a BPF
link for the whole run: it runs for every TCP socket the node closes, not only
the cgroup's, so besides its ns per run the table shows its runs per client
socket of the phase (the server's accepted socket closes too, and so does
whatever else the node closes meanwhile). Phases: translated TCP connect (+ getpeername), translated UDP
sendto (+ recvmsg), the same two towards a backend address directly (the
miss path), translated TCP connects held open together (tcp-hold: every
socket's getpeername checked, for designs where one socket's entry may
collide with another's), a new UDP socket connected per datagram (udp-conn: a
resolver's query), and a TCP connect to an address that is neither (tcp-other: the
miss path of most sockets on a node, which a filter over backend addresses
can tell apart from tcp-miss). tcp6, udp6, tcp6-miss and udp6-miss are the
same over IPv6 (connect6/getpeername6, sendmsg6/recvmsg6; 2001:db8::/32).
All at 1 Service, then again after 10k more Services of each family are
written into every variant's maps.

Everything created is removed on exit, failure and Ctrl-C included, and the
sysctl is set back to its previous value.

    run.py [--rounds N] [--tcp N] [--udp N] [--services N] [--baseline REF] [--before REF] [--affinity SECONDS]
           [--yardsticks minimal,minimal-sk,minimal-lru] [--reload] [--markdown FILE]
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "bpf"))
import lbabi  # noqa: E402  (the ABI encoder shared with tests/bpf/smoke.sh)

NAME = f"cglb-bpfbench-{os.getpid()}"
CGROUP_ROOT = "/sys/fs/cgroup" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "/sys/fs/cgroup/unified"
PIN = f"/sys/fs/bpf/{NAME}"
NETNS = NAME
PYTHON = sys.executable or "/usr/bin/python3"
WORKLOAD = os.path.join(HERE, "workload.py")

# Reserved ranges only (RFC 2544 / RFC 5737); the namespace has no route out.
VIP = "198.51.100.10"
BACKENDS = ["198.18.1.1", "198.18.1.2"]
OTHER = "198.18.1.3"  # neither a Service nor a backend: what most sockets on a node talk to
TCP_FRONT, TCP_BACK = 80, 8080
UDP_FRONT, UDP_BACK = 53, 5353
FILLER_BASE = (198 << 24) | (19 << 16)  # 198.19.0.0/16: the 10k extra ClusterIPs
# IPv6 (RFC 3849 documentation prefix only).
VIP6 = "2001:db8:100::10"
BACKENDS6 = ["2001:db8:18::1", "2001:db8:18::2"]
FILLER6 = "2001:db8:1900::{:x}"  # the 10k extra IPv6 ClusterIPs

HOOKS = ["connect4", "sendmsg4", "recvmsg4", "getpeername4"]
HOOKS6 = ["connect6", "sendmsg6", "recvmsg6", "getpeername6"]
# Hooks only some variants have (experiments of variants.py; the minimal LB has no IPv6), measured where present.
# Tracing programs (node-wide, attached as links), by program name -> hook name.
TRACING = {"cglb_tcp_close": "tcp_close", "cglb_tcp_destroy_sock": "tcp_destroy_sock"}
CLOSE_HOOKS = ["sock_release"] + list(TRACING.values())
OPTIONAL_HOOKS = CLOSE_HOOKS + HOOKS6
# The phase, what it does, and which hooks it measures.
PHASES = [
    ("tcp", "translated TCP connect + getpeername", ["connect4", "getpeername4"] + CLOSE_HOOKS),
    ("tcp-hold", "translated TCP connect + getpeername, all the phase's sockets open at once",
     ["connect4", "getpeername4"] + CLOSE_HOOKS),
    ("udp", "translated UDP sendto + recvfrom", ["sendmsg4", "recvmsg4"]),
    ("udp-short", "translated UDP sendto + recvfrom, a new socket every 2 datagrams", ["sendmsg4", "recvmsg4"]),
    ("udp-conn", "translated UDP connect + send + recvfrom, a new socket per datagram (a resolver's query)",
     ["connect4", "recvmsg4"]),
    ("tcp-miss", "TCP connect to a non-Service address", ["connect4", "getpeername4"] + CLOSE_HOOKS),
    ("udp-miss", "UDP sendto to a non-Service address", ["sendmsg4", "recvmsg4"]),
    ("tcp-other", "TCP connect to an address that is neither a Service nor a backend",
     ["connect4", "getpeername4"] + CLOSE_HOOKS),
    ("tcp6", "translated TCP connect + getpeername over IPv6", ["connect6", "getpeername6"]),
    ("udp6", "translated UDP sendto + recvfrom over IPv6", ["sendmsg6", "recvmsg6"]),
    ("tcp6-miss", "TCP connect to a non-Service IPv6 address", ["connect6", "getpeername6"]),
    ("udp6-miss", "UDP sendto to a non-Service IPv6 address", ["sendmsg6", "recvmsg6"]),
]

TRANSLATED_PHASES = ("tcp", "tcp-hold", "udp", "udp-short", "udp-conn", "tcp6", "udp6")


# The minimal LB's builds, by the TCP entry they keep (MINIMAL_TCP_ENTRY of minimal_lb.bpf.c): none (the issue's
# yardstick, getpeername of a TCP socket shows the backend), socket storage, the LRU map.
YARDSTICKS = {"minimal": 0, "minimal-sk": 1, "minimal-lru": 2}

SYS_BPF = 321  # x86_64
BPF_OBJ_GET, BPF_RAW_TRACEPOINT_OPEN = 7, 17


def bpf_syscall(cmd, attr):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(bytes(attr), 128)
    fd = libc.syscall(SYS_BPF, cmd, buf, 128)
    if fd < 0:
        raise OSError(ctypes.get_errno(), f"bpf({cmd}): {os.strerror(ctypes.get_errno())}")
    return fd


def attach_tracing(pinned_prog):
    """A BPF link for a pinned fentry/tp_btf program (bpftool 7.1 cannot attach one); closing the fd detaches it."""
    import ctypes
    path = ctypes.create_string_buffer(pinned_prog.encode())
    prog_fd = bpf_syscall(BPF_OBJ_GET, ctypes.addressof(path).to_bytes(8, "little") + bytes(8))
    try:
        # raw_tracepoint.name = 0: the kernel attaches to the program's attach_btf_id (fentry, tp_btf).
        return bpf_syscall(BPF_RAW_TRACEPOINT_OPEN, bytes(8) + prog_fd.to_bytes(4, "little"))
    finally:
        os.close(prog_fd)


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, **kw)


class Variant:
    def __init__(self, name, obj, kind, header=lbabi.HEADER):
        self.name, self.obj, self.kind = name, obj, kind
        self.header = header  # the lb_abi.h the object was built from (filter geometry)
        self.experiment = False  # --extra: may drop a guarantee to price it, so what the app sees is not checked
        self.cgroup = os.path.join(CGROUP_ROOT, NAME, name)
        self.pin = os.path.join(PIN, name)
        self.progs = {}  # hook -> program id
        self.links = []  # fds of the tracing programs' links
        self.abi = None

    def load(self):
        os.makedirs(self.cgroup)
        os.makedirs(self.pin)
        sh("bpftool", "prog", "loadall", self.obj, f"{self.pin}/progs", "pinmaps", f"{self.pin}/maps")
        self.abi = lbabi.Abi(self.obj)
        for entry in os.listdir(f"{self.pin}/progs"):
            if entry in TRACING:
                info = json.loads(sh("bpftool", "-j", "prog", "show", "pinned", f"{self.pin}/progs/{entry}").stdout)
                self.progs[TRACING[entry]] = info["id"]
                self.links.append(attach_tracing(f"{self.pin}/progs/{entry}"))
                continue
            family = "6" if "sock6" in entry or entry.endswith("6") else "4"
            base = next(b for b in ("connect", "sendmsg", "recvmsg", "getpeername", "sock_release") if b in entry)
            hook = base if base == "sock_release" else base + family
            info = json.loads(sh("bpftool", "-j", "prog", "show", "pinned", f"{self.pin}/progs/{entry}").stdout)
            self.progs[hook] = info["id"]
            sh("bpftool", "cgroup", "attach", self.cgroup, hook, "pinned", f"{self.pin}/progs/{entry}")
        if sorted(h for h in self.progs if h in HOOKS) != sorted(HOOKS):
            raise RuntimeError(f"{self.name}: expected one program per hook, got {sorted(self.progs)}")

    def detach(self):
        for fd in self.links:
            os.close(fd)
        self.links = []
        if not os.path.isdir(self.cgroup):
            return
        for hook, prog_id in self.progs.items():
            if hook in TRACING.values():
                continue
            sh("bpftool", "cgroup", "detach", self.cgroup, hook, "id", str(prog_id), check=False)
        os.rmdir(self.cgroup)

    def unload(self):
        """Detaches the programs and drops every pin, so the next load() gets new programs and maps."""
        self.detach()
        self.progs = {}
        shutil.rmtree(self.pin, ignore_errors=True)

    def has_map(self, name):
        return os.path.exists(f"{self.pin}/maps/{name}")

    def map(self, prefix):
        names = [m for m in os.listdir(f"{self.pin}/maps") if m == prefix or m.startswith(prefix + "_v")]
        if len(names) != 1:
            raise RuntimeError(f"{self.name}: no single pinned map named {prefix}*: {names}")
        return f"{self.pin}/maps/{names[0]}"

    # ---- seeding, through the object's own BTF
    def frontend_lines6(self, address, port, proto, service_id, backends):
        """frontend_lines() for lb6_services/lb6_backends_v2: backends, slots, master."""
        if self.kind == "minimal":
            return []  # IPv4 only
        lines = []
        for slot, (backend_address, backend_port) in enumerate(backends, start=1):
            backend_id = backend_ids(backend_address, backend_port, proto)
            lines.append(self.update("lb6_backends_v2", None, backend_id, "lb6_backend",
                                     dict(address=backend_address, port=backend_port, proto=proto)))
            lines.append(self.update("lb6_services", "lb6_service_key",
                                     dict(address=address, port=port, backend_slot=slot, proto=proto),
                                     "lb6_service_value", dict(backend_id=backend_id, service_id=service_id,
                                                               backend_address=backend_address,
                                                               backend_port=backend_port)))
        lines.append(self.update("lb6_services", "lb6_service_key",
                                 dict(address=address, port=port, backend_slot=0, proto=proto),
                                 "lb6_service_value", dict(service_id=service_id, count=len(backends),
                                                           flags=CLUSTER_IP_FLAG)))
        return lines + self.generation_lines(service_id)

    def frontend_lines(self, address, port, proto, service_id, backends, affinity=0):
        """bpftool batch lines writing one frontend the way the agent does: backends, slots, master."""
        if self.kind == "minimal":
            address_be, port_be = backends[0]
            return [self.update("bench_min_svc", "bench_min_key",
                                dict(address=address, port=port, proto=proto),
                                "bench_min_backend", dict(address=address_be, port=port_be))]
        lines = []
        value_struct = "lb_service_value_v2" if self.abi.has_struct("lb_service_value_v2") else "lb_service_value"
        for slot, (backend_address, backend_port) in enumerate(backends, start=1):
            backend_id = backend_ids(backend_address, backend_port, proto)
            lines.append(self.update("lb4_backends_v2", None, backend_id, "lb4_backend",
                                     dict(address=backend_address, port=backend_port, proto=proto)))
            slot_fields = dict(backend_id=backend_id, service_id=service_id)
            if value_struct.endswith("_v2"):
                slot_fields.update(backend_address=backend_address, backend_port=backend_port)
            lines.append(self.update("lb4_services", "lb4_service_key",
                                     dict(address=address, port=port, backend_slot=slot, proto=proto),
                                     value_struct, slot_fields))
        lines.append(self.update("lb4_services", "lb4_service_key",
                                 dict(address=address, port=port, backend_slot=0, proto=proto),
                                 value_struct, dict(service_id=service_id, count=len(backends),
                                                    flags=CLUSTER_IP_FLAG | (AFFINITY_FLAG if affinity else 0),
                                                    affinity_timeout=affinity)))
        return lines + self.generation_lines(service_id)

    def generation_lines(self, service_id):
        """The writer's move after a frontend's last write (lb_svc_gen, the generation under which sendmsg4 and
        sendmsg6 reuse a socket's translation): a fresh 24-bit value, never 0."""
        if not self.has_map("lb_svc_gen"):
            return []
        return [f"map update pinned {self.map('lb_svc_gen')} key hex "
                + " ".join(f"{b:02x}" for b in int(service_id).to_bytes(4, "little")) + " value hex "
                + " ".join(f"{b:02x}" for b in next_generation().to_bytes(4, "little"))]

    def update(self, map_prefix, key_struct, key, value_struct, value):
        key_hex = self.abi.hex(key_struct, key) if key_struct else " ".join(f"{b:02x}" for b in int(key).to_bytes(4, "little"))
        return f"map update pinned {self.map(map_prefix)} key hex {key_hex} value hex {self.abi.hex(value_struct, value)}"


CLUSTER_IP_FLAG = 1  # replaced from BTF in main()
AFFINITY_FLAG = 1 << 4  # replaced from BTF in main()
AFFINITY_SECONDS = 0  # --affinity: the VIP's frontends are ClientIP-affine with this timeout
_backend_ids = {}
_generations = [0]


def next_generation():
    _generations[0] = _generations[0] % 0xffffff + 1
    return _generations[0]


def backend_ids(address, port, proto):
    return _backend_ids.setdefault((address, port, proto), len(_backend_ids) + 1)


def batch(lines):
    with tempfile.NamedTemporaryFile("w", dir=WORK, delete=False, suffix=".batch") as f:
        f.write("\n".join(lines) + "\n")
    sh("bpftool", "batch", "file", f.name)


FRONTEND_ADDRESSES = []
FRONTEND_ADDRESSES6 = []


def filter_lines(v, map_name, words):
    return [f"map update pinned {v.map(map_name)} key hex "
            + " ".join(f"{b:02x}" for b in index.to_bytes(4, "little")) + " value hex "
            + " ".join(f"{b:02x}" for b in value.to_bytes(8, "little"))
            for index, value in sorted(words.items())]


def seed(variants, first, count, with_vip):
    if with_vip:
        FRONTEND_ADDRESSES.append(VIP)
        FRONTEND_ADDRESSES6.append(VIP6)
    FRONTEND_ADDRESSES.extend(lbabi.socket.inet_ntoa((FILLER_BASE + i).to_bytes(4, "big"))
                              for i in range(first, first + count))
    FRONTEND_ADDRESSES6.extend(FILLER6.format(i + 1) for i in range(first, first + count))
    for v in variants:
        if v.kind == "empty":
            continue
        lines = []
        if v.kind == "cglb" and v.has_map("lb4_fe_filter"):
            # As the agent keeps it: every frontend address's bit, set before its masters, then armed.
            for index, value in sorted(lbabi.fe_filter_words(FRONTEND_ADDRESSES, v.header).items()):
                lines.append(f"map update pinned {v.map('lb4_fe_filter')} key hex "
                             + " ".join(f"{b:02x}" for b in index.to_bytes(4, "little")) + " value hex "
                             + " ".join(f"{b:02x}" for b in value.to_bytes(8, "little")))
        if v.kind == "cglb" and v.has_map("lb6_fe_filter"):
            # The same for IPv6, where the tree has the filter (a --before tree may not).
            lines += filter_lines(v, "lb6_fe_filter", lbabi.fe_filter_words6(FRONTEND_ADDRESSES6, v.header))
        if with_vip and v.has_map("lb4_be_filter"):
            # An experiment's backend address filter (variants.py claimfilter), same geometry as lb4_fe_filter.
            for index, value in sorted(lbabi.fe_filter_words(BACKENDS, v.header).items()):
                lines.append(f"map update pinned {v.map('lb4_be_filter')} key hex "
                             + " ".join(f"{b:02x}" for b in index.to_bytes(4, "little")) + " value hex "
                             + " ".join(f"{b:02x}" for b in value.to_bytes(8, "little")))
        if with_vip:
            lines += v.frontend_lines(VIP, TCP_FRONT, "tcp", 1, [(b, TCP_BACK) for b in BACKENDS], AFFINITY_SECONDS)
            lines += v.frontend_lines(VIP, UDP_FRONT, "udp", 2, [(b, UDP_BACK) for b in BACKENDS], AFFINITY_SECONDS)
            lines += v.frontend_lines6(VIP6, TCP_FRONT, "tcp", 3, [(b, TCP_BACK) for b in BACKENDS6])
            lines += v.frontend_lines6(VIP6, UDP_FRONT, "udp", 4, [(b, UDP_BACK) for b in BACKENDS6])
        for i in range(first, first + count):
            address = lbabi.socket.inet_ntoa((FILLER_BASE + i).to_bytes(4, "big"))
            lines += v.frontend_lines(address, TCP_FRONT, "tcp", 5 + 2 * i, [(BACKENDS[i % 2], TCP_BACK)])
            lines += v.frontend_lines6(FILLER6.format(i + 1), TCP_FRONT, "tcp", 6 + 2 * i, [(BACKENDS6[i % 2], TCP_BACK)])
        batch(lines)


def prog_stats():
    out = json.loads(sh("bpftool", "-j", "prog", "show").stdout)
    return {p["id"]: (p.get("run_time_ns", 0), p.get("run_cnt", 0)) for p in out}


def run_client(variant, phase, args):
    host, port, count = {
        "tcp": (VIP, TCP_FRONT, args.tcp),
        "tcp-hold": (VIP, TCP_FRONT, args.tcp),
        "udp": (VIP, UDP_FRONT, args.udp),
        "udp-short": (VIP, UDP_FRONT, args.udp),
        "udp-conn": (VIP, UDP_FRONT, args.udp),
        "tcp-miss": (BACKENDS[0], TCP_BACK, args.tcp),
        "udp-miss": (BACKENDS[0], UDP_BACK, args.udp),
        "tcp-other": (OTHER, TCP_BACK, args.tcp),
        "tcp6": (VIP6, TCP_FRONT, args.tcp),
        "udp6": (VIP6, UDP_FRONT, args.udp),
        "tcp6-miss": (BACKENDS6[0], TCP_BACK, args.tcp),
        "udp6-miss": (BACKENDS6[0], UDP_BACK, args.udp),
    }[phase]
    command = {"udp-short": "udpshort", "udp-conn": "udpconn", "tcp-hold": "tcphold"}.get(phase, phase.split("-")[0].rstrip("6"))
    args.last_count = count
    # Join the cgroup first: `ip netns exec` remounts /sys.
    script = 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"'
    result = sh("bash", "-c", script, "_", variant.cgroup, "ip", "netns", "exec", NETNS,
                PYTHON, WORKLOAD, command, host, str(port), str(count), check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{variant.name} {phase}: workload failed: {result.stderr.strip()[-400:]}")
    expect = f"{host}:{port}" if phase != "tcp-hold" else f"peers={host}:{port}"  # and no other peer
    if variant.kind != "empty" and not variant.experiment and not result.stdout.strip().endswith(expect) \
            and phase in TRANSLATED_PHASES \
            and not (variant.name == "minimal" and phase in ("tcp", "tcp-hold")):
        # The minimal LB keeps no reverse entry for TCP, so its getpeername shows the backend.
        raise RuntimeError(f"{variant.name} {phase}: the application saw {result.stdout.strip()}, expected {expect}")


def measure(variants, args, label, results, before_round=None):
    """results[label][phase][variant][hook] -> list of ns/call, one per round. before_round(r), if given, runs
    first in each round (--reload)."""
    table = results.setdefault(label, {})
    for r in range(args.rounds):
        if before_round is not None:
            before_round(r)
        order = list(variants)
        random.Random(r).shuffle(order)
        for phase, _, hooks in PHASES:
            if args.phases and phase not in args.phases:
                continue
            for v in order:
                if v.kind == "empty" and phase in TRANSLATED_PHASES:
                    continue  # nothing to translate; the empty program is the miss-path floor
                if v.kind == "minimal" and "6" in phase:
                    continue  # the minimal LB is IPv4 only
                before = prog_stats()
                run_client(v, phase, args)
                after = prog_stats()
                for hook in hooks:
                    if hook in OPTIONAL_HOOKS and hook not in v.progs:
                        continue
                    pid = v.progs[hook]
                    dt, dc = after[pid][0] - before[pid][0], after[pid][1] - before[pid][1]
                    if dc <= 0:
                        raise RuntimeError(f"{v.name} {phase}: {hook} did not run")
                    table.setdefault(phase, {}).setdefault(v.name, {}).setdefault(hook, []).append(dt / dc)
                    if hook in TRACING.values():
                        # Node-wide: how many closes it saw per socket the workload opened.
                        table[phase][v.name].setdefault(hook + " runs", []).append(dc / args.last_count)
        print(f"  {label}: round {r + 1}/{args.rounds} done", file=sys.stderr)


def report(results, variants, args, kernel):
    names = [v.name for v in variants]
    reloaded = "every variant loaded again before each round; " if getattr(args, "reload", False) else ""
    lines = [f"kernel {kernel}; {args.rounds} interleaved rounds; {reloaded}TCP {args.tcp} connects, UDP {args.udp} datagrams "
             "per phase and round; ns per call = run_time_ns/run_cnt of the fastest round (noise only adds time)", ""]
    for label, table in results.items():
        lines.append(f"#### {label}")
        lines.append("")
        ref_cols = [n for n in ("before", *YARDSTICKS, "empty") if n in names]
        header = "| phase | hook | " + " | ".join(names) + " | " + " | ".join(
            f"cglb / {n}" for n in ref_cols) + " |"
        lines += [header, "|" + "---|" * (2 + len(names) + len(ref_cols))]
        for phase, _, hooks in PHASES:
            for hook in hooks:
                row = table.get(phase, {})
                cells = []
                for n in names:
                    samples = row.get(n, {}).get(hook)
                    cells.append(f"{min(samples):.0f}" if samples else "-")
                ratios = []
                for ref in ref_cols:
                    a, b = row.get("cglb", {}).get(hook), row.get(ref, {}).get(hook)
                    # Preemption and interrupts only ever add time to a run, so the
                    # fastest round of each is the closest to its cost; the rounds
                    # interleave the variants, so both saw the same machine.
                    ratios.append(f"{min(a) / min(b):.2f}x" if a and b else "-")
                if all(c == "-" for c in cells):
                    continue  # an optional hook no variant has
                lines.append(f"| {phase} | {hook} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
            if (phase.startswith("tcp") and "6" not in phase) or phase == "udp-conn":
                # What one TCP socket (or one query's UDP socket) costs in all our programs together: a design that moves work from
                # connect() to close() (sock_release) must be compared on this row.
                row = table.get(phase, {})
                totals = {n: sum(min(row[n][h]) for h in hooks if h in row.get(n, {})) for n in names if n in row}
                if not totals:
                    continue  # phase not measured (--phases)
                cells = [f"{totals[n]:.0f}" if n in totals else "-" for n in names]
                ratios = [f"{totals['cglb'] / totals[ref]:.2f}x" if "cglb" in totals and ref in totals else "-"
                          for ref in ref_cols]
                lines.append(f"| {phase} | per socket, all hooks | " + " | ".join(cells) + " | "
                             + " | ".join(ratios) + " |")
                for hook in hooks:
                    runs = {n: row[n][hook + " runs"] for n in names if hook + " runs" in row.get(n, {})}
                    if runs:
                        cells = [f"{min(runs[n]):.2f}-{max(runs[n]):.2f}" if n in runs else "-" for n in names]
                        lines.append(f"| {phase} | {hook} runs per client socket (node-wide) | "
                                     + " | ".join(cells) + " | " + " | ".join("-" for _ in ref_cols) + " |")
        lines.append("")
    return "\n".join(lines)


def kernel_at_least(major, minor):
    release = os.uname().release.split(".")
    return (int(release[0]), int("".join(c for c in release[1] if c.isdigit()) or 0)) >= (major, minor)


def kernel_btf_names(name):
    """Whether the kernel's BTF holds the string `name` (KernelBtf.HasRdonlyCast's test, less strict about the header)."""
    try:
        with open("/sys/kernel/btf/vmlinux", "rb") as f:
            return b"\0" + name.encode() + b"\0" in f.read()
    except OSError:
        return False


def loader_object(out):
    """The build the agent's loader takes on this kernel: the one for kernels with BTF where the kernel's BTF names
    bpf_rdonly_cast (and the tree builds it; older trees have one object only)."""
    btf = os.path.join(out, "cgroup_lb_btf.bpf.o")
    return btf if kernel_btf_names("bpf_rdonly_cast") and os.path.exists(btf) else os.path.join(out, "cgroup_lb.bpf.o")


def build(args):
    objs = {}
    clang = ["clang", "-O2", "-g", "-target", "bpf", "-Wall", "-Werror", "-I/usr/include/x86_64-linux-gnu"]
    objs["empty"] = f"{WORK}/empty.bpf.o"
    sh(*clang, "-c", os.path.join(HERE, "empty.bpf.c"), "-o", objs["empty"])
    for name in args.yardsticks:
        objs[name] = f"{WORK}/{name}.bpf.o"
        sh(*clang, f"-DMINIMAL_TCP_ENTRY={YARDSTICKS[name]}", "-c", os.path.join(HERE, "minimal_lb.bpf.c"),
           "-o", objs[name])
    # What the loader would choose on this kernel: each knob on if the verifier takes it. The ring buffer knob
    # keeps the trace code in; no tracer runs, so it is measured switched off.
    # TCP claims (lb4_sk_claim, 262144 entries as the agent makes it) come with the kfunc, and need socket storage
    # for the sockets whose entry is taken: cglb-lru, the fallback of kernels without socket storage, has neither.
    loader_knobs = "-DCGLB_DEFAULT_HAVE_SET_RETVAL=1 -DCGLB_DEFAULT_HAVE_RINGBUF=1"
    rdonly_cast = " -DCGLB_DEFAULT_HAVE_RDONLY_CAST=1" if kernel_at_least(6, 2) else ""
    claims = " -DCGLB_DEFAULT_SK_CLAIM_SLOTS=262144 -DCGLB_SK_CLAIM_MAP_ENTRIES=262144" if rdonly_cast else ""
    loader_knobs += rdonly_cast
    for name, knobs in (("cglb", loader_knobs + claims + " -DCGLB_DEFAULT_HAVE_SK_STORAGE=1"),
                        ("cglb-lru", loader_knobs + " -DCGLB_DEFAULT_HAVE_SK_STORAGE=0")):
        sh("make", "-s", "-C", os.path.join(REPO, "bpf"), f"OUT={WORK}/{name}", f"EXTRA_BPF_CFLAGS={knobs}")
        objs[name] = loader_object(f"{WORK}/{name}")
    if args.baseline:
        src = f"{WORK}/baseline-src"
        os.makedirs(src)
        archive = subprocess.run(["git", "-C", REPO, "archive", args.baseline, "bpf"], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", src], input=archive.stdout, check=True)
        sh("make", "-s", "-C", f"{src}/bpf", f"OUT={WORK}/baseline",
           "EXTRA_BPF_CFLAGS=-DCGLB_DEFAULT_HAVE_SET_RETVAL=1")
        objs["baseline"] = loader_object(f"{WORK}/baseline")
    if args.before:
        src = f"{WORK}/before-src"
        os.makedirs(src)
        archive = subprocess.run(["git", "-C", REPO, "archive", args.before, "bpf"], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", src], input=archive.stdout, check=True)
        sh("make", "-s", "-C", f"{src}/bpf", f"OUT={WORK}/before",
           f"EXTRA_BPF_CFLAGS={loader_knobs}{claims} -DCGLB_DEFAULT_HAVE_SK_STORAGE=1")
        objs["before"] = loader_object(f"{WORK}/before")
    for extra in args.extra:
        name, src = extra.split("=", 1)
        sh("make", "-s", "-C", f"{src}/bpf", f"OUT={WORK}/{name}",
           f"EXTRA_BPF_CFLAGS={loader_knobs}{claims} -DCGLB_DEFAULT_HAVE_SK_STORAGE=1")
        objs[name] = loader_object(f"{WORK}/{name}")
    return objs


def sandbox_up(servers):
    """Namespace, addresses and the two servers; each server is in `servers` as soon as it runs, for the cleanup."""
    sh("ip", "netns", "add", NETNS)
    sh("ip", "-n", NETNS, "link", "set", "lo", "up")
    for address in BACKENDS + [OTHER]:
        sh("ip", "-n", NETNS, "addr", "add", f"{address}/32", "dev", "lo")
    for address in BACKENDS6:
        sh("ip", "-n", NETNS, "addr", "add", f"{address}/128", "dev", "lo", "nodad")
    for kind, port in (("tcp", TCP_BACK), ("udp", UDP_BACK), ("tcp6", TCP_BACK), ("udp6", UDP_BACK)):
        ready = f"{WORK}/ready-{kind}"
        servers.append(subprocess.Popen(["ip", "netns", "exec", NETNS, PYTHON, WORKLOAD, f"serve-{kind}", str(port), ready]))
        for _ in range(300):  # a loaded machine can take seconds to start python
            if os.path.exists(ready) and os.path.getsize(ready) > 0:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"{kind} server did not start")


def main():
    global WORK, CLUSTER_IP_FLAG, AFFINITY_FLAG, AFFINITY_SECONDS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--tcp", type=int, default=1000, help="TCP connects per phase and round")
    parser.add_argument("--udp", type=int, default=2000, help="UDP datagrams per phase and round")
    parser.add_argument("--services", type=int, default=10000, help="Services added for the second measurement")
    parser.add_argument("--baseline", help="git ref whose bpf/ is measured as 'baseline' in the same run")
    parser.add_argument("--before", help="git ref whose bpf/ is measured as 'before', built with cglb's knobs")
    parser.add_argument("--markdown", help="also write the tables to this file")
    parser.add_argument("--affinity", type=int, default=0, metavar="SECONDS",
                        help="make the measured Service sessionAffinity ClientIP with this timeout (the hit path: one client)")
    parser.add_argument("--phases", type=lambda text: text.split(","), default=None,
                        help="comma-separated subset of " + ",".join(p[0] for p in PHASES))
    parser.add_argument("--reload", action="store_true",
                        help="load every variant again before each round, in a new order and with its maps written "
                             "again: a JIT image's placement alone can move one hook by 25-35 ns, and a single load "
                             "fixes it for the whole run")
    parser.add_argument("--check", action="append", default=[], metavar="NAME",
                        help="an --extra experiment that keeps every guarantee: check what the application sees for "
                             "it too, as for cglb")
    parser.add_argument("--yardsticks", type=lambda text: text.split(","), default=["minimal"],
                        help="which builds of the minimal LB to measure, of " + ",".join(YARDSTICKS))
    parser.add_argument("--extra", action="append", default=[], metavar="NAME=DIR",
                        help="also measure the cgroup_lb.bpf.o built from DIR/bpf (an experiment), as NAME")
    args = parser.parse_args()
    args.extra_sources = [tuple(e.split("=", 1)) for e in args.extra]
    unknown = [y for y in args.yardsticks if y not in YARDSTICKS]
    if unknown:
        parser.error(f"--yardsticks: unknown {','.join(unknown)}; known: {','.join(YARDSTICKS)}")
    if os.geteuid() != 0:
        sys.exit("bench/bpfstats needs root (BPF, cgroups, network namespaces)")

    WORK = tempfile.mkdtemp(prefix=f"{NAME}.")
    stats_before = sh("sysctl", "-n", "kernel.bpf_stats_enabled").stdout.strip()
    servers, variants = [], []
    # Ctrl-C and TERM unwind through finally like any failure.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        objs = build(args)
        abi_check = os.path.join(REPO, "build", "bpf", "abi_check.bpf.o")
        CLUSTER_IP_FLAG = lbabi.Abi(abi_check).enum_value("lb_service_flags", "LB_SVC_F_CLUSTER_IP") \
            if os.path.exists(abi_check) else 1
        if args.affinity:
            AFFINITY_FLAG = lbabi.Abi(abi_check).enum_value("lb_service_flags", "LB_SVC_F_AFFINITY")
            AFFINITY_SECONDS = args.affinity
        sandbox_up(servers)
        os.makedirs(os.path.join(CGROUP_ROOT, NAME))
        os.makedirs(PIN)
        extras = [(e.split("=", 1)[0], objs[e.split("=", 1)[0]], "cglb") for e in args.extra]
        for name, obj, kind in [("cglb", objs["cglb"], "cglb"), ("cglb-lru", objs["cglb-lru"], "cglb"),
                                ("baseline", objs.get("baseline"), "cglb"),
                                ("before", objs.get("before"), "cglb")] + extras + [
                                (y, objs[y], "minimal") for y in args.yardsticks] + [
                                ("empty", objs["empty"], "empty")]:
            if obj is None:
                continue
            source = dict(args.extra_sources).get(name)
            v = Variant(name, obj, kind, os.path.join(source, "bpf", "lib", "lb_abi.h") if source else lbabi.HEADER)
            v.experiment = name in (e[0] for e in extras) and name not in args.check
            variants.append(v)
            v.load()
        sh("sysctl", "-qw", "kernel.bpf_stats_enabled=1")
        results = {}
        seed(variants, 0, 0, with_vip=True)
        # A short unmeasured pass warms caches and the servers.
        measure(variants, argparse.Namespace(rounds=1, tcp=200, udp=200, phases=args.phases), "warm-up", {})
        def reloader(services):
            def reload(r):
                order = list(variants)
                random.Random(1000 + r).shuffle(order)
                for v in order:
                    v.unload()
                for v in order:
                    v.load()
                FRONTEND_ADDRESSES.clear()
                FRONTEND_ADDRESSES6.clear()
                seed(variants, 0, 0, with_vip=True)
                if services:
                    seed(variants, 0, services, with_vip=False)
            return reload if args.reload else None

        measure(variants, args, "1 Service (2 backends per frontend)", results, reloader(0))
        if args.services > 0:
            seed(variants, 0, args.services, with_vip=False)
            measure(variants, args, f"{args.services + 1} Services", results, reloader(args.services))
        kernel = os.uname().release
        text = report(results, variants, args, kernel)
        print(text)
        if args.markdown:
            with open(args.markdown, "w") as f:
                f.write(text + "\n")
    finally:
        sh("sysctl", "-qw", f"kernel.bpf_stats_enabled={stats_before}", check=False)
        for p in servers:
            p.terminate()
            p.wait()
        for v in variants:
            v.detach()
        if os.path.isdir(os.path.join(CGROUP_ROOT, NAME)):
            os.rmdir(os.path.join(CGROUP_ROOT, NAME))
        sh("ip", "netns", "del", NETNS, check=False)
        shutil.rmtree(PIN, ignore_errors=True)
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
