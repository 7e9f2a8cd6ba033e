using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

internal static partial class Interop
{
    internal static partial class Libc
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "recv", SetLastError = true)]
        internal static unsafe partial nint Recv(int fd, void* buffer, nuint length, int flags);
    }
}
