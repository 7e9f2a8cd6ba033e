namespace CgroupLb.Interop.Tests;

/// <summary>
/// Reading a socket-storage value out of an inet_diag reply's attributes, laid out as the kernel writes them
/// (bpf_sk_storage_diag_put: nested, NLA_F_NESTED set, a pad attribute before the 64-bit aligned value).
/// </summary>
public sealed class SockDiagStorageParserTests
{
    private const ushort Nested = 0x8000;

    private static byte[] Attribute(ushort type, params byte[][] payload)
    {
        byte[] body = payload.SelectMany(p => p).ToArray();
        var bytes = new byte[(4 + body.Length + 3) & ~3];
        BitConverter.TryWriteBytes(bytes.AsSpan(0), (ushort)(4 + body.Length));
        BitConverter.TryWriteBytes(bytes.AsSpan(2), type);
        body.CopyTo(bytes, 4);
        return bytes;
    }

    private static byte[] Storage(uint mapId, byte[] value) =>
        Attribute(1 | Nested, Attribute(2, BitConverter.GetBytes(mapId)), Attribute(1), Attribute(3, value));

    [Fact]
    public void TheValueOfTheAskedMapIsFoundAmongOtherAttributes()
    {
        byte[] value = Enumerable.Range(1, 20).Select(i => (byte)i).ToArray();
        byte[] reply = [.. Attribute(10, [6]), .. Attribute(20 | Nested, Storage(41, new byte[20]), Storage(42, value))];

        Assert.Equal(value, SockDiagSocket.FindStorageValue(reply, 42));
    }

    [Fact]
    public void ASocketWithoutStorageOrWithAnotherMapOnlyHasNoValue()
    {
        Assert.Null(SockDiagSocket.FindStorageValue(Attribute(10, [6]), 42));
        Assert.Null(SockDiagSocket.FindStorageValue(Attribute(20 | Nested, Storage(41, new byte[20])), 42));
        Assert.Null(SockDiagSocket.FindStorageValue([], 42));
    }

    [Fact]
    public void ATruncatedAttributeEndsTheWalkWithoutReadingPastIt()
    {
        byte[] reply = Attribute(20 | Nested, Storage(42, new byte[20]));
        Assert.Null(SockDiagSocket.FindStorageValue(reply.AsSpan(0, reply.Length - 8), 42));
    }
}
