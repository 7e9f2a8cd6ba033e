using System.Net;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Model.Tests.Support;

/// <summary>
/// What a connect() to an address would do given the maps, in the spirit of kube-proxy's packet-flow tests:
/// "pass" when no frontend matches (the socket keeps its destination), "refused" when the frontend has no backends,
/// otherwise the backends the connect may be rewritten to.
/// </summary>
internal static class ConnectFlow
{
    public const string Pass = "pass";
    public const string Refused = "refused";

    /// <param name="destination">"10.96.0.10:80/TCP" or "[fd00::10]:80/UDP".</param>
    public static string Trace(IReadOnlyDictionary<Frontend, LoadBalancerService> maps, string destination)
    {
        Frontend frontend = ParseFrontend(destination);
        if (!maps.TryGetValue(frontend, out var service)) return Pass;
        if (service.Backends.IsEmpty) return Refused;
        return string.Join(", ", service.Backends.Select(b => b.ToString()));
    }

    public static void AssertFlows(IReadOnlyDictionary<Frontend, LoadBalancerService> maps, params (string Destination, string Expected)[] flows)
    {
        var failures = flows
            .Select(f => (f.Destination, f.Expected, Actual: Trace(maps, f.Destination)))
            .Where(f => f.Actual != f.Expected)
            .Select(f => $"connect {f.Destination}: expected {f.Expected}, got {f.Actual}")
            .ToList();
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    private static Frontend ParseFrontend(string text)
    {
        int slash = text.LastIndexOf('/');
        var protocol = Enum.Parse<L4Protocol>(text[(slash + 1)..], ignoreCase: true);
        var endpoint = IPEndPoint.Parse(text[..slash]);
        return new Frontend(endpoint.Address, (ushort)endpoint.Port, protocol);
    }
}
