using Plstm.Interop;
using Plstm.Interop.Cuda;
using Plstm.Ops.TwoD;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.Common;

/// <summary>
/// The blocks' RMS norm with its scale, <c>x · (mean x² + eps)^−½ · γ</c> over the last axis, as one CUDA kernel each way
/// (<c>Kernels/rms_norm_rows.cu</c>) inside one custom autograd function: for contiguous float32 inputs on a CUDA device
/// where the kernels build (<see cref="CanRun"/>); <see cref="Blocks.RmsNorm"/> keeps its tensor operations everywhere
/// else (the CPU, float64), which are this function's definition and its test.
/// </summary>
/// <remarks>
/// Kept for backward: x, γ and the rows' factors r. The scale's gradient is summed per thread block and the blocks' sums
/// added by libtorch in a fixed order, so it does not change from run to run. Checked on the GPU by
/// <c>plstm selfcheck --parts norm</c> (against the tensor operations, float32 and float64 references).
/// </remarks>
internal sealed class ScaledRmsNormKernel : autograd.MultiTensorFunction<ScaledRmsNormKernel>
{
    /// <summary>The widest normalised axis the kernels take (their static shared memory holds 8 · width floats).</summary>
    public const long MaxWidth = 1024;

    private const int ForwardBlock = 256;
    private const int BackwardWarps = 8;
    private const string WidthKey = "width";

    private static readonly KernelCache<int> Kernels = new("rms_norm_rows.cu", null,
        ["plstm_rms_norm_rows_forward", "plstm_rms_norm_rows_backward"], Definitions);

    /// <summary>The compiler definitions for a normalised axis of <paramref name="width"/>.</summary>
    internal static Dictionary<string, string> Definitions(int width) =>
        new() { ["WIDTH"] = width.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    /// <summary><c>PLSTM_RMS_NORM_KERNEL=off</c> keeps the tensor operations on CUDA too (for measurements).</summary>
    private static readonly bool Off = Environment.GetEnvironmentVariable("PLSTM_RMS_NORM_KERNEL") == "off";

    /// <inheritdoc />
    public override string Name => nameof(ScaledRmsNormKernel);

    /// <summary>Whether the kernels run for <paramref name="x"/> (<c>[…, width]</c>) and <paramref name="scale"/>
    /// (<c>[width]</c>): both float32 on one CUDA device, x contiguous, 1 ≤ width ≤ <see cref="MaxWidth"/>, the kernels
    /// built there.</summary>
    public static bool CanRun(Tensor x, Tensor scale, long width) => !Off &&
        x.device_type == DeviceType.CUDA && x.dtype == ScalarType.Float32 && scale.dtype == ScalarType.Float32
        && scale.device_type == DeviceType.CUDA && width >= 1 && width <= MaxWidth && x.is_contiguous()
        && CudaDriver.Available && Kernels.Source is not null
        && Kernels.BuildError(TensorData.DeviceIndex(x), (int)width) is null;

    /// <summary><c>x · (mean x² + eps)^−½ · γ</c> over the last axis (of length <paramref name="width"/>), differentiable
    /// with respect to x and <paramref name="scale"/>; the caller checks <see cref="CanRun"/>.</summary>
    public static Tensor Apply(Tensor x, Tensor scale, long width, double eps)
    {
        using var scope = NewDisposeScope();
        if (!is_grad_enabled() || !(x.requires_grad || scale.requires_grad))
        {
            var (y, inverse) = Forward(x, scale, width, eps);
            inverse.Dispose();
            return y.MoveToOuterDisposeScope();
        }
        return apply(x, scale, width, eps)[0].MoveToOuterDisposeScope();
    }

    private static unsafe (Tensor Y, Tensor Inverse) Forward(Tensor x, Tensor scale, long width, double eps)
    {
        long rows = x.numel() / width;
        var y = empty_like(x);
        var inverse = empty(new[] { rows }, ScalarType.Float32, x.device);
        if (rows == 0) return (y, inverse);
        using var gamma = scale.contiguous();                                             // a new handle: disposed here
        IntPtr xp = TensorData.Pointer(x), sp = TensorData.Pointer(gamma), yp = TensorData.Pointer(y),
            ip = TensorData.Pointer(inverse);
        float e = (float)eps;
        void** args = stackalloc void*[] { &xp, &sp, &yp, &ip, &rows, &e };
        var kernels = Kernels.On(TensorData.DeviceIndex(x), (int)width);
        CudaDriver.Launch(kernels[0], (checked((uint)((rows * 32 + ForwardBlock - 1) / ForwardBlock)), 1, 1), ForwardBlock, args);
        return (y, inverse);
    }

    /// <summary>The backward kernel's blocks for <paramref name="rows"/> rows: one per 8 rows up to 264 (two per
    /// multiprocessor of a large GPU), each block then striding over many rows — few partial sums for libtorch to add.</summary>
    internal static long BackwardBlocks(long rows) => Math.Max(1, Math.Min((rows + BackwardWarps - 1) / BackwardWarps, 264));

    private static unsafe (Tensor Dx, Tensor DScale) Backward(Tensor x, Tensor scale, Tensor inverse, Tensor dy, long width)
    {
        long rows = x.numel() / width;
        var dx = empty_like(x);
        long blocks = BackwardBlocks(rows);
        using var partial = empty(new[] { blocks, width }, ScalarType.Float32, x.device);
        if (rows > 0)
        {
            using var gamma = scale.contiguous();
            IntPtr xp = TensorData.Pointer(x), sp = TensorData.Pointer(gamma), ip = TensorData.Pointer(inverse),
                gp = TensorData.Pointer(dy), dp = TensorData.Pointer(dx), pp = TensorData.Pointer(partial);
            void** args = stackalloc void*[] { &xp, &sp, &ip, &gp, &dp, &pp, &rows };
            var kernels = Kernels.On(TensorData.DeviceIndex(x), (int)width);
            CudaDriver.Launch(kernels[1], (checked((uint)blocks), 1, 1), BackwardWarps * 32, args);
        }
        else partial.zero_();
        return (dx, partial.sum(new long[] { 0 }));   // (a literal 0 alone binds to sum(ScalarType))
    }

    /// <inheritdoc />
    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var (x, scale, width, eps) = ((Tensor)vars[0], (Tensor)vars[1], (long)vars[2], (double)vars[3]);
        using var noGrad = no_grad();
        var (y, inverse) = Forward(x, scale, width, eps);
        ctx.save_for_backward([x, scale, inverse]);
        ctx.save_data(WidthKey, width);
        ctx.set_materialize_grads(false);
        return [y];
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grad_outputs)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var saved = ctx.get_saved_variables();
        var width = (long)ctx.get_data(WidthKey);
        var dOutput = grad_outputs[0];
        List<Tensor> result;
        using (var scope = NewDisposeScope())
        {
            var (x, scale, inverse) = (saved[0], saved[1], saved[2]);
            if (dOutput is null || dOutput.IsInvalid) result = [zeros_like(x), zeros_like(scale)];
            else
            {
                var (dx, dScale) = Backward(x, scale, inverse, dOutput.contiguous(), width);
                result = [dx, dScale];
            }
            foreach (var t in result) t.MoveToOuterDisposeScope();
        }
        BackwardResults.Hand(result);
        foreach (var t in saved) t.Dispose();
        if (dOutput is { IsInvalid: false }) dOutput.Dispose();
        return [.. result, null!, null!];
    }
}
