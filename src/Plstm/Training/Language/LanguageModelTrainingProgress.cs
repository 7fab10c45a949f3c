namespace Plstm.Training.Language;

/// <summary>
/// What <see cref="LanguageModelTrainer"/> reports through <see cref="IProgress{T}"/>: every training step (split
/// <c>train</c>, values of that step alone) and every evaluation (split <c>val</c>). Reported synchronously on the
/// training thread.
/// </summary>
/// <param name="Step">Optimiser steps completed.</param>
/// <param name="TotalSteps">Steps of the run (<see cref="LanguageModelTrainingOptions.UnboundedSteps"/> when only a time
/// budget limits it).</param>
/// <param name="Split"><c>train</c> or <c>val</c>.</param>
/// <param name="Loss">Nats per byte (train: the step's batch; val: the evaluation).</param>
/// <param name="LearningRate">Learning rate of the step (train only).</param>
/// <param name="GradNorm">Global gradient norm before clipping (train only).</param>
/// <param name="BytesPerSecond">Predicted bytes per second of the step or the evaluation.</param>
/// <param name="TrainSeconds">Seconds spent in training steps so far, resumed runs included (the budget's clock).</param>
/// <param name="Eta">Estimated training time left (the smaller of the steps left at the mean step time and the budget
/// left), or null before the first step.</param>
public sealed record LanguageModelTrainingProgress(long Step, long TotalSteps, string Split, double Loss,
    double? LearningRate, double? GradNorm, double BytesPerSecond, double TrainSeconds, TimeSpan? Eta)
{
    /// <summary>The loss in bits per byte.</summary>
    public double BitsPerByte => Loss / Math.Log(2.0);
}
