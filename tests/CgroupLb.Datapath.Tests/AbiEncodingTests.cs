using System.Net;
using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Tests;

public class AbiEncodingTests
{
    [Fact]
    public void ServiceKeyStoresAddressAndPortInNetworkOrder()
    {
        var key = Lb4ServiceKey.Create(IPAddress.Parse("198.51.100.10"), 8080, 6, 3);
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<Lb4ServiceKey>(in key)).ToArray();
        Assert.Equal(new byte[] { 198, 51, 100, 10, 0x1f, 0x90, 3, 0, 6, 0, 0, 0 }, bytes);
    }

    [Fact]
    public void BackendRoundTripsThroughItsBytes()
    {
        var backend = Lb4Backend.Create(IPAddress.Parse("198.18.1.2"), 53, 17);
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<Lb4Backend>(in backend)).ToArray();
        Assert.Equal(new byte[] { 198, 18, 1, 2, 0, 53, 17, 0 }, bytes);
        var back = MemoryMarshal.Read<Lb4Backend>(bytes);
        Assert.Equal(IPAddress.Parse("198.18.1.2"), back.Address);
        Assert.Equal(53, back.Port);
    }

    [Fact]
    public void MasterValueKeepsHostOrderCounts()
    {
        var v = LbServiceValue.Master(serviceId: 0x01020304, count: 0x0506, flags: ServiceFlags.ClusterIp, affinityTimeout: 10800);
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<LbServiceValue>(in v)).ToArray();
        Assert.Equal(24, bytes.Length);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 4, 3, 2, 1, 6, 5, 1, 0, 0x30, 0x2a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, bytes);
    }

    [Fact]
    public void SlotValueCarriesItsBackendInNetworkOrder()
    {
        var backend = new CgroupLb.Model.LoadBalancing.Backend(IPAddress.Parse("198.18.1.2"), 8080, L4Protocol.Tcp);
        var v = LbServiceValue.Slot(serviceId: 7, backendId: 0x0a0b, backend);
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<LbServiceValue>(in v)).ToArray();
        Assert.Equal(new byte[] { 0x0b, 0x0a, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 198, 18, 1, 2, 0x1f, 0x90, 0, 0 }, bytes);
    }

    [Fact]
    public void ServiceNameIsNulTerminatedAndTruncatedToFit()
    {
        var name = LbServiceName.Create(new string('x', 400));
        Assert.Equal(255, name.ToString().Length);
        Assert.Equal("default/web:http", LbServiceName.Create("default/web:http").ToString());
    }
}
