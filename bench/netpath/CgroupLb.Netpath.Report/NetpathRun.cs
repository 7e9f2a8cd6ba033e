using System.Globalization;

namespace CgroupLb.Netpath.Report;

/// <summary>One number from results.tsv: a metric of one path, at N Services, in one round (0 = measured once per N).</summary>
public sealed record Measurement(int Services, int Round, string Path, string Metric, double Value);

/// <summary>
/// One run of bench/netpath/run.sh, read back from its directory: results.tsv (n, round, path, metric, value),
/// machine.txt (what ran where) and checks.txt (the reachability proofs), each as the script wrote it.
/// </summary>
public sealed class NetpathRun
{
    public const string Direct = "direct";
    public const string Hooks = "hooks";
    public const string Minimal = "minimal";

    /// <summary>The rows of results.tsv that describe the machine, not a path.</summary>
    private const string Environment = "env";

    /// <summary>
    /// Every path run.sh knows, in the order tables and plots show them: direct (the baseline of every ratio), the two
    /// yardsticks of a socket-level LB's floor (opt-in), then kube-proxy's shapes and CgroupLb.
    /// </summary>
    public static readonly string[] KnownPaths = [Direct, Hooks, Minimal, "iptables", "nftables", "cgrouplb"];

    private NetpathRun(IReadOnlyList<Measurement> measurements, IReadOnlyList<string> machine, IReadOnlyList<string> checks)
    {
        Measurements = measurements;
        Machine = machine;
        Checks = checks;
        Sizes = measurements.Select(m => m.Services).Distinct().Order().ToArray();
        var present = measurements.Select(m => m.Path).Where(p => p != Environment).ToHashSet();
        Paths = [.. KnownPaths.Where(present.Contains), .. present.Except(KnownPaths).Order(StringComparer.Ordinal)];
        InterleavedPaths = measurements.Where(m => m.Round > 0).Select(m => m.Path).Distinct().ToArray();
    }

    public IReadOnlyList<Measurement> Measurements { get; }
    public IReadOnlyList<string> Machine { get; }
    public IReadOnlyList<string> Checks { get; }
    public IReadOnlyList<int> Sizes { get; }

    /// <summary>The paths this run measured, in the order of <see cref="KnownPaths"/> (a path it does not know last, by name).</summary>
    public IReadOnlyList<string> Paths { get; }

    /// <summary>The paths in the order the rounds ran them (run.sh's --paths): the order of their first round in results.tsv.</summary>
    public IReadOnlyList<string> InterleavedPaths { get; }

    public bool Has(string path) => Paths.Contains(path);

    public static NetpathRun Load(string directory)
    {
        string results = Path.Combine(directory, "results.tsv");
        if (!File.Exists(results))
            throw new FileNotFoundException($"no results.tsv in {directory}: run bench/netpath/run.sh first", results);
        var measurements = new List<Measurement>();
        int line = 0;
        foreach (string text in File.ReadLines(results))
        {
            line++;
            if (line == 1)
                continue;
            string[] f = text.Split('\t');
            if (f.Length != 5)
                throw new FormatException($"{results}:{line}: expected 5 tab-separated fields, got {f.Length}");
            // An empty value is a number the tool did not print (a failed parse was already reported by the script).
            if (f[4].Length == 0)
                continue;
            measurements.Add(new Measurement(
                int.Parse(f[0], CultureInfo.InvariantCulture),
                int.Parse(f[1], CultureInfo.InvariantCulture),
                f[2],
                f[3],
                double.Parse(f[4], CultureInfo.InvariantCulture)));
        }
        return new NetpathRun(measurements, ReadLines(Path.Combine(directory, "machine.txt")), ReadLines(Path.Combine(directory, "checks.txt")));
    }

    private static string[] ReadLines(string file) => File.Exists(file) ? File.ReadAllLines(file) : [];

    /// <summary>Values of a metric by round, for one path at one size.</summary>
    public IReadOnlyDictionary<int, double> ByRound(int services, string path, string metric) =>
        Measurements.Where(m => m.Services == services && m.Path == path && m.Metric == metric)
            .ToDictionary(m => m.Round, m => m.Value);

    public Spread? Spread(int services, string path, string metric) =>
        Report.Spread.Of(ByRound(services, path, metric).Values);

    /// <summary>
    /// The path's value over the direct runs that bracket it, round by round: round r of a path ran after direct
    /// run r and before direct run r+1 (the script ends with one more direct run), so each ratio compares runs a few
    /// seconds apart. Null when the run has no such pairs.
    /// </summary>
    public Spread? RatioToDirect(int services, string path, string metric)
    {
        var direct = ByRound(services, Direct, metric);
        var ratios = new List<double>();
        foreach ((int round, double value) in ByRound(services, path, metric))
        {
            if (!direct.TryGetValue(round, out double before))
                continue;
            double baseline = direct.TryGetValue(round + 1, out double after) ? (before + after) / 2 : before;
            if (baseline > 0)
                ratios.Add(value / baseline);
        }
        return Report.Spread.Of(ratios);
    }
}
