using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int F_DUPFD_CLOEXEC = 1030;

        /// <summary>
        /// <c>int fcntl(int fd, int cmd, ...)</c> with one int argument; an int variadic argument is passed like a
        /// fixed one on x86-64 and arm64 Linux.
        /// </summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "fcntl", SetLastError = true)]
        internal static partial int Fcntl(int fd, int command, int argument);
    }
}
