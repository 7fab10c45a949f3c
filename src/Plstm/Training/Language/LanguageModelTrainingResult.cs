namespace Plstm.Training.Language;

/// <summary>Outcome of <see cref="LanguageModelTrainer.Fit"/>.</summary>
/// <param name="Step">Optimiser steps completed (including those before a resume).</param>
/// <param name="TotalSteps">Steps of the run.</param>
/// <param name="StopReason">Why training stopped.</param>
/// <param name="ResumedFromStep">The checkpoint step this call resumed from, or null for a fresh start.</param>
/// <param name="LastTrainLoss">Loss (nats/byte) of the last step of this call, or null if it ran none.</param>
/// <param name="LastValidation">The last periodic validation of this call, or null.</param>
/// <param name="BestValidationLoss">Lowest periodic validation loss (nats/byte) of the run so far, or null.</param>
/// <param name="BestStep">Step of <see cref="BestValidationLoss"/>.</param>
/// <param name="TrainSeconds">Seconds spent in training steps, resumed runs included.</param>
/// <param name="LastLearningRate">Learning rate of the last step, or null if the run has run none.</param>
public sealed record LanguageModelTrainingResult(long Step, long TotalSteps, LanguageModelStopReason StopReason,
    long? ResumedFromStep, double? LastTrainLoss, LanguageModelEvaluation? LastValidation, double? BestValidationLoss,
    long? BestStep, double TrainSeconds, double? LastLearningRate)
{
    /// <summary>The evaluation on the whole validation split after a finished run (<see cref="Completed"/>), else null.</summary>
    public LanguageModelEvaluation? FinalValidation { get; init; }

    /// <summary>True when the run is finished (all steps, or the time budget used up): nothing is left to resume.</summary>
    public bool Completed => StopReason is LanguageModelStopReason.Steps or LanguageModelStopReason.TimeBudget;
}
