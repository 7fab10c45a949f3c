using Plstm.Ops.Common;
using Plstm.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Tests.Ops;

/// <summary>
/// <see cref="RowsLinear"/> (addmm forward; backward with the bias gradient as a matrix–vector product) against
/// <c>nn.functional.linear</c> on the same tensors: output and the gradient of every input that wants one, float64 tight
/// and float32 under its rule, awkward sizes (one row, one column, no rows), each subset of inputs requiring a gradient.
/// </summary>
public class RowsLinearTests
{
    [Theory]
    [InlineData(7, 5, 3, true, true, true)]
    [InlineData(1, 1, 1, true, true, true)]
    [InlineData(13, 6, 9, false, true, true)]
    [InlineData(13, 6, 9, true, false, false)]
    [InlineData(13, 6, 9, false, false, true)]
    [InlineData(13, 6, 9, true, true, false)]
    [InlineData(0, 4, 3, true, true, true)]
    public void Equals_functional_linear_with_every_gradient_float64(long m, long inputs, long outputs, bool rowsGrad,
        bool weightGrad, bool biasGrad) =>
        Compare(m, inputs, outputs, rowsGrad, weightGrad, biasGrad, float64);

    [Theory]
    [InlineData(37, 24, 11)]
    [InlineData(200, 3, 17)]
    public void Equals_functional_linear_with_every_gradient_float32(long m, long inputs, long outputs) =>
        Compare(m, inputs, outputs, true, true, true, float32);

    private static void Compare(long m, long inputs, long outputs, bool rowsGrad, bool weightGrad, bool biasGrad,
        ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(8200 + (ulong)(m * 31 + inputs * 7 + outputs));
        var source = randn(new[] { m, inputs }, generator: generator, dtype: float64);
        var weight = randn(new[] { outputs, inputs }, generator: generator, dtype: float64);
        var bias = randn(new[] { outputs }, generator: generator, dtype: float64);
        var weights = randn(new[] { m, outputs }, generator: generator, dtype: float64);

        (Tensor Y, Tensor? Dx, Tensor? Dw, Tensor? Db) Run(bool function)
        {
            var x = source.to_type(dtype).detach().clone().requires_grad_(rowsGrad);
            var w = weight.to_type(dtype).detach().clone().requires_grad_(weightGrad);
            var b = bias.to_type(dtype).detach().clone().requires_grad_(biasGrad);
            var y = function ? RowsLinear.Apply(x, w, b) : nn.functional.linear(x, w, b);
            (y * weights.to_type(dtype)).sum().backward();
            return (y.detach(), x.grad, w.grad, b.grad);
        }
        var expected = Run(function: false);
        var actual = Run(function: true);
        Assert.Equal(expected.Y.shape, actual.Y.shape);
        void Close(Tensor? a, Tensor? e, string what)
        {
            Assert.Equal(e is null, a is null);
            if (e is null) return;
            if (dtype == float64) TensorAssert.AssertClose(a!, e, what, Tolerances.Float64Rtol, Tolerances.Float64Atol);
            else TensorAssert.AssertClose(a!, e, what, Tolerances.Float32Rtol, Tolerances.Float32Atol(e));
        }
        Close(actual.Y, expected.Y, "y");
        Close(actual.Dx, expected.Dx, "dx");
        Close(actual.Dw, expected.Dw, "dweight");
        Close(actual.Db, expected.Db, "dbias");
    }

    /// <summary>Repeated steps through the function leave the live tensor count where it was (its saved tensors and
    /// returned gradients are released).</summary>
    [Fact]
    public void Repeated_steps_leave_no_tensors_behind()
    {
        using var generator = new Generator(8300);
        using var x = randn(new long[] { 9, 4 }, generator: generator, dtype: float64).requires_grad_(true);
        using var w = randn(new long[] { 6, 4 }, generator: generator, dtype: float64).requires_grad_(true);
        using var b = randn(new long[] { 6 }, generator: generator, dtype: float64).requires_grad_(true);
        long Live() => DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        void Step()
        {
            using var scope = NewDisposeScope();
            RowsLinear.Apply(x, w, b).square().sum().backward();
        }
        Step();                                                                  // allocates the gradients once
        long before = Live();
        for (int i = 0; i < 5; i++) Step();
        Assert.Equal(before, Live());
    }
}
