namespace CgroupLb.Manifests;

/// <summary>
/// The configured manifest path does not exist when the source starts. The message is one line meant for the operator.
/// </summary>
public sealed class ManifestPathNotFoundException : Exception
{
    public ManifestPathNotFoundException(string path)
        : base($"manifest path '{path}' does not exist (expected a YAML/JSON file or a directory of them)")
    {
        Path = path;
    }

    public string Path { get; }

    public static void ThrowIfMissing(string path)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new ManifestPathNotFoundException(path);
        }
    }
}
