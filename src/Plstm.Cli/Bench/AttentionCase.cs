using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Cli.Bench;

/// <summary>
/// Forward + backward of libtorch's fused <c>scaled_dot_product_attention</c> (no mask, no dropout; libtorch picks the
/// kernel: flash / memory-efficient / math) on q, k, v of shape <c>[B, H, X·Y, DK]</c> (v: DV), the attention a ViT
/// block runs on the same tokens. Fresh leaves per iteration, <c>out.sum().backward()</c>.
/// </summary>
public sealed class AttentionCase : IBenchCase
{
    private readonly Tensor[] _leaves;

    /// <summary>Creates q, k, v ~ N(0, 1) on <paramref name="device"/> in <paramref name="dtype"/>.</summary>
    public AttentionCase(int batch, int heads, long tokens, int dk, int dv, ScalarType dtype, Device device, long seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        manual_seed(seed);
        Tensor Normal(params long[] shape) =>
            randn(shape, dtype: ScalarType.Float32, device: device).to_type(dtype).MoveToOuterDisposeScope();
        _leaves = [Normal(batch, heads, tokens, dk), Normal(batch, heads, tokens, dk), Normal(batch, heads, tokens, dv)];
    }

    /// <inheritdoc />
    public void RunOnce()
    {
        using var scope = NewDisposeScope();
        var l = _leaves.Select(t => t.detach().requires_grad_(true)).ToArray();
        nn.functional.scaled_dot_product_attention(l[0], l[1], l[2]).sum().backward();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var leaf in _leaves) leaf.Dispose();
    }
}
