using CgroupLb.Testing.Sandbox;

namespace CgroupLb.Agent.Tests.Harness;

/// <summary>What the agent may leave on a sandbox after a detach or a failed start: nothing.</summary>
public static class SandboxLeftovers
{
    /// <summary>No program or link on the sandbox cgroup, and no pin under its bpffs directory (which may be gone).</summary>
    public static async Task AssertNothingAttachedOrPinnedAsync(this KernelSandbox sandbox)
    {
        Assert.Empty(await CgroupAttachments.ListAsync(sandbox.CgroupPath));
        Assert.Empty(await CgroupAttachments.LinkIdsAsync(sandbox.CgroupPath));
        string[] pins = Directory.Exists(sandbox.BpffsPath)
            ? Directory.GetFileSystemEntries(sandbox.BpffsPath, "*", SearchOption.AllDirectories)
            : [];
        Assert.True(pins.Length == 0, $"pins left under {sandbox.BpffsPath}: {string.Join(", ", pins)}");
    }
}
