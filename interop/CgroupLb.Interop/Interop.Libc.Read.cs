using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

internal static partial class Interop
{
    internal static partial class Libc
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "read", SetLastError = true)]
        internal static unsafe partial nint Read(int fd, void* buffer, nuint count);
    }
}
