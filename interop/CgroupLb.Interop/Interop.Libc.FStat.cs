using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>
        /// Larger than struct stat on every Linux ABI (144 bytes on x86-64, 128 on arm64). Only st_dev and st_ino are
        /// read: both are 64-bit and lead the struct (offsets 0 and 8) on x86-64 and on the generic layout arm64 uses.
        /// </summary>
        internal const int StatBufferSize = 256;

        [LibraryImport(Libraries.Libc, EntryPoint = "fstat", SetLastError = true)]
        internal static unsafe partial int FStat(int fd, byte* buffer);
    }
}
