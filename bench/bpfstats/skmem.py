#!/usr/bin/env python3
"""Kernel memory a translated socket holds, and which memory cgroup pays for it.

    skmem.py [--sockets N]

A translated socket's reverse entry lives in socket storage (lb4_sk_frontend, lb6_sk_frontend): two kernel
allocations the first time the socket gets one, freed with the socket. On 6.2+ a TCP socket claims an entry of the
preallocated array lb4_sk_claim (lb6_sk_claim for an IPv6 peer) instead, charged once, at load, so there the
translated TCP rows show what a claim costs: nothing per socket. The kernel charges them to the memory cgroup of the
process that created the map, not to the socket's owner: in a cluster, the agent's pod. This measures that
charge. The programs are loaded (maps created) by a process in a child memory cgroup of its own, the
"creator", then attached to a child cgroup where clients open N TCP sockets and hold them open; the table
gives the creator's kernel memory before and while they are open, per socket, for sockets to the Service
(translated, over IPv4 and over IPv6: one entry each) and to an address that is no Service (the control: nothing).
Both the socket-storage build (cglb) and the LRU fallback of kernels without socket storage in sock_addr
programs (cglb-lru, whose preallocated map is charged once, at load) are measured.

Sandbox: run.py's (network namespace with loopback and reserved addresses, cgroups, pins) plus the creator
memory cgroup; everything is removed on exit, failure and Ctrl-C included. The number of sockets is capped
by RLIMIT_NOFILE's hard limit.
"""
import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as R  # noqa: E402

# Holds N connected sockets open until stdin closes; the cgroup is joined before the namespace (ip netns exec
# remounts /sys).
HOLDER = """
import resource, socket, sys
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
held = []
for _ in range(count):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.settimeout(2.0)
    s.connect((host, port))
    held.append(s)
print(len(held), flush=True)
sys.stdin.read()
"""


def memory_cgroup_root():
    """(path of a new child memory cgroup's parent, file with its kernel memory in bytes or None for v2 stat)."""
    v1 = "/sys/fs/cgroup/memory"
    if os.path.isfile(os.path.join(v1, "memory.usage_in_bytes")):
        return v1, "v1"
    with open(os.path.join(R.CGROUP_ROOT, "cgroup.subtree_control")) as f:
        if "memory" not in f.read().split():
            sys.exit(f"skmem.py: the memory controller is not enabled for children of {R.CGROUP_ROOT} "
                     "(cgroup.subtree_control); this tool does not change it")
    return R.CGROUP_ROOT, "v2"


def kernel_bytes(creator, flavour):
    if flavour == "v1":
        with open(os.path.join(creator, "memory.kmem.usage_in_bytes")) as f:
            return int(f.read())
    with open(os.path.join(creator, "memory.stat")) as f:
        return next(int(line.split()[1]) for line in f if line.startswith("kernel "))


def join(cgroup_dir):
    with open(os.path.join(cgroup_dir, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))


def hold(variant, host, port, count):
    script = 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"'
    p = subprocess.Popen(["bash", "-c", script, "_", variant.cgroup, "ip", "netns", "exec", R.NETNS,
                          R.PYTHON, "-c", HOLDER, host, str(port), str(count)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    if line != str(count):
        p.kill()
        raise RuntimeError(f"{variant.name}: holding {count} sockets to {host}:{port} failed: "
                           f"{p.stderr.read().strip()[-400:]}")
    return p


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=10000)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/bpfstats/skmem.py needs root (BPF, cgroups, network namespaces)")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    count = min(args.sockets, hard - 64) if hard != resource.RLIM_INFINITY else args.sockets

    parent, flavour = memory_cgroup_root()
    creator = os.path.join(parent, f"{R.NAME}-creator")
    own = next(line.split(":", 2)[2].strip() for line in open("/proc/self/cgroup")
               if (flavour == "v1" and line.split(":")[1] == "memory") or (flavour == "v2" and line.startswith("0::")))
    home = os.path.join(parent, own.lstrip("/"))
    R.WORK = tempfile.mkdtemp(prefix=f"{R.NAME}.")
    servers, variants, holders = [], [], []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    rows = []
    try:
        objs = R.build(argparse.Namespace(yardsticks=[], baseline=None, before=None, extra=[]))
        R.sandbox_up(servers)
        os.makedirs(os.path.join(R.CGROUP_ROOT, R.NAME))
        os.makedirs(R.PIN)
        os.makedirs(creator)
        join(creator)  # the maps are created, and charged, here
        try:
            for name in ("cglb", "cglb-lru"):
                v = R.Variant(name, objs[name], "cglb")
                variants.append(v)
                v.load()
            R.seed(variants, 0, 0, with_vip=True)
        finally:
            join(home)
        for v in variants:
            for label, host, port in (("no Service (control)", R.OTHER, R.TCP_BACK),
                                      ("translated", R.VIP, R.TCP_FRONT),
                                      ("translated, IPv6", R.VIP6, R.TCP_FRONT)):
                time.sleep(1)
                before = kernel_bytes(creator, flavour)
                p = hold(v, host, port, count)
                holders.append(p)
                time.sleep(1)
                during = kernel_bytes(creator, flavour)
                p.stdin.close()
                p.wait()
                holders.remove(p)
                rows.append((v.name, label, before, during))
                print(f"  {v.name}, {label}: {before} -> {during} bytes", file=sys.stderr)
        print(f"kernel {os.uname().release}; memory cgroup {flavour}; {count} TCP sockets held open per row; the "
              "creator cgroup's kernel memory (the maps' own memory included, constant during a row)\n")
        print("| build | sockets to | creator's kernel memory before | while open | per socket |")
        print("|---|---|---:|---:|---:|")
        for name, label, before, during in rows:
            print(f"| {name} | {label} | {before / 2**20:.1f} MB | {during / 2**20:.1f} MB | "
                  f"{(during - before) / count:.0f} B |")
    finally:
        for p in holders:
            p.kill()
            p.wait()
        for p in servers:
            p.terminate()
            p.wait()
        for v in variants:
            v.detach()
        if os.path.isdir(os.path.join(R.CGROUP_ROOT, R.NAME)):
            os.rmdir(os.path.join(R.CGROUP_ROOT, R.NAME))
        R.sh("ip", "netns", "del", R.NETNS, check=False)
        shutil.rmtree(R.PIN, ignore_errors=True)
        shutil.rmtree(R.WORK, ignore_errors=True)
        # The maps' charges move to the parent when the last map is freed; rmdir works on an empty cgroup either way.
        for _ in range(20):
            try:
                if os.path.isdir(creator):
                    os.rmdir(creator)
                break
            except OSError:
                time.sleep(0.5)
        else:
            print(f"skmem.py: could not remove {creator}", file=sys.stderr)


if __name__ == "__main__":
    main()
