using System.Globalization;
using System.Net;

namespace CgroupLb.Agent.Cli;

/// <summary>
/// A listener address as kube-proxy's --healthz-bind-address and --metrics-bind-address take it: "host:port" with an
/// IP literal ("0.0.0.0:10266", "[::]:10266", "127.0.0.1:10265"); an empty value or "none" turns the listener off.
/// </summary>
internal sealed record BindAddress(IPAddress Host, int Port)
{
    /// <summary>--healthz-bind-address's default: /healthz and /readyz on every address (the kubelet probes the pod IP).</summary>
    public const string DefaultHealthz = "0.0.0.0:10266";

    /// <summary>--metrics-bind-address's default: /metrics on loopback only, as kube-proxy's.</summary>
    public const string DefaultMetrics = "127.0.0.1:10265";

    /// <summary>"" or "none": no listener. A value, not null, because System.CommandLine cannot hand a parsed null through.</summary>
    public static readonly BindAddress Disabled = new(IPAddress.None, 0);

    public bool IsDisabled => Port == 0;

    /// <summary>The "http://host:port" Kestrel listens on (IPv6 hosts in brackets).</summary>
    public string Url => $"http://{this}";

    public override string ToString() =>
        Host.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Parses <paramref name="text"/>; <see cref="Disabled"/> for "" and "none".</summary>
    public static bool TryParse(string text, out BindAddress? address)
    {
        address = null;
        if (text.Trim() is "" or "none")
        {
            address = Disabled;
            return true;
        }
        int colon = text.LastIndexOf(':');
        if (colon <= 0)
            return false;
        string host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
            host = host[1..^1];
        else if (host.Contains(':'))
            return false; // an IPv6 host needs brackets, or the port cannot be told apart
        if (!IPAddress.TryParse(host, out var ip)
            || !int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port)
            || port is < 1 or > 65535)
            return false;
        address = new BindAddress(ip, port);
        return true;
    }
}
