using System.Text.RegularExpressions;

namespace CgroupLb.Interop.Tests;

public sealed partial class LibbpfVersionTests
{
    private static readonly Version Required = new(1, 1);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 5)]
    public void AcceptsTheSameMajorAndAnEqualOrLaterMinor(int major, int minor) =>
        Assert.Null(LibbpfVersion.Incompatibility(new Version(major, minor), Required));

    [Theory]
    [InlineData(1, 0)]
    [InlineData(0, 8)]
    [InlineData(2, 0)]
    public void RefusesAnOlderMinorOrAnotherMajorNamingBothVersions(int major, int minor)
    {
        var problem = LibbpfVersion.Incompatibility(new Version(major, minor), Required);

        Assert.NotNull(problem);
        Assert.Contains($"libbpf.so.1 is libbpf {major}.{minor}", problem, StringComparison.Ordinal);
        Assert.Contains("needs libbpf 1.1 or a later 1.x", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void RequiredIsTheVendoredHeadersVersion()
    {
        var header = File.ReadAllText(Path.Combine(
            TestEnvironment.RepositoryRoot, "interop", "vendor", "libbpf", "include", "bpf", "libbpf_version.h"));

        Assert.Equal(int.Parse(MajorDefine().Match(header).Groups[1].Value), LibbpfVersion.Required.Major);
        Assert.Equal(int.Parse(MinorDefine().Match(header).Groups[1].Value), LibbpfVersion.Required.Minor);
    }

    [Fact]
    public void TheInstalledLibraryIsSupported()
    {
        Assert.Null(LibbpfVersion.Incompatibility(LibbpfVersion.Loaded, LibbpfVersion.Required));
        LibbpfVersion.EnsureSupported();
    }

    [GeneratedRegex(@"#define\s+LIBBPF_MAJOR_VERSION\s+([0-9]+)")]
    private static partial Regex MajorDefine();

    [GeneratedRegex(@"#define\s+LIBBPF_MINOR_VERSION\s+([0-9]+)")]
    private static partial Regex MinorDefine();
}
