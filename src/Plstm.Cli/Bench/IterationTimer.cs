using System.Diagnostics;

namespace Plstm.Cli.Bench;

/// <summary>
/// Runs one benchmark body: warm-up iterations (first-call costs: kernel selection, allocator growth, lazy
/// initialisation), then timed iterations, each followed by <paramref name="Synchronize"/> so that the stopwatch sees
/// the device's work and not just the launches.
/// </summary>
/// <param name="Warmup">Untimed iterations first.</param>
/// <param name="Iterations">Timed iterations asked for.</param>
/// <param name="Synchronize">Waits for the device (torch.cuda.synchronize on CUDA; nothing on the CPU, which is synchronous).</param>
/// <param name="Deadline">The command's time limit, checked before every iteration.</param>
public sealed record IterationTimer(int Warmup, int Iterations, Action Synchronize, BenchDeadline Deadline)
{
    /// <summary>
    /// Times <paramref name="body"/>; null when the time limit left no room for a single timed iteration. Exceptions
    /// of the body (out of memory, unsupported dtype) propagate to the caller, which records the row.
    /// </summary>
    public TimingStats? Run(Action body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var clock = new Stopwatch();
        double last = 0;
        int warm = 0;
        for (; warm < Warmup; warm++)
        {
            if (!Deadline.Allows(last / 1000.0)) return null;
            last = TimeOne(body, clock);
        }
        Synchronize();

        var times = new List<double>(Iterations);
        for (int i = 0; i < Iterations; i++)
        {
            // The estimate is the previous iteration (the last warm-up one before the first timed run).
            if (!Deadline.Allows(last / 1000.0)) break;
            last = TimeOne(body, clock);
            times.Add(last);
        }
        return times.Count == 0 ? null : new TimingStats(warm, times, truncated: times.Count < Iterations);
    }

    private double TimeOne(Action body, Stopwatch clock)
    {
        clock.Restart();
        body();
        Synchronize();
        clock.Stop();
        return clock.Elapsed.TotalMilliseconds;
    }
}
