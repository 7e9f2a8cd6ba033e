using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int O_RDONLY = 0;
        internal const int O_CLOEXEC = 0x80000;

        /// <summary>O_DIRECTORY differs between architectures (asm-generic uses 0x10000; arm and arm64 use 0x4000).</summary>
        internal static int O_DIRECTORY => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x4000 : 0x10000;

        /// <summary>
        /// <c>int open(const char *path, int flags, ...)</c> bound without the variadic mode: it is only read with
        /// O_CREAT/O_TMPFILE, and on the Linux ABIs .NET runs on a call without variadic arguments is a plain call.
        /// </summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Open(string path, int flags);
    }
}
