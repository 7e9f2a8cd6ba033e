namespace CgroupLb.Testing.Sandbox;

/// <summary>
/// Where cglb-testpeer is: each test project that uses a sandbox references tests/CgroupLb.TestPeer, which copies
/// cglb-testpeer.dll next to the test assembly. It is run through the dotnet muxer, which does not depend on the
/// apphost being copied or on DOTNET_ROOT.
/// </summary>
public static class TestPeerBinary
{
    public static string DllPath { get; } = Path.Combine(AppContext.BaseDirectory, "cglb-testpeer.dll");

    /// <summary>The muxer that runs this test host: dotnet test sets DOTNET_HOST_PATH; otherwise dotnet on PATH.</summary>
    public static string Muxer { get; } =
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>argv that runs the peer with <paramref name="peerArguments"/>.</summary>
    public static IEnumerable<string> Command(IEnumerable<string> peerArguments)
    {
        if (!File.Exists(DllPath))
            throw new FileNotFoundException($"cglb-testpeer.dll is not next to the tests ({DllPath}); build tests/CgroupLb.TestPeer", DllPath);
        return new[] { Muxer, DllPath }.Concat(peerArguments);
    }
}
