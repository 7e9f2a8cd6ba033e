namespace CgroupLb.Manifests.Tests;

/// <summary>
/// A file is read into a buffer of exactly its size (no doubled buffer cut to size afterwards), and one that is longer
/// than its stamp said (it grew; /proc files say 0) is still read to its end, within the limit.
/// </summary>
public class ManifestFileContentTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData(70001)]
    public void A_file_is_read_whole_into_an_array_of_its_size(int size)
    {
        using var dir = new TempDirectory();
        var path = dir.File("m.yaml");
        var bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);

        var result = ManifestFileContent.Read(path, maxBytes: Math.Max(size, 1));
        Assert.Null(result.Error);
        Assert.Equal(bytes, result.Bytes);
        Assert.Equal(size, result.Bytes!.Length);

        if (size > 0)
        {
            Assert.Equal($"is {size} bytes, more than the limit of {size - 1} bytes; not read", ManifestFileContent.Read(path, maxBytes: size - 1).Error);
        }
    }

    [Fact]
    public void A_file_longer_than_its_stamp_says_is_read_to_its_end_within_the_limit()
    {
        const string Path = "/proc/version";
        var expected = File.ReadAllBytes(Path);
        Assert.Equal(0L, new FileInfo(Path).Length);

        var result = ManifestFileContent.Read(Path, ManifestReader.DefaultMaxFileBytes);
        Assert.Null(result.Error);
        Assert.Equal(expected, result.Bytes);

        var limited = ManifestFileContent.Read(Path, maxBytes: 8);
        Assert.Null(limited.Bytes);
        Assert.Equal("grew past the limit of 8 bytes while being read; not read", limited.Error);
    }
}
