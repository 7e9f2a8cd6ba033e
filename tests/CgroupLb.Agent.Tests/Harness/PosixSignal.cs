using System.ComponentModel;
using System.Runtime.InteropServices;

namespace CgroupLb.Agent.Tests.Harness;

/// <summary>kill(2) with SIGTERM: Process.Kill only sends SIGKILL, and the agent's graceful stop is what is tested.</summary>
internal static partial class PosixSignal
{
    private const int SigTerm = 15;

    public static void Terminate(int pid)
    {
        if (Kill(pid, SigTerm) != 0)
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"kill({pid}, SIGTERM)");
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
