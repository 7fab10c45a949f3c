using Plstm.Layers.OneD;
using Plstm.Tests.Support;

namespace Plstm.Tests.Layers.OneD;

/// <summary>Causality, segment-wise processing with the state, dtype and validation of <see cref="Plstm1DLayer"/>.</summary>
public sealed class Plstm1DLayerBehaviourTests
{
    [Theory]
    [InlineData(4, 16, 3)]
    [InlineData(4, 33, 20)]
    [InlineData(1, 7, 0)]
    public void Output_at_t_does_not_depend_on_later_inputs(int jt, int length, int t)
    {
        using var layer = new Plstm1DLayer("layer", OneDTestSupport.Small(jt, levels: 2));
        layer.to(float64);
        OneDTestSupport.Randomize(layer, 21);
        var g = new Generator(22);
        var x = randn(new long[] { 2, length, 16 }, dtype: float64, generator: g);
        var changed = x.clone();
        changed[.., (t + 1).., ..] = randn(new long[] { 2, length - t - 1, 16 }, dtype: float64, generator: g);
        using var noGrad = no_grad();
        var y = layer.forward(x);
        var y2 = layer.forward(changed);
        TensorAssert.AssertClose(y2[.., ..(t + 1)], y[.., ..(t + 1)], "prefix outputs", 0, 1e-12);
        Assert.True((y2[.., (t + 1)..] - y[.., (t + 1)..]).abs().max().item<double>() > 1e-3, "later outputs unchanged");
        // The prefix alone gives the same outputs.
        TensorAssert.AssertClose(layer.forward(x[.., ..(t + 1)]), y[.., ..(t + 1)], "prefix run", 0, 1e-12);
    }

    [Theory]
    [InlineData(4, 7, 3)]
    [InlineData(4, 33, 16)]
    [InlineData(1, 12, 5)]
    public void Segments_chained_through_the_state_equal_one_run(int jt, int length, int split)
    {
        // Without the convolution only the pLSTM state carries context, so chaining is exact.
        var config = OneDTestSupport.Small(jt, levels: 2) with { AdditionalConvolution = false };
        using var layer = new Plstm1DLayer("layer", config);
        layer.to(float64);
        OneDTestSupport.Randomize(layer, 31);
        var x = randn(new long[] { 3, length, 16 }, dtype: float64, generator: new Generator(32));
        using var noGrad = no_grad();
        var full = layer.Forward(x, null, out var fullState);
        var first = layer.Forward(x[.., ..split], null, out var prefixState);
        var second = layer.Forward(x[.., split..], prefixState, out var lastState);
        Assert.Equal(new long[] { 3 * 2, 8, 2, jt }, fullState.shape);                        // [B·H, DK, DV, JT]
        TensorAssert.AssertClose(cat(new[] { first, second }, 1), full, "chained outputs", 0, 1e-12);
        TensorAssert.AssertClose(lastState, fullState, "chained final state", 0, 1e-12);

        // The [B, H, DK, DV, JT] layout works the same and is returned as given.
        var second5 = layer.Forward(x[.., split..], prefixState.reshape(3, 2, 8, 2, jt), out var lastState5);
        Assert.Equal(new long[] { 3, 2, 8, 2, jt }, lastState5.shape);
        TensorAssert.AssertClose(second5, second, "5D state outputs", 0, 0);
        TensorAssert.AssertClose(lastState5.reshape(6, 8, 2, jt), lastState, "5D final state", 0, 0);
    }

    [Fact]
    public void Final_state_of_a_prefix_is_independent_of_later_tokens_and_of_levels()
    {
        using var layer = new Plstm1DLayer("layer", OneDTestSupport.Small(4, levels: 8));
        layer.to(float64);
        OneDTestSupport.Randomize(layer, 41);
        var x = randn(new long[] { 2, 21, 16 }, dtype: float64, generator: new Generator(42));
        using var noGrad = no_grad();
        layer.Forward(x[.., ..13], null, out var state13);
        using var chunked = new Plstm1DLayer("chunked", OneDTestSupport.Small(4, levels: 1));
        chunked.to(float64);
        chunked.load_state_dict(layer.state_dict());
        chunked.Forward(x[.., ..13], null, out var state13Chunked);
        TensorAssert.AssertClose(state13Chunked, state13, "levels 1 vs 8", 0, 1e-12);
        Assert.True(state13.abs().max().item<double>() > 1e-3);
    }

    [Fact]
    public void Float32_matches_float64()
    {
        using var layer = new Plstm1DLayer("layer", OneDTestSupport.Small());
        layer.to(float64);
        OneDTestSupport.Randomize(layer, 51);
        var x = randn(new long[] { 2, 19, 16 }, dtype: float64, generator: new Generator(52));
        using var noGrad = no_grad();
        var y64 = layer.forward(x);
        layer.to(float32);
        var y32 = layer.forward(x.to(float32));
        Assert.Equal(ScalarType.Float32, y32.dtype);
        TensorAssert.AssertCloseFloat32(y32, y64, "y float32");
    }

    public static TheoryData<Func<Plstm1DLayerConfig, Plstm1DLayerConfig>, string> BadConfigs() => new()
    {
        { c => c with { InputDim = 0 }, "InputDim" },
        { c => c with { NumHeads = 0 }, "NumHeads" },
        { c => c with { JT = 0 }, "JT" },
        { c => c with { JV = -1 }, "JV" },
        { c => c with { NumHeads = 3 }, "DK" },            // 16 not divisible by JK·H = 3
        { c => c with { JO = 2 }, "DV" },                  // H·JO·DV = 2·2·2 ≠ 16
        { c => c with { DV = 4 }, "DV" },
        { c => c with { Levels = 17 }, "Levels" },
        { c => c with { ConvolutionKernelSize = 0 }, "ConvolutionKernelSize" },
        { c => c with { ConvolutionInputs = "SX" }, "ConvolutionInputs" },
        { c => c with { OrthogonalizationOrder = 0 }, "OrthogonalizationOrder" },
        { c => c with { OrthogonalizationEps = -1 }, "OrthogonalizationEps" },
        { c => c with { TransitionFactor = double.NaN }, "TransitionFactor" },
        { c => c with { SourceBiasInit = double.PositiveInfinity }, "SourceBiasInit" },
        { c => c with { QkvSubHeads = 3 }, "QkvSubHeads" },
        { c => c with { NormEps = 0 }, "NormEps" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void Bad_config_throws_naming_the_field(Func<Plstm1DLayerConfig, Plstm1DLayerConfig> edit, string field)
    {
        var config = edit(OneDTestSupport.Small());
        var ex = Assert.Throws<ArgumentException>(() => new Plstm1DLayer("layer", config));
        Assert.Equal(field, ex.ParamName);
        Assert.Contains(field, ex.Message);
    }

    [Fact]
    public void Bad_input_throws_naming_x_and_the_expected_shape()
    {
        using var layer = new Plstm1DLayer("layer", OneDTestSupport.Small());
        foreach (var bad in new[] { zeros(2, 16), zeros(2, 5, 15), zeros(2, 0, 16), zeros(1, 2, 5, 16), zeros(new long[] { 2, 5, 16 }, dtype: int64) })
        {
            var ex = Assert.Throws<ArgumentException>(() => layer.forward(bad));
            Assert.Equal("x", ex.ParamName);
            Assert.Contains("[B, T, D=16]", ex.Message);
        }
        var x = zeros(2, 5, 16);
        var stateEx = Assert.Throws<ArgumentException>(() => layer.Forward(x, zeros(2, 8, 2, 4), out _));
        Assert.Equal("initialState", stateEx.ParamName);
        Assert.Contains("[4, 8, 2, 4]", stateEx.Message);
        Assert.Contains("[2, 2, 8, 2, 4]", stateEx.Message);
    }

    [Fact]
    public void Sequences_of_any_length_give_finite_outputs_at_init()
    {
        using var layer = new Plstm1DLayer("layer", new Plstm1DLayerConfig(32, 2));
        using var noGrad = no_grad();
        foreach (int length in new[] { 1, 3, 31, 300 })
        {
            var y = layer.forward(randn(2, length, 32));
            Assert.Equal(new long[] { 2, length, 32 }, y.shape);
            Assert.True(y.isfinite().all().item<bool>());
        }
    }
}
