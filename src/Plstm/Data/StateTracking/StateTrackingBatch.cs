namespace Plstm.Data.StateTracking;

/// <summary>
/// A batch of generated sequences of one length: row-major <c>[BatchSize, Length]</c> tokens and targets (the running
/// product at every position, <see cref="StateTrackingTasks.Targets"/>).
/// </summary>
/// <param name="Task">The task the batch belongs to.</param>
/// <param name="BatchSize">Sequences B.</param>
/// <param name="Length">Positions per sequence T.</param>
/// <param name="Tokens">Inputs, <c>B·T</c> values in 0 … VocabSize − 1.</param>
/// <param name="Targets">Targets, <c>B·T</c> values in 0 … NumClasses − 1.</param>
public sealed record StateTrackingBatch(StateTrackingTask Task, int BatchSize, int Length, long[] Tokens, long[] Targets)
{
    /// <summary>The tokens of sequence <paramref name="row"/>.</summary>
    public ReadOnlySpan<long> TokensOf(int row) => Tokens.AsSpan(row * Length, Length);

    /// <summary>The targets of sequence <paramref name="row"/>.</summary>
    public ReadOnlySpan<long> TargetsOf(int row) => Targets.AsSpan(row * Length, Length);
}
