using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using static CgroupLb.Datapath.Termination.TranslatedSockets;

namespace CgroupLb.Datapath.Tests;

/// <summary>
/// The socket-storage and claimed-entry halves of "did the LB translate this socket to backend B" (the rules of struct
/// lb4_sk_frontend and struct lb4_sk_claim), as the netlink termination path applies them to an inet_diag dump; the
/// iterator's twin is sock_term_lb_translated().
/// </summary>
public sealed class TranslatedSocketsTests
{
    private const uint B1 = 0x0a0012c6, B2 = 0x0b0012c6, Vip = 0x0a6433c6; // be32 198.18.0.10, 198.18.0.11, 198.51.100.10
    private const ushort Port = 0x3500, VipPort = 0x3500;                   // be16 53

    private static byte[] Storage(uint backend, byte flags = 0, uint generation = 0)
    {
        var value = new Lb4SkFrontend
        {
            BackendAddressBe = backend, BackendPortBe = Port, FrontendAddressBe = Vip, FrontendPortBe = VipPort, ServiceId = 7, Flags = flags,
            GenerationHi = (byte)(generation >> 16), GenerationLo = (ushort)generation,
        };
        return MemoryMarshal.AsBytes(new ReadOnlySpan<Lb4SkFrontend>(ref value)).ToArray();
    }

    [Fact]
    public void TheEntryNamingTheBackendAnswersWithItsFrontend()
    {
        Assert.Equal(StorageAnswer.Translated, FromStorage(Storage(B1), B1, Port, out var frontend));
        Assert.Equal((Vip, VipPort, 7u), (frontend.AddressBe, frontend.PortBe, frontend.ServiceId));
    }

    [Fact]
    public void AnEntryNamingAnotherBackendSaysNotTranslatedUnlessMoreLiveInTheReverseMap()
    {
        Assert.Equal(StorageAnswer.NotTranslated, FromStorage(Storage(B2), B1, Port, out _));
        Assert.Equal(StorageAnswer.NotTranslated, FromStorage(Storage(B1), B1, (ushort)(Port + 1), out _));
        Assert.Equal(StorageAnswer.AskReverseMap, FromStorage(Storage(B2, Lb4SkFrontend.FlagMoreInReverseMap), B1, Port, out _));
        // The reuse generation shares the word with the flags: its bits are no flag.
        Assert.Equal(StorageAnswer.NotTranslated, FromStorage(Storage(B2, generation: 0xfffffe), B1, Port, out _));
        Assert.Equal(0xfffffeu, MemoryMarshal.Read<Lb4SkFrontend>(Storage(B2, generation: 0xfffffe)).Generation);
    }

    [Fact]
    public void AClaimedEntryAnswersOnlyForItsOwnUnmarkedCookieAndItsBackend()
    {
        const ulong cookie = 0x1_0000_0005;
        var entry = new Lb4SkClaim
        {
            Cookie = cookie, Owner = 0xffff888012345600, BackendAddressBe = B1, BackendPortBe = Port,
            FrontendAddressBe = Vip, FrontendPortBe = VipPort, ServiceId = 7,
        };
        Assert.True(IsClaimOf(entry, cookie, B1, Port, out var frontend));
        Assert.Equal((Vip, VipPort, 7u), (frontend.AddressBe, frontend.PortBe, frontend.ServiceId));
        // Another socket whose cookie shares the low bits (the entry's index), another backend or port, an entry being written.
        Assert.False(IsClaimOf(entry, cookie + (1UL << 18), B1, Port, out _));
        Assert.False(IsClaimOf(entry, cookie, B2, Port, out _));
        Assert.False(IsClaimOf(entry, cookie, B1, (ushort)(Port + 1), out _));
        Assert.False(IsClaimOf(entry with { Cookie = cookie | Lb4SkClaim.Writing }, cookie, B1, Port, out _));
        Assert.False(FromClaim(null, cookie, B1, Port, out _));
    }

    [Fact]
    public void NoEntryLeavesTheAnswerToTheReverseMap()
    {
        Assert.Equal(StorageAnswer.AskReverseMap, FromStorage(null, B1, Port, out var frontend));
        Assert.Equal(default, frontend);
    }

    [Fact]
    public void AValueShorterThanTheStructIsAnErrorNamingTheMap()
    {
        var ex = Assert.Throws<DatapathException>(() => FromStorage(new byte[12], B1, Port, out _));
        Assert.Contains("lb4_sk_frontend", ex.Message);
    }
}

/// <summary>The IPv6 twin: the rules of struct lb6_sk_frontend and struct lb6_sk_claim, as sock_term_lb_translated6() applies them.</summary>
public sealed class TranslatedSockets6Tests
{
    private static readonly Lb6Address B1 = Lb6Address.Create(System.Net.IPAddress.Parse("2001:db8:18:1::2"));
    private static readonly Lb6Address B2 = Lb6Address.Create(System.Net.IPAddress.Parse("2001:db8:18:2::2"));
    private static readonly Lb6Address Vip = Lb6Address.Create(System.Net.IPAddress.Parse("2001:db8:100::53"));
    private const ushort Port = 0x3500;

    private static byte[] Storage(Lb6Address backend, ushort flags = 0)
    {
        var value = new Lb6SkFrontend { BackendAddress = backend, BackendPortBe = Port, FrontendAddress = Vip, FrontendPortBe = Port, ServiceId = 9, Flags = flags };
        return MemoryMarshal.AsBytes(new ReadOnlySpan<Lb6SkFrontend>(ref value)).ToArray();
    }

    [Fact]
    public void TheEntryNamingTheBackendAnswersWithItsFrontend()
    {
        Assert.Equal(StorageAnswer.Translated, FromStorage6(Storage(B1), B1, Port, out var frontend));
        Assert.Equal((Vip, Port, 9u), (frontend.Address, frontend.PortBe, frontend.ServiceId));
    }

    [Fact]
    public void AnEntryNamingAnotherBackendSaysNotTranslatedUnlessMoreLiveInTheReverseMap()
    {
        Assert.Equal(StorageAnswer.NotTranslated, FromStorage6(Storage(B2), B1, Port, out _));
        Assert.Equal(StorageAnswer.AskReverseMap, FromStorage6(Storage(B2, Lb4SkFrontend.FlagMoreInReverseMap), B1, Port, out _));
        Assert.Equal(StorageAnswer.AskReverseMap, FromStorage6(null, B1, Port, out _));
    }

    [Fact]
    public void AClaimedEntryAnswersOnlyForItsOwnUnmarkedCookieAndItsBackend()
    {
        const ulong cookie = 0x2_0000_0009;
        var entry = new Lb6SkClaim
        {
            Cookie = cookie, Owner = 0xffff888012345600, BackendAddress = B1, BackendPortBe = Port,
            FrontendAddress = Vip, FrontendPortBe = Port, ServiceId = 9,
        };
        Assert.True(IsClaimOf6(entry, cookie, B1, Port, out var frontend));
        Assert.Equal((Vip, Port, 9u), (frontend.Address, frontend.PortBe, frontend.ServiceId));
        Assert.False(IsClaimOf6(entry, cookie + (1UL << 18), B1, Port, out _));
        Assert.False(IsClaimOf6(entry, cookie, B2, Port, out _));
        Assert.False(IsClaimOf6(entry, cookie, B1, (ushort)(Port + 1), out _));
        Assert.False(IsClaimOf6(entry with { Cookie = cookie | Lb4SkClaim.Writing }, cookie, B1, Port, out _));
        Assert.False(FromClaim6(null, cookie, B1, Port, out _));
    }

    [Fact]
    public void WithoutAReverseMapOnlyTheStorageCanAnswer()
    {
        Assert.False(TryGetFrontend6(null, null, 1, null, B1, Port, out _));
        Assert.True(TryGetFrontend6(null, null, 1, Storage(B1), B1, Port, out var frontend));
        Assert.Equal(Vip, frontend.Address);
    }

    [Fact]
    public void AValueShorterThanTheStructIsAnErrorNamingTheMap()
    {
        var ex = Assert.Throws<DatapathException>(() => FromStorage6(new byte[40], B1, Port, out _));
        Assert.Contains("lb6_sk_frontend", ex.Message);
    }
}
