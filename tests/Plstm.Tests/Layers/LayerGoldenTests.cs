using System.Text.Json;
using Plstm.Layers;
using Plstm.Ops.TwoD;
using Plstm.Tests.Golden;
using Plstm.Tests.Support;

namespace Plstm.Tests.Layers;

/// <summary>
/// The whole fused 2D layer against the reference's golden files of kind <c>plstm2d_layer</c> (golden README, section
/// <c>plstm2d_layer</c>): the bundled <c>2d_layer_P_3x4.json</c> and <c>2d_layer_D_3x4.json</c> plus every such file in
/// <c>PLSTM_GOLDEN_DIR</c>. Parameters are imported by their reference names; y and the gradients of Σ U⊙y w.r.t. x
/// and every parameter are compared, in float64 (the file's tolerance) and float32 (the float32 rule).
/// </summary>
[Trait("Category", "Golden")]
public sealed class LayerGoldenTests
{
    private const string Kind = "plstm2d_layer";
    private static readonly string[] BundledFiles = { "2d_layer_P_3x4.json", "2d_layer_D_3x4.json" };

    /// <summary>Case ids as understood by <see cref="GoldenCases.ResolvePath"/>.</summary>
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var file in BundledFiles) data.Add(file);
        var extra = GoldenCases.ExtraDirectory;
        if (extra is not null && Directory.Exists(extra))
            foreach (var path in Directory.EnumerateFiles(extra, "*.json").OrderBy(p => p, StringComparer.Ordinal))
                if (GoldenCases.PeekKind(path) == Kind)
                    data.Add(GoldenCases.ExtraDirVariable + "/" + Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float64(string id) => Run(id, ScalarType.Float64, Plstm2DForm.Hierarchical);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float32(string id) => Run(id, ScalarType.Float32, Plstm2DForm.Hierarchical);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float64_naive_operator(string id) => Run(id, ScalarType.Float64, Plstm2DForm.Naive);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float64_chunkwise_operator(string id) => Run(id, ScalarType.Float64, Plstm2DForm.Chunkwise);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float32_automatic_operator(string id) => Run(id, ScalarType.Float32, Plstm2DForm.Auto);

    [Fact]
    public void Module_parameters_are_exactly_the_reference_state_dict()
    {
        // Every name and shape the reference stores, and nothing else, for both modes.
        foreach (var file in BundledFiles)
        {
            var golden = GoldenCases.Load(file);
            using var layer = BuildLayer(golden);
            var expected = golden.Inputs.Where(n => n != "x")
                .ToDictionary(n => n, n => TensorAssert.FormatShape(golden.Arrays[n].Shape), StringComparer.Ordinal);
            var actual = layer.named_parameters()
                .ToDictionary(p => p.name, p => TensorAssert.FormatShape(p.parameter.shape), StringComparer.Ordinal);
            Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        }
    }

    [Fact]
    public void Loader_rejects_an_unknown_name_naming_the_key()
    {
        using var scope = NewDisposeScope();
        using var layer = new Plstm2DLayer("layer", LayerTestSupport.SmallConfig(Plstm2DMode.P));
        var values = layer.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach().clone());
        values["source.weights"] = values["source.weight"];
        var ex = Assert.Throws<ArgumentException>(() => ReferenceParameterLoader.Load(layer, values));
        Assert.Contains("'source.weights'", ex.Message);
    }

    [Fact]
    public void Loader_rejects_a_shape_mismatch_naming_the_key()
    {
        using var scope = NewDisposeScope();
        using var layer = new Plstm2DLayer("layer", LayerTestSupport.SmallConfig(Plstm2DMode.D));
        var values = layer.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach().clone());
        values["transition_rd.eigenvalues_weight"] = zeros(1, 8, 2, 1);
        var ex = Assert.Throws<ArgumentException>(() => ReferenceParameterLoader.Load(layer, values));
        Assert.Contains("'transition_rd.eigenvalues_weight'", ex.Message);
        Assert.Contains("[1, 8, 1, 2]", ex.Message);
    }

    [Fact]
    public void Loader_rejects_a_missing_parameter_naming_the_key()
    {
        using var scope = NewDisposeScope();
        using var layer = new Plstm2DLayer("layer", LayerTestSupport.SmallConfig(Plstm2DMode.P));
        var values = layer.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach().clone());
        values.Remove("orientation_weight");
        var ex = Assert.Throws<ArgumentException>(() => ReferenceParameterLoader.Load(layer, values));
        Assert.Contains("'orientation_weight'", ex.Message);
        ReferenceParameterLoader.Load(layer, values, strict: false);
    }

    private static void Run(string id, ScalarType dtype, Plstm2DForm form)
    {
        var golden = GoldenCases.Load(id);
        Assert.Equal(Kind, golden.Kind);
        using var scope = NewDisposeScope();
        using var layer = BuildLayer(golden);
        layer.to(dtype);
        layer.Form = form;
        Assert.All(layer.parameters(), p => Assert.Equal(dtype, p.dtype));

        var values = golden.Inputs.Where(n => n != "x").ToDictionary(n => n, golden.GetTensor, StringComparer.Ordinal);
        ReferenceParameterLoader.Load(layer, values);

        var x = golden.GetTensor("x").to(dtype);
        var upstream = golden.GetTensor(golden.Upstream ?? throw new InvalidDataException($"{id}: no upstream")).to(dtype);
        var parameters = layer.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();
        var (y, dx, dParams) = LayerTestSupport.Differentiate(layer.forward, x, upstream, parameters);
        Assert.Equal(dtype, y.dtype);

        var failures = new List<string>();
        void Check(Tensor actual, string expectedName)
        {
            var expected = golden.GetTensor(expectedName);
            var failure = dtype == ScalarType.Float64
                ? TensorAssert.Compare(actual, expected, expectedName, golden.Tolerance.Rtol, golden.Tolerance.Atol)
                : TensorAssert.CompareFloat32(actual, expected, expectedName);
            if (failure is not null) failures.Add(failure);
        }
        Check(y, "y");
        foreach (var gradName in golden.Gradients)
        {
            var target = gradName[1..];
            if (target == "x") Check(dx, gradName);
            else if (dParams.TryGetValue(target, out var g)) Check(g, gradName);
            else failures.Add($"{gradName}: the layer has no parameter '{target}'");
        }
        var untested = dParams.Keys.Where(k => !golden.Gradients.Contains("d" + k)).ToList();
        if (untested.Count > 0) failures.Add($"parameters without a stored gradient: {string.Join(", ", untested)}");
        if (failures.Count > 0)
            Assert.Fail($"{id} ({dtype}, {form}): {failures.Count} failure(s):\n" + string.Join("\n", failures));
    }

    private static Plstm2DLayer BuildLayer(GoldenCase golden)
    {
        var mode = golden.Params["mode"].GetString() switch
        {
            "P" => Plstm2DMode.P,
            "D" => Plstm2DMode.D,
            var other => throw new InvalidDataException($"{golden.Name}: unknown mode '{other}'"),
        };
        var config = new Plstm2DLayerConfig(golden.ParamInt("D"), golden.ParamInt("H"), mode)
        {
            DModeChirality = golden.HasParam("chirality") ? golden.Params["chirality"].GetString()! : "L",
            Levels = golden.ParamInt("levels"),
            NormEps = golden.OptionalParamDouble("eps") ?? 1e-5,
            TransitionFactor = golden.OptionalParamDouble("transition_factor") ?? 5.0,
            OrientationScale = golden.OptionalParamDouble("orientation_scale") ?? 0.5,
            QkvSubHeads = golden.HasParam("qkv_sub_heads") ? golden.ParamInt("qkv_sub_heads") : 1,
        };
        Assert.Equal(golden.ParamInt("DK"), config.DK);
        Assert.Equal(golden.ParamInt("DV"), config.DV);
        return new Plstm2DLayer(golden.Name, config);
    }

}
