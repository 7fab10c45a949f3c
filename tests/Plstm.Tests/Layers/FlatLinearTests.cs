using Plstm.Layers;
using Plstm.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Tests.Layers;

/// <summary>
/// <see cref="Dtypes.Linear"/> (a contiguous input of rank ≥ 3 taken as one matrix of rows, so the bias goes into the
/// product) against <c>nn.functional.linear</c> on the same tensors: output and the gradients of input, weight and bias,
/// float64, for ranks 1 to 5, a transposed (non-contiguous) input, no bias, and an empty batch.
/// </summary>
public class FlatLinearTests
{
    [Theory]
    [InlineData(new long[] { 5 }, true, true)]
    [InlineData(new long[] { 3, 5 }, true, true)]
    [InlineData(new long[] { 2, 3, 5 }, true, true)]
    [InlineData(new long[] { 2, 3, 4, 5 }, true, true)]
    [InlineData(new long[] { 2, 1, 3, 4, 5 }, true, true)]
    [InlineData(new long[] { 2, 3, 4, 5 }, false, true)]
    [InlineData(new long[] { 2, 3, 4, 5 }, true, false)]
    [InlineData(new long[] { 0, 3, 4, 5 }, true, true)]
    public void Equals_functional_linear_with_its_gradients(long[] shape, bool contiguous, bool withBias)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(8100 + (ulong)shape.Length);
        var source = randn(shape, generator: generator, dtype: float64);
        var weight = randn(new long[] { 7, 5 }, generator: generator, dtype: float64);
        var bias = randn(new long[] { 7 }, generator: generator, dtype: float64);
        var outShape = shape.Take(shape.Length - 1).Append(7L).ToArray();
        var weights = randn(outShape, generator: generator, dtype: float64);

        (Tensor Y, Tensor? Dx, Tensor Dw, Tensor? Db) Run(bool flat)
        {
            var x = source.detach().clone().requires_grad_(true);
            var w = weight.detach().clone().requires_grad_(true);
            var b = withBias ? bias.detach().clone().requires_grad_(true) : null;
            // A non-contiguous input of the same shape and values: the transpose of a transposed copy.
            var input = contiguous || shape.Length < 2 ? x
                : x.transpose(0, 1).contiguous().transpose(0, 1);
            if (!contiguous && shape.Length >= 2) Assert.False(input.is_contiguous());
            var y = flat ? Dtypes.Linear(input, w, b) : nn.functional.linear(input, w, b);
            (y * weights).sum().backward();
            return (y.detach(), x.grad, w.grad!, b?.grad);
        }
        var (expected, expectedDx, expectedDw, expectedDb) = Run(flat: false);
        var (actual, actualDx, actualDw, actualDb) = Run(flat: true);
        Assert.Equal(expected.shape, actual.shape);
        TensorAssert.AssertClose(actual, expected, "y", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        if (expectedDx is not null) TensorAssert.AssertClose(actualDx!, expectedDx, "dx", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(actualDw, expectedDw, "dweight", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        if (withBias) TensorAssert.AssertClose(actualDb!, expectedDb!, "dbias", Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }
}
