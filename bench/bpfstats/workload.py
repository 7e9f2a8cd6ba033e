#!/usr/bin/env python3
"""The fixed socket workload of bench/bpfstats, one phase per invocation.

    workload.py serve-tcp PORT READY_FILE    accept and close, forever
    workload.py serve-udp PORT READY_FILE    echo every datagram, forever
    workload.py serve-tcp6/serve-udp6 ...    the same on :: (IPv6 only)
    workload.py tcp HOST PORT COUNT          COUNT x (connect, getpeername, close with RST)
    workload.py tcphold HOST PORT COUNT      COUNT x (connect, getpeername), all held open until the last, then
                                             closed with RST; prints every peer the sockets saw
    workload.py udp HOST PORT COUNT          one unconnected socket: COUNT x (sendto, recvfrom)
    workload.py udpshort HOST PORT COUNT     COUNT/2 unconnected sockets, 2 x (sendto, recvfrom) each (a resolver's
                                             A and AAAA query)
    workload.py udpconn HOST PORT COUNT      COUNT x (socket, connect, send, recvfrom, close): glibc's resolver
                                             connects a UDP socket per query

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


def server(family, kind):
    srv = socket.socket(family, kind)
    if family == socket.AF_INET6:
        srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)  # the IPv4 server has the port's IPv4 side
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return srv


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def serve_tcp(port, ready_file, family=socket.AF_INET):
    srv = server(family, socket.SOCK_STREAM)
    srv.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", int(port)))
    srv.listen(4096)
    ready(ready_file)
    while True:
        conn, _ = srv.accept()
        conn.close()


def serve_udp(port, ready_file, family=socket.AF_INET):
    srv = server(family, socket.SOCK_DGRAM)
    srv.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", int(port)))
    ready(ready_file)
    while True:
        data, peer = srv.recvfrom(64)
        srv.sendto(data, peer)


def tcp(host, port, count):
    target = (host, int(port))
    for _ in range(int(count)):
        s = socket.socket(family_of(host), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
        s.settimeout(TIMEOUT_SECONDS)
        s.connect(target)
        peer = s.getpeername()
        s.close()
    print(f"tcp {count} peer={peer[0]}:{peer[1]}")


def tcphold(host, port, count):
    target = (host, int(port))
    held, peers = [], set()
    try:
        for _ in range(int(count)):
            s = socket.socket(family_of(host), socket.SOCK_STREAM)
            held.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
            s.settimeout(TIMEOUT_SECONDS)
            s.connect(target)
            peer = s.getpeername()
            peers.add(f"{peer[0]}:{peer[1]}")
    finally:
        for s in held:
            s.close()
    print(f"tcphold {count} peers={','.join(sorted(peers))}")


def udp(host, port, count):
    target = (host, int(port))
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT_SECONDS)
    for _ in range(int(count)):
        s.sendto(b"x", target)
        _, src = s.recvfrom(64)
    s.close()
    print(f"udp {count} from={src[0]}:{src[1]}")


def udpshort(host, port, count):
    target = (host, int(port))
    for _ in range(int(count) // 2):
        s = socket.socket(family_of(host), socket.SOCK_DGRAM)
        s.settimeout(TIMEOUT_SECONDS)
        for _ in range(2):
            s.sendto(b"x", target)
            _, src = s.recvfrom(64)
        s.close()
    print(f"udp {count} from={src[0]}:{src[1]}")


def udpconn(host, port, count):
    target = (host, int(port))
    for _ in range(int(count)):
        s = socket.socket(family_of(host), socket.SOCK_DGRAM)
        s.settimeout(TIMEOUT_SECONDS)
        s.connect(target)
        s.send(b"x")
        _, src = s.recvfrom(64)
        s.close()
    print(f"udp {count} from={src[0]}:{src[1]}")


COMMANDS = {"udpshort": udpshort, "udpconn": udpconn, "serve-tcp": serve_tcp, "serve-udp": serve_udp, "tcp": tcp, "tcphold": tcphold, "udp": udp,
            "serve-tcp6": lambda port, ready_file: serve_tcp(port, ready_file, socket.AF_INET6),
            "serve-udp6": lambda port, ready_file: serve_udp(port, ready_file, socket.AF_INET6)}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
