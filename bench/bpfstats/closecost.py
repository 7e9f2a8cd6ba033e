#!/usr/bin/env python3
"""What a node-wide close hook costs the sockets it does not own, by the wall clock.

    closecost.py OBJ PROGRAM [--blocks N] [--sockets N] [--cgroup] [--control]

run.py's counters see a tracing program's run, not the dispatch around it (an fentry trampoline, a tracepoint
call), and they see it only while kernel.bpf_stats_enabled adds its clock. This prices the whole thing the way a
socket that never met a Service pays it: close() of TCP sockets connected to an address that is no Service and
no backend, with PROGRAM (a tracing program of OBJ, e.g. variants.py claimtp's cglb_tcp_destroy_sock) attached as
a link and without it, in interleaved blocks. Each block is one client process that connects --sockets sockets
(SO_LINGER 0, as workload.py) and times each close(); the table gives the median of each block's median, per
condition, and their difference. No cgroup program is attached: the hook is node-wide, so the client needs none.
With --cgroup, PROGRAM is a cgroup program instead (cgroup/sock_release of variants.py claimcast): the clients run
in a child cgroup of the benchmark's own, and the "with" blocks attach PROGRAM there (the server's accepted sockets
are outside it, so one close() runs it once).

Sandbox: its own network namespace (loopback, 198.18.1.3, a listener) and pin directory; both are removed on
exit, failure and Ctrl-C included. kernel.bpf_stats_enabled is left as it is (0 unless something else set it).
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run import CGROUP_ROOT, attach_tracing, sh  # noqa: E402

NAME = f"cglb-closecost-{os.getpid()}"
PIN = f"/sys/fs/bpf/{NAME}"
OTHER, PORT = "198.18.1.3", 8080  # reserved range, no route out of the namespace
CLIENT = """
import socket, struct, sys, time
count = int(sys.argv[1])
linger = struct.pack("ii", 1, 0)
took = []
for _ in range(count):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    s.connect(("%s", %d))
    start = time.perf_counter_ns()
    s.close()
    took.append(time.perf_counter_ns() - start)
took.sort()
print(took[len(took) // 2])
""" % (OTHER, PORT)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("obj")
    parser.add_argument("program")
    parser.add_argument("--blocks", type=int, default=10, help="blocks per condition")
    parser.add_argument("--sockets", type=int, default=2000, help="sockets per block")
    parser.add_argument("--cgroup", action="store_true",
                        help="PROGRAM is a cgroup/sock_release program: attach it to the clients' cgroup")
    parser.add_argument("--control", action="store_true",
                        help="A/A run: never attach, to see the bias of the block order and the noise")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("closecost.py needs root (BPF, network namespaces)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    work = tempfile.mkdtemp(prefix=f"{NAME}.")
    cgroup = os.path.join(CGROUP_ROOT, NAME)
    server = None
    try:
        if args.cgroup:
            os.makedirs(cgroup)
        os.makedirs(PIN)
        sh("bpftool", "prog", "loadall", args.obj, f"{PIN}/progs", "pinmaps", f"{PIN}/maps")
        sh("ip", "netns", "add", NAME)
        sh("ip", "-n", NAME, "link", "set", "lo", "up")
        sh("ip", "-n", NAME, "addr", "add", f"{OTHER}/32", "dev", "lo")
        ready = f"{work}/ready"
        server = subprocess.Popen(["ip", "netns", "exec", NAME, sys.executable, os.path.join(HERE, "workload.py"),
                                   "serve-tcp", str(PORT), ready])
        for _ in range(300):
            if os.path.exists(ready) and os.path.getsize(ready) > 0:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        medians = {"without": [], "with": []}
        for block in range(2 * args.blocks + 1):
            attached = block % 2 == 1  # the first block (without) only warms up
            program = f"{PIN}/progs/{args.program}"
            link = None
            if attached and not args.control:
                if args.cgroup:
                    sh("bpftool", "cgroup", "attach", cgroup, "sock_release", "pinned", program)
                else:
                    link = attach_tracing(program)
            try:
                client = ["ip", "netns", "exec", NAME, sys.executable, "-c", CLIENT, str(args.sockets)]
                if args.cgroup:
                    # Join the cgroup first: `ip netns exec` remounts /sys.
                    client = ["bash", "-c", 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', "_", cgroup] + client
                out = sh(*client).stdout
            finally:
                if link is not None:
                    os.close(link)
                if attached and not args.control and args.cgroup:
                    sh("bpftool", "cgroup", "detach", cgroup, "sock_release", "pinned", program, check=False)
            if block > 0:
                medians["with" if attached else "without"].append(int(out))
        a, b = statistics.median(medians["without"]), statistics.median(medians["with"])
        print(f"kernel {os.uname().release}; close() of a TCP socket to a non-Service address, SO_LINGER 0; "
              f"{args.blocks} blocks per condition x {args.sockets} sockets; ns, median of block medians")
        print("")
        print("| condition | close() | block medians |")
        print("|---|---:|---|")
        print(f"| no {args.program} | {a:.0f} | {min(medians['without'])}-{max(medians['without'])} |")
        print(f"| {args.program} {'NOT attached (--control)' if args.control else 'attached'} | {b:.0f} | {min(medians['with'])}-{max(medians['with'])} |")
        print(f"| difference | {b - a:+.0f} ({(b - a) / a:+.1%}) | |")
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        sh("ip", "netns", "del", NAME, check=False)
        if os.path.isdir(cgroup):
            for program in os.listdir(f"{PIN}/progs") if os.path.isdir(f"{PIN}/progs") else []:
                sh("bpftool", "cgroup", "detach", cgroup, "sock_release", "pinned", f"{PIN}/progs/{program}", check=False)
            os.rmdir(cgroup)
        shutil.rmtree(PIN, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
