namespace CgroupLb.Interop.Tests;

/// <summary>
/// Gates for tests that need root or tools: locally they skip with the reason, under CI=true they fail, so CI can
/// never go green by skipping the kernel tests.
/// </summary>
internal static class TestEnvironment
{
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static bool IsRoot => Environment.IsPrivilegedProcess;

    public static void RequireRoot(string reason) => Require(IsRoot, $"needs root: {reason}");

    public static void RequireClang() => Require(FindOnPath("clang") is not null, "needs clang on PATH");

    public static void Require(bool condition, string reason)
    {
        if (condition)
        {
            return;
        }

        if (IsCi)
        {
            Assert.Fail($"CI=true and the test cannot run: {reason}");
        }

        Skip.If(true, reason);
    }

    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(File.Exists);

    /// <summary>The repository root (the directory holding CgroupLb.sln), found upwards from the test binaries.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "CgroupLb.sln")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException($"no CgroupLb.sln above {AppContext.BaseDirectory}");
        }
    }
}
