using System.Collections.Immutable;
using System.Net;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Planning;

namespace CgroupLb.Model.Tests;

public class LoadBalancerPlannerTests
{
    private static LoadBalancerService Lb(string frontend, string name, params string[] backends)
    {
        var ep = IPEndPoint.Parse(frontend);
        return new LoadBalancerService(
            new Frontend(ep.Address, (ushort)ep.Port, L4Protocol.Tcp),
            name,
            ServiceFlags.ClusterIp,
            backends.Select(b => IPEndPoint.Parse(b)).Select(b => new Backend(b.Address, (ushort)b.Port, L4Protocol.Tcp)).Order().ToImmutableArray());
    }

    private static Dictionary<Frontend, LoadBalancerService> Map(params LoadBalancerService[] services) =>
        services.ToDictionary(s => s.Frontend);

    private static IEnumerable<string> Upserted(LoadBalancerPlan plan) => plan.Upserts.Select(s => s.Frontend.ToString());
    private static IEnumerable<string> Deleted(LoadBalancerPlan plan) => plan.Deletes.Select(f => f.ToString());

    [Fact]
    public void OnlyChangedFrontendsAreWrittenAndEverythingIsSorted()
    {
        var applied = Map(
            Lb("10.96.0.1:80", "default/same", "198.18.0.1:8080"),
            Lb("10.96.0.2:80", "default/backends", "198.18.0.1:8080"),
            Lb("10.96.0.9:80", "default/gone-b"),
            Lb("10.96.0.3:80", "default/gone-a"));
        var desired = Map(
            Lb("10.96.0.1:80", "default/same", "198.18.0.1:8080"),
            Lb("10.96.0.2:80", "default/backends", "198.18.0.1:8080", "198.18.0.2:8080"),
            Lb("10.96.0.20:80", "default/new"),
            Lb("10.96.0.4:80", "default/new"));

        var plan = LoadBalancerPlanner.Plan(applied, desired);

        Assert.Equal(["10.96.0.2:80/TCP", "10.96.0.4:80/TCP", "10.96.0.20:80/TCP"], Upserted(plan));
        Assert.Equal(["10.96.0.3:80/TCP", "10.96.0.9:80/TCP"], Deleted(plan));
    }

    public static TheoryData<string, LoadBalancerService> DifferencesThatMatter => new()
    {
        { "a backend more", Lb("10.96.0.1:80", "default/web", "198.18.0.1:8080", "198.18.0.2:8080") },
        { "backend port", Lb("10.96.0.1:80", "default/web", "198.18.0.1:8081") },
        { "name", Lb("10.96.0.1:80", "default/web:http", "198.18.0.1:8080") },
        { "flags", Lb("10.96.0.1:80", "default/web", "198.18.0.1:8080") with { Flags = ServiceFlags.ClusterIp | ServiceFlags.LocalOnly } },
        { "affinity timeout", Lb("10.96.0.1:80", "default/web", "198.18.0.1:8080") with { AffinityTimeoutSeconds = 60 } },
        { "no backends", Lb("10.96.0.1:80", "default/web") },
    };

    [Theory]
    [MemberData(nameof(DifferencesThatMatter))]
    public void AnyDifferenceInAFrontendRewritesIt(string why, LoadBalancerService desired)
    {
        var applied = Map(Lb("10.96.0.1:80", "default/web", "198.18.0.1:8080"));
        var plan = LoadBalancerPlanner.Plan(applied, Map(desired));
        Assert.True(plan.Upserts.SequenceEqual([desired]), why);
        Assert.Empty(plan.Deletes);
    }

    [Fact]
    public void EqualStatesGiveTheEmptyPlan()
    {
        var state = Map(Lb("10.96.0.1:80", "default/web", "198.18.0.1:8080"));
        // A separately built but equal service must compare equal, not by reference.
        var copy = Map(Lb("10.96.0.1:80", "default/web", "198.18.0.1:8080"));
        Assert.True(LoadBalancerPlanner.Plan(state, copy).IsEmpty);
    }

    [Fact]
    public void PartialPlanTouchesOnlyTheNamedServices()
    {
        var applied = Map(
            Lb("10.96.0.1:80", "default/web:http", "198.18.0.1:8080"),
            Lb("10.96.0.1:443", "default/web:https", "198.18.0.1:8443"),
            Lb("10.96.0.2:80", "default/webby", "198.18.0.9:80"),
            Lb("10.96.0.3:80", "default/other", "198.18.0.3:80"),
            Lb("10.96.0.4:80", "team/web", "198.18.0.4:80"));
        // Desired for web: https port dropped, http backends changed. "other" looks different here but was not named.
        var desired = Map(
            Lb("10.96.0.1:80", "default/web:http", "198.18.0.2:8080"),
            Lb("10.96.0.3:80", "default/other"));

        var plan = LoadBalancerPlanner.PlanServices(applied, desired, new HashSet<ServiceName> { new("default", "web") });

        Assert.Equal(["10.96.0.1:80/TCP"], Upserted(plan));
        Assert.Equal(["10.96.0.1:443/TCP"], Deleted(plan));
    }

    [Fact]
    public void PartialPlanForADeletedServiceRemovesAllItsFrontends()
    {
        var applied = Map(
            Lb("10.96.0.1:80", "default/web:http"),
            Lb("10.96.0.1:443", "default/web:https"),
            Lb("10.96.0.3:80", "default/other"));
        var plan = LoadBalancerPlanner.PlanServices(applied, Map(), new HashSet<ServiceName> { new("default", "web") });
        Assert.Empty(plan.Upserts);
        Assert.Equal(["10.96.0.1:80/TCP", "10.96.0.1:443/TCP"], Deleted(plan));
    }

    [Fact]
    public void ApplyingAPlanGivesTheDesiredState()
    {
        var applied = Map(Lb("10.96.0.1:80", "default/a", "198.18.0.1:80"), Lb("10.96.0.2:80", "default/b"));
        var desired = Map(Lb("10.96.0.1:80", "default/a", "198.18.0.2:80"), Lb("10.96.0.3:80", "default/c"));

        var after = new Dictionary<Frontend, LoadBalancerService>(applied);
        LoadBalancerPlanner.ApplyInPlace(after, LoadBalancerPlanner.Plan(applied, desired));

        Assert.Equal(desired.OrderBy(kv => kv.Key), after.OrderBy(kv => kv.Key));
    }

    [Theory]
    [InlineData("default/web:http", "default", "web")]
    [InlineData("kube-system/kube-dns", "kube-system", "kube-dns")]
    public void OwnerIsParsedFromTheName(string name, string ns, string service)
    {
        Assert.Equal(new ServiceName(ns, service), LoadBalancerPlanner.OwnerOf(Lb("10.96.0.1:80", name)));
    }
}
