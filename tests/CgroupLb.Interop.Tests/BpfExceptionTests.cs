using System.Runtime.InteropServices;

namespace CgroupLb.Interop.Tests;

public sealed class BpfExceptionTests
{
    [Fact]
    public void MessageNamesOperationObjectAndErrno()
    {
        var exception = new BpfException("bpf_map_update_elem", (int)Errno.E2BIG, "map", "lb4_services");

        Assert.Equal("bpf_map_update_elem on map lb4_services: E2BIG (Argument list too long)", exception.Message);
        Assert.Equal(Errno.E2BIG, exception.Errno);
        Assert.Equal(7, (int)exception.Errno);
        Assert.Equal("bpf_map_update_elem", exception.Operation);
        Assert.Equal("lb4_services", exception.ObjectName);
    }

    [Fact]
    public void ThrowIfNegativePassesResultsThroughAndNegatesErrors()
    {
        Assert.Equal(5, BpfException.ThrowIfNegative(5, "bpf_obj_get"));

        var exception = Assert.Throws<BpfException>(() => BpfException.ThrowIfNegative(-(int)Errno.EEXIST, "bpf_map_update_elem", "map", "lb4_backends"));

        Assert.True(exception.IsAlreadyExists);
        Assert.Equal(Errno.EEXIST, exception.Errno);
        Assert.StartsWith("bpf_map_update_elem on map lb4_backends: EEXIST (File exists)", exception.Message);
    }

    [Fact]
    public void ThrowIfNullReadsTheErrnoCapturedByTheImport()
    {
        Marshal.SetLastPInvokeError((int)Errno.ENOTSUPP);

        var exception = Assert.Throws<BpfException>(() => BpfException.ThrowIfNull(0, "bpf_program__attach_cgroup", "program", "sock4_connect"));

        Assert.True(exception.IsNotSupported);
        Assert.Contains("ENOTSUPP", exception.Message);
    }

    [Fact]
    public void DescribesLibbpfSpecificErrorCodes() =>
        Assert.Equal("LIBBPF_ERRNO__VERIFY (Kernel verifier blocks program loading)", BpfException.Describe((int)Errno.LIBBPF_ERRNO__VERIFY));

    [Fact]
    public void RealLibbpfFailureCarriesErrnoAndPath()
    {
        var path = $"/sys/fs/bpf/cglb-interop-test-{Environment.ProcessId}-missing/map";

        var exception = Assert.Throws<BpfException>(() => BpfMapHandle.OpenPinned(path));

        Assert.Equal("bpf_obj_get", exception.Operation);
        Assert.Equal(path, exception.ObjectName);
        Assert.True(exception.IsNotFound, exception.Message);
        Assert.Contains(path, exception.Message);
    }
}
