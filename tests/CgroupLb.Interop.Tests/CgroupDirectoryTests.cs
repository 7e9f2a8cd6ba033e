namespace CgroupLb.Interop.Tests;

public sealed class CgroupDirectoryTests
{
    [Fact]
    public void MissingDirectoryErrorNamesThePath()
    {
        var path = $"{CgroupFixture.UnifiedRoot}/cglb-interop-test-{Environment.ProcessId}-absent";

        var exception = Assert.Throws<DirectoryNotFoundException>(() => CgroupDirectory.Open(path));

        Assert.Contains(path, exception.Message);
        Assert.Contains("ENOENT", exception.Message);
    }

    [Fact]
    public void NonCgroup2DirectoryIsRejectedWithTheMagic()
    {
        var exception = Assert.Throws<IOException>(() => CgroupDirectory.Open(Path.GetTempPath()));

        Assert.Contains("is not a cgroup v2 directory", exception.Message);
        Assert.Contains(Path.GetTempPath(), exception.Message);
    }

    [Fact]
    public void RegularFileIsNotADirectory()
    {
        var file = Path.GetTempFileName();
        try
        {
            var exception = Assert.Throws<IOException>(() => CgroupDirectory.Open(file));
            Assert.Contains("not a directory", exception.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [SkippableFact]
    public void OpensTheUnifiedHierarchy()
    {
        TestEnvironment.Require(Directory.Exists(CgroupFixture.UnifiedRoot), $"needs cgroup v2 at {CgroupFixture.UnifiedRoot}");

        using var cgroup = CgroupDirectory.Open(CgroupFixture.UnifiedRoot);

        Assert.False(cgroup.IsInvalid);
        Assert.Equal(CgroupFixture.UnifiedRoot, cgroup.Path);
    }
}
