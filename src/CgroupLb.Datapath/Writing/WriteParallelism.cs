namespace CgroupLb.Datapath.Writing;

/// <summary>
/// How many batch calls of one write step <see cref="BpfMapWriter"/> may have in flight at once, and from what size a
/// step is split. The kernel's hash maps take a lock per bucket and, preallocated, a per-CPU free list, so updates of
/// one map from several threads scale with the cores; a step smaller than <see cref="ChunkEntries"/> (every partial
/// sync) stays on the calling thread and costs nothing more. Only maps safe to call from several threads at once may be
/// written with a degree above 1 (the kernel maps are; the tests' recording fake is not, so it stays at <see cref="Off"/>).
/// </summary>
/// <param name="Degree">Batch calls of one step in flight at once, the calling thread's own included (Degree - 1 on pool threads); 1 = one thread.</param>
/// <param name="ChunkEntries">Entries per call when a step is split: a step of fewer stays whole on the calling thread.</param>
internal sealed record WriteParallelism(int Degree, int ChunkEntries)
{
    /// <summary>Every call on the calling thread, one after another.</summary>
    public static WriteParallelism Off { get; } = new(1, int.MaxValue);

    /// <summary>
    /// What the agent uses: as many calls as cores, at most <see cref="MaxDegree"/>. Chunks of 16k entries: at 10k x 10
    /// the 100k slots are seven calls, while a step of 10k masters or fewer (and every partial sync) is one.
    /// </summary>
    public static WriteParallelism Auto { get; } = For(Environment.ProcessorCount);

    /// <summary>A cap, so a many-core node's first sync does not take every core from the pods (not measured above 2).</summary>
    public const int MaxDegree = 4;

    public const int DefaultChunkEntries = 16384;

    /// <summary><paramref name="threads"/> calls at once (capped at <see cref="MaxDegree"/>); 1 or less = <see cref="Off"/>.</summary>
    public static WriteParallelism For(int threads) =>
        threads <= 1 ? Off : new(Math.Min(threads, MaxDegree), DefaultChunkEntries);

    public bool IsParallel => Degree > 1;
}
