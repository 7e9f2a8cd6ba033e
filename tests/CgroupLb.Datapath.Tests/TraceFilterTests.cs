using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Tracing;

namespace CgroupLb.Datapath.Tests;

public class TraceFilterTests
{
    private static TraceEvent Event(string? service = "default/web:http", string backend = "198.18.0.2:8080", ulong netns = 4096) =>
        new(DateTimeOffset.UnixEpoch, 1, netns, 2, 3, "curl", "TCP", LbTraceHook.Connect4, LbTraceVerdict.Translated,
            IPEndPoint.Parse("198.51.100.10:80"), IPEndPoint.Parse(backend), 7, service);

    [Theory]
    [InlineData("default/web", true)]
    [InlineData("default/web:http", true)]
    [InlineData("default/we", false)]
    [InlineData("default/web:dns", false)]
    [InlineData("other/web", false)]
    public void ServiceMatchesTheNameWithOrWithoutThePort(string service, bool matches) =>
        Assert.Equal(matches, new TraceFilter(Service: service).Matches(Event()));

    [Fact]
    public void AServiceFilterDropsEventsWithoutAName() =>
        Assert.False(new TraceFilter(Service: "default/web").Matches(Event(service: null)));

    [Theory]
    [InlineData("198.51.100.10", true)]
    [InlineData("198.51.100.10:80", true)]
    [InlineData("198.51.100.10:81", false)]
    [InlineData("198.18.0.2", true)]
    [InlineData("198.18.0.2:8080", true)]
    [InlineData("198.18.0.3", false)]
    public void AddressMatchesFrontendOrBackend(string text, bool matches)
    {
        Assert.True(TraceFilter.TryParseAddress(text, out var address, out ushort port, out _));
        Assert.Equal(matches, new TraceFilter(Address: address, Port: port).Matches(Event()));
    }

    [Theory]
    [InlineData("2001:db8::1", "2001:db8::1", 0)]
    [InlineData("[2001:db8::1]:80", "2001:db8::1", 80)]
    [InlineData("10.96.0.10:53", "10.96.0.10", 53)]
    public void AddressesParseWithAndWithoutAPort(string text, string address, int port)
    {
        Assert.True(TraceFilter.TryParseAddress(text, out var parsed, out ushort parsedPort, out var error), error);
        Assert.Equal(IPAddress.Parse(address), parsed);
        Assert.Equal(port, parsedPort);
    }

    [Theory]
    [InlineData("web")]
    [InlineData("10.96.0.10:")]
    [InlineData("10.96.0.10:99999")]
    public void BadAddressesAreRefusedWithTheText(string text)
    {
        Assert.False(TraceFilter.TryParseAddress(text, out _, out _, out var error));
        Assert.Contains(text, error);
    }

    [Fact]
    public void NetnsCookieMustBeEqual()
    {
        Assert.True(new TraceFilter(NetnsCookie: 4096).Matches(Event()));
        Assert.False(new TraceFilter(NetnsCookie: 4097).Matches(Event()));
        Assert.True(TraceFilter.All.Matches(Event()));
    }
}
