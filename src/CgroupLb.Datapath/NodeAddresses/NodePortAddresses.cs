using System.Net;
using System.Net.Sockets;

namespace CgroupLb.Datapath.NodeAddresses;

/// <summary>
/// kube-proxy's <c>--nodeport-addresses</c>: which node addresses accept NodePort connections. Empty (the default):
/// every node address; a comma-separated list of CIDRs: the node addresses inside any of them; <c>primary</c>: only
/// the addresses the Node objects publish (InternalIP/ExternalIP), not every other address of this host's interfaces.
/// Loopback is not decided here: the programs accept 127.0.0.0/8 and ::1 for host-network sockets only.
/// </summary>
public sealed class NodePortAddresses
{
    private readonly (byte[] Prefix, int Bits)[] cidrs;

    private NodePortAddresses((byte[], int)[] cidrs, bool primaryOnly, string text)
    {
        this.cidrs = cidrs;
        PrimaryOnly = primaryOnly;
        Text = text;
    }

    /// <summary>Every node address (the flag's default).</summary>
    public static NodePortAddresses All { get; } = new([], false, "");

    /// <summary>True for <c>primary</c>: only the Node objects' addresses.</summary>
    public bool PrimaryOnly { get; }

    /// <summary>The flag's value as given, for logs.</summary>
    public string Text { get; }

    /// <summary>Parses the flag; throws <see cref="FormatException"/> naming the bad entry.</summary>
    public static NodePortAddresses Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return All;
        var entries = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (entries.Contains("primary", StringComparer.Ordinal))
        {
            if (entries.Length > 1)
                throw new FormatException($"--nodeport-addresses '{text}': 'primary' cannot be combined with CIDRs");
            return new([], true, text);
        }
        var parsed = new List<(byte[], int)>();
        foreach (string entry in entries)
        {
            int slash = entry.IndexOf('/');
            if (slash < 0 || !IPAddress.TryParse(entry[..slash], out var address) || (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0)
                || !int.TryParse(entry[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int bits)
                || bits > (address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
                throw new FormatException($"--nodeport-addresses '{text}': '{entry}' is not a CIDR (address/prefix-length) or 'primary'");
            // Host bits are allowed, as kube-proxy's sloppy CIDR parsing does: 192.0.2.7/24 means 192.0.2.0/24.
            parsed.Add((address.GetAddressBytes(), bits));
        }
        return new([.. parsed], false, text);
    }

    /// <summary>True if <paramref name="address"/> is inside one of the CIDRs (always without CIDRs).</summary>
    public bool ContainsAddress(IPAddress address)
    {
        if (cidrs.Length == 0)
            return true;
        var bytes = address.GetAddressBytes();
        foreach (var (prefix, bits) in cidrs)
        {
            if (prefix.Length == bytes.Length && PrefixMatches(prefix, bytes, bits))
                return true;
        }
        return false;
    }

    private static bool PrefixMatches(byte[] prefix, byte[] address, int bits)
    {
        int full = bits / 8;
        if (!prefix.AsSpan(0, full).SequenceEqual(address.AsSpan(0, full)))
            return false;
        int rest = bits % 8;
        if (rest == 0)
            return true;
        int mask = 0xff << (8 - rest) & 0xff;
        return (prefix[full] & mask) == (address[full] & mask);
    }

    public override string ToString() => Text.Length == 0 ? "all node addresses" : Text;
}
