using System.Text;

namespace CgroupLb.Manifests;

/// <summary>
/// One reason a manifest could not be used, located as precisely as it was known.
/// </summary>
/// <param name="File">The file as reached from the configured path (a directory for listing failures).</param>
/// <param name="DocumentIndex">0-based index among the non-empty documents of the file; null when the whole file failed.</param>
/// <param name="ObjectName">"Kind namespace/name" when the document got far enough to say who it is.</param>
/// <param name="Reason">What is wrong, naming the field and the offending value.</param>
public sealed record ManifestError(string File, int? DocumentIndex, string? ObjectName, string Reason)
{
    /// <summary>0-based index into <c>items</c> when the document is a <c>v1 List</c>.</summary>
    public int? ListItemIndex { get; init; }

    /// <summary>1-based line where the document (or list item) starts in <see cref="File"/>, when known.</summary>
    public int? Line { get; init; }

    /// <summary>
    /// <c>examples/web.yaml doc 2 (EndpointSlice default/web-abc): endpoints[1].addresses[0] "10.0.0.999" is not an IP address</c>.
    /// </summary>
    public override string ToString()
    {
        var text = new StringBuilder(File);
        if (DocumentIndex is { } document)
        {
            text.Append(" doc ").Append(document);
        }

        if (ListItemIndex is { } item)
        {
            text.Append(" items[").Append(item).Append(']');
        }

        if (ObjectName is not null)
        {
            text.Append(" (").Append(ObjectName).Append(')');
        }

        return text.Append(": ").Append(Reason).ToString();
    }
}
