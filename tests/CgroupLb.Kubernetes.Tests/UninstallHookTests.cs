using CgroupLb.Kubernetes.Uninstall;
using k8s.Models;

namespace CgroupLb.Kubernetes.Tests;

/// <summary>When the uninstall hook Job calls the cleanup DaemonSet done. No root, no cluster.</summary>
public sealed class UninstallHookTests
{
    [Theory]
    [InlineData(1, 1, 3, 3, 3, true)]
    [InlineData(1, 1, 0, 0, 0, true)] // no node matches: nothing to detach
    [InlineData(1, 1, 3, 2, 3, false)] // one node's detach has not succeeded yet
    [InlineData(2, 1, 3, 3, 3, false)] // the controller has not seen the current spec
    [InlineData(1, 1, 3, 3, 2, false)] // a pod of an older spec is still counted
    public void DoneWhenEveryWantedNodeHasAReadyPodOfTheCurrentSpec(
        long generation, long observed, int desired, int ready, int updated, bool done)
    {
        var daemonSet = new V1DaemonSet
        {
            Metadata = new V1ObjectMeta { Generation = generation },
            Status = new V1DaemonSetStatus
            {
                ObservedGeneration = observed,
                DesiredNumberScheduled = desired,
                NumberReady = ready,
                UpdatedNumberScheduled = updated,
                CurrentNumberScheduled = desired,
                NumberMisscheduled = 0,
            },
        };

        Assert.Equal(done, UninstallHook.IsDone(daemonSet));
    }

    [Fact]
    public void NotDoneBeforeTheControllerWroteAStatus() =>
        Assert.False(UninstallHook.IsDone(new V1DaemonSet { Metadata = new V1ObjectMeta { Generation = 1 } }));
}
