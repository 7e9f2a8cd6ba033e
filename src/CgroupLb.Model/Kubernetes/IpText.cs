using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace CgroupLb.Model.Kubernetes;

/// <summary>
/// Parses the IP strings found in Kubernetes objects the way Kubernetes does (k8s.io/utils/net ParseIPSloppy, the Go
/// 1.15 parser kube-proxy and the API server still use): an IPv4 address is exactly four dot-separated decimal
/// numbers of 0..255, and leading zeros change nothing, so "198.51.100.010" is 198.51.100.10. Never octal, never hex,
/// never the shorthand ("10", "10.1") that inet_aton and <see cref="IPAddress.TryParse(string?, out IPAddress?)"/>
/// accept. An IPv4-mapped IPv6 address ("::ffff:198.51.100.10") is IPv4, as for Kubernetes (its To4() is not nil).
/// Scoped IPv6 ("fe80::1%eth0") and surrounding whitespace are refused.
/// </summary>
public static class IpText
{
    public static bool TryParse(string? text, out IPAddress address)
    {
        address = IPAddress.None;
        if (Parse(text, out uint ipv4, out IPAddress? other) == AddressFamily.Unspecified) return false;
        if (other is null)
        {
            Span<byte> bytes = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, ipv4);
            other = new IPAddress(bytes);
        }
        address = other;
        return true;
    }

    /// <summary>
    /// Whether <see cref="TryParse"/> would take <paramref name="text"/>, and the family it would give, without making
    /// the address: validation checks every endpoint of every slice, and an IPv4 address costs nothing to check.
    /// </summary>
    public static bool IsValid(string? text, out AddressFamily family)
    {
        family = Parse(text, out _, out _);
        return family != AddressFamily.Unspecified;
    }

    /// <summary>
    /// The family of <paramref name="text"/>, Unspecified when it is no address. Dotted IPv4 comes back as its number
    /// alone (no object made); anything written with colons as the address in <paramref name="colonForm"/>, which for
    /// an IPv4-mapped address is already IPv4.
    /// </summary>
    private static AddressFamily Parse(string? text, out uint ipv4, out IPAddress? colonForm)
    {
        ipv4 = 0;
        colonForm = null;
        if (string.IsNullOrEmpty(text)) return AddressFamily.Unspecified;
        // Go's parser decides by the first separator it meets, so "1.2.3.4:80" and "::1.2.3.4" go different ways.
        int firstSeparator = text.AsSpan().IndexOfAny('.', ':');
        if (firstSeparator < 0) return AddressFamily.Unspecified;
        if (text[firstSeparator] == '.')
            return TryParseIPv4(text, out ipv4) ? AddressFamily.InterNetwork : AddressFamily.Unspecified;
        if (!TryParseIPv6(text, out IPAddress parsed)) return AddressFamily.Unspecified;
        colonForm = parsed;
        return parsed.AddressFamily;
    }

    /// <summary>"IPv4" or "IPv6", as the API spells address families.</summary>
    public static string FamilyName(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => "IPv4",
        AddressFamily.InterNetworkV6 => "IPv6",
        _ => family.ToString(),
    };

    /// <summary>Four decimal fields of 0..255; any number of leading zeros, read as decimal.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryParseIPv4(ReadOnlySpan<char> text, out uint value)
    {
        value = 0;
        for (int field = 0; field < 4; field++)
        {
            if (field > 0)
            {
                if (text.IsEmpty || text[0] != '.') return false;
                text = text[1..];
            }

            int digits = 0;
            uint number = 0;
            while (digits < text.Length && char.IsAsciiDigit(text[digits]))
            {
                number = number * 10 + (uint)(text[digits] - '0');
                if (number > 255) return false;
                digits++;
            }

            if (digits == 0) return false;
            value = (value << 8) | number;
            text = text[digits..];
        }

        return text.IsEmpty;
    }

    private static bool TryParseIPv6(string text, out IPAddress address)
    {
        address = IPAddress.None;
        // .NET accepts a zone ("%eth0"), brackets and surrounding spaces; the API does not.
        foreach (char c in text)
        {
            if (!char.IsAsciiHexDigit(c) && c is not (':' or '.')) return false;
        }

        int lastColon = text.LastIndexOf(':');
        string parseable = text;
        if (text.IndexOf('.', lastColon + 1) >= 0)
        {
            // An embedded IPv4 tail is read by the same sloppy rules; .NET would read its leading zeros as octal.
            if (!TryParseIPv4(text.AsSpan(lastColon + 1), out uint tail)) return false;
            parseable = $"{text[..(lastColon + 1)]}{tail >> 16:x}:{tail & 0xffff:x}";
        }

        if (!IPAddress.TryParse(parseable, out IPAddress? parsed) || parsed.AddressFamily != AddressFamily.InterNetworkV6) return false;
        address = parsed.IsIPv4MappedToIPv6 ? parsed.MapToIPv4() : parsed;
        return true;
    }
}
