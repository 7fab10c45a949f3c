namespace Plstm.Ops.TwoD;

/// <summary>How <see cref="MaskedAttentionKernel"/> computes the gradients of <c>Y = (Q Kᵀ ⊙ G) V</c>.</summary>
public enum MaskedAttentionBackwardForm
{
    /// <summary>One kernel per block of keys: the scores S and dA = dY Vᵀ formed once per tile pair, dK and dV kept, the
    /// gate's gradient written and each block's share of dQ added by L2 reductions (float32 dQ may differ in its last
    /// bits between runs). Five tile products instead of seven.</summary>
    Fused,

    /// <summary>Two kernels: one per block of queries (dQ and the gate's gradient), one per block of keys (dK and dV), each
    /// forming S and dA again; deterministic. The gate walk's adjoint can run beside the second.</summary>
    TwoKernels,
}
