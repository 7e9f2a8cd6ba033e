using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace CgroupLb.Testing.Sandbox;

/// <summary>
/// Sends sandbox steps and datapath logs to the test's output, timestamped, so a failed kernel test shows what
/// happened in order. Writes after the test finished are dropped (xunit throws for them).
/// It is its own <see cref="ILoggerFactory"/> so the tests need only the logging abstractions.
/// </summary>
public sealed class TestOutputLog(ITestOutputHelper output) : ILoggerFactory, ILoggerProvider
{
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    public void Write(string line)
    {
        try
        {
            output.WriteLine($"[{_clock.Elapsed.TotalSeconds,7:0.000}] {line}");
        }
        catch (InvalidOperationException)
        {
            // No active test.
        }
    }

    public ILogger CreateLogger(string categoryName) => new CategoryLogger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class CategoryLogger(TestOutputLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        // Information and up: the writer logs every frontend it programs at Debug, which in the churn test would
        // put hundreds of output writes inside the timed Apply calls.
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                log.Write($"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
        }
    }
}
