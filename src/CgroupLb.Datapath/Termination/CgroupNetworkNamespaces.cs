namespace CgroupLb.Datapath.Termination;

/// <summary>A network namespace found through one of its processes: the namespace id ("net:[4026531840]") and that PID.</summary>
internal readonly record struct NamespaceOfProcess(string Id, int Pid);

/// <summary>
/// The network namespaces that the processes of a cgroup tree live in: the attached cgroup and every cgroup below it
/// (pods sit in child cgroups), cgroup.procs -> /proc/PID/ns/net, one entry per namespace. A socket iterator or a
/// sock_diag socket sees one namespace only, so termination visits each (Cilium does the same).
/// </summary>
internal static class CgroupNetworkNamespaces
{
    /// <summary>The namespaces, and how many processes' namespace links could not be read for lack of permission.</summary>
    public static List<NamespaceOfProcess> Find(string cgroupPath, string procPath, out int denied)
    {
        var seen = new Dictionary<string, NamespaceOfProcess>(StringComparer.Ordinal);
        denied = 0;
        foreach (string cgroup in CgroupTree(cgroupPath))
        {
            foreach (int pid in Processes(cgroup))
            {
                string? id = NamespaceId(procPath, pid, ref denied);
                if (id is not null && !seen.ContainsKey(id))
                    seen[id] = new NamespaceOfProcess(id, pid);
            }
        }
        return [.. seen.Values];
    }

    /// <summary>The PIDs of every process in the cgroup tree.</summary>
    public static IEnumerable<int> AllProcesses(string cgroupPath) => CgroupTree(cgroupPath).SelectMany(Processes);

    private static IEnumerable<string> CgroupTree(string root)
    {
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.TryPop(out string? cgroup))
        {
            yield return cgroup;
            string[] children;
            try
            {
                children = Directory.GetDirectories(cgroup);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // removed while we walked: its processes are gone or moved to a cgroup we visit
            }
            foreach (string child in children)
                pending.Push(child);
        }
    }

    private static IEnumerable<int> Processes(string cgroup)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(Path.Combine(cgroup, "cgroup.procs"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            yield break;
        }
        foreach (string line in lines)
        {
            // 0: a process outside our PID namespace (the agent's pod lacks hostPID); it cannot be reached.
            if (int.TryParse(line, out int pid) && pid > 0)
                yield return pid;
        }
    }

    private static string? NamespaceId(string procPath, int pid, ref int denied)
    {
        try
        {
            return new FileInfo(Path.Combine(procPath, pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "ns", "net")).LinkTarget;
        }
        catch (UnauthorizedAccessException)
        {
            denied++; // another user's process, and we lack CAP_SYS_PTRACE
            return null;
        }
        catch (IOException)
        {
            return null; // exited
        }
    }
}
