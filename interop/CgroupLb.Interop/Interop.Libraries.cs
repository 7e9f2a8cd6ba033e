namespace CgroupLb.Interop;

internal static partial class Interop
{
    internal static class Libraries
    {
        /// <summary>The libbpf 1.x ABI; 1.x returns -errno from int functions and NULL + errno from pointer functions.</summary>
        internal const string Libbpf = "libbpf.so.1";

        internal const string Libc = "libc";
    }
}
