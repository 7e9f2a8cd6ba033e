namespace CgroupLb.Manifests;

/// <summary>
/// Bounds on one document, so hostile or broken input costs the agent one refused document and never its memory or
/// its stack: nesting depth, and the size the document would have with every alias expanded (a 1 MiB string
/// referenced a thousand times is 1 GiB of text once expanded, from a file of about 1 MiB).
/// </summary>
internal static class YamlLimits
{
    /// <summary>Nesting of mappings and sequences; Services and EndpointSlices need fewer than 10 levels.</summary>
    public const int MaxDepth = 64;

    /// <summary>Expanded size allowed for a document of <paramref name="textLength"/> characters (weight units: characters plus one per node).</summary>
    public static long ExpansionBudget(int textLength) => 4L * textLength + 64 * 1024;
}
