using Plstm.Ops.Common;
using Plstm.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Tests.Ops;

/// <summary>
/// The RMS norm kernels' loops (<see cref="RmsNormKernelMirror"/>) against autograd of the tensor definition, in float64:
/// the blocks' norm with its scale (<c>rms_norm_rows.cu</c>, <see cref="ScaledRmsNormKernel"/>: widths with partial
/// lanes, more rows than the backward's blocks have warps, so each warp takes several) and the 2D layer's per-head norm
/// backward (<c>rms_norm.cu</c>, clearing the q columns of the projection gradient it shares rows with). On CUDA the
/// compiled kernels are compared with the tensor operations by <c>plstm selfcheck --parts norm,layer</c>.
/// </summary>
public class RmsNormKernelTests
{
    private const double Eps = 1e-5;

    private static double[] Flat(Tensor t) => t.contiguous().data<double>().ToArray();

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 31)]
    [InlineData(9, 33)]
    [InlineData(100, 200)]
    [InlineData(2_200, 64)]                 // 2,200 rows > 264 blocks × 8 warps: warps stride over several rows
    public void The_rows_kernels_equal_autograd_of_the_scaled_norm(int rows, int width)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(7100 + (ulong)(rows + width));
        var x = (randn(new long[] { rows, width }, generator: generator, dtype: float64) * 1.7 + 0.3).requires_grad_(true);
        var scale = (randn(new long[] { width }, generator: generator, dtype: float64) * 0.5 + 1).requires_grad_(true);
        var weights = randn(new long[] { rows, width }, generator: generator, dtype: float64);
        var expected = x * x.square().mean(new long[] { -1 }, keepdim: true).add(Eps).rsqrt() * scale;
        (expected * weights).sum().backward();

        var (y, inverse) = RmsNormKernelMirror.RowsForward(Flat(x.detach()), Flat(scale.detach()), rows, width, Eps);
        var (dx, dScale) = RmsNormKernelMirror.RowsBackward(Flat(x.detach()), Flat(scale.detach()), inverse, Flat(weights),
            rows, width, ScaledRmsNormKernel.BackwardBlocks(rows));
        TensorAssert.AssertClose(tensor(y, new long[] { rows, width }, float64), expected.detach(), "y",
            Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(tensor(dx, new long[] { rows, width }, float64), x.grad!, "dx", Tolerances.Float64Rtol,
            Tolerances.Float64Atol);
        TensorAssert.AssertClose(tensor(dScale, new long[] { width }, float64), scale.grad!, "dscale",
            Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    [Theory]
    [InlineData(1, 1, 1, 8)]
    [InlineData(2, 5, 3, 64)]
    [InlineData(3, 7, 2, 40)]
    public void The_per_head_backward_equals_autograd_and_clears_only_its_q_columns(int b, int t, int heads, int width)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(7200 + (ulong)(b * t + width));
        int rows = b * t * heads;
        var y = (randn(new long[] { b, t, heads, width }, generator: generator, dtype: float64) + 0.2).requires_grad_(true);
        var dyhat = randn(new long[] { b, t, heads, width }, generator: generator, dtype: float64);
        var normed = RmsNormalization.Apply(y, width, Eps);
        (normed * dyhat).sum().backward();
        var inverse = Flat(y.detach().square().mean(new long[] { -1 }).add(Eps).rsqrt());     // [B, T, H]

        // The projection gradient [B, T, C]: q columns (H·W) first, then other columns the kernel must not touch.
        long columns = 3L * heads * width + 5;
        var projection = Enumerable.Repeat(double.NaN, (int)(b * t * columns)).ToArray();
        for (long bt = 0; bt < b * t; bt++)
            for (long c = heads * width; c < columns; c++) projection[bt * columns + c] = 42;
        var dy = RmsNormKernelMirror.HeadsBackward(Flat(y.detach()), inverse, Flat(dyhat), rows, width, projection, heads,
            columns);
        TensorAssert.AssertClose(tensor(dy, new long[] { b, t, heads, width }, float64), y.grad!, "dy",
            Tolerances.Float64Rtol, Tolerances.Float64Atol);
        for (long bt = 0; bt < b * t; bt++)
            for (long c = 0; c < columns; c++)
                Assert.Equal(c < heads * width ? 0.0 : 42.0, projection[bt * columns + c]);
    }
}
