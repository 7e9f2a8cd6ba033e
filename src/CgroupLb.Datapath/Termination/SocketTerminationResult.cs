namespace CgroupLb.Datapath.Termination;

/// <summary>One termination pass: namespaces visited, sockets closed, and closes or namespaces that failed.</summary>
public sealed record SocketTerminationResult(int Namespaces, int Closed, int Failed)
{
    public static readonly SocketTerminationResult Nothing = new(0, 0, 0);
}
