namespace CgroupLb.Kubernetes.Decoding;

/// <summary>
/// Where in an object a value sits (<c>spec.ports[3].port</c>), kept as its parts and spelled out only for an error:
/// a list page holds thousands of valid fields and the path of none of them is ever needed.
/// </summary>
internal readonly record struct FieldPath(string Head, int Index = -1, string? Middle = null, int InnerIndex = -1, string? Tail = null)
{
    public FieldPath At(int index) => Middle is null ? this with { Index = index } : this with { InnerIndex = index };

    public override string ToString()
    {
        var text = Head;
        if (Index >= 0) text += $"[{Index}]";
        if (Middle is not null) text += "." + Middle;
        if (InnerIndex >= 0) text += $"[{InnerIndex}]";
        if (Tail is not null) text += "." + Tail;
        return text;
    }
}
