using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using CgroupLb.Datapath.Abi;
using CgroupLb.Interop;

namespace CgroupLb.Benchmarks.Kernel;

/// <summary>
/// The syscall cost the batched writer avoids: N new lb4_backends_v2 entries written one bpf(BPF_MAP_UPDATE_ELEM) each,
/// against one bpf(BPF_MAP_UPDATE_BATCH). Every iteration writes freed ids (cleared in IterationSetup, outside the
/// measurement). The backend maps are arrays, so neither side allocates: the difference is the syscalls alone. The
/// same for lb6_backends_v2, whose values carry 16-byte addresses. (Before the backend maps became arrays both sides
/// also paid the allocation of N hash elements: bench/README.md.)
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
[IterationCount(15)]
public class MapWriteBenchmarks
{
    private BenchmarkMaps? maps;
    private uint[] keys = [];
    private Lb4Backend[] values = [];
    private Lb6Backend[] values6 = [];

    [Params(1_000, 10_000, 100_000)]
    public int Entries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        KernelRequirement.Demand(nameof(MapWriteBenchmarks));
        maps = BenchmarkMaps.Create();
        keys = new uint[Entries];
        values = new Lb4Backend[Entries];
        values6 = new Lb6Backend[Entries];
        for (int i = 0; i < Entries; i++)
        {
            keys[i] = (uint)i + 1;
            values[i] = Lb4Backend.Create(new System.Net.IPAddress([198, 18, (byte)(i >> 8), (byte)i]), 8080, 6);
            values6[i] = Lb6Backend.Create(new System.Net.IPAddress([0x20, 0x01, 0x0d, 0xb8, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, (byte)(i >> 16), (byte)(i >> 8), (byte)i]), 8080, 6);
        }
    }

    [IterationSetup]
    public void EmptyMap()
    {
        maps!.Maps.DeleteBackends(keys);
        maps.Maps.DeleteBackends6(keys);
    }

    [Benchmark(Baseline = true, Description = "lb4_backends_v2: one update syscall per entry")]
    public int OnePerSyscall()
    {
        var map = maps!.BackendHandle;
        for (int i = 0; i < keys.Length; i++)
            map.Update(in keys[i], in values[i], BpfUpdateFlags.Any);
        return keys.Length;
    }

    [Benchmark(Description = "lb4_backends_v2: one update batch")]
    public int OneBatch() =>
        maps!.BackendHandle.UpdateBatch(MemoryMarshal.AsBytes(keys.AsSpan()), MemoryMarshal.AsBytes(values.AsSpan()), keys.Length, BpfUpdateFlags.Any);

    // The IPv6 twins: the same ids (one id space), 20-byte values instead of 8.
    [Benchmark(Description = "lb6_backends_v2: one update syscall per entry")]
    public int OnePerSyscall6()
    {
        var map = maps!.BackendHandle6;
        for (int i = 0; i < keys.Length; i++)
            map.Update(in keys[i], in values6[i], BpfUpdateFlags.Any);
        return keys.Length;
    }

    [Benchmark(Description = "lb6_backends_v2: one update batch")]
    public int OneBatch6() =>
        maps!.BackendHandle6.UpdateBatch(MemoryMarshal.AsBytes(keys.AsSpan()), MemoryMarshal.AsBytes(values6.AsSpan()), keys.Length, BpfUpdateFlags.Any);

    [GlobalCleanup]
    public void Cleanup()
    {
        maps?.Dispose();
        maps = null;
    }
}
