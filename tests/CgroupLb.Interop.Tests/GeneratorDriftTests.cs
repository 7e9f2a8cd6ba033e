using CgroupLb.Interop.Generator;

namespace CgroupLb.Interop.Tests;

public sealed class GeneratorDriftTests
{
    [SkippableFact]
    public void CheckedInBindingsMatchAFreshGeneration()
    {
        TestEnvironment.RequireClang();
        var root = TestEnvironment.RepositoryRoot;
        var checkedIn = Path.Combine(root, "interop", "CgroupLb.Interop", "Generated");
        var fresh = Directory.CreateTempSubdirectory("cglb-interop-drift-");
        try
        {
            var options = GeneratorOptions.Parse(
            [
                "--out", fresh.FullName,
                "--functions", Path.Combine(root, "interop", "libbpf-functions.txt"),
                "--types", Path.Combine(root, "interop", "libbpf-types.txt"),
            ]);
            BindingGenerator.GenerateInto(options);

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
}
