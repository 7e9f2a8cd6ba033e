using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CgroupLb.Datapath.Tracing;

/// <summary>
/// How `cgroup-lb trace` prints an event, one line each, like `cilium-dbg monitor -t trace-sock`: readable text, or
/// one JSON object per line for tools (jq, a test). Field names of the JSON are part of the CLI's contract.
/// </summary>
public static class TraceEventFormat
{
    /// <summary>
    /// "21:04:27.123456 connect4 TCP 198.51.100.10:80 -> 198.18.0.2:8080 default/web:http pid 4242 (curl) cgroup 7 netns 4096",
    /// or "... 198.51.100.10:80 refused: no backends ..." for a refusal.
    /// </summary>
    public static string ToLine(TraceEvent e)
    {
        var line = new StringBuilder();
        line.Append(e.Time.ToLocalTime().ToString("HH:mm:ss.ffffff", CultureInfo.InvariantCulture))
            .Append(' ').Append(e.HookName).Append(' ').Append(e.Protocol).Append(' ').Append(e.Frontend);
        if (e.Backend is { } backend)
            line.Append(" -> ").Append(backend);
        else
            line.Append(" refused: ").Append(e.RefusalReason);
        line.Append(' ').Append(e.ServiceName ?? $"service-id {e.ServiceId}")
            .Append(" pid ").Append(e.Pid).Append(" (").Append(e.Comm).Append(')')
            .Append(" cgroup ").Append(e.CgroupId).Append(" netns ").Append(e.NetnsCookie);
        return line.ToString();
    }

    public static string ToJson(TraceEvent e)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", e.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
            json.WriteString("hook", e.HookName);
            json.WriteString("protocol", e.Protocol);
            json.WriteString("verdict", e.Backend is null ? "refused" : "translated");
            json.WriteString("frontend", e.Frontend.ToString());
            if (e.Backend is { } backend)
                json.WriteString("backend", backend.ToString());
            else
                json.WriteNull("backend");
            if (e.RefusalReason is { } reason)
                json.WriteString("reason", reason);
            else
                json.WriteNull("reason");
            json.WriteNumber("serviceId", e.ServiceId);
            if (e.ServiceName is { } name)
                json.WriteString("service", name);
            else
                json.WriteNull("service");
            json.WriteNumber("pid", e.Pid);
            json.WriteString("comm", e.Comm);
            json.WriteNumber("cgroupId", e.CgroupId);
            json.WriteNumber("netnsCookie", e.NetnsCookie);
            json.WriteNumber("socketCookie", e.SocketCookie);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
