using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Interop;

/// <summary>
/// Routes libbpf's diagnostics (libbpf_set_print), including verifier logs of rejected programs, to an ILogger:
/// LIBBPF_WARN to Warning, LIBBPF_INFO to Information, LIBBPF_DEBUG to Debug. libbpf's print hook is process-wide,
/// so the last installed logger wins.
/// </summary>
public static class LibbpfLog
{
    // Most messages fit; verifier logs do not and take a second, exactly-sized pass.
    private const int StackBufferSize = 1024;

    private static readonly Lock Gate = new();
    private static ILogger? s_logger;
    private static unsafe delegate* unmanaged<int, byte*, nint, int> s_previous;
    private static bool s_installed;

    /// <summary>Sends libbpf output to <paramref name="logger"/> from now on.</summary>
    public static unsafe void Install(ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        lock (Gate)
        {
            Volatile.Write(ref s_logger, logger);
            if (!s_installed)
            {
                s_previous = Interop.Libbpf.LibbpfSetPrint(&Print);
                s_installed = true;
            }
        }
    }

    /// <summary>Restores the print function that was active before the first <see cref="Install"/> (libbpf's stderr printer).</summary>
    public static unsafe void Uninstall()
    {
        lock (Gate)
        {
            if (s_installed)
            {
                Interop.Libbpf.LibbpfSetPrint(s_previous);
                s_installed = false;
            }

            Volatile.Write(ref s_logger, null);
        }
    }

    // Platform default calling convention, matching the generated delegate* unmanaged<...> (cdecl on Linux).
    [UnmanagedCallersOnly]
    private static unsafe int Print(int level, byte* format, nint arguments)
    {
        try
        {
            var logger = Volatile.Read(ref s_logger);
            var logLevel = (LibbpfPrintLevel)level switch
            {
                LibbpfPrintLevel.Warn => LogLevel.Warning,
                LibbpfPrintLevel.Info => LogLevel.Information,
                _ => LogLevel.Debug,
            };
            if (logger is null || !logger.IsEnabled(logLevel))
            {
                return 0;
            }

            var message = Format(format, arguments).TrimEnd('\n');
            if (message.Length > 0)
            {
                logger.Log(logLevel, "libbpf: {LibbpfMessage}", message);
            }

            return message.Length;
        }
        catch (Exception)
        {
            // An exception must not unwind into libbpf's C frames; a lost log line is the lesser harm.
            return 0;
        }
    }

    private static unsafe string Format(byte* format, nint arguments)
    {
        var copySize = VaListSize;
        if (copySize == 0)
        {
            // Unknown va_list layout: one pass only, so long messages are truncated.
            var buffer = stackalloc byte[StackBufferSize];
            Interop.Libc.Vsnprintf(buffer, StackBufferSize, format, arguments);
            return Marshal.PtrToStringUTF8((nint)buffer) ?? string.Empty;
        }

        // vsnprintf consumes its va_list, so the first pass formats from a copy (C's va_copy is a plain struct copy on
        // x86-64 and arm64) and a too-long message is formatted again from the original.
        var copy = stackalloc byte[copySize];
        Buffer.MemoryCopy((void*)arguments, copy, copySize, copySize);
        var small = stackalloc byte[StackBufferSize];
        var length = Interop.Libc.Vsnprintf(small, StackBufferSize, format, (nint)copy);
        if (length < 0)
        {
            return string.Empty;
        }

        if (length < StackBufferSize)
        {
            return Encoding.UTF8.GetString(small, length);
        }

        var large = ArrayPool<byte>.Shared.Rent(length + 1);
        try
        {
            fixed (byte* pointer = large)
            {
                var written = Interop.Libc.Vsnprintf(pointer, (nuint)(length + 1), format, arguments);
                return Encoding.UTF8.GetString(pointer, Math.Min(Math.Max(written, 0), length));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(large);
        }
    }

    private static int VaListSize => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 24, // struct __va_list_tag { unsigned gp_offset, fp_offset; void *overflow_arg_area, *reg_save_area; }
        Architecture.Arm64 => 32, // struct __va_list { void *__stack, *__gr_top, *__vr_top; int __gr_offs, __vr_offs; }
        _ => 0,
    };
}
