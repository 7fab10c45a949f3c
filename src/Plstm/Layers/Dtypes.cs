using static TorchSharp.torch;

namespace Plstm.Layers;

/// <summary>Dtype conversions the layers share.</summary>
internal static class Dtypes
{
    /// <summary><paramref name="t"/> in <paramref name="dtype"/>, itself when it already is (no cast node in the autograd
    /// graph and no copy).</summary>
    public static Tensor Cast(Tensor t, ScalarType dtype) => t.dtype == dtype ? t : t.to_type(dtype);
}
