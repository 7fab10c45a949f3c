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
        ModelResult? result = null;
        var (exitCode, lastError) = SelfProcess.Run(["train", WorkerOption, modelKey], settings.ToJson(), line =>
        {
            if (ExperimentProgressJson.TryParse(line) is not { } report) return;
            if (report.Stage == ExperimentStage.ModelFinished) result = report.Model;
            progress.Report(report);
        }, process => SelfProcess.Interrupt(process, StopGrace), $"model '{modelKey}'", cancellationToken);
        if (exitCode == TrainCommand.Interrupted || cancellationToken.IsCancellationRequested) return null;
        if (exitCode != 0 || result is null)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"model '{modelKey}' failed (worker process exit {exitCode}): {Strip(lastError) ?? "no message"}"));
        return result;
    }

    // The worker's error line is "plstm: error: …"; the parent prints its own prefix.
    private static string? Strip(string? line) =>
        line is not null && line.StartsWith(PlstmApp.ErrorPrefix, StringComparison.Ordinal)
            ? line[PlstmApp.ErrorPrefix.Length..]
            : line;
}
