using Plstm.Layers;

namespace Plstm.Tests.Layers;

/// <summary>Initial values (models §2.3–2.5), parameter names/shapes/counts (models §2.6, §10) and the bias-only
/// ablation of the fused 2D layer.</summary>
public sealed class LayerInitTests
{
    private static readonly Plstm2DLayerConfig TinyP = new(192, 3, Plstm2DMode.P);
    private static readonly Plstm2DLayerConfig TinyD = new(192, 3, Plstm2DMode.D);

    private static long Count(Plstm2DLayer layer) => layer.parameters().Sum(p => p.numel());

    [Fact]
    public void Parameter_count_of_one_T_layer_matches_the_reference()
    {
        using var p = new Plstm2DLayer("p", TinyP);
        using var d = new Plstm2DLayer("d", TinyD);
        Assert.Equal(151_155, Count(p));
        Assert.Equal(149_655, Count(d));
        // Closed forms of models §2.6.
        Assert.Equal(4L * 192 * 192 + 7 * 192 + 4 * 3 * 192 + 17 * 3, Count(p));
        Assert.Equal(4L * 192 * 192 + 11 * 192 + 29 * 3, Count(d));
    }

    [Theory]
    [InlineData(Plstm2DMode.P)]
    [InlineData(Plstm2DMode.D)]
    public void Names_and_shapes_follow_the_reference_state_dict(Plstm2DMode mode)
    {
        using var layer = new Plstm2DLayer("layer", mode == Plstm2DMode.P ? TinyP : TinyD);
        var actual = layer.named_parameters().Select(p => $"{p.name} [{string.Join(", ", p.parameter.shape)}]").ToArray();
        string[] gates = mode == Plstm2DMode.P
            ? new[]
            {
                "orientation_bias [4, 3]", "orientation_weight [4, 3, 192]",
                "source.bias [12, 1, 1, 1]", "source.weight [1, 12, 1, 1, 1, 16]",
                "transition.eigenvalues_bias [12, 1]", "transition.eigenvalues_weight [1, 12, 1, 16]",
                "mark.bias [12, 1, 1, 1]", "mark.weight [1, 12, 1, 1, 1, 16]",
            }
            : new[]
            {
                "source_r.bias [12, 1, 1, 1]", "source_r.weight [1, 12, 1, 1, 1, 16]",
                "source_d.bias [12, 1, 1, 1]", "source_d.weight [1, 12, 1, 1, 1, 16]",
                "transition_r.eigenvalues_bias [12, 1]", "transition_r.eigenvalues_weight [1, 12, 1, 16]",
                "transition_d.eigenvalues_bias [12, 1]", "transition_d.eigenvalues_weight [1, 12, 1, 16]",
                "transition_rd.eigenvalues_bias [12, 1]", "transition_rd.eigenvalues_weight [1, 12, 1, 16]",
                "mark_l.bias [12, 1, 1, 1]", "mark_l.weight [1, 12, 1, 1, 1, 16]",
                "mark_u.bias [12, 1, 1, 1]", "mark_u.weight [1, 12, 1, 1, 1, 16]",
            };
        var expected = gates.Concat(new[]
        {
            "direct.bias [3, 1, 1, 1, 1]",
            "query.weight [3, 64, 1, 1, 192]", "query.bias [3, 64, 1]",
            "key.weight [3, 64, 1, 1, 192]", "key.bias [3, 64, 1]",
            "value_.weight [3, 64, 1, 1, 192]", "value_.bias [3, 64, 1]",
            "mhnorm.scale [3, 64]", "outprojection.weight [192, 192]",
        }).ToArray();
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(Plstm2DMode.P)]
    [InlineData(Plstm2DMode.D)]
    public void Initial_gate_values_match_the_vision_configs(Plstm2DMode mode)
    {
        using var scope = NewDisposeScope();
        using var layer = new Plstm2DLayer("layer", new Plstm2DLayerConfig(16, 2, mode));
        var p = layer.named_parameters().ToDictionary(e => e.name, e => (Tensor)e.parameter);
        var x = randn(new long[] { 2, 3, 4, 16 }, generator: new Generator(3));

        // Gate values at init do not depend on x (weights 0).
        foreach (var (name, value) in p)
        {
            if (name.StartsWith("source", StringComparison.Ordinal) || name.StartsWith("mark", StringComparison.Ordinal))
                AssertAll(name.EndsWith(".bias", StringComparison.Ordinal) ? -4.0 : 0.0, value, name);
            if (name.EndsWith("eigenvalues_bias", StringComparison.Ordinal)) AssertAll(1.0, value, name);
            if (name.EndsWith("eigenvalues_weight", StringComparison.Ordinal) || name == "orientation_weight"
                || name.EndsWith("query.bias", StringComparison.Ordinal) || name == "key.bias" || name == "value_.bias")
                AssertAll(0.0, value, name);
        }
        AssertAll(-6.0, p["direct.bias"], "direct.bias");
        AssertAll(1.0, p["mhnorm.scale"], "mhnorm.scale");

        // Activated values of models §2.3 through the sub-layers' forward.
        int gates = 0;
        foreach (var (name, module) in layer.named_children())
        {
            double? expected = module switch
            {
                SigmoidGate => 0.017986,
                TransitionGate => 0.9999092,
                DirectGate => 0.0024726,
                _ => null,
            };
            if (expected is not { } e) continue;
            var output = ((nn.Module<Tensor, Tensor>)module).forward(x);
            Assert.True((output - e).abs().max().item<float>() < 5e-7, $"{name}: expected {e} at every cell");
            gates++;
        }
        Assert.Equal(mode == Plstm2DMode.P ? 4 : 8, gates);
        Assert.Equal(0.017986, 1 / (1 + Math.Exp(4)), 6);
        Assert.Equal(0.9999092, Math.Tanh(5), 7);
        Assert.Equal(0.0024726, 1 / (1 + Math.Exp(6)), 7);
    }

    [Theory]
    [InlineData(3, new[] { -2.0, 0.0, 2.0 })]
    [InlineData(1, new[] { -2.0 })]
    [InlineData(2, new[] { -2.0, 2.0 })]
    public void Orientation_bias_is_linspace_over_heads_in_every_row(int heads, double[] expectedRow)
    {
        using var scope = NewDisposeScope();
        using var layer = new Plstm2DLayer("layer", new Plstm2DLayerConfig(8 * heads, heads));
        var bias = layer.named_parameters().Single(e => e.name == "orientation_bias").parameter;
        Assert.Equal(new long[] { 4, heads }, bias.shape);
        for (int row = 0; row < 4; row++)
            for (int h = 0; h < heads; h++)
                Assert.Equal(expectedRow[h], bias[row, h].item<float>(), 6);
    }

    [Fact]
    public void Projections_use_small_init()
    {
        using var scope = NewDisposeScope();
        using var layer = new Plstm2DLayer("layer", TinyP);
        double expectedStd = Math.Sqrt(2.0 / (5.0 * 192));                               // 0.04564
        Assert.Equal(0.04564, expectedStd, 5);
        foreach (var name in new[] { "query.weight", "key.weight", "value_.weight", "outprojection.weight" })
        {
            var w = layer.named_parameters().Single(e => e.name == name).parameter;
            double std = w.std().item<float>(), mean = w.mean().item<float>();
            Assert.True(Math.Abs(std / expectedStd - 1) < 0.03, $"{name}: std {std}, expected {expectedStd}");
            Assert.True(Math.Abs(mean) < 0.003, $"{name}: mean {mean}");
        }
    }

    [Fact]
    public void Initialised_layer_runs_any_grid_and_keeps_the_shape()
    {
        using var scope = NewDisposeScope();
        using var layer = new Plstm2DLayer("layer", new Plstm2DLayerConfig(32, 2, Plstm2DMode.D));
        foreach (var (gx, gy) in new[] { (1, 1), (12, 12), (5, 9) })
        {
            var y = layer.forward(randn(2, gx, gy, 32));
            Assert.Equal(new long[] { 2, gx, gy, 32 }, y.shape);
            Assert.True(y.isfinite().all().item<bool>());
        }
    }

    [Theory]
    [InlineData(Plstm2DMode.P, 151_155 - 2 * 192)]
    [InlineData(Plstm2DMode.D, 149_655 - 4 * 192)]
    public void Bias_only_gates_drop_the_source_and_mark_weights(Plstm2DMode mode, long expectedCount)
    {
        using var scope = NewDisposeScope();
        using var layer = new Plstm2DLayer("layer", new Plstm2DLayerConfig(192, 3, mode) { InputDependentGates = false });
        var names = layer.named_parameters().Select(e => e.name).ToList();
        Assert.DoesNotContain(names, n => (n.StartsWith("source", StringComparison.Ordinal) || n.StartsWith("mark", StringComparison.Ordinal))
                                          && n.EndsWith(".weight", StringComparison.Ordinal));
        // The reference keeps the (unused) transition eigenvalue weight; so do we, for state-dict parity.
        Assert.Contains(names, n => n.EndsWith("eigenvalues_weight", StringComparison.Ordinal));
        Assert.Equal(expectedCount, Count(layer));

        // S/T/M are the same at every cell: changing the (unused) transition weights changes nothing.
        var x = randn(new long[] { 1, 3, 4, 192 }, generator: new Generator(5));
        var before = layer.forward(x);
        using (no_grad())
            foreach (var (name, p) in layer.named_parameters())
                if (name.EndsWith("eigenvalues_weight", StringComparison.Ordinal)) p.fill_(0.7);
        Assert.Equal(0.0, (layer.forward(x) - before).abs().max().item<float>());
        var children = layer.named_children().Where(e => e.module is SigmoidGate or TransitionGate);
        foreach (var (name, module) in children)
        {
            var g = ((nn.Module<Tensor, Tensor>)module).forward(x);
            Assert.Equal(0.0, (g - g[0, 0, 0]).abs().max().item<float>());
        }
    }

    [Fact]
    public void Module_to_float64_converts_every_parameter_in_place_of_the_fields()
    {
        using var scope = NewDisposeScope();
        using var layer = new Plstm2DLayer("layer", new Plstm2DLayerConfig(16, 2, Plstm2DMode.P));
        layer.to(float64);
        Assert.All(layer.parameters(), p => Assert.Equal(ScalarType.Float64, p.dtype));
        var x = randn(new long[] { 1, 2, 3, 16 }, dtype: float64).requires_grad_(true);
        var y = layer.forward(x);
        Assert.Equal(ScalarType.Float64, y.dtype);
        y.sum().backward();
        // Every parameter the forward reads is the registered one (a stale field would leave its grad null).
        Assert.All(layer.named_parameters(), e => Assert.True(e.parameter.grad is not null, $"{e.name} has no gradient"));
    }

    [Fact]
    public void Rms_norm_of_bfloat16_input_is_computed_in_float32()
    {
        using var scope = NewDisposeScope();
        using var norm = new MultiHeadRmsNorm("mhnorm", 2, 8);
        var x = randn(new long[] { 3, 2, 8 }, generator: new Generator(9)) * 100;
        var low = norm.forward(x.to(bfloat16));
        Assert.Equal(ScalarType.BFloat16, low.dtype);
        var reference = norm.forward(x.to(bfloat16).to(float32));
        Assert.True((low.to(float32) - reference).abs().max().item<float>() < 2e-2);
    }

    private static void AssertAll(double expected, Tensor value, string what) =>
        Assert.True((value - expected).abs().max().item<float>() == 0, $"{what}: expected all {expected}");
}
