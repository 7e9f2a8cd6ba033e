namespace CgroupLb.Manifests.Interop;

internal static partial class Libc
{
    public const string Library = "libc";

    public const int AT_FDCWD = -100;
    public const int AT_EMPTY_PATH = 0x1000;
    public const uint STATX_BASIC_STATS = 0x7ff;

    public const int O_RDONLY = 0;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;

    public const ushort S_IFMT = 0xf000;
    public const ushort S_IFREG = 0x8000;
    public const ushort S_IFDIR = 0x4000;
}
