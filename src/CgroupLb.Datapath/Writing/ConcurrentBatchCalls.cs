using System.Runtime.ExceptionServices;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// The batch calls of one write step in flight on pool threads, at most <see cref="WriteParallelism.Degree"/> at once,
/// while the calling thread builds the next chunk. <see cref="Finish"/> is the step's barrier: it returns (or throws the
/// first failure) only when every call it started has returned, so the next step, or the writer's per-frontend
/// fallback after a failure, never runs beside a call of this one. After a failure no further call starts, as a step
/// written on one thread stops at its failed batch. Owned by one writer; not for use from several threads.
/// </summary>
internal sealed class ConcurrentBatchCalls(int degree)
{
    private readonly Queue<(Task Call, ServiceEntryBatch? Buffer)> inFlight = new();
    private readonly Stack<ServiceEntryBatch> spare = new();
    private Exception? failure;

    /// <summary>True while a call started by <see cref="Start"/> may still run.</summary>
    public bool Busy => inFlight.Count > 0;

    /// <summary>
    /// Starts <paramref name="write"/> on a pool thread, after waiting for the oldest call if <c>degree</c> are in
    /// flight. <paramref name="buffer"/> (the chunk it writes, if any) is cleared and kept for <see cref="TakeBuffer"/>
    /// once the call returned. If a call has failed, nothing starts: every call is waited for and the failure thrown.
    /// </summary>
    public void Start(Action write, ServiceEntryBatch? buffer = null)
    {
        if (inFlight.Count >= degree)
            Retire();
        if (Volatile.Read(ref failure) is not null)
        {
            buffer?.Clear();
            if (buffer is not null)
                spare.Push(buffer);
            Finish();
        }
        inFlight.Enqueue((Task.Run(() =>
        {
            try
            {
                write();
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref failure, ex, null);
            }
        }), buffer));
    }

    /// <summary>An empty chunk buffer: one a finished call wrote, or a new one while all are in flight.</summary>
    public ServiceEntryBatch TakeBuffer() => spare.Count > 0 ? spare.Pop() : new ServiceEntryBatch();

    /// <summary>A failure on the calling thread while calls are in flight: <see cref="Finish"/> throws it after waiting.</summary>
    public void Fail(Exception ex) => Interlocked.CompareExchange(ref failure, ex, null);

    /// <summary>Waits for every call in flight, then throws the step's first failure, if any.</summary>
    public void Finish()
    {
        while (inFlight.Count > 0)
            Retire();
        var failed = Interlocked.Exchange(ref failure, null);
        if (failed is not null)
            ExceptionDispatchInfo.Throw(failed);
    }

    /// <summary>Drops the kept chunk buffers (after a large plan, whose chunks would otherwise stay for the agent's lifetime).</summary>
    public void ReleaseBuffers() => spare.Clear();

    private void Retire()
    {
        var (call, buffer) = inFlight.Dequeue();
        call.Wait(); // never faults: the call's exception is kept in `failure`
        if (buffer is not null)
        {
            buffer.Clear();
            spare.Push(buffer);
        }
    }
}
