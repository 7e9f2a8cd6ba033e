using System.Collections.Immutable;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Services;

namespace CgroupLb.Benchmarks.Kernel;

/// <summary>
/// The map writer workload: <see cref="Services"/> ClusterIP services with exactly <see cref="BackendsPerService"/>
/// backends each, translated by the real translator, and a check that the kernel maps hold what the writer claims.
/// </summary>
internal static class KernelWorkload
{
    public const int Services = 1000;
    public const int BackendsPerService = 5;
    public const int ChurnedServices = Services / 100;

    public static SyntheticCluster Cluster() => SyntheticCluster.Create(Services, BackendsPerService, BackendsPerService);

    public static ImmutableDictionary<Frontend, LoadBalancerService> Desired(SyntheticCluster cluster, IEnumerable<int> changedServices) =>
        new ServiceTranslator("node-a").Translate(cluster.State(changedServices)).ToImmutableDictionary();

    /// <summary>Throws unless the kernel maps hold exactly <paramref name="frontends"/> frontends of 5 backends.</summary>
    public static void ExpectKernelHolds(KernelLoadBalancerMaps maps, int frontends, string when)
    {
        int serviceEntries = maps.ReadServiceEntries().Count;
        int backends = maps.ReadBackends().Count;
        int expected = frontends * (1 + BackendsPerService);
        if (serviceEntries != expected || backends != frontends * BackendsPerService)
            throw new InvalidOperationException(
                $"{when}: lb4_services_v2 holds {serviceEntries} entries (expected {expected}), lb4_backends_v2 {backends} ids in use (expected {frontends * BackendsPerService})");
    }
}
