using CgroupLb.Model.Kubernetes;

namespace CgroupLb.Model.Services;

/// <summary>
/// Decides the <see cref="TopologyMode"/> of one endpoint set in a single pass, without allocating: feed it every
/// endpoint (<see cref="Add"/>), then read <see cref="Mode"/>. Only ready endpoints count, as in kube-proxy: a hint
/// set is trusted when every ready endpoint carries one and at least one names this node (or its zone). The
/// translator's allocation-light path and <see cref="EndpointCategorizer"/> both use it, so the rule lives once.
/// </summary>
internal struct TopologyHintScan(string nodeName, string? zone)
{
    private bool anyReady;
    private bool allHaveNodeHints = true;
    private bool anyForThisNode;
    private bool allHaveZoneHints = true;
    private bool anyForThisZone;

    public void Add(bool ready, EquatableArray<string> nodeHints, EquatableArray<string> zoneHints)
    {
        if (!ready) return;
        anyReady = true;
        if (nodeHints.Count == 0) allHaveNodeHints = false;
        else if (Names(nodeHints, nodeName)) anyForThisNode = true;
        if (zoneHints.Count == 0) allHaveZoneHints = false;
        else if (Names(zoneHints, zone)) anyForThisZone = true;
    }

    public readonly TopologyMode Mode =>
        !anyReady ? TopologyMode.None
        : allHaveNodeHints && anyForThisNode ? TopologyMode.PreferSameNode
        : allHaveZoneHints && anyForThisZone ? TopologyMode.PreferSameZone
        : TopologyMode.None;

    /// <summary>Whether an endpoint may take traffic on this node under <paramref name="mode"/> (kube-proxy's availableForTopology).</summary>
    public static bool Available(TopologyMode mode, EquatableArray<string> nodeHints, EquatableArray<string> zoneHints, string nodeName, string? zone) =>
        mode switch
        {
            TopologyMode.PreferSameNode => Names(nodeHints, nodeName),
            TopologyMode.PreferSameZone => Names(zoneHints, zone),
            _ => true,
        };

    // A node without a name or zone matches no hint: kube-proxy's set lookup of "" finds nothing the API allows.
    private static bool Names(EquatableArray<string> hints, string? name)
    {
        if (string.IsNullOrEmpty(name)) return false;
        for (int i = 0; i < hints.Count; i++)
        {
            if (string.Equals(hints[i], name, StringComparison.Ordinal)) return true;
        }
        return false;
    }
}
