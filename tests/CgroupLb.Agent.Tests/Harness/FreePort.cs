using System.Net;
using System.Net.Sockets;

namespace CgroupLb.Agent.Tests.Harness;

/// <summary>A loopback TCP port that was free a moment ago, for the agent's health endpoint.</summary>
public static class FreePort
{
    public static int Next()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
