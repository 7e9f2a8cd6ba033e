namespace CgroupLb.Testing.Sandbox;

/// <summary>Whether a client process runs inside the sandbox cgroup (translated) or only in its network namespace.</summary>
public enum ClientPlacement
{
    InCgroup,
    OutsideCgroup,
}
