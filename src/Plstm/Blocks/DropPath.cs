using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Blocks;

/// <summary>
/// Stochastic depth on a residual branch (models §6.1): in training, each sample of the batch keeps its branch output
/// with probability <c>1 − p</c> (kept samples scaled by <c>1/(1 − p)</c> so the expectation is unchanged) or has it
/// zeroed; in evaluation, and for <c>p = 0</c>, it is the identity. Holds no parameters.
/// </summary>
public sealed class DropPath : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates a drop-path with drop probability <paramref name="probability"/> ∈ [0, 1).</summary>
    public DropPath(string name, double probability) : base(name)
    {
        if (!(probability >= 0.0 && probability < 1.0))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "drop probability must be in [0, 1)");
        Probability = probability;
    }

    /// <summary>Probability that a sample's branch is dropped.</summary>
    public double Probability { get; }

    /// <summary>Whether <see cref="forward"/> drops anything: in training with p &gt; 0 (otherwise it is the identity).</summary>
    public bool IsActive => training && Probability > 0.0;

    /// <summary>Applies the per-sample mask to a branch output <c>[B, …]</c>.</summary>
    public override Tensor forward(Tensor branch)
    {
        ArgumentNullException.ThrowIfNull(branch);
        if (!IsActive) return branch.alias();
        using var scope = NewDisposeScope();
        double keep = 1.0 - Probability;
        // One draw per sample, broadcast over every other axis.
        var maskShape = new long[branch.ndim];
        maskShape[0] = branch.shape[0];
        for (int i = 1; i < maskShape.Length; i++) maskShape[i] = 1;
        var mask = empty(maskShape, dtype: branch.dtype, device: branch.device).bernoulli_(keep) / keep; // [B, 1, …]
        return (branch * mask).MoveToOuterDisposeScope();
    }
}
