using System.Collections.Immutable;
using System.Net;
using CgroupLb.Datapath.Loading;
using CgroupLb.Interop;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Testing.Sandbox;

namespace CgroupLb.Kernel.Tests.NodePorts;

/// <summary>
/// NodePort in the kernel sandbox: the client namespace acts as the node (and, where the kernel can name it, as the
/// host network namespace), a backend namespace acts as a pod with its own loopback.
/// </summary>
internal static class NodePortSandbox
{
    /// <summary>The nodePort: the peers' TCP port, so a pod's own 127.0.0.1:nodePort reaches the pod's own listener.</summary>
    public const ushort NodePort = SandboxBackend.TcpPort;

    /// <summary>The UDP nodePort, likewise the peers' UDP port.</summary>
    public const ushort UdpNodePort = SandboxBackend.UdpPort;

    /// <summary>A NodePort frontend as the translator emits it: the wildcard address, the nodePort, flag NodePort.</summary>
    public static LoadBalancerService NodePortService(IPAddress wildcard, ushort nodePort, L4Protocol protocol, IEnumerable<IPAddress> backends, ushort backendPort) =>
        new(new Frontend(wildcard, nodePort, protocol), "default/web:http", ServiceFlags.NodePort,
            backends.Select(a => new Backend(a, backendPort, protocol)).Distinct().Order().ToImmutableArray());

    /// <summary>The client namespace's cookie, null before Linux 5.14 (then the programs' host is init_net).</summary>
    public static ulong? ClientNamespaceCookie(KernelSandbox sandbox)
    {
        using var ns = NetworkNamespace.Open("/run/netns/" + sandbox.ClientNamespace);
        return ns.GetCookie();
    }

    /// <summary>
    /// Adds <paramref name="cidr"/> to the client namespace's loopback interface: an address of the node's own, like any
    /// interface's (the dummy link type is not in every test kernel).
    /// </summary>
    public static Task AddNodeAddressAsync(KernelSandbox sandbox, string cidr, bool ipv6 = false) =>
        ipv6
            ? HostCommand.RunCheckedAsync("ip", "-n", sandbox.ClientNamespace, "addr", "add", cidr, "dev", "lo", "nodad")
            : HostCommand.RunCheckedAsync("ip", "-n", sandbox.ClientNamespace, "addr", "add", cidr, "dev", "lo");

    public static Task RemoveNodeAddressAsync(KernelSandbox sandbox, string cidr) =>
        HostCommand.RunCheckedAsync("ip", "-n", sandbox.ClientNamespace, "addr", "del", cidr, "dev", "lo");

    /// <summary>TCP connects from inside <paramref name="backend"/>'s namespace (a pod), in the sandbox cgroup.</summary>
    public static async Task<IReadOnlyList<PeerAttempt>> TcpConnectFromPodAsync(KernelSandbox sandbox, SandboxBackend backend, IPEndPoint to, int count)
    {
        string[] argv =
        [
            "-c", "echo $$ > \"$1/cgroup.procs\" && shift && exec ip netns exec \"$@\"", "sh", sandbox.CgroupPath, backend.Namespace,
            .. TestPeerBinary.Command(["tcp-connect", "--to", to.ToString(), "--count", count.ToString(System.Globalization.CultureInfo.InvariantCulture)]),
        ];
        var result = await HostCommand.RunAsync("sh", argv, KernelSandbox.ClientTimeout);
        return PeerAttempt.ParseLines(result.EnsureSuccess());
    }

    public static DatapathOptions WithHost(DatapathOptions options, ulong? hostCookie) =>
        hostCookie is null ? options : options with { HostNetnsCookie = hostCookie };
}
