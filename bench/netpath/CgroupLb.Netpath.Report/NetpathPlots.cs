using System.Globalization;
using ScottPlot;
using ScottPlot.Plottables;
using ScottPlot.TickGenerators;

namespace CgroupLb.Netpath.Report;

/// <summary>
/// The three PNGs: ping-pong RTT p50 and TCP connects/s against N per path (medians, bars from the smallest to the
/// largest round), and the time to load N Services on log axes. N is drawn on a log axis (1, 1000, 10000), and
/// each path is shifted a little sideways so the bars of one N do not cover each other.
/// </summary>
public static class NetpathPlots
{
    private const int Width = 1000;
    private const int Height = 600;

    private static readonly Dictionary<string, Color> ColorByPath = new()
    {
        [NetpathRun.Direct] = Colors.Gray,
        ["iptables"] = new Color(214, 39, 40),
        ["nftables"] = new Color(255, 127, 14),
        ["cgrouplb"] = new Color(31, 119, 180),
        [NetpathRun.Hooks] = new Color(148, 103, 189),
        [NetpathRun.Minimal] = new Color(44, 160, 44),
    };

    /// <summary>A path this report does not know still gets drawn, in black.</summary>
    private static Color ColorOf(string path) => ColorByPath.GetValueOrDefault(path, Colors.Black);

    public static void Write(NetpathRun run, string directory, string prefix, string subtitle)
    {
        Latency(run, subtitle).SavePng(Path.Combine(directory, $"{prefix}-latency.png"), Width, Height);
        Connects(run, subtitle).SavePng(Path.Combine(directory, $"{prefix}-connects.png"), Width, Height);
        Load(run, subtitle).SavePng(Path.Combine(directory, $"{prefix}-load.png"), Width, Height);
    }

    private static Plot Latency(NetpathRun run, string subtitle)
    {
        var plot = new Plot();
        AddSeries(plot, run, MetricKind.UdpRttP50, " UDP", LinePattern.Solid, MarkerShape.FilledCircle);
        AddSeries(plot, run, MetricKind.TcpRttP50, " TCP", LinePattern.Dashed, MarkerShape.OpenSquare);
        Finish(plot, run, $"Ping-pong round trip p50 (sockperf --full-rtt){subtitle}", "RTT p50 (us)", Alignment.LowerRight);
        FromZero(plot);
        return plot;
    }

    private static Plot Connects(NetpathRun run, string subtitle)
    {
        var plot = new Plot();
        AddSeries(plot, run, MetricKind.Connects, "", LinePattern.Solid, MarkerShape.FilledCircle);
        Finish(plot, run, $"TCP connect/close loop{subtitle}", "connects per second", Alignment.UpperCenter);
        FromZero(plot);
        return plot;
    }

    private static Plot Load(NetpathRun run, string subtitle)
    {
        var plot = new Plot();
        foreach (string path in run.Paths.Where(p => p != NetpathRun.Direct))
        {
            var points = run.Sizes
                .Select(n => (n, s: run.Spread(n, path, MetricKind.LoadTime.Name)))
                .Where(p => p.s is not null && p.s.Median > 0)
                .ToArray();
            if (points.Length == 0)
                continue;
            Scatter line = plot.Add.Scatter(points.Select(p => LogN(p.n)).ToArray(), points.Select(p => Math.Log10(p.s!.Median)).ToArray());
            Style(line, path, path, LinePattern.Solid);
        }
        Finish(plot, run, $"Time to load N Services (log-log){subtitle}", "load time (ms)", Alignment.UpperLeft);
        var ticks = new NumericAutomatic
        {
            MinorTickGenerator = new LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString("N0", CultureInfo.InvariantCulture),
        };
        plot.Axes.Left.TickGenerator = ticks;
        return plot;
    }

    /// <summary>The y axis starts at zero, so a 5% difference looks like one.</summary>
    private static void FromZero(Plot plot)
    {
        plot.Axes.AutoScale();
        plot.Axes.SetLimitsY(0, plot.Axes.GetLimits().Top * 1.05);
    }

    private static void AddSeries(Plot plot, NetpathRun run, MetricKind metric, string suffix, LinePattern pattern, MarkerShape marker)
    {
        for (int i = 0; i < run.Paths.Count; i++)
        {
            string path = run.Paths[i];
            var points = run.Sizes.Select(n => (n, s: run.Spread(n, path, metric.Name))).Where(p => p.s is not null).ToArray();
            if (points.Length == 0)
                continue;
            double shift = (i - (run.Paths.Count - 1) / 2.0) * 0.04;
            double[] xs = points.Select(p => LogN(p.n) + shift).ToArray();
            double[] ys = points.Select(p => p.s!.Median).ToArray();
            Scatter line = plot.Add.Scatter(xs, ys);
            Style(line, path, path + suffix, pattern);
            line.MarkerShape = marker;
            var bars = new ErrorBar(
                xs, ys, xErrorsPositive: null, xErrorsNegative: null,
                yErrorsPositive: points.Select(p => p.s!.Max - p.s.Median).ToArray(),
                yErrorsNegative: points.Select(p => p.s!.Median - p.s.Min).ToArray())
            {
                Color = ColorOf(path),
            };
            plot.Add.Plottable(bars);
        }
    }

    private static void Style(Scatter line, string path, string legend, LinePattern pattern)
    {
        line.Color = ColorOf(path);
        line.LegendText = legend;
        line.LinePattern = pattern;
        line.LineWidth = 2;
        line.MarkerSize = 8;
    }

    private static void Finish(Plot plot, NetpathRun run, string title, string yLabel, Alignment legend)
    {
        plot.Title(title);
        plot.Axes.Left.Label.Text = yLabel;
        plot.Axes.Bottom.Label.Text = "Services loaded (N, log scale)";
        plot.Axes.Bottom.SetTicks(
            run.Sizes.Select(LogN).ToArray(),
            run.Sizes.Select(n => n.ToString("N0", CultureInfo.InvariantCulture)).ToArray());
        double first = LogN(run.Sizes[0]), last = LogN(run.Sizes[^1]);
        double pad = Math.Max(0.3, (last - first) * 0.08);
        plot.Axes.SetLimitsX(first - pad, last + pad);
        plot.ShowLegend(legend);
    }

    private static double LogN(int n) => Math.Log10(n);
}
