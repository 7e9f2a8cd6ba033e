namespace CgroupLb.Kubernetes.Decoding;

/// <summary>
/// The first value of one object that did not have the type its field needs. Decoding goes on past it (the value is
/// skipped) so the object's name, which may come later, can still be reported; the object itself is then refused.
/// One instance is reused for every object of a page.
/// </summary>
internal sealed class ObjectDecodeFailure
{
    public string? Reason { get; private set; }

    public bool Failed => Reason is not null;

    public void Fail(in FieldPath path, string problem)
    {
        Reason ??= $"{path}: {problem}";
    }

    public void Reset() => Reason = null;
}
