using Plstm.Ops.Common;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Layers;

/// <summary>
/// Per-head RMS norm (reference <c>MultiHeadRMSNorm</c>, scale on, no bias; models §2.5): for input <c>[…, H, DV]</c>,
/// <c>y = x · (mean_i x_i² + eps)^−½ · scale[h]</c> over each head's DV channels. Parameter (reference name):
/// <c>scale [H, DV]</c>, init 1. Half-precision inputs (float16/bfloat16) are normalised in float32 (the reference's
/// norm dtype) and cast back; float32/float64 are computed in their own precision.
/// </summary>
public sealed class MultiHeadRmsNorm : nn.Module<Tensor, Tensor>
{
    // Reference state_dict name; not readonly because Module.to(…) swaps parameters through the field.
    private Parameter scale;

    private readonly int _numHeads;
    private readonly int _headDim;
    private readonly double _eps;

    /// <summary>Creates the norm with scale 1 (float32, CPU).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="numHeads">Heads H.</param>
    /// <param name="headDim">Channels per head DV (times JO in general).</param>
    /// <param name="eps">Epsilon inside the square root (reference 1e-5).</param>
    /// <exception cref="ArgumentException">A non-positive size or eps.</exception>
    public MultiHeadRmsNorm(string name, int numHeads, int headDim, double eps = 1e-5) : base(name)
    {
        if (numHeads <= 0) throw new ArgumentException($"must be positive, got {numHeads}", nameof(numHeads));
        if (headDim <= 0) throw new ArgumentException($"must be positive, got {headDim}", nameof(headDim));
        if (!(eps > 0) || double.IsInfinity(eps)) throw new ArgumentException($"must be positive and finite, got {eps}", nameof(eps));
        _numHeads = numHeads;
        _headDim = headDim;
        _eps = eps;
        scale = new Parameter(ones(numHeads, headDim));
        RegisterComponents();
    }

    /// <summary>The per-head scale γ <c>[H, DV]</c>.</summary>
    public Parameter Scale => scale;

    /// <summary>Re-initialises the scale to 1.</summary>
    public void ResetParameters()
    {
        using var noGrad = no_grad();
        nn.init.ones_(scale);
    }

    /// <summary><c>x · (mean_i x_i² + eps)^−½</c> per head of <c>[…, H, DV]</c>, times the scale when
    /// <paramref name="withScale"/> (the 2D layer folds the scale into its out-projection instead).</summary>
    internal Tensor Normalize(Tensor x, bool withScale)
    {
        using var scope = NewDisposeScope();
        // Low-precision sums of squares lose too much; the reference normalises in float32 there.
        var computeType = x.dtype is ScalarType.Float16 or ScalarType.BFloat16 ? ScalarType.Float32 : x.dtype;
        var y = RmsNormalization.Apply(Dtypes.Cast(x, computeType), _headDim, _eps);         // [..., H, DV]
        if (withScale) y = y * Dtypes.Cast(scale, computeType);
        return Dtypes.Cast(y, x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Normalises <c>[…, H, DV]</c> per head.</summary>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() < 2 || x.shape[^2] != _numHeads || x.shape[^1] != _headDim)
            throw new ArgumentException(
                $"{nameof(MultiHeadRmsNorm)}: expected x of shape [..., H={_numHeads}, DV={_headDim}], got [{string.Join(", ", x.shape)}].",
                nameof(x));
        return Normalize(x, withScale: true);
    }
}
