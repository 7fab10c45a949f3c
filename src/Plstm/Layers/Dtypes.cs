using static TorchSharp.torch;

namespace Plstm.Layers;

/// <summary>Dtype conversions the layers share.</summary>
internal static class Dtypes
{
    /// <summary><paramref name="t"/> in <paramref name="dtype"/>, itself when it already is (no cast node in the autograd
    /// graph and no copy).</summary>
    public static Tensor Cast(Tensor t, ScalarType dtype) => t.dtype == dtype ? t : t.to_type(dtype);

    /// <summary><paramref name="layer"/> applied to <paramref name="x"/> with its weight and bias cast to x's dtype (the
    /// same product as <c>layer.forward(x)</c> when they already match): float32 parameters serve activations of a
    /// lower compute dtype (<c>VisionModel.ComputeDtype</c>), their gradients flowing back through the casts.</summary>
    public static Tensor LinearIn(Tensor x, TorchSharp.Modules.Linear layer) =>
        Linear(x, Cast(layer.weight!, x.dtype), layer.bias is null ? null : Cast(layer.bias, x.dtype));

    /// <summary><c>nn.functional.linear(x, weight, bias)</c> (<c>x Wᵀ + b</c> over the last axis, same shapes) with a
    /// contiguous <paramref name="x"/> of rank ≥ 3 taken as one matrix of rows: the bias then goes into the product
    /// (libtorch's addmm: on CUDA cuBLASLt's bias epilogue), where libtorch's linear as TorchSharp calls it ran the
    /// product and then added the bias in a separate pass over the whole output. At 224 px (batch 128) those passes cost
    /// 50–60 µs per 2D-layer projection and MLP up-projection and 17 µs per down-projection and patch embedding on an
    /// H200, ≈ 1.5 ms of a pLSTM-ViT-T training step; ViT-T's <c>[B, 1 + X·Y, D]</c> tokens gained too (224 px ≈ 0.7
    /// ms; bench/results/gpu-h200-flat-linear-2026-12-02.md).</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        if (bias is null) return nn.functional.linear(x, weight);                     // matmul folds the rows itself
        var shape = x.shape;                                                            // one native call
        if (shape.Length <= 2 || !x.is_contiguous()) return nn.functional.linear(x, weight, bias);
        using var rows = x.view(-1, shape[^1]);                                         // [rows, in]
        using var product = nn.functional.linear(rows, weight, bias);                   // [rows, out]
        shape[^1] = product.size(1);
        return product.view(shape);                                                     // [..., out]
    }
}
