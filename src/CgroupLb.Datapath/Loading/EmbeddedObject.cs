namespace CgroupLb.Datapath.Loading;

/// <summary>The compiled BPF object, embedded in this assembly by the build so a published folder is self-contained.</summary>
internal static class EmbeddedObject
{
    public const string ResourceName = "cgroup_lb.bpf.o";

    public static byte[] Read()
    {
        using var stream = typeof(EmbeddedObject).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new DatapathException("open", $"the BPF object {ResourceName} is not embedded in this build; rebuild with 'make'");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    public static byte[] Load(string? overridePath)
    {
        if (overridePath is null)
            return Read();
        try
        {
            return File.ReadAllBytes(overridePath);
        }
        catch (IOException ex)
        {
            throw new DatapathException("open", $"cannot read BPF object {overridePath}: {ex.Message}", ex);
        }
    }
}
