using System.Net;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Services;

namespace CgroupLb.Model.Tests;

/// <summary>
/// <see cref="ServicePortInfo.Label"/>, the name every frontend of a port carries, is made once per parsed port: it must
/// stay the text of <see cref="ServicePortInfo.Name"/> through copies, and leave equality as the fields make it.
/// </summary>
public class ServicePortLabelTests
{
    private static ServicePortInfo Port(string ns, string name, string port) => new(
        new ServicePortName(new ServiceName(ns, name), port, L4Protocol.Tcp),
        new EquatableArray<IPAddress>([IPAddress.Parse("198.18.0.10")]), 80, L4Protocol.Tcp, null, 0, false, 0,
        TrafficPolicy.Cluster, TrafficPolicy.Cluster, EquatableArray<IPAddress>.Empty, EquatableArray<IPAddress>.Empty, 0, null);

    [Fact]
    public void TheLabelIsTheNameAsText()
    {
        Assert.Equal("team/web:http", Port("team", "web", "http").Label);
        Assert.Equal("team/web", Port("team", "web", "").Label);
    }

    [Fact]
    public void ACopyWithAnotherNameGetsThatNamesLabel()
    {
        var port = Port("team", "web", "http");

        var renamed = port with { Name = new ServicePortName(new ServiceName("team", "api"), "grpc", L4Protocol.Tcp) };
        var moved = port with { Port = 8080 };

        Assert.Equal("team/api:grpc", renamed.Label);
        Assert.Equal("team/web:http", moved.Label);
        Assert.Equal("team/web:http", port.Label);
    }

    [Fact]
    public void PortsThatAreEqualByTheirFieldsStayEqual()
    {
        var a = Port("team", "web", "http");
        var b = Port("team", "web", "http");

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.Equal(a, Port("team", "api", "http") with { Name = a.Name });
        Assert.NotEqual(a, Port("team", "web", "metrics"));
    }
}
