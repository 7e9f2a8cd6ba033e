using CgroupLb.Manifests.Interop;
using Microsoft.Win32.SafeHandles;

namespace CgroupLb.Manifests;

/// <summary>
/// Reads one manifest file's bytes defensively: opened non-blocking (a FIFO put in place of a file must not hang the
/// agent), checked to be a regular file on the open descriptor, and refused above a size limit before anything is read.
/// </summary>
internal static class ManifestFileContent
{
    /// <summary>The outcome: <see cref="Bytes"/> and <see cref="Stamp"/>, or <see cref="Skipped"/> / <see cref="Error"/> saying why not.</summary>
    public readonly record struct Result(byte[]? Bytes, ManifestFileStamp? Stamp, string? Skipped, string? Error, bool Vanished);

    public static Result Read(string path, long maxBytes)
    {
        var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            return errno == 2 /* ENOENT */
                ? new Result(null, null, null, null, Vanished: true)
                : new Result(null, null, null, $"cannot read: {ErrnoText(errno)}", false);
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (ManifestFileStamp.Of(handle, out var statError) is not { } stamp)
        {
            return new Result(null, null, null, $"cannot read: {ErrnoText(statError)}", false);
        }

        if (!stamp.IsRegular)
        {
            return new Result(null, stamp, "is not a regular file (a FIFO, socket or device); skipped", null, false);
        }

        if ((long)stamp.Size > maxBytes)
        {
            return new Result(null, stamp, null, $"is {stamp.Size} bytes, more than the limit of {maxBytes} bytes; not read", false);
        }

        // The size may change while we read: read to the end, but never past the limit.
        // Every byte is read into before it is looked at: no need to clear a buffer of many megabytes first.
        var buffer = GC.AllocateUninitializedArray<byte>((int)stamp.Size);
        var total = 0;
        Span<byte> probe = stackalloc byte[1];
        try
        {
            while (true)
            {
                if (total == buffer.Length)
                {
                    // Nearly always the file is as large as its stamp said: one byte tells, so the buffer is not doubled
                    // (and then cut to size) for nothing; that was three more copies of a 16 MB file at 10k Services.
                    if (RandomAccess.Read(handle, probe, total) == 0)
                    {
                        break;
                    }

                    if (buffer.Length >= maxBytes + 1)
                    {
                        return new Result(null, stamp, null, $"grew past the limit of {maxBytes} bytes while being read; not read", false);
                    }

                    Array.Resize(ref buffer, (int)Math.Min(maxBytes + 1, Math.Max(4096, (long)buffer.Length * 2)));
                    buffer[total++] = probe[0];
                    continue;
                }

                var read = RandomAccess.Read(handle, buffer.AsSpan(total), total);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }
        }
        catch (IOException e)
        {
            return new Result(null, stamp, null, $"cannot read: {e.Message}", false);
        }

        if (total > maxBytes)
        {
            return new Result(null, stamp, null, $"grew past the limit of {maxBytes} bytes while being read; not read", false);
        }

        return new Result(total == buffer.Length ? buffer : buffer[..total], stamp, null, null, false);
    }

    private static string ErrnoText(int errno) => errno switch
    {
        13 => "Permission denied",
        21 => "Is a directory",
        _ => $"errno {errno}",
    };
}
