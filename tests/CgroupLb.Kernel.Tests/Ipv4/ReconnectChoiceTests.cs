using System.Collections.Immutable;
using System.Net;
using System.Text.Json;
using CgroupLb.Datapath.Loading;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;

namespace CgroupLb.Kernel.Tests.Ipv4;

/// <summary>
/// A TCP socket connect()ed again on the same descriptor after ECONNREFUSED (Linux allows it) must get a fresh backend
/// choice. On 6.2+ a socket's first connect picks its slot by its cookie's hash (bpf/lib/sock_claim.h,
/// sock_claim_select_hash), which would send every retry of one socket to the same backend; a socket that already has a
/// cookie picks at random. One backend here refuses (a port nobody listens on), so every socket whose first pick is that
/// one must reach the other within its retries.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class ReconnectChoiceTests(ITestOutputHelper output)
{
    private const int Sockets = 12;
    private const int Attempts = 30;
    private const ushort ClosedPort = 9;
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task ASocketRefusedByOneBackendReachesAnotherOnItsOwnRetries()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: _log.Write);
        SandboxBackend live = sandbox.Backend("b1"), refusing = sandbox.Backend("b2");
        var web = new IPEndPoint(Vip(80), 80);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        _log.Write($"claims: {datapath.Features?.SocketClaims}");
        datapath.Writer.Apply(Upsert(new LoadBalancerService(new Frontend(web.Address, 80, L4Protocol.Tcp), "default/web:http", ServiceFlags.ClusterIp,
            ImmutableArray.Create(new Backend(live.Address, SandboxBackend.TcpPort, L4Protocol.Tcp), new Backend(refusing.Address, ClosedPort, L4Protocol.Tcp)))));

        int retried = 0;
        for (int i = 0; i < Sockets; i++)
        {
            CommandResult run = await sandbox.RunClientAsync(["tcp-reconnect", "--to", web.ToString(), "--attempts", $"{Attempts}"], ClientPlacement.InCgroup);
            string line = Assert.Single(run.StdoutLines());
            _log.Write(line);
            using JsonDocument json = JsonDocument.Parse(line);
            JsonElement result = json.RootElement;
            Assert.True(result.GetProperty("ok").GetBoolean(), $"socket {i} never reached b1 in {Attempts} connects: {line}");
            Assert.Equal("b1", result.GetProperty("backend").GetString());
            if (result.GetProperty("refused").GetInt32() > 0)
                retried++;
        }
        // A run in which no socket met the refusing backend first would have checked nothing (about 1 in 4096 at random).
        Assert.True(retried > 0, $"none of {Sockets} sockets was refused first: the retry path went untested");
    }
}
