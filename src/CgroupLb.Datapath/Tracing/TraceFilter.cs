using System.Net;

namespace CgroupLb.Datapath.Tracing;

/// <summary>
/// Which events `cgroup-lb trace` shows; every criterion given must match. <see cref="Service"/> is "namespace/name"
/// (every port) or "namespace/name:port"; <see cref="Address"/> matches the frontend or the backend, with
/// <see cref="Port"/> 0 meaning any port.
/// </summary>
public sealed record TraceFilter(string? Service = null, IPAddress? Address = null, ushort Port = 0, ulong? NetnsCookie = null)
{
    public static readonly TraceFilter All = new();

    /// <summary>Parses "IP" or "IP:port" (IPv6 as "[IP]:port"); false with a reason for anything else.</summary>
    public static bool TryParseAddress(string text, out IPAddress? address, out ushort port, out string? error)
    {
        address = null;
        port = 0;
        error = null;
        // No colon: IPv4; several and no bracket: a bare IPv6 address; else an endpoint with a port.
        int colons = text.Count(c => c == ':');
        bool withPort = text.StartsWith('[') || colons == 1;
        if (!withPort && IPAddress.TryParse(text, out var bare))
        {
            address = bare;
            return true;
        }
        if (withPort && IPEndPoint.TryParse(text, out var endPoint) && endPoint.Port > 0)
        {
            address = endPoint.Address;
            port = (ushort)endPoint.Port;
            return true;
        }
        error = $"'{text}' is not an address or address:port (e.g. 10.96.0.10, 10.96.0.10:53, [2001:db8::1]:80)";
        return false;
    }

    public bool Matches(TraceEvent e)
    {
        if (NetnsCookie is { } cookie && e.NetnsCookie != cookie)
            return false;
        if (Service is { } service && !(e.ServiceName is { } name &&
            (name == service || (name.StartsWith(service, StringComparison.Ordinal) && name.Length > service.Length && name[service.Length] == ':'))))
            return false;
        if (Address is { } address && !Is(e.Frontend) && !(e.Backend is { } backend && Is(backend)))
            return false;
        return true;

        bool Is(IPEndPoint endPoint) => endPoint.Address.Equals(address) && (Port == 0 || endPoint.Port == Port);
    }
}
