using System.Globalization;
using System.Text.RegularExpressions;

namespace CgroupLb.Agent.Cli;

/// <summary>
/// Durations written the way kube-proxy's flags take them (Go's time.ParseDuration): "30s", "500ms", "1m30s", "2h".
/// </summary>
internal static partial class Duration
{
    [GeneratedRegex(@"\G(\d+(?:\.\d+)?)(ms|s|m|h)")]
    private static partial Regex Part();

    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (text == "0")
            return true;
        int at = 0;
        while (at < text.Length)
        {
            var match = Part().Match(text, at);
            if (!match.Success)
                return false;
            double value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            duration += match.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(value),
                "s" => TimeSpan.FromSeconds(value),
                "m" => TimeSpan.FromMinutes(value),
                _ => TimeSpan.FromHours(value),
            };
            at += match.Length;
        }
        return text.Length > 0;
    }

    public static string Format(TimeSpan duration) =>
        duration.TotalMilliseconds < 1000 ? $"{duration.TotalMilliseconds:0}ms" : $"{duration.TotalSeconds:0.###}s";
}
