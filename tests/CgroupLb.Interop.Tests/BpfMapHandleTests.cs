using System.Runtime.InteropServices;

namespace CgroupLb.Interop.Tests;

public sealed class BpfMapHandleTests
{
    [StructLayout(LayoutKind.Sequential)]
    private record struct ServiceKey(uint Address, ushort Port, ushort Slot);

    [StructLayout(LayoutKind.Sequential)]
    private record struct ServiceValue(uint BackendId, ushort Count, ushort Flags);

    [SkippableFact]
    public void HashMapElementOperationsPinningAndReopen()
    {
        TestEnvironment.RequireRoot("creates BPF maps and pins them in /sys/fs/bpf");
        using var bpffs = new BpffsFixture("hash");
        var pinPath = Path.Combine(bpffs.Path, "services");

        using (var map = BpfMapHandle.Create(BpfMapType.Hash, "cglb_test_svc", 8, 8, 64))
        {
            Assert.Equal(new BpfMapInfo(BpfMapType.Hash, map.Info.Id, 8, 8, 64, 0, "cglb_test_svc"), map.Info);
            var first = new ServiceKey(0x0a000001, 80, 0);
            var second = new ServiceKey(0x0a000002, 443, 0);

            Assert.False(map.TryLookup(first, out ServiceValue _));
            map.Update(first, new ServiceValue(7, 2, 0), BpfUpdateFlags.NoExist);
            map.Update(second, new ServiceValue(9, 1, 0), BpfUpdateFlags.Any);
            Assert.True(map.TryLookup(first, out ServiceValue value));
            Assert.Equal(new ServiceValue(7, 2, 0), value);

            var duplicate = Assert.Throws<BpfException>(() => map.Update(first, new ServiceValue(8, 1, 0), BpfUpdateFlags.NoExist));
            Assert.True(duplicate.IsAlreadyExists);
            Assert.Contains("bpf_map_update_elem on map cglb_test_svc: EEXIST", duplicate.Message);
            var missing = Assert.Throws<BpfException>(() => map.Update(new ServiceKey(1, 1, 1), new ServiceValue(1, 1, 1), BpfUpdateFlags.Exist));
            Assert.True(missing.IsNotFound);

            Assert.Equal([first, second], map.Keys<ServiceKey>().OrderBy(k => k.Address));
            Span<byte> next = stackalloc byte[8];
            Assert.True(map.TryGetNextKey(ReadOnlySpan<byte>.Empty, next));

            Assert.True(map.Delete(second));
            Assert.False(map.Delete(second));
            Assert.Equal([first], map.Keys<ServiceKey>());

            map.Pin(pinPath);
        }

        // The pin alone keeps the map alive after its last fd closed.
        using (var reopened = BpfMapHandle.OpenPinned(pinPath))
        {
            Assert.Equal("cglb_test_svc", reopened.Name);
            Assert.Equal(BpfMapType.Hash, reopened.Info.Type);
            Assert.True(reopened.TryLookup(new ServiceKey(0x0a000001, 80, 0), out ServiceValue value));
            Assert.Equal(7u, value.BackendId);
        }

        File.Delete(pinPath);
        Assert.Throws<BpfException>(() => BpfMapHandle.OpenPinned(pinPath));
    }

    [SkippableFact]
    public void BatchUpdateAndDeleteReportHowManyElementsWereProcessed()
    {
        TestEnvironment.RequireRoot("creates BPF maps");
        using var map = BpfMapHandle.Create(BpfMapType.Hash, "cglb_test_batch", 4, 8, 16);
        const int count = 10;
        var keys = new uint[count];
        var values = new ulong[count];
        for (var i = 0; i < count; i++)
        {
            keys[i] = (uint)(100 + i);
            values[i] = (ulong)i * 1000;
        }

        var written = map.UpdateBatch(MemoryMarshal.AsBytes(keys.AsSpan()), MemoryMarshal.AsBytes(values.AsSpan()), count, BpfUpdateFlags.Any);

        Assert.Equal(count, written);
        Assert.Equal(keys.Order(), map.Keys<uint>().Order());
        Assert.True(map.TryLookup(105u, out ulong fifth));
        Assert.Equal(5000ul, fifth);

        var readKeys = new uint[count];
        var readValues = new ulong[count];
        byte[]? cursor = null;
        var read = map.LookupBatch(ref cursor, MemoryMarshal.AsBytes(readKeys.AsSpan()), MemoryMarshal.AsBytes(readValues.AsSpan()), count);
        Assert.Equal(count, read);
        Assert.Equal(keys.Order(), readKeys.Order());
        Assert.All(Enumerable.Range(0, count), i => Assert.Equal((readKeys[i] - 100) * 1000ul, readValues[i]));

        var deleted = map.DeleteBatch(MemoryMarshal.AsBytes(keys.AsSpan(0, 4)), 4);
        Assert.Equal(4, deleted);
        Assert.Equal(count - 4, map.Keys<uint>().Count());

        // Deleting keys that are gone stops the batch: the error says how far it got.
        var failure = Assert.Throws<BpfException>(() => map.DeleteBatch(MemoryMarshal.AsBytes(keys.AsSpan(0, 4)), 4));
        Assert.True(failure.IsNotFound);
        Assert.Contains("0 of 4 elements deleted", failure.Message);
    }

    [SkippableFact]
    public void PerCpuLookupReturnsOneValuePerPossibleCpu()
    {
        TestEnvironment.RequireRoot("creates BPF maps");
        using var map = BpfMapHandle.Create(BpfMapType.PercpuArray, "cglb_test_pcpu", 4, 4, 2);
        var cpus = BpfMapHandle.PossibleCpus;
        Assert.True(cpus > 0);

        // Each CPU slot is the 4-byte value rounded up to 8 bytes.
        var raw = new byte[8 * cpus];
        for (var cpu = 0; cpu < cpus; cpu++)
        {
            BitConverter.TryWriteBytes(raw.AsSpan(cpu * 8, 4), (uint)(cpu + 1) * 11);
        }

        map.Update(MemoryMarshal.AsBytes([1u]), raw, BpfUpdateFlags.Any);
        var perCpu = new uint[cpus];

        Assert.True(map.TryLookupPerCpu(1u, perCpu.AsSpan()));
        Assert.Equal(Enumerable.Range(1, cpus).Select(c => (uint)c * 11), perCpu);
        Assert.Throws<ArgumentException>(() => map.TryLookup(1u, out uint _));
    }

    [SkippableFact]
    public void MismatchedStructSizesAreRejectedBeforeTheSyscall()
    {
        TestEnvironment.RequireRoot("creates BPF maps");
        using var map = BpfMapHandle.Create(BpfMapType.Array, "cglb_test_size", 4, 8, 1);

        var exception = Assert.Throws<ArgumentException>(() => map.Update(0u, 1u, BpfUpdateFlags.Any));

        Assert.Contains("map cglb_test_size: value is 4 bytes, the map needs 8", exception.Message);
    }
}
