using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using CgroupLb.Datapath.Abi;
using CgroupLb.Interop;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Benchmarks.Kernel;

/// <summary>
/// The syscall cost the batched writer avoids, on the map it writes most: N new lb4_services_v2 slot entries (a hash map
/// without preallocation, as the agent creates it by default) written one bpf(BPF_MAP_UPDATE_ELEM) each, against one
/// bpf(BPF_MAP_UPDATE_BATCH); both pay the kernel's allocation of N elements (the map is emptied in IterationSetup,
/// outside the measurement). And the backend array lb4_backends_v2 (8-byte values): N ids written one syscall each,
/// against the writer's path, stores into the array mapped into this process (no syscall, no allocation).
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
[IterationCount(15)]
public class MapWriteBenchmarks
{
    private BenchmarkMaps? maps;
    private Lb4ServiceKey[] slotKeys = [];
    private LbServiceValue[] slotValues = [];
    private uint[] ids = [];
    private Lb4Backend[] backends = [];

    [Params(1_000, 10_000, 100_000)]
    public int Entries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        KernelRequirement.Demand(nameof(MapWriteBenchmarks));
        maps = BenchmarkMaps.Create();
        slotKeys = new Lb4ServiceKey[Entries];
        slotValues = new LbServiceValue[Entries];
        ids = new uint[Entries];
        backends = new Lb4Backend[Entries];
        for (int i = 0; i < Entries; i++)
        {
            var address = new System.Net.IPAddress([198, 18, (byte)(i >> 8), (byte)i]);
            var backend = new Backend(address, 8080, L4Protocol.Tcp);
            // Frontends of 10 slots each, as a 10-endpoint Service writes them.
            slotKeys[i] = Lb4ServiceKey.Create(new System.Net.IPAddress([198, 51, (byte)(i / 10 >> 8), (byte)(i / 10)]), 80, 6, (ushort)(1 + i % 10));
            ids[i] = (uint)i + 1;
            slotValues[i] = LbServiceValue.Slot((uint)(i / 10) + 1, ids[i], backend);
            backends[i] = Lb4Backend.Create(address, 8080, 6);
        }
    }

    [IterationSetup]
    public void EmptyMaps()
    {
        var services = maps!.ServiceHandle;
        foreach (var key in slotKeys)
            services.Delete(in key);
        maps.Maps.DeleteBackends(ids);
    }

    [Benchmark(Baseline = true, Description = "lb4_services_v2 slots: one update syscall per entry")]
    public int OnePerSyscall()
    {
        var map = maps!.ServiceHandle;
        for (int i = 0; i < slotKeys.Length; i++)
            map.Update(in slotKeys[i], in slotValues[i], BpfUpdateFlags.Any);
        return slotKeys.Length;
    }

    [Benchmark(Description = "lb4_services_v2 slots: one update batch")]
    public int OneBatch() =>
        maps!.ServiceHandle.UpdateBatch(MemoryMarshal.AsBytes(slotKeys.AsSpan()), MemoryMarshal.AsBytes(slotValues.AsSpan()), slotKeys.Length, BpfUpdateFlags.Any);

    [Benchmark(Description = "lb4_backends_v2: one update syscall per entry")]
    public int BackendsOnePerSyscall()
    {
        var map = maps!.BackendHandle;
        for (int i = 0; i < ids.Length; i++)
            map.Update(in ids[i], in backends[i], BpfUpdateFlags.Any);
        return ids.Length;
    }

    [Benchmark(Description = "lb4_backends_v2: stores into the mapped array (the writer)")]
    public int BackendsMapped()
    {
        maps!.Maps.UpdateBackends(ids, backends);
        return ids.Length;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        maps?.Dispose();
        maps = null;
    }
}
