using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// Cross-entropy against soft targets, <c>mean_b( −Σ_k t_bk · log_softmax(z_b)_k )</c>: the training loss for smoothed
/// and mixed labels (it equals the usual cross-entropy for one-hot targets).
/// </summary>
public static class SoftTargetLoss
{
    /// <summary>The mean loss (a scalar tensor).</summary>
    /// <param name="logits">Logits <c>[B, K]</c>.</param>
    /// <param name="targets">Targets <c>[B, K]</c>, rows summing to 1.</param>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (logits.ndim != 2 || !logits.shape.SequenceEqual(targets.shape))
            throw new ArgumentException(
                $"Logits [{string.Join(", ", logits.shape)}] and targets [{string.Join(", ", targets.shape)}] must both be [B, K].",
                nameof(targets));
        using var scope = NewDisposeScope();
        var logProbabilities = nn.functional.log_softmax(logits, 1);
        return logProbabilities.mul(targets).sum(1).neg().mean().MoveToOuterDisposeScope();
    }
}
