using Plstm.Layers;
using Plstm.Ops.TwoD;
using Plstm.Tests.Support;

namespace Plstm.Tests.Layers;

/// <summary>
/// The layer run with <see cref="Plstm2DForm.Chunkwise"/> (several chunk sides: one chunk, exactly tiling chunks, ragged
/// chunks) and with <see cref="Plstm2DForm.Auto"/> equals the layer run with <see cref="Plstm2DForm.Hierarchical"/>:
/// output and the gradients of x and every parameter, float64, random non-saturated parameters, P- and D-mode.
/// </summary>
public sealed class LayerFormTests
{
    [Theory]
    [InlineData("P", 3, 4, null)]
    [InlineData("P", 16, 16, 16)]
    [InlineData("P", 12, 8, 4)]
    [InlineData("P", 7, 5, 3)]
    [InlineData("DL", 1, 7, null)]
    [InlineData("DL", 9, 6, 4)]
    [InlineData("DR", 5, 6, 2)]
    [InlineData("DR", 14, 14, null)]
    public void Chunkwise_layer_equals_hierarchical_layer(string wiring, int gridX, int gridY, int? chunkSide)
    {
        using var scope = NewDisposeScope();
        var mode = wiring == "P" ? Plstm2DMode.P : Plstm2DMode.D;
        var config = LayerTestSupport.SmallConfig(mode, wiring == "DR" ? "R" : "L") with { ChunkSide = chunkSide };
        using var layer = new Plstm2DLayer("layer", config);
        layer.to(float64);
        LayerTestSupport.Randomize(layer, seed: 500 + 10 * gridX + gridY);
        var g = new Generator(11);
        var x = randn(new long[] { 2, gridX, gridY, config.InputDim }, dtype: float64, generator: g);
        var upstream = randn(new long[] { 2, gridX, gridY, config.InputDim }, dtype: float64, generator: g);
        var parameters = layer.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();

        layer.Form = Plstm2DForm.Hierarchical;
        var expected = LayerTestSupport.Differentiate(layer.forward, x, upstream, parameters);
        foreach (var form in new[] { Plstm2DForm.Chunkwise, Plstm2DForm.RowScan, Plstm2DForm.Kernel, Plstm2DForm.Auto })
        {
            layer.Form = form;
            var actual = LayerTestSupport.Differentiate(layer.forward, x, upstream, parameters);
            var failures = new List<string?>
            {
                TensorAssert.Compare(actual.Y, expected.Y, $"{form} y", Tolerances.Float64Rtol, Tolerances.Float64Atol),
                TensorAssert.Compare(actual.Dx, expected.Dx, $"{form} dx", Tolerances.Float64Rtol, Tolerances.Float64Atol),
            };
            foreach (var (name, grad) in actual.DParams)
                failures.Add(TensorAssert.Compare(grad, expected.DParams[name], $"{form} d{name}", Tolerances.Float64Rtol,
                    Tolerances.Float64Atol));
            var real = failures.Where(f => f is not null).ToList();
            if (real.Count > 0) Assert.Fail(string.Join("\n", real));
        }
        Assert.True(expected.Y.abs().max().item<double>() > 0.1);
    }

    [Theory]
    [InlineData("P", 5, 6, null, Plstm2DForm.Chunkwise)]
    [InlineData("DL", 9, 6, 4, Plstm2DForm.Chunkwise)]
    [InlineData("P", 5, 6, null, Plstm2DForm.RowScan)]
    [InlineData("DL", 4, 7, null, Plstm2DForm.RowScan)]
    public void Recomputing_gates_in_backward_changes_nothing(string wiring, int gridX, int gridY, int? chunkSide,
        Plstm2DForm form)
    {
        using var scope = NewDisposeScope();
        var mode = wiring == "P" ? Plstm2DMode.P : Plstm2DMode.D;
        var config = LayerTestSupport.SmallConfig(mode) with { ChunkSide = chunkSide, Form = form };
        using var storing = new Plstm2DLayer("layer", config);
        using var recomputing = new Plstm2DLayer("layer", config with { RecomputeChunkGates = true });
        storing.to(float64);
        recomputing.to(float64);
        LayerTestSupport.Randomize(storing, seed: 900 + gridX);
        LayerTestSupport.Randomize(recomputing, seed: 900 + gridX);
        var g = new Generator(12);
        var x = randn(new long[] { 2, gridX, gridY, config.InputDim }, dtype: float64, generator: g);
        var upstream = randn(new long[] { 2, gridX, gridY, config.InputDim }, dtype: float64, generator: g);
        var expected = LayerTestSupport.Differentiate(storing.forward, x, upstream,
            storing.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList());
        var actual = LayerTestSupport.Differentiate(recomputing.forward, x, upstream,
            recomputing.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList());
        var failures = new List<string?>
        {
            TensorAssert.Compare(actual.Y, expected.Y, "y", Tolerances.Float64Rtol, Tolerances.Float64Atol),
            TensorAssert.Compare(actual.Dx, expected.Dx, "dx", Tolerances.Float64Rtol, Tolerances.Float64Atol),
        };
        foreach (var (name, grad) in actual.DParams)
            failures.Add(TensorAssert.Compare(grad, expected.DParams[name], "d" + name, Tolerances.Float64Rtol,
                Tolerances.Float64Atol));
        var real = failures.Where(f => f is not null).ToList();
        if (real.Count > 0) Assert.Fail(string.Join("\n", real));
    }

    [Fact]
    public void Config_defaults_to_the_automatic_form_and_rejects_a_chunk_side_below_one()
    {
        var config = LayerTestSupport.SmallConfig(Plstm2DMode.P);
        Assert.Equal(Plstm2DForm.Auto, config.Form);
        Assert.Null(config.ChunkSide);
        using var layer = new Plstm2DLayer("layer", config);
        Assert.Equal(Plstm2DForm.Auto, layer.Form);
        var ex = Assert.Throws<ArgumentException>(() => (config with { ChunkSide = 0 }).Validate());
        Assert.Equal(nameof(Plstm2DLayerConfig.ChunkSide), ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => (config with { Form = (Plstm2DForm)42 }).Validate());
        Assert.Equal(nameof(Plstm2DLayerConfig.Form), ex.ParamName);
    }
}
