using System.Runtime.ExceptionServices;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// The batch calls of one write step, at most <see cref="WriteParallelism.Degree"/> at once: up to Degree - 1 on pool
/// threads, and when those are all busy the calling thread writes the next chunk itself (so the step needs no more
/// pool threads than the pool has free, and the caller never just waits). <see cref="Finish"/> is the step's barrier:
/// it returns (or throws the first failure) only when every call it started has returned, so the next step, or the
/// writer's per-frontend fallback after a failure, never runs beside a call of this one. After a failure no further
/// call starts, as a step written on one thread stops at its failed batch. Owned by one writer; one thread uses it.
/// </summary>
internal sealed class ConcurrentBatchCalls(int degree)
{
    private readonly Queue<(Task Call, ServiceEntryBatch? Buffer)> inFlight = new();
    private readonly Stack<ServiceEntryBatch> spare = new();
    private Exception? failure;

    /// <summary>True while a call started on a pool thread may still run.</summary>
    public bool Busy => inFlight.Count > 0;

    /// <summary>
    /// Writes one chunk: on a pool thread if fewer than Degree - 1 are in flight, else on this thread. A chunk sent to
    /// the pool hands <paramref name="buffer"/> (what it writes, if any) over until the call returned; the return value
    /// is the buffer to build the next chunk in (the same one, emptied, when this thread wrote it). Once any call has
    /// failed nothing more is written: every call is waited for and the failure thrown.
    /// </summary>
    public ServiceEntryBatch? Write(Action write, ServiceEntryBatch? buffer = null)
    {
        while (inFlight.Count > 0 && inFlight.Peek().Call.IsCompleted)
            Retire();
        if (Volatile.Read(ref failure) is not null)
        {
            buffer?.Clear();
            Finish();
        }
        if (inFlight.Count < degree - 1)
        {
            inFlight.Enqueue((OnPool(() =>
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
            return buffer is null ? null : spare.Count > 0 ? spare.Pop() : new ServiceEntryBatch();
        }
        try
        {
            write();
        }
        catch (Exception ex)
        {
            Interlocked.CompareExchange(ref failure, ex, null);
        }
        buffer?.Clear();
        return buffer;
    }

    /// <summary>A failure on the calling thread outside <see cref="Write"/>: <see cref="Finish"/> throws it after waiting.</summary>
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

    /// <summary>
    /// Queues <paramref name="work"/> to the pool's global queue. Task.Run from a pool thread (the agent's syncer runs on
    /// one) queues to that thread's local queue, and waiting for a task still there runs it inline on the waiting thread.
    /// </summary>
    public static Task OnPool(Action work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.PreferFairness | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);

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
