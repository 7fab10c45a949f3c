namespace Plstm.Cli.Bench;

/// <summary>
/// Wall-clock times of the timed iterations of one benchmark row (each iteration ends with a device synchronisation,
/// so a time covers all the work it launched) and their summary statistics.
/// </summary>
public sealed record TimingStats
{
    /// <summary>Creates the statistics of <paramref name="milliseconds"/> (at least one value).</summary>
    /// <param name="warmup">Warm-up iterations run before the timed ones (not included).</param>
    /// <param name="milliseconds">Time of every timed iteration, in order.</param>
    /// <param name="truncated">True when the time limit stopped the row before all requested iterations ran.</param>
    public TimingStats(int warmup, IReadOnlyList<double> milliseconds, bool truncated)
    {
        ArgumentNullException.ThrowIfNull(milliseconds);
        if (milliseconds.Count == 0) throw new ArgumentException("At least one timed iteration is needed.", nameof(milliseconds));
        Warmup = warmup;
        Milliseconds = milliseconds.ToArray();
        Truncated = truncated;
        var sorted = milliseconds.Order().ToArray();
        Median = Quantile(sorted, 0.5);
        P25 = Quantile(sorted, 0.25);
        P75 = Quantile(sorted, 0.75);
        Min = sorted[0];
        Max = sorted[^1];
    }

    /// <summary>Warm-up iterations (untimed).</summary>
    public int Warmup { get; }

    /// <summary>Timed iterations that ran.</summary>
    public int Iterations => Milliseconds.Count;

    /// <summary>Every timed iteration in milliseconds, in the order they ran.</summary>
    public IReadOnlyList<double> Milliseconds { get; }

    /// <summary>True when the time limit cut the row short (fewer iterations than requested).</summary>
    public bool Truncated { get; }

    /// <summary>Median iteration time (ms): the headline number, robust to one slow outlier.</summary>
    public double Median { get; }

    /// <summary>25th percentile (ms, linear interpolation).</summary>
    public double P25 { get; }

    /// <summary>75th percentile (ms, linear interpolation).</summary>
    public double P75 { get; }

    /// <summary>Fastest iteration (ms).</summary>
    public double Min { get; }

    /// <summary>Slowest iteration (ms).</summary>
    public double Max { get; }

    /// <summary>Median (linear interpolation, as <see cref="Median"/>) of <paramref name="values"/> (at least one).</summary>
    public static double MedianOf(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("At least one value is needed.", nameof(values));
        return Quantile(sorted, 0.5);
    }

    /// <summary>Linear-interpolation quantile of sorted values (numpy's default method).</summary>
    private static double Quantile(double[] sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int low = (int)Math.Floor(position);
        int high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
    }
}
