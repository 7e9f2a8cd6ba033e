using System.Diagnostics;

namespace CgroupLb.Interop.Tests;

/// <summary>
/// The namespace cookie the loader writes as the host's (<c>host_netns_cookie</c>): the same answer for the same
/// namespace, a different one for another, and null on kernels before 5.14 that cannot tell user space.
/// </summary>
public sealed class NetworkNamespaceCookieTests
{
    [SkippableFact]
    public void ACookieNamesOneNamespace()
    {
        TestEnvironment.RequireRoot("creates a network namespace");
        string name = $"cglb-cookie-{Environment.ProcessId}";
        Run("ip", "netns", "add", name);
        try
        {
            ulong? here = NetworkNamespace.CurrentThreadCookie();
            using var other = NetworkNamespace.Open($"/run/netns/{name}");
            ulong? there = other.GetCookie();
            using var self = NetworkNamespace.OpenCurrentThread();

            Assert.Equal(here, NetworkNamespace.CurrentThreadCookie());
            Assert.Equal(here, self.GetCookie());
            if (here is null)
            {
                // Before 5.14 no namespace can tell its cookie; the programs then take init_net.
                Assert.Null(there);
                return;
            }
            Assert.NotNull(there);
            Assert.NotEqual(here, there);
            Assert.Equal(there, other.GetCookie());
        }
        finally
        {
            Run("ip", "netns", "del", name);
        }
    }

    private static void Run(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {error}");
    }
}
