namespace CgroupLb.Model.LoadBalancing;

/// <summary>A plan could not be applied. <see cref="Frontend"/> names the frontend whose write failed.</summary>
public sealed class MapWriteException(Frontend? frontend, string message, Exception? inner = null)
    : Exception(frontend is { } f ? $"frontend {f}: {message}" : message, inner)
{
    public Frontend? Frontend { get; } = frontend;
}
