#!/usr/bin/env python3
"""Writes one cluster of N Services four ways: the manifest CgroupLb reads, the rules kube-proxy would load in its
iptables mode (an iptables-restore file) and its nftables mode (an `nft -f` file), and the entries of the minimal
socket LB's service map (bench/bpfstats/minimal_lb.bpf.c, the `minimal` path), for `bpftool batch`.

    gen.py N OUTDIR

The measured Service is the last of the N, everywhere: the last KUBE-SERVICES rules, the last verdict-map
elements, the last documents of the manifest, the last map entries. It has three ports (11111/UDP and 11111/TCP
for sockperf, 8000/TCP for the connect loop) and two endpoints, the two backend pods. The other N-1 Services are
single-port (80/TCP) with two endpoints each on pod addresses nobody answers on; they only have to be there.

Addresses (reserved test ranges only): Service CIDR 198.19.0.0/16, pod CIDR 198.18.0.0/16.
Names and hashes follow kube-proxy (pkg/proxy/iptables and pkg/proxy/nftables): KUBE-SVC-/KUBE-SEP- are the first
16 base32 characters of sha256(service port name + protocol [+ endpoint]), the nftables chains 8 of them plus a
readable suffix.
"""
import base64
import hashlib
import ipaddress
import os
import sys

SERVICE_CIDR = "198.19.0.0/16"
POD_CIDR = "198.18.0.0/16"
MEASURED_VIP = "198.19.255.10"
MEASURED_ENDPOINTS = ["198.18.2.2", "198.18.3.2"]
MEASURED_PORTS = [("pp-udp", "UDP", 11111), ("pp-tcp", "TCP", 11111), ("conn", "TCP", 8000)]
MASQ_MARK = "0x4000"


def filler_vip_of(i):
    # 198.19.0.1 upwards, skipping .0 and .255 and the measured VIP's /24.
    host = i % 254 + 1
    net = i // 254
    return f"198.19.{net}.{host}"


def filler_endpoints(i):
    # Two pods per filler Service in 198.18.128.0/17: addresses no namespace owns.
    def pod(k):
        return f"198.18.{128 + (k // 250) % 128}.{k % 250 + 2}"
    return [pod(2 * i), pod(2 * i + 1)]


def services(n):
    """(namespace, name, vip, [(port name, protocol, port, target port)], [endpoint ip]) for the N Services."""
    out = []
    for i in range(n - 1):
        out.append(("bench", f"filler-{i:05d}", filler_vip_of(i), [("http", "TCP", 80, 8080)], filler_endpoints(i)))
    out.append(("bench", "measured", MEASURED_VIP, [(p, proto, port, port) for p, proto, port in MEASURED_PORTS],
                MEASURED_ENDPOINTS))
    return out


def kp_hash(text, length):
    digest = hashlib.sha256(text.encode()).digest()
    return base64.b32encode(digest).decode()[:length]


def manifest(svcs):
    lines = []
    for ns, name, vip, ports, eps in svcs:
        lines += ["apiVersion: v1", "kind: Service", "metadata:", f"  name: {name}", f"  namespace: {ns}", "spec:",
                  "  type: ClusterIP", f"  clusterIP: {vip}", "  clusterIPs:", f"    - {vip}", "  ipFamilies:",
                  "    - IPv4", "  ports:"]
        for pname, proto, port, target in ports:
            lines += [f"    - name: {pname}", f"      protocol: {proto}", f"      port: {port}",
                      f"      targetPort: {target}"]
        lines += ["---", "apiVersion: discovery.k8s.io/v1", "kind: EndpointSlice", "metadata:",
                  f"  name: {name}-1", f"  namespace: {ns}", "  labels:",
                  f"    kubernetes.io/service-name: {name}", "addressType: IPv4", "ports:"]
        for pname, proto, port, target in ports:
            lines += [f"  - name: {pname}", f"    protocol: {proto}", f"    port: {target}"]
        lines += ["endpoints:"]
        for ep in eps:
            lines += [f"  - addresses:", f"      - {ep}", "    conditions:", "      ready: true",
                      "    nodeName: netpath-node"]
        lines += ["---"]
    return "\n".join(lines[:-1]) + "\n"


def iptables_restore(svcs):
    """What kube-proxy's iptables proxier hands iptables-restore on its first full sync, plus the jumps from the
    built-in chains that it installs with separate iptables calls (here in the same file)."""
    flt = ["*filter", ":KUBE-NODEPORTS - [0:0]", ":KUBE-SERVICES - [0:0]", ":KUBE-EXTERNAL-SERVICES - [0:0]",
           ":KUBE-FORWARD - [0:0]", ":KUBE-PROXY-FIREWALL - [0:0]", ":KUBE-FIREWALL - [0:0]",
           "-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD",
           "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
           "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES",
           "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL",
           "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
           f"-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark {MASQ_MARK}/{MASQ_MARK} -j ACCEPT",
           "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
           "COMMIT"]
    chains = [":KUBE-SERVICES - [0:0]", ":KUBE-NODEPORTS - [0:0]", ":KUBE-POSTROUTING - [0:0]",
              ":KUBE-MARK-MASQ - [0:0]"]
    rules = ["-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
             "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
             "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING",
             f"-A KUBE-POSTROUTING -m mark ! --mark {MASQ_MARK}/{MASQ_MARK} -j RETURN",
             f"-A KUBE-POSTROUTING -j MARK --xor-mark {MASQ_MARK}",
             "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully",
             f"-A KUBE-MARK-MASQ -j MARK --or-mark {MASQ_MARK}"]
    service_rules, per_service = [], []
    for ns, name, vip, ports, eps in svcs:
        for pname, proto, port, target in ports:
            spn = f"{ns}/{name}:{pname}"
            p = proto.lower()
            svc_chain = "KUBE-SVC-" + kp_hash(spn + p, 16)
            chains.append(f":{svc_chain} - [0:0]")
            service_rules.append(f"-A KUBE-SERVICES -m comment --comment \"{spn} cluster IP\" -m {p} -p {p} "
                                 f"-d {vip}/32 --dport {port} -j {svc_chain}")
            per_service.append(f"-A {svc_chain} -m comment --comment \"{spn} cluster IP\" -m {p} -p {p} "
                               f"-d {vip}/32 --dport {port} ! -s {POD_CIDR} -j KUBE-MARK-MASQ")
            for k, ep in enumerate(eps):
                sep_chain = "KUBE-SEP-" + kp_hash(spn + p + f"{ep}:{target}", 16)
                chains.append(f":{sep_chain} - [0:0]")
                left = len(eps) - k
                stat = f" -m statistic --mode random --probability {1.0 / left:.10f}" if left > 1 else ""
                per_service.append(f"-A {svc_chain} -m comment --comment \"{spn} -> {ep}:{target}\"{stat} -j {sep_chain}")
                per_service.append(f"-A {sep_chain} -m comment --comment {spn} -s {ep}/32 -j KUBE-MARK-MASQ")
                per_service.append(f"-A {sep_chain} -m comment --comment {spn} -m {p} -p {p} "
                                   f"-j DNAT --to-destination {ep}:{target}")
    service_rules.append("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be "
                         "the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS")
    nat = ["*nat"] + chains + rules + service_rules + per_service + ["COMMIT"]
    return "\n".join(flt + nat) + "\n"


def nft_script(svcs):
    """kube-proxy's nftables layout (pkg/proxy/nftables): one table, a service-ips verdict map keyed by
    address . protocol . port, a chain per service port that picks an endpoint with numgen, a chain per endpoint
    that marks hairpin traffic for masquerade and DNATs."""
    out = ["add table ip kube-proxy { comment \"rules for kube-proxy\" ; }",
           "add chain ip kube-proxy mark-for-masquerade",
           f"add rule ip kube-proxy mark-for-masquerade mark set mark or {MASQ_MARK}",
           "add chain ip kube-proxy masquerading",
           f"add rule ip kube-proxy masquerading mark and {MASQ_MARK} == 0 return",
           f"add rule ip kube-proxy masquerading mark set mark xor {MASQ_MARK}",
           "add rule ip kube-proxy masquerading masquerade fully-random",
           "add set ip kube-proxy cluster-ips { type ipv4_addr ; comment \"Active ClusterIPs\" ; }",
           "add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; "
           "comment \"ClusterIP, ExternalIP and LoadBalancer IP traffic\" ; }",
           "add map ip kube-proxy no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; "
           "comment \"vmap to drop or reject packets to services with no endpoints\" ; }",
           "add chain ip kube-proxy services",
           "add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips",
           "add chain ip kube-proxy service-endpoints-check",
           "add rule ip kube-proxy service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services",
           "add chain ip kube-proxy cluster-ips-check",
           f"add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment \"Reject traffic to invalid ports of ClusterIPs\"",
           f"add rule ip kube-proxy cluster-ips-check ip daddr {SERVICE_CIDR} drop comment \"Drop traffic to unallocated ClusterIPs\"",
           "add chain ip kube-proxy filter-forward { type filter hook forward priority -110 ; }",
           "add rule ip kube-proxy filter-forward ct state new jump service-endpoints-check",
           "add rule ip kube-proxy filter-forward ct state new jump cluster-ips-check",
           "add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }",
           "add rule ip kube-proxy nat-prerouting jump services",
           "add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }",
           "add rule ip kube-proxy nat-output jump services",
           "add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }",
           "add rule ip kube-proxy nat-postrouting jump masquerading"]
    elements = []
    for ns, name, vip, ports, eps in svcs:
        out.append(f"add element ip kube-proxy cluster-ips {{ {vip} }}")
        for pname, proto, port, target in ports:
            p = proto.lower()
            spn = f"{ns}/{name}:{pname}"
            svc_chain = f"service-{kp_hash(spn + p, 8)}-{ns}/{name}/{p}/{pname}"
            out.append(f"add chain ip kube-proxy {svc_chain}")
            out.append(f"add rule ip kube-proxy {svc_chain} ip daddr {vip} {p} dport {port} "
                       f"ip saddr != {POD_CIDR} jump mark-for-masquerade")
            gotos = []
            for k, ep in enumerate(eps):
                ep_chain = f"endpoint-{kp_hash(spn + p + f'{ep}:{target}', 8)}-{ns}/{name}/{p}/{pname}__{ep}/{target}"
                out.append(f"add chain ip kube-proxy {ep_chain}")
                out.append(f"add rule ip kube-proxy {ep_chain} ip saddr {ep} jump mark-for-masquerade")
                out.append(f"add rule ip kube-proxy {ep_chain} meta l4proto {p} dnat to {ep}:{target}")
                gotos.append(f"{k} : goto {ep_chain}")
            out.append(f"add rule ip kube-proxy {svc_chain} numgen random mod {len(eps)} vmap {{ {', '.join(gotos)} }}")
            elements.append(f"add element ip kube-proxy service-ips {{ {vip} . {p} . {port} : goto {svc_chain} }}")
    return "\n".join(out + elements) + "\n"


def minimal_lb_entries(svcs):
    """The bench_min_svc map of bench/bpfstats/minimal_lb.bpf.c: one entry per Service port, frontend (address,
    port, protocol) -> the first endpoint, as `key hex .. value hex ..` (run.sh prefixes `map update pinned MAP`
    once the map is pinned). The minimal LB has no backend choice, so the measured Service reaches its first pod
    only. Addresses and ports in network byte order, as the program reads them from bpf_sock_addr."""
    def hex_bytes(data):
        return " ".join(f"{b:02x}" for b in data)
    protocol_numbers = {"TCP": 6, "UDP": 17}
    out = []
    for ns, name, vip, ports, eps in svcs:
        for pname, proto, port, target in ports:
            key = ipaddress.IPv4Address(vip).packed + port.to_bytes(2, "big") + bytes([protocol_numbers[proto], 0])
            value = ipaddress.IPv4Address(eps[0]).packed + target.to_bytes(2, "big") + bytes(2)
            out.append(f"key hex {hex_bytes(key)} value hex {hex_bytes(value)}")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen.py N OUTDIR")
    n = int(sys.argv[1])
    if n < 1 or n > 60000:
        sys.exit("gen.py: N must be 1..60000")
    outdir = sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    svcs = services(n)
    for file, text in (("services.yaml", manifest(svcs)), ("iptables.rules", iptables_restore(svcs)),
                       ("kube-proxy.nft", nft_script(svcs)), ("minimal_lb.entries", minimal_lb_entries(svcs))):
        with open(os.path.join(outdir, file), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
