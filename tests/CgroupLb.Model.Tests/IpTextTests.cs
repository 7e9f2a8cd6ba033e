using System.Net;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Services;
using static CgroupLb.Testing.KubeObjects;

namespace CgroupLb.Model.Tests;

/// <summary>IP text is read as Kubernetes reads it (netutils.ParseIPSloppy): leading zeros are decimal, never octal.</summary>
public class IpTextTests
{
    [Theory]
    [InlineData("198.51.100.10", "198.51.100.10")]
    [InlineData("198.51.100.010", "198.51.100.10")]
    [InlineData("198.051.100.010", "198.51.100.10")]
    [InlineData("010.000.000.001", "10.0.0.1")]
    [InlineData("0198.51.100.10", "198.51.100.10")]
    [InlineData("::ffff:198.51.100.10", "198.51.100.10")]
    [InlineData("::ffff:198.51.100.010", "198.51.100.10")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("2001:DB8::A", "2001:db8::a")]
    public void AcceptsWhatKubernetesAccepts(string text, string expected)
    {
        Assert.True(IpText.TryParse(text, out IPAddress address));
        Assert.Equal(IPAddress.Parse(expected), address);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("10.1")]
    [InlineData("10.1.2")]
    [InlineData("1.2.3.4.5")]
    [InlineData("1.2.3.256")]
    [InlineData("1.2.3.0256")]
    [InlineData("0x0a.0.0.1")]
    [InlineData(" 1.2.3.4")]
    [InlineData("1.2.3.4 ")]
    [InlineData("1.2.3.")]
    [InlineData("1..2.3")]
    [InlineData("-1.2.3.4")]
    [InlineData("fe80::1%eth0")]
    [InlineData("[2001:db8::1]")]
    [InlineData("2001:db8::1.2.3.256")]
    public void RefusesWhatKubernetesRefuses(string text)
    {
        Assert.False(IpText.TryParse(text, out _));
        Assert.False(IpText.IsValid(text, out _));
    }

    /// <summary>The check validation uses takes exactly what the parser takes, with the family the parsed address has.</summary>
    [Theory]
    [InlineData("198.51.100.10")]
    [InlineData("198.051.100.010")]
    [InlineData("::ffff:198.51.100.10")]
    [InlineData("2001:db8::1")]
    [InlineData("2001:db8::1.2.3.4")]
    [InlineData("10.1")]
    [InlineData("fe80::1%eth0")]
    [InlineData("1.2.3.4:80")]
    [InlineData(null)]
    public void IsValidAgreesWithTryParse(string? text)
    {
        bool parsed = IpText.TryParse(text, out IPAddress address);
        Assert.Equal(parsed, IpText.IsValid(text, out var family));
        Assert.Equal(parsed ? address.AddressFamily : System.Net.Sockets.AddressFamily.Unspecified, family);
    }

    /// <summary>ClusterIPs, endpoints, externalIPs and ingress IPs go through the same parser.</summary>
    [Fact]
    public void LeadingZerosAreDecimalEverywhereAServiceCarriesAnAddress()
    {
        var service = Service("web", "198.51.100.010", Port("http", 80));
        service.Spec.ExternalIPs = ["203.0.113.007"];
        service.Status = new k8s.Models.V1ServiceStatus
        {
            LoadBalancer = new k8s.Models.V1LoadBalancerStatus { Ingress = [new k8s.Models.V1LoadBalancerIngress { Ip = "203.0.113.020" }] },
        };
        var slice = Slice("web-1", "web", [SlicePort("http", 8080)], Endpoint("198.18.0.010"));

        Assert.Empty(ObjectValidator.Validate(service));
        Assert.Empty(ObjectValidator.Validate(slice));
        var parser = new ClusterObjectParser();
        var snapshot = parser.ParseService(service)!;
        var port = Assert.Single(snapshot.Ports);
        Assert.Equal([IPAddress.Parse("198.51.100.10")], port.ClusterIPs.ToArray());
        Assert.Equal([IPAddress.Parse("203.0.113.7")], port.ExternalIPs.ToArray());
        Assert.Equal([IPAddress.Parse("203.0.113.20")], port.LoadBalancerIngressIPs.ToArray());

        var state = ClusterState.FromObjects([service], [slice], parser);
        var map = new ServiceTranslator("node-a").Translate(state);
        Assert.Equal(
            [new Frontend(IPAddress.Parse("198.51.100.10"), 80, L4Protocol.Tcp), new Frontend(IPAddress.Parse("203.0.113.7"), 80, L4Protocol.Tcp), new Frontend(IPAddress.Parse("203.0.113.20"), 80, L4Protocol.Tcp)],
            map.Keys.Order());
        Assert.All(map.Values, lb => Assert.Equal([new Backend(IPAddress.Parse("198.18.0.10"), 8080, L4Protocol.Tcp)], lb.Backends.ToArray()));
    }
}
