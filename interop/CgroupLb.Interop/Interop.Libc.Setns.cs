using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int CLONE_NEWNET = 0x40000000;

        /// <summary><c>int setns(int fd, int nstype)</c>: moves the calling thread, not the process, into the namespace.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "setns", SetLastError = true)]
        internal static partial int Setns(int fd, int nstype);
    }
}
