using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace CgroupLb.Agent.Hosting;

/// <summary>Console logging: one line per entry, or JSON lines for log collectors (--log-format json).</summary>
internal static class LoggingSetup
{
    public static ILoggerFactory CreateFactory(bool json, LogLevel level) =>
        LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(level);
            // libbpf's own chatter (BTF loading, map reuse) is debug detail for operators.
            b.AddFilter("libbpf", level <= LogLevel.Debug ? LogLevel.Debug : LogLevel.Warning);
            b.AddFilter("Microsoft", LogLevel.Warning);
            if (json)
                b.AddJsonConsole(o => { o.UseUtcTimestamp = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; });
            else
                b.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.UseUtcTimestamp = true;
                    o.TimestampFormat = "HH:mm:ss.fff ";
                    o.ColorBehavior = LoggerColorBehavior.Disabled;
                });
        });
}
