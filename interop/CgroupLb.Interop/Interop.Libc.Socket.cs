using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int AF_NETLINK = 16;
        internal const int SOCK_RAW = 3;
        internal const int SOCK_CLOEXEC = 0x80000;

        /// <summary><c>int socket(int domain, int type, int protocol)</c>; the socket belongs to the calling thread's network namespace.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "socket", SetLastError = true)]
        internal static partial int Socket(int domain, int type, int protocol);
    }
}
