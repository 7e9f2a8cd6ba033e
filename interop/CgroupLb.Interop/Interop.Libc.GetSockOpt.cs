using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int AF_UNIX = 1;
        internal const int SOCK_DGRAM = 2;
        internal const int SOL_SOCKET = 1;
        /// <summary>The cookie of the socket's network namespace, a __u64 (Linux 5.14+; older kernels answer ENOPROTOOPT).</summary>
        internal const int SO_NETNS_COOKIE = 71;

        [LibraryImport(Libraries.Libc, EntryPoint = "getsockopt", SetLastError = true)]
        internal static unsafe partial int GetSockOpt(int fd, int level, int name, void* value, uint* length);
    }
}
