using Plstm.Cli.Bench;

namespace Plstm.Tests.Cli;

/// <summary>
/// <see cref="IterationTimer"/>: warm-up iterations, then timed ones synchronised after each, or with
/// <c>SyncEvery</c> N in windows of N with one synchronisation per window, every iteration of a window timed as the
/// window's mean; a time limit that leaves no room gives no timing.
/// </summary>
public class IterationTimerTests
{
    /// <summary>Counts the body's runs and the synchronisations, and which body run each synchronisation followed.</summary>
    private sealed class Recorder
    {
        public int Runs { get; private set; }
        public List<int> SyncedAfter { get; } = [];
        public void Body() { Runs++; Thread.Sleep(1); }
        public void Synchronize() => SyncedAfter.Add(Runs);
    }

    [Theory]
    [InlineData(2, 7, 1, new[] { 1, 2, 2, 3, 4, 5, 6, 7, 8, 9 })]
    [InlineData(2, 7, 3, new[] { 1, 2, 2, 5, 8, 9 })]
    [InlineData(0, 4, 4, new[] { 0, 4 })]
    [InlineData(1, 3, 10, new[] { 1, 1, 4 })]
    public void Synchronises_after_each_warm_up_then_once_per_window(int warmup, int iterations, int syncEvery,
        int[] syncedAfter)
    {
        var recorder = new Recorder();
        var timer = new IterationTimer(warmup, iterations, recorder.Synchronize, new BenchDeadline(null), syncEvery);

        var stats = timer.Run(recorder.Body);

        Assert.NotNull(stats);
        Assert.Equal(warmup + iterations, recorder.Runs);
        Assert.Equal(syncedAfter, recorder.SyncedAfter);
        Assert.Equal(iterations, stats.Iterations);
        Assert.False(stats.Truncated);
        // Every iteration of a window has the window's mean: as many distinct times as windows at most.
        int windows = (iterations + syncEvery - 1) / syncEvery;
        Assert.True(stats.Milliseconds.Distinct().Count() <= windows);
        Assert.All(stats.Milliseconds, ms => Assert.True(ms > 0.5, $"{ms} ms for a body that sleeps 1 ms"));
        for (int w = 0; w < windows; w++)
        {
            var window = stats.Milliseconds.Skip(w * syncEvery).Take(syncEvery).ToArray();
            Assert.All(window, ms => Assert.Equal(window[0], ms));
        }
    }

    [Fact]
    public void A_time_limit_already_passed_gives_no_timing()
    {
        var recorder = new Recorder();
        var deadline = new BenchDeadline(1e-9);
        Thread.Sleep(2);
        var timer = new IterationTimer(1, 5, recorder.Synchronize, deadline, 2);

        Assert.Null(timer.Run(recorder.Body));
        Assert.Equal(0, recorder.Runs);
    }

    [Fact]
    public void Refuses_a_window_of_no_iterations()
    {
        var timer = new IterationTimer(0, 3, () => { }, new BenchDeadline(null), 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => timer.Run(() => { }));
    }
}
