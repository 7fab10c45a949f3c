namespace Plstm.Training;

/// <summary>Result of <see cref="Trainer.Evaluate"/>.</summary>
/// <param name="Loss">Mean cross-entropy against the hard labels (no smoothing) over all samples.</param>
/// <param name="Accuracy">Top-1 accuracy in [0, 1].</param>
/// <param name="Count">Samples evaluated.</param>
public sealed record EvaluationResult(double Loss, double Accuracy, int Count);
