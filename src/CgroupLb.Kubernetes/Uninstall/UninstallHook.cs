using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Kubernetes.Uninstall;

/// <summary>
/// `cgroup-lb uninstall-hook`, the chart's pre-delete hook Job. `helm uninstall` alone leaves the programs attached with
/// stale backends on every node, and one Job runs on one node only, so the work is split: a short-lived cleanup
/// DaemonSet runs `cgroup-lb detach --wait` on every node, and this Job stops the agents (a live agent holds the bpffs
/// lock and would attach its programs again) and waits until every cleanup pod is ready, i.e. has detached.
/// Fails (and with it the uninstall, which can then be repeated or forced with --no-hooks) when that takes longer
/// than the timeout, naming how many nodes are done.
/// </summary>
public static class UninstallHook
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    /// <summary>Null when every node detached; otherwise why not, for the one error line.</summary>
    public static async Task<string?> RunAsync(IKubernetes client, string ns, string agentDaemonSet, string cleanupDaemonSet,
        TimeSpan timeout, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await client.AppsV1.DeleteNamespacedDaemonSetAsync(agentDaemonSet, ns, propagationPolicy: "Background",
                cancellationToken: cancellationToken).ConfigureAwait(false);
            logger.LogInformation("Deleted DaemonSet {Namespace}/{Name}: the agents stop and release their bpffs directories", ns, agentDaemonSet);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            logger.LogInformation("DaemonSet {Namespace}/{Name} is already gone", ns, agentDaemonSet);
        }

        var start = time.GetUtcNow();
        string progress = "not read yet";
        while (time.GetUtcNow() - start < timeout)
        {
            try
            {
                var daemonSet = await client.AppsV1.ReadNamespacedDaemonSetAsync(cleanupDaemonSet, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                progress = Progress(daemonSet);
                if (IsDone(daemonSet))
                {
                    logger.LogInformation("Every node detached: {Progress}", progress);
                    return null;
                }
            }
            catch (HttpOperationException e)
            {
                progress = $"reading DaemonSet {ns}/{cleanupDaemonSet} failed: {(int)e.Response.StatusCode} {e.Message}";
            }
            await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
        return (
            $"the cleanup DaemonSet {ns}/{cleanupDaemonSet} did not finish within {timeout.TotalSeconds:0} s ({progress}); " +
            $"see its pods' init container logs (kubectl -n {ns} logs ds/{cleanupDaemonSet} -c detach)");
    }

    /// <summary>
    /// Every node the DaemonSet wants a pod on has a ready one of the current generation: its init container,
    /// `cgroup-lb detach`, succeeded there. A cluster with no matching node is done at once.
    /// </summary>
    public static bool IsDone(V1DaemonSet daemonSet) =>
        daemonSet.Status is { } status
        && (status.ObservedGeneration ?? 0) >= (daemonSet.Metadata.Generation ?? 0)
        && status.NumberReady == status.DesiredNumberScheduled
        && (status.UpdatedNumberScheduled ?? 0) == status.DesiredNumberScheduled;

    private static string Progress(V1DaemonSet daemonSet) => daemonSet.Status is { } status
        ? $"{status.NumberReady} of {status.DesiredNumberScheduled} nodes detached"
        : "no status yet";
}
