using System.Net;
using System.Text.Json;

namespace CgroupLb.Agent.Tests.Harness;

/// <summary>What `cgroup-lb status -o json` printed: the frontends the kernel maps hold, with backends and counters.</summary>
public sealed record AgentStatus(IReadOnlyList<AgentStatus.FrontendEntry> Frontends)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public sealed record FrontendAddress(string Address, int Port, string Protocol)
    {
        public IPEndPoint EndPoint => new(IPAddress.Parse(Address), Port);
    }

    public sealed record BackendEntry(int Slot, long Id, string? Address, int? Port);

    public sealed record Counters(long Translated, long RefusedNoBackend, long ReverseTranslated);

    public sealed record FrontendEntry(long Id, FrontendAddress Frontend, string Service, IReadOnlyList<string> Flags, IReadOnlyList<BackendEntry> Backends, Counters Counters)
    {
        public IReadOnlyList<string> BackendAddresses => Backends.Select(b => b.Address ?? $"missing backend {b.Id}").Order().ToList();
    }

    public FrontendEntry? Find(IPEndPoint frontend) =>
        Frontends.SingleOrDefault(f => f.Frontend.EndPoint.Equals(frontend) && f.Frontend.Protocol == "TCP");

    public static AgentStatus Parse(string json) =>
        JsonSerializer.Deserialize<AgentStatus>(json, Json) ?? throw new FormatException($"status printed null: {json}");

    public override string ToString() =>
        Frontends.Count == 0
            ? "no frontends"
            : string.Join("; ", Frontends.Select(f =>
                $"{f.Id} {f.Frontend.Address}:{f.Frontend.Port}/{f.Frontend.Protocol} {f.Service} -> [{string.Join(",", f.BackendAddresses)}] translated={f.Counters.Translated}"));
}
