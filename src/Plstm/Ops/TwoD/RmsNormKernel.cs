using Plstm.Interop;
using Plstm.Interop.Cuda;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// RMS normalisation of the rows of a contiguous CUDA float32 tensor (<see cref="Common.RmsNormalization"/>'s formula)
/// and its gradient, as one runtime-compiled kernel each way (<c>Kernels/rms_norm.cu</c>): the per-head norm of the 2D
/// layer's in-place kernel form (<see cref="ProjectedGateAttention"/>), whose function runs it inside its own forward
/// and backward. Not differentiable itself.
/// </summary>
internal static class RmsNormKernel
{
    private const int Block = 256;
    private static readonly KernelCache<int> Kernels = new("rms_norm.cu", null,
        ["plstm_rms_norm_forward", "plstm_rms_norm_backward"], _ => new Dictionary<string, string>());

    /// <summary>Whether the kernels build on CUDA device <paramref name="device"/> (null when they do: the reason
    /// otherwise).</summary>
    public static string? BuildError(int device) => Kernels.Source is null ? "the assembly lacks rms_norm.cu"
        : Kernels.BuildError(device, 0);

    /// <summary>ŷ <c>= y · (mean y² + eps)^−½</c> over rows of <paramref name="width"/> values and the factors r
    /// <c>[rows]</c>, for a contiguous CUDA float32 <paramref name="y"/> (the caller has checked).</summary>
    public static unsafe (Tensor Normalized, Tensor Inverse) Forward(Tensor y, long width, double eps)
    {
        long rows = y.numel() / width;
        var normalized = empty_like(y);
        var inverse = empty(new[] { rows }, y.dtype, y.device);
        IntPtr yp = TensorData.Pointer(y), np = TensorData.Pointer(normalized), ip = TensorData.Pointer(inverse);
        int w = checked((int)width);
        float e = (float)eps;
        void** args = stackalloc void*[] { &yp, &np, &ip, &rows, &w, &e };
        CudaDriver.Launch(On(y)[0], Grid(rows), Block, args);
        return (normalized, inverse);
    }

    /// <summary>The gradient of y from ŷ's gradient <paramref name="dNormalized"/> (contiguous, y's shape), y and r.</summary>
    public static unsafe Tensor Backward(Tensor y, Tensor inverse, Tensor dNormalized, long width)
    {
        long rows = y.numel() / width;
        var dy = empty_like(y);
        IntPtr yp = TensorData.Pointer(y), ip = TensorData.Pointer(inverse), gp = TensorData.Pointer(dNormalized),
            dp = TensorData.Pointer(dy);
        int w = checked((int)width);
        void** args = stackalloc void*[] { &yp, &ip, &gp, &dp, &rows, &w };
        CudaDriver.Launch(On(y)[1], Grid(rows), Block, args);
        return dy;
    }

    private static IntPtr[] On(Tensor t) => Kernels.On(TensorData.DeviceIndex(t), 0);

    private static (uint, uint, uint) Grid(long rows) => (checked((uint)((rows * 32 + Block - 1) / Block)), 1, 1);
}
