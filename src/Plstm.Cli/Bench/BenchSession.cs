using System.Globalization;
using TorchSharp;

namespace Plstm.Cli.Bench;

/// <summary>
/// Runs the rows of one bench command: time limit, memory meter, timer, error classification (out of memory →
/// <c>OOM</c> and continue; a failure at a non-float32 dtype → <c>unsupported</c>), a progress line per row and the
/// report files rewritten after every row.
/// </summary>
public sealed class BenchSession
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private readonly TextWriter _writer;
    private readonly IterationTimer _timer;
    private int _done;

    /// <summary>Prepares a session; nothing runs yet.</summary>
    public BenchSession(BenchSettings settings, BenchReport report, TextWriter writer, int plannedRows)
    {
        Settings = settings ?? throw new ArgumentNullException(nameof(settings));
        Report = report ?? throw new ArgumentNullException(nameof(report));
        _writer = writer ?? throw new ArgumentNullException(nameof(writer));
        PlannedRows = plannedRows;
        Deadline = new BenchDeadline(settings.MaxSeconds);
        Meter = MemoryMeter.For(settings.Device);
        _timer = new IterationTimer(settings.Warmup, settings.Iterations, Meter.Synchronize, Deadline, settings.SyncEvery);
        Report.TimeLimitSeconds = settings.MaxSeconds;
        Report.MemoryMeasure = Meter.Description;
    }

    /// <summary>The common settings.</summary>
    public BenchSettings Settings { get; }

    /// <summary>The report the rows go into.</summary>
    public BenchReport Report { get; }

    /// <summary>The time limit.</summary>
    public BenchDeadline Deadline { get; }

    /// <summary>The memory meter of the device.</summary>
    public MemoryMeter Meter { get; }

    /// <summary>Rows the command intends to run (for the progress counter).</summary>
    public int PlannedRows { get; }

    /// <summary>
    /// <see cref="PlstmApp.Success"/>, or, when some row ended in <see cref="BenchStatus.Error"/>, an exception that
    /// <see cref="PlstmApp"/> turns into one error line and exit code 1 (the report is complete by then).
    /// </summary>
    /// <exception cref="InvalidOperationException">Some row ended in an error.</exception>
    public int ExitCode()
    {
        int errors = Report.Rows.Count(r => r.Status == BenchStatus.Error);
        return errors == 0
            ? PlstmApp.Success
            : throw new InvalidOperationException(
                $"{errors} benchmark row(s) ended in an error (first: {Report.Rows.First(r => r.Status == BenchStatus.Error).Message}); see the status column.");
    }

    /// <summary>Writes the report header lines to the output (before the first row).</summary>
    public void Start()
    {
        _writer.WriteLine($"{Report.Title}: {PlannedRows} row(s) on {Report.Machine.Device}"
            + (Settings.MaxSeconds is double max ? string.Create(Inv, $", time limit {max:0.#} s") : ""));
        foreach (string line in Report.Machine.Lines()) _writer.WriteLine($"  {line}");
        _writer.WriteLine($"  memory: {Meter.Description}");
        _writer.Flush();
        foreach (string? path in new[] { Settings.MarkdownPath, Settings.JsonPath })
            if (path is not null && Path.GetDirectoryName(path) is { Length: > 0 } folder)
                Directory.CreateDirectory(folder);
        Save();
    }

    /// <summary>
    /// Runs one row: <paramref name="prepare"/> builds the case (inputs, model) after the memory meter started, the
    /// timer runs it, and the outcome is recorded in a copy of <paramref name="row"/>.
    /// </summary>
    /// <param name="row">The row's description (name, dtype, shape); status, timing and memory are filled in.</param>
    /// <param name="dtype">The row's dtype: failures other than out-of-memory at a dtype other than float32 count as
    /// unsupported rather than as errors.</param>
    /// <param name="prepare">Creates the case on the device.</param>
    public BenchRow Run(BenchRow row, torch.ScalarType dtype, Func<IBenchCase> prepare)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(prepare);
        BenchRow result;
        if (Deadline.Expired)
        {
            result = row with { Status = BenchStatus.Skipped };
        }
        else
        {
            Meter.Begin();
            try
            {
                TimingStats? timing;
                (double, double)? hostMedian = null;
                using (var benchCase = prepare())
                {
                    timing = _timer.Run(benchCase.RunOnce);
                    // The timed iterations are the last ones the case recorded.
                    if (timing is not null && benchCase is IHostTimedCase hosted && hosted.HostMilliseconds.Count >= timing.Iterations)
                    {
                        var timed = hosted.HostMilliseconds.Skip(hosted.HostMilliseconds.Count - timing.Iterations).ToArray();
                        hostMedian = (TimingStats.MedianOf(timed.Select(t => t.First)), TimingStats.MedianOf(timed.Select(t => t.Second)));
                    }
                }
                var memory = Meter.End();
                result = timing is null
                    ? row with { Status = BenchStatus.Skipped }
                    : row with { Status = BenchStatus.Ok, Timing = timing, Memory = memory, HostMilliseconds = hostMedian };
            }
            catch (Exception ex) when (ex is not CliUsageException)
            {
                var status = FailureKinds.IsOutOfMemory(ex) ? BenchStatus.OutOfMemory
                    : dtype != torch.ScalarType.Float32 ? BenchStatus.Unsupported
                    : BenchStatus.Error;
                result = row with { Status = status, Message = FailureKinds.Summary(ex) };
            }
            finally
            {
                // Tensors of a failed iteration may only be reachable from finalizers: collect them, then give the
                // allocator's cache back so the next row starts from an empty pool.
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Meter.Release();
            }
        }
        Report.Add(result);
        _done++;
        _writer.WriteLine($"[{_done}/{PlannedRows}] {Describe(result)}");
        _writer.Flush();
        Save();
        return result;
    }

    /// <summary>Prints the final table and file locations, and writes the files a last time.</summary>
    public void Finish()
    {
        int skipped = Report.Rows.Count(r => r.Status == BenchStatus.Skipped)
            + Report.Rows.Count(r => r.Timing is { Truncated: true });
        if (skipped > 0)
            Report.Notes.Add($"The time limit (--max-seconds) skipped or shortened {skipped} row(s).");
        Save();
        _writer.WriteLine();
        _writer.Write(Report.Table());
        foreach (string note in Report.Notes) _writer.WriteLine($"- {note}");
        if (Settings.MarkdownPath is not null) _writer.WriteLine($"report: {Settings.MarkdownPath}");
        if (Settings.JsonPath is not null) _writer.WriteLine($"json:   {Settings.JsonPath}");
        _writer.Flush();
    }

    private void Save()
    {
        Report.ElapsedSeconds = Deadline.ElapsedSeconds;
        Report.MemoryMeasure = Meter.Description;
        Report.Write(Settings.MarkdownPath, Settings.JsonPath);
    }

    private static string Describe(BenchRow row)
    {
        string shape = string.Join(' ', new[]
        {
            row.ImageSize is int size ? $"{size}px" : null,
            row.Grid is { } g ? $"grid {g.X}×{g.Y}" : null,
            row.Batch is int b ? $"batch {b}" : null,
        }.Where(s => s is not null));
        string timing = row.Timing is { } t
            ? string.Create(Inv, $"median {BenchReport.Milliseconds(t.Median)} ms over {t.Iterations}")
              + (row.ImagesPerSecond is double rate ? string.Create(Inv, $", {rate:F1} img/s") : "")
            : "";
        return $"{row.Name} {shape} {row.Dtype}: {BenchReport.StatusText(row)}{(timing.Length > 0 ? $", {timing}" : "")}";
    }
}
