namespace Plstm.Tests.Models;

/// <summary>Exact tensor equality as a bool (TorchSharp's <c>equal</c> returns a tensor).</summary>
internal static class TensorEquality
{
    /// <summary>True when both tensors have the same shape and every element is equal.</summary>
    public static bool SameAs(this Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape)) return false;
        using var scope = NewDisposeScope();
        return a.dtype == b.dtype && a.eq(b).all().item<bool>();
    }
}
