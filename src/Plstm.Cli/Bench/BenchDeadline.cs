using System.Diagnostics;

namespace Plstm.Cli.Bench;

/// <summary>
/// The <c>--max-seconds</c> budget of one bench command, counted from its start. Rows check it before every iteration
/// so that a run on a time-limited machine stops between iterations and still writes what it measured.
/// </summary>
public sealed class BenchDeadline
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>Starts the clock; <paramref name="maxSeconds"/> null means no limit.</summary>
    public BenchDeadline(double? maxSeconds) => MaxSeconds = maxSeconds;

    /// <summary>The limit in seconds, or null for none.</summary>
    public double? MaxSeconds { get; }

    /// <summary>Seconds since the command started.</summary>
    public double ElapsedSeconds => _clock.Elapsed.TotalSeconds;

    /// <summary>True once the limit has passed.</summary>
    public bool Expired => MaxSeconds is double max && ElapsedSeconds >= max;

    /// <summary>
    /// True when another piece of work expected to take <paramref name="seconds"/> still ends within the limit. An
    /// iteration cannot be interrupted, so the previous iteration's time is the estimate that keeps the run inside it.
    /// </summary>
    public bool Allows(double seconds) => MaxSeconds is not double max || ElapsedSeconds + seconds <= max;
}
