using System.Collections.Immutable;
using System.Net;
using CgroupLb.Datapath.Loading;
using CgroupLb.Testing.Sandbox;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Kernel.Tests.Ipv4;

/// <summary>Services whose backends are sandbox peers, and the datapath options that point into a sandbox.</summary>
public static class SandboxServices
{
    /// <summary>From 198.51.100.0/24 (TEST-NET-2): routed nowhere, so only a translation makes it reachable.</summary>
    public static IPAddress Vip(int host) => IPAddress.Parse($"198.51.100.{host}");

    public static DatapathOptions DatapathOptions(this KernelSandbox sandbox) => new(sandbox.CgroupPath, sandbox.BpffsPath);

    public static LoadBalancerService Tcp(IPAddress vip, ushort port, IEnumerable<SandboxBackend> backends) =>
        Service(new Frontend(vip, port, L4Protocol.Tcp), "default/web:http", backends, SandboxBackend.TcpPort);

    public static LoadBalancerService Udp(IPAddress vip, ushort port, IEnumerable<SandboxBackend> backends) =>
        Service(new Frontend(vip, port, L4Protocol.Udp), "kube-system/dns:dns", backends, SandboxBackend.UdpPort);

    public static LoadBalancerPlan Upsert(params LoadBalancerService[] services) => new([.. services], []);

    public static LoadBalancerPlan Delete(params Frontend[] frontends) => new([], [.. frontends]);

    private static LoadBalancerService Service(Frontend frontend, string name, IEnumerable<SandboxBackend> backends, ushort backendPort) =>
        new(frontend, name, ServiceFlags.ClusterIp,
            backends.Select(b => new Backend(b.Address, backendPort, frontend.Protocol)).Distinct().Order().ToImmutableArray());
}
