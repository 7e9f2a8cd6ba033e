#!/usr/bin/env python3
"""The fixed socket workload of bench/bpfstats, one phase per invocation.

    workload.py serve-tcp PORT READY_FILE    accept and close, forever
    workload.py serve-udp PORT READY_FILE    echo every datagram, forever
    workload.py tcp HOST PORT COUNT          COUNT x (connect, getpeername, close with RST)
    workload.py udp HOST PORT COUNT          one unconnected socket: COUNT x (sendto, recvfrom)

Clients run inside a benchmark cgroup, so every connect/sendmsg/recvmsg/
getpeername call runs the hooks attached there; servers run outside it. A
client exits non-zero on the first failure: a fast number from a broken
workload is worse than none. Clients close TCP sockets with SO_LINGER 0, so
thousands of connects leave no TIME_WAIT behind to exhaust the ports.
"""
import os
import socket
import struct
import sys

TIMEOUT_SECONDS = 2.0
LINGER_RST = struct.pack("ii", 1, 0)


def ready(path):
    with open(path, "w") as f:
        f.write(str(os.getpid()))


def serve_tcp(port, ready_file):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", int(port)))
    srv.listen(4096)
    ready(ready_file)
    while True:
        conn, _ = srv.accept()
        conn.close()


def serve_udp(port, ready_file):
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("0.0.0.0", int(port)))
    ready(ready_file)
    while True:
        data, peer = srv.recvfrom(64)
        srv.sendto(data, peer)


def tcp(host, port, count):
    target = (host, int(port))
    for _ in range(int(count)):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
        s.settimeout(TIMEOUT_SECONDS)
        s.connect(target)
        peer = s.getpeername()
        s.close()
    print(f"tcp {count} peer={peer[0]}:{peer[1]}")


def udp(host, port, count):
    target = (host, int(port))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT_SECONDS)
    for _ in range(int(count)):
        s.sendto(b"x", target)
        _, src = s.recvfrom(64)
    s.close()
    print(f"udp {count} from={src[0]}:{src[1]}")


COMMANDS = {"serve-tcp": serve_tcp, "serve-udp": serve_udp, "tcp": tcp, "udp": udp}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
