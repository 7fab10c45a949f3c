using System.Diagnostics;
using System.Globalization;
using Plstm.Cli.Commands;
using Plstm.Experiments;

namespace Plstm.Cli.Training;

/// <summary>
/// Trains one model of an experiment in a child <c>plstm train --model-worker KEY</c> process (the same executable),
/// which gets the parent's settings as JSON on its standard input and reports its progress as JSON lines
/// (<see cref="ExperimentProgressJson"/>); relays that progress and returns the model's result. Processes, not
/// threads: see <see cref="SelfProcess"/>.
/// </summary>
/// <param name="settings">The run's settings; <see cref="TrainSettings.Out"/> absolute, <see cref="TrainSettings.Threads"/>
/// the worker's share of the cores.</param>
internal sealed class ProcessModelWorker(TrainSettings settings) : IExperimentModelWorker
{
    /// <summary>The hidden option that makes <c>plstm train</c> a worker for one model.</summary>
    public const string WorkerOption = "--model-worker";

    /// <summary>How long a cancelled worker may take to save its checkpoint before it is killed.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(60);

    /// <inheritdoc />
    public ModelResult? Run(string modelKey, IProgress<ExperimentProgress> progress, CancellationToken cancellationToken)
    {
        var start = SelfProcess.StartInfo(["train", WorkerOption, modelKey], redirectInput: true);
        using var process = Process.Start(start)
            ?? throw new InvalidOperationException($"Could not start '{start.FileName}' for model '{modelKey}'.");
        process.StandardInput.Write(settings.ToJson());
        process.StandardInput.Close();

        ModelResult? result = null;
        string? lastError = null;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null || ExperimentProgressJson.TryParse(e.Data) is not { } report) return;
            if (report.Stage == ExperimentStage.ModelFinished) result = report.Model;
            progress.Report(report);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrWhiteSpace(e.Data)) lastError = e.Data;
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using (cancellationToken.Register(() => SelfProcess.Interrupt(process, StopGrace)))
        {
            process.WaitForExit();
        }
        if (process.ExitCode == TrainCommand.Interrupted || cancellationToken.IsCancellationRequested) return null;
        if (process.ExitCode != 0 || result is null)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"model '{modelKey}' failed (worker process exit {process.ExitCode}): {Strip(lastError) ?? "no message"}"));
        return result;
    }

    // The worker's error line is "plstm: error: …"; the parent prints its own prefix.
    private static string? Strip(string? line) =>
        line is not null && line.StartsWith($"{PlstmApp.Name}: error: ", StringComparison.Ordinal)
            ? line[$"{PlstmApp.Name}: error: ".Length..]
            : line;
}
