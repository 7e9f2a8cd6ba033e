using System.Net;
using CgroupLb.Testing.Sandbox;

namespace CgroupLb.Agent.Tests.Harness;

/// <summary>Verdicts on connects from the sandbox client, with every attempt in the failure message.</summary>
public static class SandboxTraffic
{
    /// <summary>N connects that must all succeed; returns the backend names that answered.</summary>
    public static async Task<IReadOnlyList<string>> ConnectAllAsync(this KernelSandbox sandbox, IPEndPoint to, int count)
    {
        IReadOnlyList<PeerAttempt> attempts = await sandbox.TcpConnectAsync(to, count);
        Assert.Equal(count, attempts.Count);
        Assert.All(attempts, a => Assert.True(a.Ok, $"connect to {to}: {a}"));
        return attempts.Select(a => a.Backend!).ToList();
    }

    /// <summary>One connect that must fail with ENETUNREACH: nothing translates the address any more.</summary>
    public static async Task AssertUnreachableAsync(this KernelSandbox sandbox, IPEndPoint to)
    {
        PeerAttempt attempt = Assert.Single(await sandbox.TcpConnectAsync(to));
        Assert.False(attempt.Ok, $"connect to {to} should fail: {attempt}");
        Assert.Equal("ENETUNREACH", attempt.Error);
    }

    public static IEnumerable<string> Names(this IEnumerable<SandboxBackend> backends) => backends.Select(b => b.Name);
}
