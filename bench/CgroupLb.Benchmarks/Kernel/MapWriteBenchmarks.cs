using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using CgroupLb.Datapath.Abi;
using CgroupLb.Interop;

namespace CgroupLb.Benchmarks.Kernel;

/// <summary>
/// The syscall cost the batched writer avoids: N new lb4_backends entries written one bpf(BPF_MAP_UPDATE_ELEM) each,
/// against one bpf(BPF_MAP_UPDATE_BATCH). Every iteration inserts into an empty map (emptied in IterationSetup, outside
/// the measurement), so both sides pay the same allocation of N hash elements.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
[IterationCount(15)]
public class MapWriteBenchmarks
{
    private BenchmarkMaps? maps;
    private uint[] keys = [];
    private Lb4Backend[] values = [];

    [Params(1_000, 10_000, 100_000)]
    public int Entries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        KernelRequirement.Demand(nameof(MapWriteBenchmarks));
        maps = BenchmarkMaps.Create();
        keys = new uint[Entries];
        values = new Lb4Backend[Entries];
        for (int i = 0; i < Entries; i++)
        {
            keys[i] = (uint)i + 1;
            values[i] = Lb4Backend.Create(new System.Net.IPAddress([198, 18, (byte)(i >> 8), (byte)i]), 8080, 6);
        }
    }

    [IterationSetup]
    public void EmptyMap() => maps!.Maps.DeleteBackends(keys);

    [Benchmark(Baseline = true, Description = "lb4_backends: one update syscall per entry")]
    public int OnePerSyscall()
    {
        var map = maps!.BackendHandle;
        for (int i = 0; i < keys.Length; i++)
            map.Update(in keys[i], in values[i], BpfUpdateFlags.Any);
        return keys.Length;
    }

    [Benchmark(Description = "lb4_backends: one update batch")]
    public int OneBatch() =>
        maps!.BackendHandle.UpdateBatch(MemoryMarshal.AsBytes(keys.AsSpan()), MemoryMarshal.AsBytes(values.AsSpan()), keys.Length, BpfUpdateFlags.Any);

    [GlobalCleanup]
    public void Cleanup()
    {
        maps?.Dispose();
        maps = null;
    }
}
