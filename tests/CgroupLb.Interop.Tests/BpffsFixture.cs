namespace CgroupLb.Interop.Tests;

/// <summary>A per-test directory in bpffs, removed with everything pinned in it.</summary>
internal sealed class BpffsFixture : IDisposable
{
    public BpffsFixture(string purpose)
    {
        Path = System.IO.Path.Combine("/sys/fs/bpf", $"cglb-interop-test-{Environment.ProcessId}-{purpose}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        if (!Directory.Exists(Path))
        {
            return;
        }

        foreach (var pin in Directory.EnumerateFileSystemEntries(Path))
        {
            File.Delete(pin); // unlinking a pin drops the pin's reference; open fds keep the object alive
        }

        Directory.Delete(Path);
    }
}
