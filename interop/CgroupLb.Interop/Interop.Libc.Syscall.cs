using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // x86_64 and arm64 share these numbers (the unified syscall table from 5.1 on).
        internal const nint SYS_pidfd_open = 434;
        internal const nint SYS_pidfd_getfd = 438;

        /// <summary><c>long syscall(long number, ...)</c> for the three-argument calls glibc 2.36 has no wrapper for.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
        internal static partial nint Syscall(nint number, nint arg1, nint arg2, nint arg3);
    }
}
