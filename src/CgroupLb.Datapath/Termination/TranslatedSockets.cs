using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Interop;

namespace CgroupLb.Datapath.Termination;

/// <summary>
/// User space's twin of sock_term_lb_translated() and sock_term_lb_translated6() in bpf/lib/sock_term.h, for the netlink path: did the LB connect
/// this socket (by cookie) to this backend, and from which frontend. The rule of <c>struct lb4_sk_frontend</c>: the
/// socket's storage entry answers when it names this backend; lb4_reverse_sk {cookie, backend} is asked only when
/// there is no entry (socket storage off) or the entry says more backends live there. Before all of them, lb4_sk_claim (struct
/// lb4_sk_claim) by cookie: a connected socket's own claimed entry is its latest translation. IPv6 the same, in the lb6
/// twins. The two change together.
/// </summary>
internal static class TranslatedSockets
{
    /// <param name="storageValue">The socket's lb4_sk_frontend value from the inet_diag dump; null when it has none.</param>
    /// <param name="claims">The pinned lb4_sk_claim; null under an agent that had none.</param>
    public static bool TryGetFrontend(BpfMapHandle reverse, BpfMapHandle? claims, ulong cookie, byte[]? storageValue, uint backendAddressBe, ushort backendPortBe,
        out Lb4ReverseSkValue frontend)
    {
        // First, as in the socket hooks: a connected socket's own claimed entry is its latest translation.
        if (FromClaim(claims, cookie, backendAddressBe, backendPortBe, out frontend))
            return true;
        switch (FromStorage(storageValue, backendAddressBe, backendPortBe, out frontend))
        {
            case StorageAnswer.Translated:
                return true;
            case StorageAnswer.NotTranslated:
                return false;
        }
        var key = new Lb4ReverseSkKey { Cookie = cookie, AddressBe = backendAddressBe, PortBe = backendPortBe };
        return reverse.TryLookup(key, out frontend);
    }

    /// <summary>
    /// The socket's entry in lb4_sk_claim (struct lb4_sk_claim, bpf/lib/sock_claim.h): its own when it holds the cookie
    /// (unmarked) and names this backend. The entry sits at the cookie's low bits; the map's size is a power of two.
    /// </summary>
    internal static bool FromClaim(BpfMapHandle? claims, ulong cookie, uint backendAddressBe, ushort backendPortBe, out Lb4ReverseSkValue frontend)
    {
        frontend = default;
        if (claims is null || cookie == 0)
            return false;
        uint index = (uint)cookie & (claims.Info.MaxEntries - 1);
        return claims.TryLookup(index, out Lb4SkClaim entry) && IsClaimOf(entry, cookie, backendAddressBe, backendPortBe, out frontend);
    }

    /// <summary>The rule of <see cref="FromClaim"/> for one entry.</summary>
    internal static bool IsClaimOf(in Lb4SkClaim entry, ulong cookie, uint backendAddressBe, ushort backendPortBe, out Lb4ReverseSkValue frontend)
    {
        frontend = default;
        if (entry.Cookie != cookie || entry.BackendAddressBe != backendAddressBe || entry.BackendPortBe != backendPortBe)
            return false;
        frontend = new Lb4ReverseSkValue { AddressBe = entry.FrontendAddressBe, PortBe = entry.FrontendPortBe, ServiceId = entry.ServiceId };
        return true;
    }

    /// <summary>What the socket's storage entry alone says; <see cref="StorageAnswer.AskReverseMap"/> when it cannot tell.</summary>
    internal static StorageAnswer FromStorage(byte[]? storageValue, uint backendAddressBe, ushort backendPortBe, out Lb4ReverseSkValue frontend)
    {
        frontend = default;
        if (storageValue is null)
            return StorageAnswer.AskReverseMap;
        if (storageValue.Length < Marshal.SizeOf<Lb4SkFrontend>())
            throw new DatapathException("socket termination", $"{MapNames.SocketFrontends}: socket storage value of {storageValue.Length} bytes, expected {Marshal.SizeOf<Lb4SkFrontend>()} (struct lb4_sk_frontend)");
        var known = MemoryMarshal.Read<Lb4SkFrontend>(storageValue);
        if (known.BackendAddressBe == backendAddressBe && known.BackendPortBe == backendPortBe)
        {
            frontend = new Lb4ReverseSkValue { AddressBe = known.FrontendAddressBe, PortBe = known.FrontendPortBe, ServiceId = known.ServiceId };
            return StorageAnswer.Translated;
        }
        return (known.Flags & Lb4SkFrontend.FlagMoreInReverseMap) != 0 ? StorageAnswer.AskReverseMap : StorageAnswer.NotTranslated;
    }

    /// <summary>The IPv6 twin of <see cref="TryGetFrontend"/>: lb6_sk_claim, then lb6_sk_frontend's rule, then lb6_reverse_sk.</summary>
    /// <param name="reverse">The pinned lb6_reverse_sk; null under an agent that had none, when only the storage can answer.</param>
    /// <param name="claims">The pinned lb6_sk_claim; null under an agent that had none.</param>
    public static bool TryGetFrontend6(BpfMapHandle? reverse, BpfMapHandle? claims, ulong cookie, byte[]? storageValue, Lb6Address backendAddress, ushort backendPortBe,
        out Lb6ReverseSkValue frontend)
    {
        if (FromClaim6(claims, cookie, backendAddress, backendPortBe, out frontend))
            return true;
        switch (FromStorage6(storageValue, backendAddress, backendPortBe, out frontend))
        {
            case StorageAnswer.Translated:
                return true;
            case StorageAnswer.NotTranslated:
                return false;
        }
        if (reverse is null)
            return false;
        var key = new Lb6ReverseSkKey { Cookie = cookie, Address = backendAddress, PortBe = backendPortBe };
        return reverse.TryLookup(key, out frontend);
    }

    /// <summary>The socket's entry in lb6_sk_claim, by the rule of <see cref="FromClaim"/>.</summary>
    internal static bool FromClaim6(BpfMapHandle? claims, ulong cookie, Lb6Address backendAddress, ushort backendPortBe, out Lb6ReverseSkValue frontend)
    {
        frontend = default;
        if (claims is null || cookie == 0)
            return false;
        uint index = (uint)cookie & (claims.Info.MaxEntries - 1);
        return claims.TryLookup(index, out Lb6SkClaim entry) && IsClaimOf6(entry, cookie, backendAddress, backendPortBe, out frontend);
    }

    /// <summary>The rule of <see cref="FromClaim6"/> for one entry.</summary>
    internal static bool IsClaimOf6(in Lb6SkClaim entry, ulong cookie, Lb6Address backendAddress, ushort backendPortBe, out Lb6ReverseSkValue frontend)
    {
        frontend = default;
        if (entry.Cookie != cookie || !entry.BackendAddress.Equals(backendAddress) || entry.BackendPortBe != backendPortBe)
            return false;
        frontend = new Lb6ReverseSkValue { Address = entry.FrontendAddress, PortBe = entry.FrontendPortBe, ServiceId = entry.ServiceId };
        return true;
    }

    /// <summary>What an IPv6 socket's lb6_sk_frontend entry alone says, by the same rule as IPv4's.</summary>
    internal static StorageAnswer FromStorage6(byte[]? storageValue, Lb6Address backendAddress, ushort backendPortBe, out Lb6ReverseSkValue frontend)
    {
        frontend = default;
        if (storageValue is null)
            return StorageAnswer.AskReverseMap;
        if (storageValue.Length < Marshal.SizeOf<Lb6SkFrontend>())
            throw new DatapathException("socket termination", $"{MapNames.SocketFrontends6}: socket storage value of {storageValue.Length} bytes, expected {Marshal.SizeOf<Lb6SkFrontend>()} (struct lb6_sk_frontend)");
        var known = MemoryMarshal.Read<Lb6SkFrontend>(storageValue);
        if (known.BackendAddress.Equals(backendAddress) && known.BackendPortBe == backendPortBe)
        {
            frontend = new Lb6ReverseSkValue { Address = known.FrontendAddress, PortBe = known.FrontendPortBe, ServiceId = known.ServiceId };
            return StorageAnswer.Translated;
        }
        return (known.Flags & Lb4SkFrontend.FlagMoreInReverseMap) != 0 ? StorageAnswer.AskReverseMap : StorageAnswer.NotTranslated;
    }

    internal enum StorageAnswer
    {
        AskReverseMap,
        Translated,
        NotTranslated,
    }
}
