using System.Net;
using System.Net.Sockets;

namespace CgroupLb.TestPeer;

/// <summary>What one attempt learnt: the backend's name and the addresses the kernel reported.</summary>
public sealed record AttemptOutcome(string Backend, IPEndPoint? Peer, IPEndPoint? Local, IPEndPoint? From);

/// <summary>
/// The loop every client command shares: <c>--to IP:PORT [--count N] [--timeout-ms T]</c>, a fresh socket and deadline
/// per attempt, and one JSON line per attempt: the outcome, or the errno and the stage it failed at. <c>--to</c> may
/// list several targets (comma-separated): N attempts to each in turn, so one process serves many frontends.
/// </summary>
public static class AttemptLoop
{
    /// <summary>Progress inside one attempt, so a failure names the syscall it happened in.</summary>
    public sealed class Stage(string initial)
    {
        public string Name { get; set; } = initial;
    }

    public delegate Task<AttemptOutcome> Attempt(Socket socket, IPEndPoint to, Stage stage, CancellationToken cancellationToken);

    public static async Task<int> RunAsync(PeerArguments args, SocketType socketType, string firstStage, Attempt attempt)
    {
        args.RejectUnknown("--to", "--count", "--timeout-ms");
        IReadOnlyList<IPEndPoint> targets = args.EndPoints("--to");
        int count = args.PositiveInt("--count", 1);
        var timeout = TimeSpan.FromMilliseconds(args.PositiveInt("--timeout-ms", 2000));
        var protocol = socketType == SocketType.Stream ? ProtocolType.Tcp : ProtocolType.Udp;

        using var output = new AttemptWriter();
        foreach (IPEndPoint to in targets)
        {
            for (int i = 0; i < count; i++)
            {
                // An IPv6 target gets a dual-stack socket, as Java and most runtimes open one: --to [::ffff:a.b.c.d]:p is
                // then an IPv4 service reached through an AF_INET6 socket (v4-mapped).
                using var socket = new Socket(to.AddressFamily, socketType, protocol);
                if (to.AddressFamily == AddressFamily.InterNetworkV6)
                    socket.DualMode = true;
                using var deadline = new CancellationTokenSource(timeout);
                var stage = new Stage(firstStage);
                try
                {
                    AttemptOutcome o = await attempt(socket, to, stage, deadline.Token);
                    output.Success(o.Backend, o.Peer, o.Local, o.From);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    output.Failure(stage.Name, e);
                }
            }
        }
        return 0;
    }
}
