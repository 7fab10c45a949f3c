using System.Diagnostics;

namespace Plstm.Cli.Bench;

/// <summary>
/// Runs one benchmark body: warm-up iterations (first-call costs: kernel selection, allocator growth, lazy
/// initialisation), then timed iterations, each followed by <paramref name="Synchronize"/> so that the stopwatch sees
/// the device's work and not just the launches — or, with <paramref name="SyncEvery"/> N &gt; 1, windows of N iterations
/// with one synchronisation at each window's end, every iteration of a window timed as the window's mean: on a GPU the
/// host then issues the next iteration while the device still runs the last, as in a training loop that reads nothing
/// back every step, so a step whose host work is close to its device work is not charged the device's idle start.
/// </summary>
/// <param name="Warmup">Untimed iterations first.</param>
/// <param name="Iterations">Timed iterations asked for.</param>
/// <param name="Synchronize">Waits for the device (torch.cuda.synchronize on CUDA; nothing on the CPU, which is synchronous).</param>
/// <param name="Deadline">The command's time limit, checked before every iteration.</param>
/// <param name="SyncEvery">Timed iterations per synchronisation (at least 1).</param>
public sealed record IterationTimer(int Warmup, int Iterations, Action Synchronize, BenchDeadline Deadline, int SyncEvery = 1)
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
        if (SyncEvery < 1) throw new ArgumentOutOfRangeException(nameof(SyncEvery), SyncEvery, "must be at least 1");
        while (times.Count < Iterations)
        {
            // A window of up to SyncEvery iterations; the estimate is the previous iteration (the last warm-up one before
            // the first timed run), and a window the time limit cuts short is still synchronised and timed.
            int size = Math.Min(SyncEvery, Iterations - times.Count), ran = 0;
            clock.Restart();
            for (; ran < size && Deadline.Allows((ran + 1) * last / 1000.0); ran++) body();
            if (ran == 0) break;
            Synchronize();
            clock.Stop();
            last = clock.Elapsed.TotalMilliseconds / ran;
            for (int i = 0; i < ran; i++) times.Add(last);
            if (ran < size) break;
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
