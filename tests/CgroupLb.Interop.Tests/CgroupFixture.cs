namespace CgroupLb.Interop.Tests;

/// <summary>
/// A child cgroup created for one test and removed afterwards. Programs are only ever attached here, never to the
/// root of the hierarchy.
/// </summary>
internal sealed class CgroupFixture : IDisposable
{
    public static readonly string UnifiedRoot =
        File.Exists("/sys/fs/cgroup/cgroup.controllers") ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";

    public CgroupFixture(string purpose)
    {
        Path = System.IO.Path.Combine(UnifiedRoot, $"cglb-interop-test-{Environment.ProcessId}-{purpose}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path); // rmdir; cgroupfs refuses recursive deletes and a cgroup must be empty anyway
        }
    }
}
