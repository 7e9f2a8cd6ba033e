using CgroupLb.Datapath.Loading;
using CgroupLb.Interop;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Datapath.Termination;

/// <summary>
/// Runs work inside other network namespaces on a dedicated thread: setns(2) moves only the calling thread, so the
/// agent's other threads never leave their namespace. The thread returns to where it started after each namespace
/// and ends afterwards; if it cannot return, it stops visiting and the thread dies with it.
/// </summary>
internal static class NamespaceVisitor
{
    /// <summary>Calls <paramref name="work"/> inside each namespace; returns how many namespaces were visited and how many failed.</summary>
    public static (int Visited, int Failed) Visit(IReadOnlyList<NamespaceOfProcess> namespaces, string procPath, Action<NamespaceOfProcess> work, ILogger logger)
    {
        int visited = 0, failed = 0;
        Exception? fatal = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var origin = NetworkNamespace.OpenCurrentThread();
                foreach (NamespaceOfProcess ns in namespaces)
                {
                    NetworkNamespace target;
                    try
                    {
                        target = NetworkNamespace.Open(Path.Combine(procPath, ns.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "ns", "net"));
                    }
                    catch (BpfException ex) when (ex.Errno is Errno.ENOENT or Errno.ESRCH)
                    {
                        continue; // the process exited; its namespace went with it or another process leads us there
                    }
                    try
                    {
                        using (target)
                            target.EnterOnCurrentThread();
                        visited++;
                        work(ns);
                    }
                    catch (Exception ex) when (ex is BpfException or IOException)
                    {
                        failed++;
                        logger.LogWarning("Socket termination in network namespace {Namespace} (process {Pid}) failed: {Error}", ns.Id, ns.Pid, ex.Message);
                    }
                    finally
                    {
                        origin.EnterOnCurrentThread();
                    }
                }
            }
            catch (Exception ex)
            {
                fatal = ex;
            }
        })
        {
            IsBackground = true,
            Name = "cgroup-lb netns visitor",
        };
        thread.Start();
        thread.Join();
        if (fatal is not null)
            throw new DatapathException("terminate", $"visiting network namespaces failed: {fatal.Message}", fatal);
        return (visited, failed);
    }
}
