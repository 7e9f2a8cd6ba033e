namespace CgroupLb.Kubernetes.Reflection;

/// <summary>
/// The change sink threw while a reflector delivered a change. This is not a watch problem to retry around: the
/// sink's state is now unknown, so the reflector stops and the source fails.
/// </summary>
public sealed class ChangeSinkException : Exception
{
    public ChangeSinkException(string kind, string? key, Exception innerException)
        : base($"{kind}: the change sink failed on '{key ?? "(synced)"}': {innerException.Message}", innerException)
    {
        Kind = kind;
        Key = key;
    }

    public string Kind { get; }

    public string? Key { get; }
}
