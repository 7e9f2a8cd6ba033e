using System.Runtime.InteropServices;
namespace CgroupLb.Interop;

/// <summary>
/// A failed libbpf or bpf() call: which call, on which object, and the errno it returned. The message reads like
/// "bpf_map_update_elem on map lb4_services: E2BIG (Argument list too long)".
/// </summary>
public sealed class BpfException : Exception
{
    /// <summary>Creates the exception; <paramref name="errno"/> is positive (libbpf's negative returns are negated by the helpers).</summary>
    /// <param name="operation">The libbpf or syscall wrapper that failed, e.g. "bpf_object__load".</param>
    /// <param name="errno">Positive errno.</param>
    /// <param name="objectKind">"map", "program", "object", "link", "path"...; only used in the message.</param>
    /// <param name="objectName">The map/program/object name or pin path, if any.</param>
    /// <param name="detail">Extra context appended to the message.</param>
    public BpfException(string operation, int errno, string? objectKind = null, string? objectName = null, string? detail = null)
        : base(FormatMessage(operation, errno, objectKind, objectName, detail))
    {
        Operation = operation;
        Errno = (Errno)errno;
        ObjectKind = objectKind;
        ObjectName = objectName;
        HResult = errno;
    }

    /// <summary>The positive errno (or LIBBPF_ERRNO__* code); values without a name keep their number ((int)Errno).</summary>
    public Errno Errno { get; }

    /// <summary>The failing libbpf function, e.g. "bpf_map_update_elem".</summary>
    public string Operation { get; }

    /// <summary>What <see cref="ObjectName"/> names: "map", "program", "object", "link", "path".</summary>
    public string? ObjectKind { get; }

    /// <summary>Name of the map, program or object (or the path) the call was about.</summary>
    public string? ObjectName { get; }

    /// <summary>ENOENT: no such element, pin or object.</summary>
    public bool IsNotFound => Errno == Errno.ENOENT;

    /// <summary>EEXIST: the element, pin or attachment already exists.</summary>
    public bool IsAlreadyExists => Errno == Errno.EEXIST;

    /// <summary>The kernel lacks the feature (EOPNOTSUPP, the kernel-internal ENOTSUPP, or ENOSYS); callers may fall back.</summary>
    public bool IsNotSupported => Errno is Errno.EOPNOTSUPP or Errno.ENOTSUPP or Errno.ENOSYS;

    /// <summary>EPERM or EACCES: missing CAP_BPF/CAP_SYS_ADMIN, a locked-down kernel, or a verifier rejection (EACCES).</summary>
    public bool IsPermissionDenied => Errno is Errno.EPERM or Errno.EACCES;

    /// <summary>Returns <paramref name="result"/> when it is not negative; otherwise throws for errno <c>-result</c>.</summary>
    public static int ThrowIfNegative(int result, string operation, string? objectKind = null, string? objectName = null, string? detail = null)
    {
        if (result < 0)
        {
            throw new BpfException(operation, -result, objectKind, objectName, detail);
        }

        return result;
    }

    /// <summary>
    /// For libbpf functions returning an object pointer: returns <paramref name="pointer"/> when non-NULL, otherwise
    /// throws with the errno captured by the import (imports of such functions use SetLastError).
    /// </summary>
    public static nint ThrowIfNull(nint pointer, string operation, string? objectKind = null, string? objectName = null, string? detail = null)
    {
        if (pointer == 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new BpfException(operation, errno == 0 ? (int)Errno.EINVAL : errno, objectKind, objectName, detail);
        }

        return pointer;
    }

    /// <summary>"E2BIG (Argument list too long)" for an errno, using libbpf's text (which also knows LIBBPF_ERRNO__*).</summary>
    public static string Describe(int errno)
    {
        var name = Enum.IsDefined((Errno)errno) ? ((Errno)errno).ToString() : $"errno {errno}";
        return $"{name} ({Strerror(errno)})";
    }

    private static string FormatMessage(string operation, int errno, string? objectKind, string? objectName, string? detail)
    {
        var subject = objectName is null ? string.Empty : $" on {(objectKind is null ? string.Empty : objectKind + " ")}{objectName}";
        var suffix = string.IsNullOrEmpty(detail) ? string.Empty : $"; {detail}";
        return $"{operation}{subject}: {Describe(errno)}{suffix}";
    }

    private static unsafe string Strerror(int errno)
    {
        try
        {
            const int size = 256;
            var buffer = stackalloc byte[size];
            Interop.Libbpf.LibbpfStrerror(errno, buffer, size);
            return Marshal.PtrToStringUTF8((nint)buffer) ?? "unknown error";
        }
        catch (DllNotFoundException)
        {
            return "unknown error; libbpf.so.1 not loadable";
        }
    }
}
