using Plstm.Ops.TwoD;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Cli.Bench;

/// <summary>
/// Forward + backward of the kernel form's masked attention alone, <c>Y = (Q Kᵀ ⊙ G) V</c> with a given gate G (the part
/// after the gate walk), as the layer runs it: on CUDA in float32 the tensor-core kernels (<see cref="MaskedAttentionKernel"/>,
/// gradients of Q, K, V and G), elsewhere — or with <c>PLSTM_MASKED_ATTENTION=off</c> — the batched products under
/// autograd. q, k <c>[B·H, X·Y, DK]</c>, v <c>[B·H, X·Y, DV]</c> ~ N(0, 1), G uniform in ±1/√(X·Y); fresh leaves per
/// iteration, gradient of <c>Y.sum()</c>. Set beside <c>sdpa</c> it shows what the attention part costs against fused
/// softmax attention, without the walk.
/// </summary>
public sealed class MaskedAttentionCase : IBenchCase
{
    private readonly Tensor[] _leaves;

    /// <summary>Creates the operands on <paramref name="device"/> in <paramref name="dtype"/>.</summary>
    public MaskedAttentionCase(int batchHeads, long tokens, int dk, int dv, ScalarType dtype, Device device, long seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        manual_seed(seed);
        Tensor Make(Tensor t) => t.to_type(dtype).to(device).MoveToOuterDisposeScope();
        _leaves =
        [
            Make(randn(batchHeads, tokens, dk)), Make(randn(batchHeads, tokens, dk)), Make(randn(batchHeads, tokens, dv)),
            Make((rand(batchHeads, tokens, tokens) * 2 - 1) / Math.Sqrt(tokens)),
        ];
    }

    /// <inheritdoc />
    public void RunOnce()
    {
        using var scope = NewDisposeScope();
        var (q, k, v, gate) = (_leaves[0], _leaves[1], _leaves[2], _leaves[3]);
        var shape = q.shape;
        if (MaskedAttentionKernel.CanRun(q, shape[0], shape[2], v.shape[2]))
        {
            var y = MaskedAttentionKernel.Forward(q, k, v, gate);
            MaskedAttentionKernel.Backward(q, k, v, gate, ones_like(y));
            return;
        }
        var l = _leaves.Select(t => t.detach().requires_grad_(true)).ToArray();
        (l[0].matmul(l[1].transpose(1, 2)) * l[3]).matmul(l[2]).sum().backward();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var leaf in _leaves) leaf.Dispose();
    }
}
