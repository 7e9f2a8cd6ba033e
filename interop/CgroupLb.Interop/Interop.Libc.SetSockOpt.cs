using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>struct timeval: how long a blocking recv() waits before it fails with EAGAIN.</summary>
        internal const int SO_RCVTIMEO = 20;

        [LibraryImport(Libraries.Libc, EntryPoint = "setsockopt", SetLastError = true)]
        internal static unsafe partial int SetSockOpt(int fd, int level, int name, void* value, uint length);
    }
}
