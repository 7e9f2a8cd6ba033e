using System.Text;

namespace CgroupLb.Manifests.Tests;

internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("cgrouplb-manifests-").FullName;
    }

    public string Path { get; }

    public string File(string relative) => System.IO.Path.Join(Path, relative);

    public string Write(string relative, string content)
    {
        var path = File(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }

    /// <summary>Saves the way most editors do: write a sibling, then rename it over the original.</summary>
    public string Replace(string relative, string content)
    {
        var path = File(relative);
        var temporary = System.IO.Path.Join(System.IO.Path.GetDirectoryName(path)!, "." + System.IO.Path.GetFileName(path) + ".tmp");
        System.IO.File.WriteAllText(temporary, content, new UTF8Encoding(false));
        System.IO.File.Move(temporary, path, overwrite: true);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory must not fail a test.
        }
    }
}
