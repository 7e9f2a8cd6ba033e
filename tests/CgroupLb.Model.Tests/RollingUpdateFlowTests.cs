using CgroupLb.Model.Changes;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using CgroupLb.Model.Tests.Support;
using k8s.Models;
using static CgroupLb.Model.Tests.Support.ConnectFlow;
using static CgroupLb.Testing.KubeObjects;

namespace CgroupLb.Model.Tests;

/// <summary>
/// Whole syncs through tracker, translator, planner and fake writer, checked by where connects may go after each
/// step (kube-proxy's packet-flow tests, for the socket load balancer).
/// </summary>
public class RollingUpdateFlowTests
{
    private readonly ClusterChangeTracker tracker = new("node-a", ["watch"]);
    private readonly FakeLoadBalancerWriter writer = new();
    private readonly LoadBalancerSyncer syncer;
    private V1EndpointSlice? slice;

    public RollingUpdateFlowTests()
    {
        syncer = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), writer);
        tracker.OnService(null, Service("web", "10.96.0.1", Port("http", 80), Port("metrics", 9090)));
        tracker.OnSynced("watch");
    }

    private void Pods(params V1Endpoint[] endpoints)
    {
        var next = Slice("web-1", "web", [SlicePort("http", 8080), SlicePort("metrics", 9090)], endpoints);
        tracker.OnEndpointSlice(slice, next);
        slice = next;
        Assert.True(syncer.SyncOnce().Succeeded);
    }

    [Fact]
    public void ConnectsFollowPodsThroughARollingUpdate()
    {
        Pods();
        AssertFlows(writer.Maps, ("10.96.0.1:80/TCP", Refused), ("10.96.0.1:9090/TCP", Refused), ("10.96.0.1:8080/TCP", Pass));

        Pods(Endpoint("198.18.0.1"), Endpoint("198.18.0.2"));
        AssertFlows(writer.Maps, ("10.96.0.1:80/TCP", "198.18.0.1:8080, 198.18.0.2:8080"), ("10.96.0.1:9090/TCP", "198.18.0.1:9090, 198.18.0.2:9090"));

        // New pod starting, old pod .1 draining.
        Pods(Endpoint("198.18.0.1", ready: false, serving: true, terminating: true), Endpoint("198.18.0.2"), Endpoint("198.18.0.3", ready: false));
        AssertFlows(writer.Maps, ("10.96.0.1:80/TCP", "198.18.0.2:8080"));

        // Every old pod draining and the new one not ready yet: draining pods still take connects.
        Pods(
            Endpoint("198.18.0.1", ready: false, serving: true, terminating: true),
            Endpoint("198.18.0.2", ready: false, serving: true, terminating: true),
            Endpoint("198.18.0.3", ready: false));
        AssertFlows(writer.Maps, ("10.96.0.1:80/TCP", "198.18.0.1:8080, 198.18.0.2:8080"));

        Pods(Endpoint("198.18.0.2", ready: false, serving: false, terminating: true), Endpoint("198.18.0.3"));
        AssertFlows(writer.Maps, ("10.96.0.1:80/TCP", "198.18.0.3:8080"), ("10.96.0.1:9090/TCP", "198.18.0.3:9090"));

        tracker.OnService(Service("web", "10.96.0.1", Port("http", 80), Port("metrics", 9090)), null);
        syncer.SyncOnce();
        AssertFlows(writer.Maps, ("10.96.0.1:80/TCP", Pass), ("10.96.0.1:9090/TCP", Pass));
        Assert.Empty(writer.Maps);
    }
}
