namespace Plstm.Training;

/// <summary>
/// What the trainer reports through <see cref="IProgress{T}"/>: every training step (split <c>train</c>, values of
/// that step alone) and every evaluation (split <c>val</c>). Reported synchronously on the training thread.
/// </summary>
/// <param name="Step">Optimiser steps completed.</param>
/// <param name="TotalSteps">Total steps of the run.</param>
/// <param name="Epoch">Epoch (0-based) of the step's batch.</param>
/// <param name="Split"><c>train</c> or <c>val</c>.</param>
/// <param name="Loss">Train: the step's soft-target loss (float32 value); val: mean cross-entropy.</param>
/// <param name="Accuracy">Top-1 accuracy in [0, 1] (train: against the unmixed labels of the batch).</param>
/// <param name="LearningRate">Learning rate used by the step (train only).</param>
/// <param name="GradNorm">Global gradient norm before clipping (train only).</param>
/// <param name="ImagesPerSecond">Throughput of the step or of the evaluation.</param>
/// <param name="Elapsed">Time since this <c>Fit</c> call started.</param>
/// <param name="CurriculumStage">Train, with the symmetry curriculum on: its stage after the step; else null.</param>
public sealed record TrainingProgress(long Step, long TotalSteps, int Epoch, string Split, double Loss, double Accuracy,
    double? LearningRate, double? GradNorm, double ImagesPerSecond, TimeSpan Elapsed, int? CurriculumStage = null);
