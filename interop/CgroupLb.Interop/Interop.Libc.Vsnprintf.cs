using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>
        /// <c>int vsnprintf(char *str, size_t size, const char *format, va_list ap)</c>. A va_list arrives in a C
        /// callback as a pointer (an array type on x86-64, a by-reference aggregate on arm64), so it is passed on as one.
        /// </summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "vsnprintf")]
        internal static unsafe partial int Vsnprintf(byte* buffer, nuint size, byte* format, nint arguments);
    }
}
