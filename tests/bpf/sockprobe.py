#!/usr/bin/env python3
"""Socket probes for tests/bpf/smoke.sh.

Servers run in a backend namespace and answer with their name. Clients run in
the client namespace, inside the test cgroup, and print one line per attempt
so the shell can assert on what the application saw:

    reply=<name> peer=<ip>:<port>     (tcp-connect, udp-connected)
    socket=<i> reply=<name> from=<ip>:<port>   (udp-sendto)
    reply=<name> from=<ip>:<port>     (udp-alternate)
    error=<ERRNO NAME>
"""
import errno
import json
import os
import socket
import sys

TIMEOUT_SECONDS = 2.0


def addr(pair):
    return f"{pair[0]}:{pair[1]}"


def error_line(exc):
    return f"error={errno.errorcode.get(exc.errno, exc.errno)}" if exc.errno else "error=TIMEOUT"


def mark_ready(ready_file):
    with open(ready_file, "w") as f:
        f.write(str(os.getpid()))


def serve_tcp(name, port, ready_file):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", int(port)))
    srv.listen(64)
    mark_ready(ready_file)
    while True:
        conn, _ = srv.accept()
        with conn:
            conn.sendall(name.encode())


def serve_udp(name, port, ready_file):
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("0.0.0.0", int(port)))
    mark_ready(ready_file)
    while True:
        _, peer = srv.recvfrom(2048)
        srv.sendto(name.encode(), peer)


def tcp_connect(host, port, count="1"):
    for _ in range(int(count)):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT_SECONDS)
        try:
            s.connect((host, int(port)))
            reply = s.recv(64).decode()
            print(f"reply={reply} peer={addr(s.getpeername())}")
        except OSError as exc:
            print(error_line(exc))
        finally:
            s.close()


def udp_sendto(host, port, sockets="1", sends="1"):
    for i in range(int(sockets)):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(TIMEOUT_SECONDS)
        try:
            for _ in range(int(sends)):
                s.sendto(b"ping", (host, int(port)))
                reply, src = s.recvfrom(64)
                print(f"socket={i} reply={reply.decode()} from={addr(src)}")
        except OSError as exc:
            print(f"socket={i} {error_line(exc)}")
        finally:
            s.close()


def udp_connected(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT_SECONDS)
    try:
        s.connect((host, int(port)))
        s.send(b"ping")
        reply, src = s.recvfrom(64)
        print(f"reply={reply.decode()} from={addr(src)} peer={addr(s.getpeername())}")
    except OSError as exc:
        print(error_line(exc))
    finally:
        s.close()


def udp_alternate(host, port_a, port_b, rounds="1"):
    """One unconnected socket sending to two frontends in turn."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT_SECONDS)
    try:
        for _ in range(int(rounds)):
            for port in (port_a, port_b):
                s.sendto(b"ping", (host, int(port)))
                reply, src = s.recvfrom(64)
                print(f"reply={reply.decode()} from={addr(src)}")
    except OSError as exc:
        print(error_line(exc))
    finally:
        s.close()


def sum_stats():
    """Sums a `bpftool -j map lookup` of lb_svc_stats over all CPUs."""
    entry = json.load(sys.stdin)
    per_cpu = entry.get("formatted", entry)["values"]
    totals = {"translated": 0, "refused_no_backend": 0, "reverse_translated": 0}
    for cpu in per_cpu:
        for field in totals:
            totals[field] += int(cpu["value"][field])
    print(" ".join(f"{k}={v}" for k, v in totals.items()))


# bpf_attach_type values of the hooks a cgroup_lb object can use, with bpftool's names for them.
SOCK_ADDR_ATTACH_TYPES = {10: "cgroup_inet4_connect", 14: "cgroup_udp4_sendmsg", 19: "cgroup_udp4_recvmsg",
                          29: "cgroup_inet4_getpeername"}


def cgroup_progs(cgroup):
    """Prints "attach_type name id" per program on the cgroup's sock_addr hooks, by BPF_PROG_QUERY.

    For kernels where bpftool 7.1's `cgroup show` finds nothing: it sends the 6.0 prog_attach_flags field, which
    older kernels refuse (EINVAL) for every attach type.
    """
    import ctypes
    import struct
    import subprocess
    libc = ctypes.CDLL(None, use_errno=True)
    sys_bpf, bpf_prog_query = 321, 16  # x86_64 syscall number; enum bpf_cmd
    fd = os.open(cgroup, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for attach_type, type_name in SOCK_ADDR_ATTACH_TYPES.items():
            ids = (ctypes.c_uint32 * 64)()
            attr = ctypes.create_string_buffer(struct.pack("<IIIIQI4x", fd, attach_type, 0, 0, ctypes.addressof(ids), 64))
            if libc.syscall(sys_bpf, bpf_prog_query, attr, len(attr.raw)) != 0:
                err = ctypes.get_errno()
                sys.exit(f"BPF_PROG_QUERY {type_name} on {cgroup}: {os.strerror(err)}")
            count = struct.unpack_from("<I", attr.raw, 24)[0]
            for prog_id in ids[:count]:
                info = json.loads(subprocess.run(["bpftool", "-j", "prog", "show", "id", str(prog_id)],
                                                 check=True, capture_output=True, text=True).stdout)
                print(type_name, info.get("name", "?"), prog_id)
    finally:
        os.close(fd)


COMMANDS = {
    "cgroup-progs": cgroup_progs,
    "serve-tcp": serve_tcp,
    "serve-udp": serve_udp,
    "tcp-connect": tcp_connect,
    "udp-sendto": udp_sendto,
    "udp-connected": udp_connected,
    "udp-alternate": udp_alternate,
    "sum-stats": sum_stats,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(COMMANDS)}}} ARGS...")
    sys.stdout.reconfigure(line_buffering=True)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
