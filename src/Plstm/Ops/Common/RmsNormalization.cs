using static TorchSharp.torch;

namespace Plstm.Ops.Common;

/// <summary>
/// RMS normalisation over the last axis, <c>x · (mean_i x_i² + eps)^−½</c>, as tensor operations: the one definition the
/// per-head norm (<c>Layers.MultiHeadRmsNorm</c>) and the 2D layer's kernel form on its composition path
/// (<c>Ops.TwoD.ProjectedGateAttention</c>) share, so both give the same bits. On CUDA the in-place kernel form runs
/// the same formula as a kernel (<c>Kernels/rms_norm.cu</c>).
/// </summary>
internal static class RmsNormalization
{
    /// <summary><c>x · (mean x² + eps)^−½</c> over the last axis (of length <paramref name="width"/>), differentiable.</summary>
    public static Tensor Apply(Tensor x, long width, double eps)
    {
        using var scope = NewDisposeScope();
        // The mean, + eps and rsqrt in place on the fresh [..., 1] sum: fewer temporaries and autograd nodes than
        // mean(…) + eps (none of these ops keeps its input for backward; rsqrt keeps its result).
        var inv = x.square().sum([-1], keepdim: true).div_(width).add_(eps).rsqrt_();        // [..., 1]
        return (x * inv).MoveToOuterDisposeScope();
    }
}
