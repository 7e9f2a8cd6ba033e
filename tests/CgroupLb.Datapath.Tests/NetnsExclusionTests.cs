using CgroupLb.Datapath.Loading;
using CgroupLb.Interop;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Datapath.Tests;

/// <summary>
/// --exclude-netns resolution without a kernel: paths become cookies on every full sync, a namespace that went away
/// drops out and comes back when its path does, an unreadable one is left out, and each change is logged once.
/// </summary>
public sealed class NetnsExclusionTests
{
    private readonly Dictionary<string, ulong?> cookieByPath = new()
    {
        ["/run/netns/sidecar"] = 4097,
        ["/proc/42/ns/net"] = 8193,
    };

    private ulong? CookieOf(string path) =>
        path == "/proc/7/ns/net" ? throw new BpfException("open", (int)Errno.EACCES, "network namespace", path)
        : cookieByPath.TryGetValue(path, out var cookie) ? cookie : null;

    [Fact]
    public void ANamespaceThatGoesAwayDropsOutAndComesBackWithItsPath()
    {
        var log = new LinesLogger();
        var exclusion = new NetnsExclusion(["/run/netns/sidecar", "/proc/42/ns/net"], CookieOf, log);

        Assert.Equal(new HashSet<ulong> { 4097, 8193 }, exclusion.Resolve());
        Assert.Equal(new HashSet<ulong> { 4097, 8193 }, exclusion.Resolve());
        Assert.Equal(2, log.Lines.Count); // one line per namespace, not one per sync

        cookieByPath["/proc/42/ns/net"] = null; // the process exited
        Assert.Equal(new HashSet<ulong> { 4097 }, exclusion.Resolve());
        Assert.Equal(new HashSet<ulong> { 4097 }, exclusion.Resolve());
        Assert.Single(log.Lines, l => l.Contains("/proc/42/ns/net does not exist any more", StringComparison.Ordinal));

        cookieByPath["/proc/42/ns/net"] = 12289; // the PID now names another namespace
        Assert.Equal(new HashSet<ulong> { 4097, 12289 }, exclusion.Resolve());
        Assert.Single(log.Lines, l => l.Contains("cookie 12289", StringComparison.Ordinal));
    }

    [Fact]
    public void AnUnreadableOrMissingPathIsLeftOutWithoutStoppingTheOthers()
    {
        var log = new LinesLogger();
        var exclusion = new NetnsExclusion(["/proc/7/ns/net", "/run/netns/later", "/run/netns/sidecar"], CookieOf, log);

        Assert.Equal(new HashSet<ulong> { 4097 }, exclusion.Resolve());
        Assert.Contains(log.Lines, l => l.StartsWith("Warning: Excluded network namespace /proc/7/ns/net cannot be read", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.StartsWith("Warning: Excluded network namespace /run/netns/later does not exist;", StringComparison.Ordinal));

        cookieByPath["/run/netns/later"] = 16385;
        Assert.Equal(new HashSet<ulong> { 4097, 16385 }, exclusion.Resolve());
    }

    private sealed class LinesLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add($"{logLevel}: {formatter(state, exception)}");
    }
}
