using CgroupLb.Datapath.Loading;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Agent.Hosting;

/// <summary>
/// Checks every <see cref="Interval"/> that each program still runs on the cgroup (a link pin removed by hand, a
/// cgroup recreated), lets the data path attach again what it can, and reports what it cannot to the health endpoint.
/// </summary>
internal sealed class AttachmentWatchService(LoadBalancerDatapath datapath, AgentHealth health, TimeProvider time, ILogger<AttachmentWatchService> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        IReadOnlyList<string> lastReported = [];
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                IReadOnlyList<string> problems;
                try
                {
                    var check = datapath.CheckAttachments(logger);
                    problems = [.. check.Unrepaired.Select(p => p.Reason)];
                }
                catch (Exception e)
                {
                    problems = [$"checking the program attachments failed: {e.Message}"];
                }
                health.SetAttachmentProblems(problems);
                if (problems.Count > 0 && !problems.SequenceEqual(lastReported))
                    logger.LogError("Data path broken: {Problems}", string.Join("; ", problems));
                else if (problems.Count == 0 && lastReported.Count > 0)
                    logger.LogInformation("Data path whole again: every program is attached to its cgroup");
                lastReported = problems;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
