using System.Runtime.InteropServices;
using CgroupLb.Manifests.Interop;

namespace CgroupLb.Manifests;

/// <summary>
/// What says a file may have changed without reading it: device, inode (a rename-and-write save or a ConfigMap symlink
/// swap gives a new one), size, and modification and change times in nanoseconds.
/// </summary>
internal readonly record struct ManifestFileStamp(uint DevMajor, uint DevMinor, ulong Inode, ulong Size, long ModifiedNs, long ChangedNs)
{
    /// <summary>Whether the file is a regular file (not a FIFO, socket or device, which are never read).</summary>
    public bool IsRegular { get; init; }

    /// <summary>Stats <paramref name="path"/>, following symlinks; null when it does not exist (or cannot be statted, errno in <paramref name="error"/>).</summary>
    public static ManifestFileStamp? Of(string path, out int error)
    {
        if (Libc.Statx(Libc.AT_FDCWD, path, 0, Libc.STATX_BASIC_STATS, out var buffer) != 0)
        {
            error = Marshal.GetLastPInvokeError();
            return null;
        }

        error = 0;
        return From(buffer);
    }

    /// <summary>Stats an open descriptor, so the stamp belongs to exactly the file that is read.</summary>
    public static ManifestFileStamp? Of(SafeHandle handle, out int error)
    {
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (Libc.Statx((int)handle.DangerousGetHandle(), "", Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, out var buffer) != 0)
            {
                error = Marshal.GetLastPInvokeError();
                return null;
            }

            error = 0;
            return From(buffer);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// True when the file was modified so shortly before <paramref name="now"/> that a later write in the same
    /// timestamp tick could leave size and times unchanged (the "racy git" problem); such a file is read again next time.
    /// </summary>
    public bool IsRacy(DateTimeOffset now) =>
        now.ToUnixTimeMilliseconds() * 1_000_000 - Math.Max(ModifiedNs, ChangedNs) < RacyWindowNs;

    private const long RacyWindowNs = 2_000_000_000;

    private static ManifestFileStamp From(in Libc.StatxBuffer buffer) =>
        new(buffer.DevMajor, buffer.DevMinor, buffer.Inode, buffer.Size,
            buffer.ModifyTime.Seconds * 1_000_000_000 + buffer.ModifyTime.Nanoseconds,
            buffer.ChangeTime.Seconds * 1_000_000_000 + buffer.ChangeTime.Nanoseconds)
        {
            IsRegular = (buffer.Mode & Libc.S_IFMT) == Libc.S_IFREG,
        };
}
