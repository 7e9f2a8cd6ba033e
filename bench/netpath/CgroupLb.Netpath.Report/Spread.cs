namespace CgroupLb.Netpath.Report;

/// <summary>The median of repeated runs, with the smallest and largest run: on a shared VM the spread is the point.</summary>
public sealed record Spread(double Median, double Min, double Max, int Count)
{
    public static Spread? Of(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        if (sorted.Length == 0)
            return null;
        int mid = sorted.Length / 2;
        double median = sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        return new Spread(median, sorted[0], sorted[^1], sorted.Length);
    }
}
