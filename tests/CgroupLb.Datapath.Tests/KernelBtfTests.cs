using System.Buffers.Binary;
using System.Text;
using CgroupLb.Datapath.Loading;

namespace CgroupLb.Datapath.Tests;

/// <summary>
/// How the loader tells a kernel whose BTF names bpf_rdonly_cast (the one cgroup_lb_btf.bpf.o needs) from a blob's string
/// section, and that a malformed blob reads as "not there" rather than throwing.
/// </summary>
public sealed class KernelBtfTests
{
    private static byte[] Blob(string strings, uint headerLength = 24, uint? stringLength = null)
    {
        byte[] str = Encoding.ASCII.GetBytes(strings);
        byte[] types = [1, 2, 3, 4];
        var blob = new byte[headerLength + types.Length + str.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(blob, 0xeb9f);
        blob[2] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(4), headerLength);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(8), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(12), (uint)types.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(16), (uint)types.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(20), stringLength ?? (uint)str.Length);
        types.CopyTo(blob, headerLength);
        str.CopyTo(blob, headerLength + types.Length);
        return blob;
    }

    [Fact]
    public void FindsAWholeNameInTheStringSectionOnly()
    {
        byte[] blob = Blob("\0int\0bpf_rdonly_cast\0bpf_cast_to_kern_ctx\0");
        Assert.True(KernelBtf.ContainsString(KernelBtf.StringSection(blob), "bpf_rdonly_cast"));
        Assert.False(KernelBtf.ContainsString(KernelBtf.StringSection(blob), "bpf_rdonly"));
        Assert.False(KernelBtf.ContainsString(KernelBtf.StringSection(Blob("\0int\0xbpf_rdonly_cast\0")), "bpf_rdonly_cast"));
    }

    [Fact]
    public void AMalformedBlobHasNoStrings()
    {
        byte[] blob = Blob("\0bpf_rdonly_cast\0");
        Assert.True(KernelBtf.StringSection(blob).Length > 0);
        Assert.Equal(0, KernelBtf.StringSection(blob.AsSpan(0, 10)).Length);
        Assert.Equal(0, KernelBtf.StringSection(Blob("\0bpf_rdonly_cast\0", stringLength: 4096)).Length);
        blob[0] = 0;
        Assert.Equal(0, KernelBtf.StringSection(blob).Length);
    }

    [Fact]
    public void TheRunningKernelsAnswerFollowsItsVersion()
    {
        if (!KernelBtf.Present)
        {
            Assert.False(EmbeddedObject.KernelBtfObjectSuits);
            return;
        }
        // The kfunc came with 6.2; distribution kernels may backport it, so only the newer side is asserted.
        if (Environment.OSVersion.Version >= new Version(6, 2))
            Assert.True(KernelBtf.HasRdonlyCast);
    }
}
