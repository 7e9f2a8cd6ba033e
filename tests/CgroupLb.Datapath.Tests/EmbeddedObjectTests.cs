using System.Text;
using CgroupLb.Datapath.Loading;

namespace CgroupLb.Datapath.Tests;

/// <summary>
/// The two builds of the programs in the assembly: the one for kernels without BTF must hold nothing that makes libbpf
/// need the kernel's BTF (a kfunc call, a CO-RE relocation), or an agent on such a kernel could not load at all; the
/// one for kernels with BTF must hold the kfunc it exists for.
/// </summary>
public sealed class EmbeddedObjectTests
{
    private const string Kfunc = "bpf_rdonly_cast";
    private const string CoreType = "sock___cglb_peek";

    [Fact]
    public void TheObjectForKernelsWithoutBtfHasNoKfuncAndNoCoreRelocation()
    {
        string text = Encoding.Latin1.GetString(EmbeddedObject.Read(EmbeddedObject.ResourceFor(kernelBtfObject: false)));
        Assert.DoesNotContain(Kfunc, text, StringComparison.Ordinal);
        Assert.DoesNotContain(CoreType, text, StringComparison.Ordinal);
    }

    [Fact]
    public void TheObjectForKernelsWithBtfCallsTheKfunc()
    {
        string text = Encoding.Latin1.GetString(EmbeddedObject.Read(EmbeddedObject.ResourceFor(kernelBtfObject: true)));
        Assert.Contains(Kfunc, text, StringComparison.Ordinal);
        Assert.Contains(CoreType, text, StringComparison.Ordinal);
    }

    [Fact]
    public void EachKernelGetsItsOwnBuild()
    {
        Assert.Equal("cgroup_lb.bpf.o", EmbeddedObject.ResourceFor(kernelBtfObject: false));
        Assert.Equal("cgroup_lb_btf.bpf.o", EmbeddedObject.ResourceFor(kernelBtfObject: true));
        Assert.NotEqual(EmbeddedObject.Read(EmbeddedObject.ResourceFor(false)), EmbeddedObject.Read(EmbeddedObject.ResourceFor(true)));
    }
}
