using System.Collections.Immutable;
using System.Net;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Testing.Sandbox;

namespace CgroupLb.Kernel.Tests.Ipv6;

/// <summary>IPv6 services whose backends are the sandbox peers' IPv6 addresses.</summary>
public static class Ipv6Services
{
    /// <summary>From 2001:db8:100::/64 (documentation prefix): routed nowhere, so only a translation reaches it.</summary>
    public static IPAddress Vip6(int host) => IPAddress.Parse($"2001:db8:100::{host:x}");

    /// <summary>::ffff:a.b.c.d, how an AF_INET6 socket names an IPv4 service.</summary>
    public static IPEndPoint Mapped(IPEndPoint ipv4) => new(ipv4.Address.MapToIPv6(), ipv4.Port);

    public static LoadBalancerService Tcp6(IPAddress vip, ushort port, IEnumerable<SandboxBackend> backends) =>
        Service(new Frontend(vip, port, L4Protocol.Tcp), "default/web:http", backends, SandboxBackend.TcpPort);

    public static LoadBalancerService Udp6(IPAddress vip, ushort port, IEnumerable<SandboxBackend> backends) =>
        Service(new Frontend(vip, port, L4Protocol.Udp), "kube-system/dns:dns", backends, SandboxBackend.UdpPort);

    private static LoadBalancerService Service(Frontend frontend, string name, IEnumerable<SandboxBackend> backends, ushort backendPort) =>
        new(frontend, name, ServiceFlags.ClusterIp,
            backends.Select(b => new Backend(b.Address6, backendPort, frontend.Protocol)).Distinct().Order().ToImmutableArray());

    /// <summary>A reply source as the client saw it; .NET may report a v4-mapped source of a dual-stack socket as IPv4.</summary>
    public static IPEndPoint Unmapped(IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
}
