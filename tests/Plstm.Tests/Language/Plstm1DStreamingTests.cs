using Plstm.Layers.OneD;
using Plstm.Tests.Layers.OneD;
using Plstm.Tests.Support;

namespace Plstm.Tests.Language;

/// <summary>The streaming additions of the 1D layer: <see cref="Plstm1DLayer.Step"/>, convolution histories.</summary>
public sealed class Plstm1DStreamingTests
{
    [Theory]
    [InlineData(4, 1, 4)]
    [InlineData(1, 3, 4)]
    [InlineData(4, 2, 1)]
    public void Steps_equal_the_chunked_forward_in_float64(int jt, int levels, int kernel)
    {
        var config = OneDTestSupport.Small(jt, levels) with { ConvolutionKernelSize = kernel };
        using var layer = new Plstm1DLayer("layer", config);
        layer.to(float64);
        OneDTestSupport.Randomize(layer, 41);
        var x = randn(new long[] { 2, 23, 16 }, dtype: float64, generator: new Generator(42));
        using var noGrad = no_grad();
        var full = layer.Forward(x, null, null, out var fullState, out var fullHistory);
        Tensor? state = null, history = null;
        var ys = new List<Tensor>();
        for (int t = 0; t < 23; t++)
        {
            ys.Add(layer.Step(x[.., t], state, history, out var s, out var h));
            state = s;
            history = h;
        }
        TensorAssert.AssertClose(stack(ys, 1), full, "stepped outputs", 1e-9, 1e-10);
        TensorAssert.AssertClose(state!, fullState, "stepped final state", 1e-9, 1e-10);
        Assert.Equal(kernel - 1, layer.ConvolutionHistoryLength);
        Assert.Equal(new long[] { 2, kernel - 1, 16 }, fullHistory!.shape);
        if (kernel > 1)
        {
            TensorAssert.AssertClose(history!, fullHistory, "history", 0, 0);
            TensorAssert.AssertClose(fullHistory, x[.., (23 - (kernel - 1))..], "history = last K−1 inputs", 0, 0);
        }
    }

    [Fact]
    public void Step_accepts_the_split_state_layout_and_the_layer_without_convolution()
    {
        var config = OneDTestSupport.Small() with { AdditionalConvolution = false };
        using var layer = new Plstm1DLayer("layer", config);
        layer.to(float64);
        OneDTestSupport.Randomize(layer, 43);
        var x = randn(new long[] { 3, 5, 16 }, dtype: float64, generator: new Generator(44));
        using var noGrad = no_grad();
        var full = layer.Forward(x, null, out var fullState);
        Assert.Null(layer.ZeroConvolutionHistory(3));
        Tensor state = layer.ZeroState(3, float64).reshape(3, 2, 8, 2, 4);              // [B, H, DK, DV, JT]
        var ys = new List<Tensor>();
        for (int t = 0; t < 5; t++)
        {
            ys.Add(layer.Step(x[.., t], state, null, out var s, out var h));
            Assert.Null(h);
            Assert.Equal(new long[] { 3, 2, 8, 2, 4 }, s.shape);
            state = s;
        }
        TensorAssert.AssertClose(stack(ys, 1), full, "stepped outputs", 1e-9, 1e-10);
        TensorAssert.AssertClose(state.reshape(6, 8, 2, 4), fullState, "final state", 1e-9, 1e-10);
    }

    [Fact]
    public void The_old_forward_still_restarts_the_convolution_and_validation_names_the_history()
    {
        using var layer = new Plstm1DLayer("layer", OneDTestSupport.Small());
        using var noGrad = no_grad();
        var x = randn(new long[] { 1, 6, 16 }, generator: new Generator(45));
        var a = layer.Forward(x, null, out _);
        var b = layer.Forward(x, null, null, out _, out _);
        TensorAssert.AssertClose(b, a, "zero history = plain forward", 0, 0);
        var ex = Assert.Throws<ArgumentException>(() => layer.Forward(x, null, zeros(1, 2, 16), out _, out _));
        Assert.Contains("K−1", ex.Message);
        Assert.Throws<ArgumentException>(() => layer.Step(x, null, null, out _, out _));     // [B, T, D] is not a step
    }

    [Fact]
    public void Convolution_with_history_equals_one_run()
    {
        using var conv = new CausalConvolution1D("conv", 5, 4);
        using var noGrad = no_grad();
        var x = randn(new long[] { 2, 9, 5 }, generator: new Generator(46));
        var full = conv.forward(x);
        var first = conv.Forward(x[.., ..2], null, out var h1);                            // shorter than K − 1
        var second = conv.Forward(x[.., 2..], h1, out var h2);
        TensorAssert.AssertClose(cat(new[] { first, second }, 1), full, "chained conv", 1e-6, 1e-6);
        TensorAssert.AssertClose(h1[.., 1..], x[.., ..2], "short history keeps zeros in front", 0, 0);
        Assert.Equal(0f, h1[.., 0].abs().max().item<float>());
        TensorAssert.AssertClose(h2, x[.., 6..], "history", 0, 0);
    }
}
