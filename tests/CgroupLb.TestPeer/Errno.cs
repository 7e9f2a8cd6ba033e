using System.Net.Sockets;

namespace CgroupLb.TestPeer;

/// <summary>
/// Linux errno names for socket failures. Tests assert on the exact errno a BPF hook returned (ECONNREFUSED for an
/// empty service, ENETUNREACH for an untranslated VIP), and .NET's <see cref="SocketError"/> folds several errnos
/// into one value (EPERM and EACCES are both AccessDenied), so the name comes from the native errno.
/// </summary>
public static class Errno
{
    private static readonly Dictionary<int, string> NameByNumber = new()
    {
        [1] = "EPERM",
        [4] = "EINTR",
        [11] = "EAGAIN",
        [13] = "EACCES",
        [22] = "EINVAL",
        [89] = "EDESTADDRREQ",
        [90] = "EMSGSIZE",
        [97] = "EAFNOSUPPORT",
        [98] = "EADDRINUSE",
        [99] = "EADDRNOTAVAIL",
        [100] = "ENETDOWN",
        [101] = "ENETUNREACH",
        [103] = "ECONNABORTED",
        [104] = "ECONNRESET",
        [105] = "ENOBUFS",
        [107] = "ENOTCONN",
        [110] = "ETIMEDOUT",
        [111] = "ECONNREFUSED",
        [113] = "EHOSTUNREACH",
        [115] = "EINPROGRESS",
    };

    private static readonly Dictionary<SocketError, int> NumberBySocketError = new()
    {
        [SocketError.AccessDenied] = 13,
        [SocketError.Interrupted] = 4,
        [SocketError.WouldBlock] = 11,
        [SocketError.InvalidArgument] = 22,
        [SocketError.MessageSize] = 90,
        [SocketError.AddressFamilyNotSupported] = 97,
        [SocketError.AddressAlreadyInUse] = 98,
        [SocketError.AddressNotAvailable] = 99,
        [SocketError.NetworkDown] = 100,
        [SocketError.NetworkUnreachable] = 101,
        [SocketError.ConnectionAborted] = 103,
        [SocketError.ConnectionReset] = 104,
        [SocketError.NoBufferSpaceAvailable] = 105,
        [SocketError.NotConnected] = 107,
        [SocketError.TimedOut] = 110,
        [SocketError.ConnectionRefused] = 111,
        [SocketError.HostUnreachable] = 113,
    };

    // Linux errnos stay below 4096 (MAX_ERRNO); SocketError values start at 10000.
    private const int MaxErrno = 4096;

    public static string NameOf(int errno) =>
        NameByNumber.TryGetValue(errno, out string? name) ? name : $"errno{errno}";

    /// <summary>The errno for a <see cref="SocketError"/> .NET reports without one (SO_ERROR read through GetSocketOption).</summary>
    public static int NumberOf(SocketError error) =>
        NumberBySocketError.TryGetValue(error, out int errno) ? errno : (int)error;

    /// <summary>
    /// The errno behind a socket exception. On Linux .NET reports the raw errno as <see cref="SocketException.NativeErrorCode"/>;
    /// the <see cref="SocketError"/> mapping is only a fallback for exceptions .NET raised without one.
    /// </summary>
    public static int NumberOf(SocketException exception)
    {
        if (exception.NativeErrorCode is > 0 and < MaxErrno)
            return exception.NativeErrorCode;
        return NumberBySocketError.TryGetValue(exception.SocketErrorCode, out int errno) ? errno : exception.NativeErrorCode;
    }
}
