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

    /// <summary><c>nn.functional.linear(x, weight, bias)</c> with the rows of a contiguous x flattened so the bias goes
    /// into the product: see <see cref="Ops.Common.RowsLinear.Linear"/>.</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias) => Ops.Common.RowsLinear.Linear(x, weight, bias);
}
