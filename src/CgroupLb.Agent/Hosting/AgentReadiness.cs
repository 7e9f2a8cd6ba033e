namespace CgroupLb.Agent.Hosting;

/// <summary>Ready once the first complete sync is in the maps; /readyz answers from here.</summary>
internal sealed class AgentReadiness
{
    private volatile bool ready;
    public bool IsReady => ready;
    public void MarkReady() => ready = true;
}
