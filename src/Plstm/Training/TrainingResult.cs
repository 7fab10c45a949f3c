namespace Plstm.Training;

/// <summary>Outcome of <see cref="Trainer.Fit"/>.</summary>
/// <param name="Step">Optimiser steps completed (including those before a resume).</param>
/// <param name="TotalSteps">Total steps of the run.</param>
/// <param name="Completed">True when <see cref="Step"/> reached <see cref="TotalSteps"/> (false after
/// <see cref="TrainerOptions.StopAfterSteps"/> or cancellation).</param>
/// <param name="ResumedFromStep">The checkpoint step this call resumed from, or null for a fresh start.</param>
/// <param name="LastTrainLoss">Loss of the last step of this call, or null if it ran none.</param>
/// <param name="LastValidation">The last validation result of this call, or null.</param>
/// <param name="BestValidationAccuracy">Best validation accuracy of the run so far, or null.</param>
/// <param name="BestStep">Step of <see cref="BestValidationAccuracy"/>.</param>
/// <param name="SymmetryCurriculum">The symmetry curriculum's final state (stage, steps at which stages began), or
/// null when the run has none.</param>
public sealed record TrainingResult(long Step, long TotalSteps, bool Completed, long? ResumedFromStep,
    double? LastTrainLoss, EvaluationResult? LastValidation, double? BestValidationAccuracy, long? BestStep,
    SymmetryCurriculumState? SymmetryCurriculum = null);
