using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Layers;

/// <summary>
/// The pre-activation shared by the S/M gate sub-layers and the transition eigenvalues (models §2.2): N gates, the D
/// input channels split into S contiguous groups of D/S, gate n an affine function of its group only.
/// Weight <c>[N/S, S, J…, D/S]</c>, bias <c>[N, J…]</c>; gate index n = a·S + s for weight row (a, s) (with S = N, as in
/// every vision config, n = s reads channels n·D/N … (n+1)·D/N − 1).
/// </summary>
internal static class SubHeadAffine
{
    /// <summary><c>z[…, n, j…] = bias[n, j…] + Σ_c weight[a, s, j…, c]·x[…, s·D/S + c]</c> for input <c>[…, D]</c>; with no
    /// weight the bias broadcast over the leading axes (the bias-only ablation). Parameters are cast to x's dtype.</summary>
    public static Tensor Apply(Tensor x, Tensor bias, Tensor? weight, int subHeads, int inputDim, string owner)
    {
        if (x.dim() < 1 || x.shape[^1] != inputDim)
            throw new ArgumentException(
                $"{owner}: expected x of shape [..., {inputDim}], got [{string.Join(", ", x.shape)}].", nameof(x));
        using var scope = NewDisposeScope();
        var lead = x.shape[..^1];
        var b = bias.to_type(x.dtype);                                                      // [N, J...]
        if (weight is null)
            return b.expand([.. lead, .. b.shape]).MoveToOuterDisposeScope();              // [..., N, J...]
        long jCount = b.shape.Skip(1).Aggregate(1L, (acc, d) => acc * d);
        var w = weight.to_type(x.dtype).reshape(weight.shape[0], subHeads, jCount, inputDim / subHeads);  // [N/S, S, J, D/S]
        var grouped = x.reshape([.. lead, subHeads, inputDim / subHeads]);                   // [..., S, D/S]
        var z = einsum("asjc,...sc->...asj", w, grouped).reshape([.. lead, .. b.shape]);    // [..., N, J...]
        return (z + b).MoveToOuterDisposeScope();
    }

    /// <summary>The dense matrix of a grouped weight <c>[A, S, R, D/S]</c> whose row (a, s, r) reads input group s:
    /// <c>[A·S·R, D]</c>, zero outside each row's group (block-diagonal over s), rows in (a, s, r) order.
    /// <paramref name="owner"/>: the parameter the grouped weight is made from (its dtype and device), which keys the
    /// block mask.</summary>
    public static Tensor Dense(Tensor grouped, Tensor owner)
    {
        var shape = grouped.shape;                                                           // one native call
        long a = shape[0], s = shape[1], r = shape[2], c = shape[3];
        if (s == 1) return grouped.reshape(a * r, c);
        return (grouped.unsqueeze(3) * Blocks(owner, s)).reshape(a * s * r, s * c);       // [A, S, R, S, D/S]
    }

    private sealed record BlockMask(long S, Tensor Mask);

    private static readonly ConditionalWeakTable<Tensor, BlockMask> BlockMasks = new();

    /// <summary>The identity <c>[1, S, 1, S, 1]</c> that masks a grouped weight to its blocks, in the dtype and on the
    /// device of <paramref name="owner"/>, made once per owner parameter (a constant: every layer forward of every step
    /// would otherwise build it again, a host call and a kernel). Keyed by the parameter object rather than by dtype and
    /// device, whose reads are three native calls per use; a model moved to another dtype or device has new parameter
    /// objects, hence new masks.</summary>
    private static Tensor Blocks(Tensor owner, long s)
    {
        if (BlockMasks.TryGetValue(owner, out var known) && known.S == s) return known.Mask;
        using var noGrad = no_grad();
        var mask = eye(s, dtype: owner.dtype, device: owner.device).reshape(1, s, 1, s, 1).DetachFromDisposeScope();
        BlockMasks.AddOrUpdate(owner, new BlockMask(s, mask));
        return mask;
    }

    /// <summary>Null when N gates can be split into <paramref name="subHeads"/> groups of a D-channel input, else why not.</summary>
    public static string? Check(int numGates, int subHeads, int inputDim)
    {
        if (numGates <= 0) return $"gate count must be positive, got {numGates}";
        if (subHeads <= 0) return $"sub-heads must be positive, got {subHeads}";
        if (numGates % subHeads != 0) return $"sub-heads {subHeads} must divide the gate count {numGates}";
        if (inputDim <= 0 || inputDim % subHeads != 0) return $"sub-heads {subHeads} must divide the input dim {inputDim}";
        return null;
    }
}
