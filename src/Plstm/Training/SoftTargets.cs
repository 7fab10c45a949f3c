using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// Soft classification targets: one-hot labels with label smoothing, <c>(1 − ε)·onehot + ε/K</c>, each row summing
/// to 1. In the recipes smoothing is applied before Mixup/CutMix (models.md §7).
/// </summary>
public static class SoftTargets
{
    /// <summary>Float32 targets <c>[B, K]</c> on the labels' device.</summary>
    /// <param name="labels">Int64 labels <c>[B]</c> in 0 … K − 1.</param>
    /// <param name="numClasses">K.</param>
    /// <param name="smoothing">ε in [0, 1).</param>
    public static Tensor Create(Tensor labels, int numClasses, double smoothing = 0.0)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numClasses);
        if (!(smoothing >= 0 && smoothing < 1))
            throw new ArgumentOutOfRangeException(nameof(smoothing), smoothing, "Label smoothing must be in [0, 1).");
        if (labels.ndim != 1) throw new ArgumentException("Labels must be a vector [B].", nameof(labels));
        using var scope = NewDisposeScope();
        var oneHot = nn.functional.one_hot(labels.to_type(ScalarType.Int64), numClasses).to_type(ScalarType.Float32);
        if (smoothing == 0) return oneHot.MoveToOuterDisposeScope();
        return oneHot.mul(1.0 - smoothing).add(smoothing / numClasses).MoveToOuterDisposeScope();
    }
}
