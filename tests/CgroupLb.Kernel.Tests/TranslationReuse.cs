using System.Diagnostics;
using System.Net;
using CgroupLb.Testing.Sandbox;
using Xunit;

namespace CgroupLb.Kernel.Tests;

/// <summary>
/// The reuse of an unconnected UDP socket's last translation (lb_svc_gen), for either family: one held socket keeps
/// sending to <c>frontend</c> while its slots are rewritten behind the writer's back (no generation moves), the
/// generation is moved by hand, the slots are rewritten once more, and the writer removes the backend the socket is on.
/// With socket storage the socket stays on its backend until the generation moves, reuse resumes after the move, and
/// the writer's removal moves it; without storage (nothing is cached) it follows every rewrite at once. Every reply
/// must come from the frontend.
/// </summary>
internal static class TranslationReuse
{
    private static readonly TimeSpan ClientsStart = SandboxTimeouts.Seconds(30);
    private const int RepliesPerStep = 4;

    /// <summary>What the family's test does to its maps at each step.</summary>
    /// <param name="RewriteSlotsBehindTheWriter">Points every slot of the frontend at the backend, as no writer would.</param>
    /// <param name="MoveGeneration">Gives the frontend's service id the next generation by hand.</param>
    /// <param name="RemoveThroughTheWriter">Applies the frontend without the backend, through the writer.</param>
    public sealed record Steps(
        Action<SandboxBackend> RewriteSlotsBehindTheWriter,
        Action MoveGeneration,
        Action<SandboxBackend> RemoveThroughTheWriter);

    public static async Task RunAsync(KernelSandbox sandbox, IPEndPoint frontend, bool socketStorage, Steps steps, TestOutputLog log)
    {
        using HeldClient client = HeldClient.Start(sandbox, "udp-sendto-hold", frontend.ToString());
        await client.WaitForAsync(run => run.Replies.Count() >= RepliesPerStep, ClientsStart, "four replies");
        string first = client.EventsSoFar().Replies.First().Backend!;
        SandboxBackend other = sandbox.Backends.First(b => b.Name != first);

        Step rewrite = await StepAsync(client, () => steps.RewriteSlotsBehindTheWriter(other), "the rewrite");
        Step move = await StepAsync(client, steps.MoveGeneration, "the new generation");
        Step rewriteAgain = await StepAsync(client, () => steps.RewriteSlotsBehindTheWriter(sandbox.Backends.Single(b => b.Name == first)),
            "the second rewrite");
        Step removal = await StepAsync(client, () => steps.RemoveThroughTheWriter(other), "the removal");
        HoldRun run = await client.StopAsync();
        log.Write($"socket storage: {socketStorage}; {run}");

        Assert.Empty(run.SocketErrors); // no reply from anything but the frontend, no send error
        Assert.All(run.Replies.Where(e => e.T < rewrite.Before), e => Assert.Equal(first, e.Backend));
        Assert.All(Replies(run, rewrite, move), e => Assert.Equal(socketStorage ? first : other.Name, e.Backend));
        Assert.All(Replies(run, move, rewriteAgain), e => Assert.Equal(other.Name, e.Backend));
        Assert.All(Replies(run, rewriteAgain, removal), e => Assert.Equal(socketStorage ? other.Name : first, e.Backend));
        Assert.All(Replies(run, removal, null), e => Assert.NotEqual(other.Name, e.Backend));
    }

    /// <summary>Stopwatch stamps right before and right after one step: a reply between them may come from either side.</summary>
    private readonly record struct Step(long Before, long After);

    /// <summary>Runs the step and waits for four replies after it.</summary>
    private static async Task<Step> StepAsync(HeldClient client, Action step, string what)
    {
        long before = Stopwatch.GetTimestamp();
        step();
        long after = Stopwatch.GetTimestamp();
        await client.WaitForAsync(run => run.After(after).Count(e => e.Kind == "reply") >= RepliesPerStep, ClientsStart,
            $"four replies after {what}");
        return new Step(before, after);
    }

    /// <summary>
    /// The replies after <paramref name="from"/> and before <paramref name="until"/> begins, less the first: one
    /// datagram may be in flight across the change.
    /// </summary>
    private static List<HoldRun.Event> Replies(HoldRun run, Step from, Step? until)
    {
        long end = until?.Before ?? long.MaxValue;
        var replies = run.After(from.After).Where(e => e.Kind == "reply" && e.T < end).Skip(1).ToList();
        Assert.NotEmpty(replies);
        return replies;
    }
}
