using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>cgroup2's superblock magic (linux/magic.h CGROUP2_SUPER_MAGIC).</summary>
        internal const long CGROUP2_SUPER_MAGIC = 0x63677270;

        /// <summary>
        /// Larger than struct statfs on every Linux ABI (120 bytes on x86-64 and arm64). Only f_type, the first
        /// field (a long), is read, so the rest of the layout need not be mirrored.
        /// </summary>
        internal const int StatFsBufferSize = 256;

        [LibraryImport(Libraries.Libc, EntryPoint = "fstatfs", SetLastError = true)]
        internal static unsafe partial int FStatFs(int fd, byte* buffer);
    }
}
