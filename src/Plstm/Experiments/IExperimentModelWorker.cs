namespace Plstm.Experiments;

/// <summary>
/// Trains and evaluates one model of an experiment outside the <see cref="ExperimentRunner"/>'s own thread — the
/// <c>plstm</c> command uses one child process per model — so that the models of an experiment train side by side
/// (<see cref="ExperimentRunOptions.ModelWorker"/>).
/// </summary>
/// <remarks>
/// The worker trains into the same output folder (<c>OUT/&lt;model&gt;/</c>, resuming that model's <c>last.ckpt</c>
/// when there is one) and writes the model's <see cref="ExperimentRunner.EvaluationFileName"/>, exactly as an
/// <see cref="ExperimentRunner"/> with <see cref="ExperimentRunOptions.OnlyModel"/> does.
/// </remarks>
public interface IExperimentModelWorker
{
    /// <summary>
    /// Runs model <paramref name="modelKey"/> to the end and returns its result, or null when it was cancelled
    /// (its checkpoints are kept). Progress may be reported from any thread; the runner serialises the reports.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model's run failed (the message says why).</exception>
    ModelResult? Run(string modelKey, IProgress<ExperimentProgress> progress, CancellationToken cancellationToken);
}
