using Plstm.Interop;
using Plstm.Interop.Cuda;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The gradient of the RMS normalisation of the rows of a contiguous CUDA float32 tensor
/// (<see cref="Common.RmsNormalization"/>'s formula) as one runtime-compiled kernel (<c>Kernels/rms_norm.cu</c>): the
/// backward of the per-head norm of the 2D layer's in-place kernel form (<see cref="ProjectedGateAttention"/>), whose
/// forward normalises in the masked attention kernel (<see cref="MaskedAttentionKernel.ForwardNormalizedInto"/>). Not
/// differentiable itself.
/// </summary>
internal static class RmsNormKernel
{
    private const int Block = 256;
    private static readonly KernelCache<int> Kernels = new("rms_norm.cu", null,
        ["plstm_rms_norm_backward"], _ => new Dictionary<string, string>());

    /// <summary>Whether the kernels build on CUDA device <paramref name="device"/> (null when they do: the reason
    /// otherwise).</summary>
    public static string? BuildError(int device) => Kernels.Source is null ? "the assembly lacks rms_norm.cu"
        : Kernels.BuildError(device, 0);

    /// <summary>The gradient of y from ŷ's gradient <paramref name="dNormalized"/> (contiguous, y's shape), y and r. With
    /// <paramref name="zeroColumns"/> (a contiguous <c>[B, T, C]</c> tensor whose first H·W columns are, row by row, the
    /// heads' W-wide blocks of y's rows <c>[B, T, H, W]</c>) the same kernel sets those columns to zero: the 2D layer's
    /// q-column gradient, which the fused masked attention backward adds into.</summary>
    public static unsafe Tensor Backward(Tensor y, Tensor inverse, Tensor dNormalized, long width,
        (Tensor Target, int Heads)? zeroColumns = null)
    {
        long rows = y.numel() / width;
        var dy = empty_like(y);
        IntPtr yp = TensorData.Pointer(y), ip = TensorData.Pointer(inverse), gp = TensorData.Pointer(dNormalized),
            dp = TensorData.Pointer(dy), zp = IntPtr.Zero;
        int w = checked((int)width), heads = 1;
        long zstride = 0;
        if (zeroColumns is { } z)
        {
            zp = TensorData.Pointer(z.Target);
            heads = z.Heads;
            zstride = z.Target.size(-1);
        }
        void** args = stackalloc void*[] { &yp, &ip, &gp, &dp, &rows, &w, &zp, &heads, &zstride };
        CudaDriver.Launch(On(y)[0], Grid(rows), Block, args);
        return dy;
    }

    private static IntPtr[] On(Tensor t) => Kernels.On(TensorData.DeviceIndex(t), 0);

    private static (uint, uint, uint) Grid(long rows) => (checked((uint)((rows * 32 + Block - 1) / Block)), 1, 1);
}
