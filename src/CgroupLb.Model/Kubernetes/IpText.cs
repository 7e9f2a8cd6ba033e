using System.Net;
using System.Net.Sockets;

namespace CgroupLb.Model.Kubernetes;

/// <summary>
/// Parses the IP strings found in Kubernetes objects. <see cref="IPAddress.TryParse(string?, out IPAddress?)"/>
/// alone accepts shorthand such as "10" (0.0.0.10) and scoped IPv6 addresses, neither of which the API allows.
/// </summary>
public static class IpText
{
    public static bool TryParse(string? text, out IPAddress address)
    {
        address = IPAddress.None;
        if (string.IsNullOrWhiteSpace(text) || text != text.Trim() || text.Contains('%')) return false;
        bool looksV6 = text.Contains(':');
        if (!looksV6 && text.Count(c => c == '.') != 3) return false;
        if (!IPAddress.TryParse(text, out IPAddress? parsed)) return false;
        if (parsed.AddressFamily != (looksV6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork)) return false;
        address = parsed;
        return true;
    }

    /// <summary>"IPv4" or "IPv6", as the API spells address families.</summary>
    public static string FamilyName(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => "IPv4",
        AddressFamily.InterNetworkV6 => "IPv6",
        _ => family.ToString(),
    };
}
