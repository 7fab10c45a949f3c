using Plstm.Layers;
using Plstm.Layers.OneD;

namespace Plstm.Tests.Layers.OneD;

/// <summary>Parameter names, shapes, counts and initial values of <see cref="Plstm1DLayer"/> against what the reference
/// <c>pLSTM1DLayer</c> creates (read from its sources: layer, sub-layers and their configs).</summary>
public sealed class Plstm1DLayerStructureTests
{
    private static string[] Describe(nn.Module module) =>
        module.named_parameters().Select(p => $"{p.name} [{string.Join(", ", p.parameter.shape)}]").ToArray();

    [Fact]
    public void Names_and_shapes_follow_the_reference_state_dict_for_the_defaults()
    {
        // D = 16, H = 2: JK = JQ = 1, JV = JT = JO = 4, DK = 16/(1·2) = 8, DV = 16/(4·2) = 2, q/k/v sub-heads = H.
        using var layer = new Plstm1DLayer("layer", new Plstm1DLayerConfig(16, 2));
        string[] expected =
        {
            "conv._conv.weight [16, 1, 4]", "conv._conv.bias [16]",
            "source.bias [2, 4, 1, 4]",
            "transition.inproj_bias [2, 4, 4]", "transition.inproj_weight [2, 1, 4, 4, 16]",
            "transition.eigenvalues_bias [2, 4]", "transition.eigenvalues_weight [2, 1, 4, 16]",
            "transition.outproj_bias [2, 4, 4]", "transition.outproj_weight [2, 1, 4, 4, 16]",
            "mark.bias [2, 4, 1, 4]",
            "direct.bias [2, 4, 1, 1, 4]",
            "query.weight [1, 8, 1, 2, 8]", "query.bias [2, 8, 1]",
            "key.weight [1, 8, 1, 2, 8]", "key.bias [2, 8, 1]",
            "value_.weight [1, 2, 4, 2, 8]", "value_.bias [2, 2, 4]",
            "mhnorm.scale [2, 8]",
            "outprojection.weight [16, 16]",
            "passthrough.scale [16]",
        };
        Assert.Equal(expected, Describe(layer));
    }

    [Fact]
    public void Names_and_shapes_for_JT1_and_the_optional_weights()
    {
        using var jt1 = new Plstm1DLayer("a", new Plstm1DLayerConfig(16, 2) { JT = 1 });
        Assert.Equal(new[]
        {
            "conv._conv.weight [16, 1, 4]", "conv._conv.bias [16]",
            "source.bias [2, 1, 1, 4]",
            "transition.eigenvalues_bias [2, 1]", "transition.eigenvalues_weight [2, 1, 1, 16]",
            "mark.bias [2, 4, 1, 1]",
            "direct.bias [2, 4, 1, 1, 4]",
            "query.weight [1, 8, 1, 2, 8]", "query.bias [2, 8, 1]",
            "key.weight [1, 8, 1, 2, 8]", "key.bias [2, 8, 1]",
            "value_.weight [1, 2, 4, 2, 8]", "value_.bias [2, 2, 4]",
            "mhnorm.scale [2, 8]", "outprojection.weight [16, 16]", "passthrough.scale [16]",
        }, Describe(jt1));

        var cfg = new Plstm1DLayerConfig(16, 2)
        {
            JK = 2, JQ = 2, JV = 2, JO = 2, JT = 3, SourceWeight = true, MarkWeight = true, DirectWeight = true,
            TransitionSymmetric = true, QkvSubHeads = 1, AdditionalConvolution = false, AdditionalPassthrough = false,
            QkvBias = false,
        };
        using var mixed = new Plstm1DLayer("b", cfg);
        // DK = 16/(2·2) = 4, DV = 16/(2·2) = 4; dense q/k/v: [H, DK, J, 1, D].
        Assert.Equal(new[]
        {
            "source.bias [2, 3, 2, 2]", "source.weight [2, 1, 3, 2, 2, 16]",
            "transition.inproj_bias [2, 3, 3]", "transition.inproj_weight [2, 1, 3, 3, 16]",
            "transition.eigenvalues_bias [2, 3]", "transition.eigenvalues_weight [2, 1, 3, 16]",
            "mark.bias [2, 2, 2, 3]", "mark.weight [2, 1, 2, 2, 3, 16]",
            "direct.bias [2, 2, 2, 2, 2]", "direct.weight [2, 1, 2, 2, 2, 2, 16]",
            "query.weight [2, 4, 2, 1, 16]", "key.weight [2, 4, 2, 1, 16]", "value_.weight [2, 4, 2, 1, 16]",
            "mhnorm.scale [2, 8]", "outprojection.weight [16, 16]",
        }, Describe(mixed));
    }

    [Fact]
    public void Parameter_count_matches_the_closed_form()
    {
        const int D = 64, H = 2;
        using var layer = new Plstm1DLayer("layer", new Plstm1DLayerConfig(D, H));
        long count = layer.parameters().Sum(p => p.numel());
        // conv 4D + D; S, M, D gates 16H each; transition 2·(16H + 16HD) + 4H + 4HD; q, k, v D²/H + D each;
        // norm D; out-projection D²; passthrough D.
        long expected = 5L * D + 3 * 16 * H + (2 * (16 * H + 16 * H * D) + 4 * H + 4 * H * D) + 3 * (D * D / H + D) + D
                        + (long)D * D + D;
        Assert.Equal(expected, count);
        Assert.Equal(15_656, count);   // D² + 3D²/H + 36HD + 10D + 84H (Layers/README.md)
    }

    [Fact]
    public void Initial_values_follow_the_reference_configs()
    {
        const int D = 256, H = 4;
        using var layer = new Plstm1DLayer("layer", new Plstm1DLayerConfig(D, H));
        var p = layer.named_parameters().ToDictionary(e => e.name, e => (Tensor)e.parameter, StringComparer.Ordinal);

        // Conv1d default: uniform(±1/√K) with K = 4.
        foreach (var name in new[] { "conv._conv.weight", "conv._conv.bias" })
        {
            Assert.True(p[name].abs().max().item<float>() <= 0.5f, name);
            Assert.True(p[name].std().item<float>() > 0.2f, name);   // uniform(±0.5) has std 0.289
        }
        AssertAll(p["source.bias"], -5.0);
        AssertAll(p["mark.bias"], -5.0);
        AssertAll(p["direct.bias"], -5.0);
        AssertAll(p["transition.eigenvalues_bias"], 1.0);
        foreach (var name in new[] { "transition.eigenvalues_weight", "transition.inproj_weight", "transition.outproj_weight",
                     "query.bias", "key.bias", "value_.bias" })
            AssertAll(p[name], 0.0);
        var identity = eye(4).expand(H, 4, 4);
        Assert.True(p["transition.inproj_bias"].allclose(identity, rtol: 0, atol: 0));
        Assert.True(p["transition.outproj_bias"].allclose(identity, rtol: 0, atol: 0));
        AssertAll(p["mhnorm.scale"], 1.0);
        AssertAll(p["passthrough.scale"], 1.0);

        // SmallInit: std √(2/(5·fan)), fan = last axis (D/H = 64 for q/k/v; H·JO·DV = D for the out-projection).
        foreach (var (name, fan) in new[] { ("query.weight", D / H), ("key.weight", D / H), ("value_.weight", D / H),
                     ("outprojection.weight", D) })
        {
            double std = p[name].std().item<float>(), want = SmallInit.Std(fan);
            Assert.True(Math.Abs(std / want - 1) < 0.05, $"{name}: std {std}, want {want}");
            Assert.True(Math.Abs(p[name].mean().item<float>()) < 0.1 * want, name);
        }
    }

    [Fact]
    public void At_init_the_transition_is_tanh5_times_identity_and_the_gates_are_sigmoid_minus5()
    {
        using var layer = new Plstm1DLayer("layer", new Plstm1DLayerConfig(16, 2));
        var children = layer.named_children().ToDictionary(e => e.name, e => e.module, StringComparer.Ordinal);
        var x = randn(2, 5, 16);
        var t = ((TransitionGate)children["transition"]).forward(x);                          // [2, 5, 2, 4, 4]
        Assert.Equal(new long[] { 2, 5, 2, 4, 4 }, t.shape);
        Assert.True(t.allclose(eye(4).expand(2, 5, 2, 4, 4) * Math.Tanh(5.0), rtol: 0, atol: 1e-6));
        var s = ((SigmoidGate)children["source"]).forward(x);
        Assert.Equal(new long[] { 2, 5, 2, 4, 1, 4 }, s.shape);
        Assert.True(s.allclose(full_like(s, 1.0 / (1.0 + Math.Exp(5.0))), rtol: 0, atol: 1e-7));
    }

    [Fact]
    public void Conv_and_passthrough_are_modules_with_reference_names()
    {
        using var layer = new Plstm1DLayer("layer", new Plstm1DLayerConfig(16, 2));
        var names = layer.named_children().Select(e => e.name).ToArray();
        Assert.Equal(new[] { "conv", "source", "transition", "mark", "direct", "query", "key", "value_", "mhnorm",
            "outprojection", "passthrough" }, names);
        var sd = layer.state_dict();
        Assert.True(sd.ContainsKey("conv._conv.weight"));
    }

    [Fact]
    public void Reference_parameter_loader_round_trips()
    {
        using var a = new Plstm1DLayer("a", OneDTestSupport.Small());
        using var b = new Plstm1DLayer("b", OneDTestSupport.Small());
        a.to(float64);
        OneDTestSupport.Randomize(a, 5);
        var values = a.state_dict().ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        // b in float64 before loading: loading into float32 would round the values and make the comparison depend
        // on the random input (it failed about one run in five that way).
        b.to(float64);
        ReferenceParameterLoader.Load(b, values);
        var x = randn(new long[] { 2, 9, 16 }, dtype: float64, generator: new Generator(11));
        Assert.True(a.forward(x).allclose(b.forward(x), rtol: 1e-12, atol: 1e-12));
    }

    private static void AssertAll(Tensor t, double value) =>
        Assert.True(t.eq(full_like(t, value)).all().item<bool>(), $"expected every element to be {value}");
}
