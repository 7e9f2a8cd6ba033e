namespace CgroupLb.Interop.Tests;

/// <summary>flock on a directory: one holder at a time, released with the fd, found in /proc/locks. No root needed.</summary>
public sealed class DirectoryLockTests : IDisposable
{
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("cglb-lock-");

    [Fact]
    public void OneHolderAtATimeAndTheLockGoesWithTheFd()
    {
        using (var first = DirectoryLock.TryAcquire(directory.FullName))
        {
            Assert.NotNull(first);
            Assert.Null(DirectoryLock.TryAcquire(directory.FullName)); // another open file description: contended
        }

        using var again = DirectoryLock.TryAcquire(directory.FullName);
        Assert.NotNull(again);
    }

    [Fact]
    public void TheHeldLockIsListedInProcLocksUnderTheDirectorysIdentityWithOurPid()
    {
        using var held = DirectoryLock.TryAcquire(directory.FullName);
        Assert.NotNull(held);
        string identity = DirectoryLock.LockIdentity(directory.FullName);

        string? line = File.ReadLines("/proc/locks").FirstOrDefault(l => l.Contains(" " + identity + " ", StringComparison.Ordinal));

        Assert.NotNull(line);
        Assert.Contains("FLOCK", line, StringComparison.Ordinal);
        Assert.Contains("WRITE", line, StringComparison.Ordinal);
        Assert.Contains($" {Environment.ProcessId} ", line, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingDirectoryIsAnErrorNamingThePath()
    {
        string missing = Path.Combine(directory.FullName, "absent");

        var exception = Assert.Throws<IOException>(() => DirectoryLock.TryAcquire(missing));

        Assert.Contains(missing, exception.Message, StringComparison.Ordinal);
        Assert.Contains("ENOENT", exception.Message, StringComparison.Ordinal);
    }

    public void Dispose() => directory.Delete(recursive: true);
}
