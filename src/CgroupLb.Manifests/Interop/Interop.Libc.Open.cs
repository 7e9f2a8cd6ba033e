using System.Runtime.InteropServices;

namespace CgroupLb.Manifests.Interop;

internal static partial class Libc
{
    /// <summary>open(2); with O_NONBLOCK a FIFO without a writer opens at once instead of blocking the reader forever.</summary>
    [LibraryImport(Library, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Open(string path, int flags);
}
