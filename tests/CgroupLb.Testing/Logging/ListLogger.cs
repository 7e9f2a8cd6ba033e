using Microsoft.Extensions.Logging;

namespace CgroupLb.Testing.Logging;

/// <summary>One log entry as the code under test wrote it: level, formatted message and the exception, if any.</summary>
public sealed record LogEntry(LogLevel Level, string Message, Exception? Exception);

/// <summary>
/// Keeps every log entry so tests can assert that something was reported, and how often. Thread-safe: the code under
/// test logs from its own threads while the test reads.
/// </summary>
public sealed class ListLogger : ILogger
{
    private readonly List<LogEntry> entries = [];

    public IReadOnlyList<LogEntry> Entries
    {
        get
        {
            lock (entries)
            {
                return [.. entries];
            }
        }
    }

    public IReadOnlyList<string> Warnings => Lines(LogLevel.Warning);

    public IReadOnlyList<string> Lines(LogLevel level) => [.. Entries.Where(e => e.Level == level).Select(e => e.Message)];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (entries)
        {
            entries.Add(new LogEntry(logLevel, formatter(state, exception), exception));
        }
    }
}
