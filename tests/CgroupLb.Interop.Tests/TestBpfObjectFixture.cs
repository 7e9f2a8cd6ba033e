using System.Diagnostics;

namespace CgroupLb.Interop.Tests;

/// <summary>Compiles TestPrograms/interop_test.bpf.c once per test class with clang -target bpf.</summary>
public sealed class TestBpfObjectFixture : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("cglb-interop-bpf-");

    public TestBpfObjectFixture()
    {
        var clang = TestEnvironment.FindOnPath("clang");
        if (clang is null)
        {
            return;
        }

        var source = Path.Combine(TestEnvironment.RepositoryRoot, "tests", "CgroupLb.Interop.Tests", "TestPrograms", "interop_test.bpf.c");
        var output = Path.Combine(_directory.FullName, "interop_test.bpf.o");
        var start = new ProcessStartInfo(clang) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-target", "bpf", "-O2", "-g", "-I/usr/include/x86_64-linux-gnu", "-c", source, "-o", output })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"clang failed to compile {source}: {errors}");
        }

        ObjectPath = output;
    }

    /// <summary>The compiled object, or null when clang is not installed.</summary>
    public string? ObjectPath { get; }

    public string RequireObject()
    {
        TestEnvironment.RequireClang();
        return ObjectPath!;
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
