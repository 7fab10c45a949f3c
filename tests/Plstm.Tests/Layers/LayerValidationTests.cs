using Plstm.Layers;

namespace Plstm.Tests.Layers;

/// <summary>Invalid configurations and inputs fail with an <see cref="ArgumentException"/> that names the culprit.</summary>
public sealed class LayerValidationTests
{
    public static TheoryData<string, Plstm2DLayerConfig> BadConfigs() => new()
    {
        { "InputDim", new Plstm2DLayerConfig(0, 2) },
        { "InputDim", new Plstm2DLayerConfig(18, 2) },           // not divisible by 4H = 8
        { "InputDim", new Plstm2DLayerConfig() { NumHeads = 2 } },
        { "NumHeads", new Plstm2DLayerConfig(16, 0) },
        { "NumHeads", new Plstm2DLayerConfig(16, -1) },
        { "Mode", new Plstm2DLayerConfig(16, 2, (Plstm2DMode)7) },
        { "DModeChirality", new Plstm2DLayerConfig(16, 2, Plstm2DMode.D) { DModeChirality = "l" } },
        { "DModeChirality", new Plstm2DLayerConfig(16, 2) { DModeChirality = "" } },
        { "Levels", new Plstm2DLayerConfig(16, 2) { Levels = -1 } },
        { "Levels", new Plstm2DLayerConfig(16, 2) { Levels = 17 } },
        { "NormEps", new Plstm2DLayerConfig(16, 2) { NormEps = 0 } },
        { "NormEps", new Plstm2DLayerConfig(16, 2) { NormEps = double.NaN } },
        { "TransitionFactor", new Plstm2DLayerConfig(16, 2) { TransitionFactor = double.PositiveInfinity } },
        { "OrientationScale", new Plstm2DLayerConfig(16, 2) { OrientationScale = double.NaN } },
        { "SourceBiasInit", new Plstm2DLayerConfig(16, 2) { SourceBiasInit = double.NaN } },
        { "QkvSubHeads", new Plstm2DLayerConfig(16, 2) { QkvSubHeads = 0 } },
        { "QkvSubHeads", new Plstm2DLayerConfig(16, 2) { QkvSubHeads = 3 } },
        { "QkvSubHeads", new Plstm2DLayerConfig(48, 3) { QkvSubHeads = 2 } },  // divides D = 48 but not H = 3
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void Bad_config_names_the_field(string field, Plstm2DLayerConfig config)
    {
        var ex = Assert.Throws<ArgumentException>(() => new Plstm2DLayer("layer", config));
        Assert.Equal(field, ex.ParamName);
        Assert.Contains(field, ex.Message);
    }

    [Fact]
    public void Object_initializer_and_positional_configs_are_equal()
    {
        var a = new Plstm2DLayerConfig { InputDim = 192, NumHeads = 3, Mode = Plstm2DMode.D };
        var b = new Plstm2DLayerConfig(192, 3, Plstm2DMode.D);
        Assert.Equal(a, b);
        Assert.Equal(64, b.DK);
        Assert.Equal(64, b.DV);
        Assert.Equal(12, b.GateHeads);
        Assert.Equal(16, b.GateGroup);
        Assert.Equal("L", b.DModeChirality);
        Assert.Equal(6, b.Levels);
        b.Validate();
    }

    [Fact]
    public void Sub_headed_projections_are_block_diagonal()
    {
        // S = 2 sub-heads, H = 2: head h reads only input group h.
        using var scope = NewDisposeScope();
        using var layer = new Plstm2DLayer("layer", new Plstm2DLayerConfig(16, 2) { QkvSubHeads = 2 });
        var query = layer.named_children().Single(e => e.name == "query").module as QueryKeyValueProjection;
        Assert.NotNull(query);
        Assert.Equal(new long[] { 1, 8, 1, 2, 8 }, query!.Weight.shape);
        var x = zeros(1, 16);
        x[0, 3] = tensor(1.0f);                                                            // a channel of group 0
        var q = query.forward(x);                                                          // [1, H, DK, 1]
        Assert.True(q[0, 1].abs().max().item<float>() == 0, "head 1 must not read input group 0");
        Assert.True(q[0, 0].abs().max().item<float>() > 0);
        Assert.Equal(new long[] { 1, 2, 8, 1 }, q.shape);
        Assert.Equal(new long[] { 1, 3, 4, 16 }, layer.forward(randn(1, 3, 4, 16)).shape);
    }

    [Theory]
    [InlineData(new long[] { 3, 4, 16 })]
    [InlineData(new long[] { 1, 2, 3, 4, 16 })]
    [InlineData(new long[] { 1, 3, 4, 15 })]
    [InlineData(new long[] { 1, 0, 4, 16 })]
    public void Wrong_input_shape_names_x_and_the_expected_shape(long[] shape)
    {
        using var scope = NewDisposeScope();
        using var layer = new Plstm2DLayer("layer", new Plstm2DLayerConfig(16, 2));
        var ex = Assert.Throws<ArgumentException>(() => layer.forward(zeros(shape)));
        Assert.Equal("x", ex.ParamName);
        Assert.Contains("[B, X, Y, D=16]", ex.Message);
    }

    [Fact]
    public void Integer_input_is_rejected()
    {
        using var scope = NewDisposeScope();
        using var layer = new Plstm2DLayer("layer", new Plstm2DLayerConfig(16, 2));
        var ex = Assert.Throws<ArgumentException>(() => layer.forward(zeros(new long[] { 1, 2, 2, 16 }, dtype: int64)));
        Assert.Equal("x", ex.ParamName);
    }

    [Fact]
    public void Null_config_is_rejected()
    {
        Assert.Throws<ArgumentNullException>(() => new Plstm2DLayer("layer", null!));
    }
}
