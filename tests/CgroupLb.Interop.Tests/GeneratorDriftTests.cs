using CgroupLb.Interop.Generator;

namespace CgroupLb.Interop.Tests;

public sealed class GeneratorDriftTests
{
    /// <summary>Generates from the vendored headers, so the result is the same whatever libbpf-dev the host has.</summary>
    [SkippableFact]
    public void CheckedInBindingsMatchAFreshGeneration()
    {
        TestEnvironment.RequireClang();
        var root = TestEnvironment.RepositoryRoot;
        var checkedIn = Path.Combine(root, "interop", "CgroupLb.Interop", "Generated");
        var fresh = Directory.CreateTempSubdirectory("cglb-interop-drift-");
        try
        {
            BindingGenerator.GenerateInto(Options(root, fresh.FullName, Path.Combine(root, "interop", "vendor", "libbpf")));

            var expected = Directory.GetFiles(fresh.FullName, "*.cs").Select(Path.GetFileName).Order().ToList();
            var actual = Directory.GetFiles(checkedIn, "*.cs").Select(Path.GetFileName).Order().ToList();
            var changed = expected.Intersect(actual)
                .Where(name => File.ReadAllText(Path.Combine(fresh.FullName, name!)) != File.ReadAllText(Path.Combine(checkedIn, name!)))
                .ToList();
            var problems = new List<string>();
            problems.AddRange(expected.Except(actual).Select(n => $"missing {n}"));
            problems.AddRange(actual.Except(expected).Select(n => $"stale {n}"));
            problems.AddRange(changed.Select(n => $"differs {n}"));
            Assert.True(
                problems.Count == 0,
                $"interop/CgroupLb.Interop/Generated is out of date; run `{BindingWriter.RegenerateCommand}`:\n" + string.Join('\n', problems));
        }
        finally
        {
            fresh.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Headers that say another libbpf version give other bindings: the generator reads the vendored copy it is given,
    /// never /usr/include (whose libbpf_version.h says 1.1 on this machine).
    /// </summary>
    [SkippableFact]
    public void GenerationReadsTheVendoredHeadersNotTheHosts()
    {
        TestEnvironment.RequireClang();
        var root = TestEnvironment.RepositoryRoot;
        var work = Directory.CreateTempSubdirectory("cglb-interop-vendor-");
        try
        {
            var headers = Path.Combine(work.FullName, "libbpf");
            CopyDirectory(Path.Combine(root, "interop", "vendor", "libbpf"), headers);
            var versionHeader = Path.Combine(headers, "include", "bpf", "libbpf_version.h");
            File.WriteAllText(versionHeader, File.ReadAllText(versionHeader).Replace(
                "#define LIBBPF_MINOR_VERSION 1", "#define LIBBPF_MINOR_VERSION 9", StringComparison.Ordinal));

            var files = BindingGenerator.Generate(Options(root, Path.Combine(work.FullName, "out"), headers));

            var version = files[BindingWriter.HeaderVersionFile];
            Assert.Contains("internal const int HeaderMajorVersion = 1;", version, StringComparison.Ordinal);
            Assert.Contains("internal const int HeaderMinorVersion = 9;", version, StringComparison.Ordinal);
            Assert.All(files.Values, content => Assert.Contains("(libbpf 1.9)", content, StringComparison.Ordinal));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static GeneratorOptions Options(string root, string output, string headers) => GeneratorOptions.Parse(
    [
        "--out", output,
        "--functions", Path.Combine(root, "interop", "libbpf-functions.txt"),
        "--types", Path.Combine(root, "interop", "libbpf-types.txt"),
        "--headers", headers,
    ]);

    private static void CopyDirectory(string from, string to)
    {
        foreach (var directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }
}
