using Plstm.Experiments;
using Plstm.Models;
using Plstm.Tests.Support;

namespace Plstm.Tests.Models;

/// <summary>The optional convolutional stem before the patch projection (<see cref="ConvStem"/>).</summary>
public sealed class ConvStemTests
{
    [Theory]
    [InlineData(2, 5, ConvStemKind.MaxPool)]
    [InlineData(4, 10, ConvStemKind.MaxPool)]
    [InlineData(8, 10, ConvStemKind.MaxPool)]
    [InlineData(16, 10, ConvStemKind.MaxPool)]
    [InlineData(2, 5, ConvStemKind.Strided)]
    [InlineData(4, 10, ConvStemKind.Strided)]
    [InlineData(16, 10, ConvStemKind.Strided)]
    public void Stem_turns_each_patch_into_one_cell(int patch, int channels, ConvStemKind kind)
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var stem = ConvStem.Create(3, 5, patch, kind);
        Assert.Equal(channels, ConvStem.OutputChannels(5, patch));
        var output = stem.forward(randn(2, 3, 3 * patch, 2 * patch));                  // a non-square 3×2 patch grid
        Assert.Equal(new long[] { 2, channels, 3, 2 }, output.shape);
    }

    [Fact]
    public void Stem_is_conv_relu_maxpool_per_stage()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        using var stem = ConvStem.Create(2, 3, 8);
        stem.to(float64);
        var x = randn(2, 2, 24, 16, dtype: float64);
        var expected = x;
        var parameters = stem.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (int conv in new[] { 0, 3, 6 })
            expected = nn.functional.max_pool2d(nn.functional.relu(nn.functional.conv2d(expected,
                parameters[$"{conv}.weight"], parameters[$"{conv}.bias"], padding: [1, 1])), 2);
        TensorAssert.AssertClose(stem.forward(x), expected, "stem", 1e-12, 1e-12);
    }

    [Fact]
    public void Strided_stem_is_stride_2_conv_relu_per_stage()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        using var stem = ConvStem.Create(2, 3, 8, ConvStemKind.Strided);
        stem.to(float64);
        var x = randn(2, 2, 24, 16, dtype: float64);
        var expected = x;
        var parameters = stem.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"], parameters.Keys);
        foreach (int conv in new[] { 0, 2, 4 })
            expected = nn.functional.relu(nn.functional.conv2d(expected, parameters[$"{conv}.weight"],
                parameters[$"{conv}.bias"], strides: [2, 2], padding: [1, 1]));
        TensorAssert.AssertClose(stem.forward(x), expected, "stem", 1e-12, 1e-12);
        Assert.Equal(new long[] { 2, 6, 3, 2 }, expected.shape);
        // The max-pool kind is a different function of the same input.
        using var pooled = ConvStem.Create(2, 3, 8);
        Assert.Equal(["0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "6.bias"],
            pooled.named_parameters().Select(p => p.name));
        Assert.Throws<ArgumentOutOfRangeException>(() => ConvStem.Create(2, 3, 8, (ConvStemKind)7));
    }

    [Fact]
    public void Embedding_with_a_stem_has_named_parameters_and_trains_all_of_them()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var embed = new PatchEmbedding("patch_embed", channels: 3, dim: 12, patchSize: 8, channelsFirst: false,
            convStemWidth: 4);
        var shapes = embed.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal(new long[] { 4, 3, 3, 3 }, shapes["stem.0.weight"]);
        Assert.Equal(new long[] { 8, 4, 3, 3 }, shapes["stem.3.weight"]);
        Assert.Equal(new long[] { 8, 8, 3, 3 }, shapes["stem.6.weight"]);
        Assert.Equal(new long[] { 12, 8, 1, 1 }, shapes["proj.weight"]);
        Assert.Equal(8, shapes.Count);                                                  // three convs and proj, with biases

        var grid = embed.forward(randn(2, 24, 40, 3));                                  // [B, H, W, C]
        Assert.Equal(new long[] { 2, 3, 5, 12 }, grid.shape);
        grid.square().sum().backward();
        foreach (var (name, parameter) in embed.named_parameters())
        {
            Assert.NotNull(parameter.grad);
            Assert.True(parameter.grad!.abs().sum().item<float>() > 0, $"{name} got no gradient");
        }
    }

    [Fact]
    public void Without_a_stem_the_embedding_keeps_the_reference_names()
    {
        using var embed = new PatchEmbedding("patch_embed", 3, 12, 8, false);
        Assert.Equal(["proj.weight", "proj.bias"], embed.named_parameters().Select(p => p.name));
        Assert.Equal(0, embed.ConvStemWidth);
    }

    [Theory]
    [InlineData("plstm_vit_tiny")]
    [InlineData("vit_tiny")]
    public void Models_with_a_stem_run_at_other_sizes_and_in_both_layouts(string name)
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var preset = ModelRegistry.Get(name);
        using VisionModel model = preset.Family == ModelFamily.Plstm
            ? new PlstmVisionModel(preset.PlstmConfig! with { ImageSize = 64, NumClasses = 2, ConvStemWidth = 4 })
            : new VisionTransformer(preset.VitConfig! with { ImageSize = 64, NumClasses = 2, ConvStemWidth = 4 });
        model.eval();
        Assert.Contains(model.named_parameters(), p => p.name == "patch_embed.stem.0.weight");
        using VisionModel strided = preset.Family == ModelFamily.Plstm
            ? new PlstmVisionModel(preset.PlstmConfig! with { ImageSize = 64, NumClasses = 2, ConvStemWidth = 4, ConvStemKind = ConvStemKind.Strided })
            : new VisionTransformer(preset.VitConfig! with { ImageSize = 64, NumClasses = 2, ConvStemWidth = 4, ConvStemKind = ConvStemKind.Strided });
        strided.eval();
        Assert.Contains(strided.named_parameters(), p => p.name == "patch_embed.stem.4.weight");
        using (no_grad())
            Assert.Equal(new long[] { 1, 2 }, strided.forward(randn(1, 128, 96, 3)).shape);
        using (no_grad())
        {
            Assert.Equal(new long[] { 2, 2 }, model.forward(randn(2, 64, 64, 3)).shape);
            Assert.Equal(new long[] { 1, 2 }, model.forward(randn(1, 128, 96, 3)).shape);
        }
        using VisionModel first = preset.Family == ModelFamily.Plstm
            ? new PlstmVisionModel(preset.PlstmConfig! with { ImageSize = 64, ConvStemWidth = 4, ChannelsFirst = true })
            : new VisionTransformer(preset.VitConfig! with { ImageSize = 64, ConvStemWidth = 4, ChannelsFirst = true });
        first.eval();
        using (no_grad())
            Assert.Equal(new long[] { 1, 10 }, first.forward(randn(1, 3, 64, 64)).shape);
    }

    [Fact]
    public void Configs_reject_a_negative_width_and_a_patch_the_stem_cannot_reach()
    {
        var plstm = ModelRegistry.Get("plstm_vit_tiny").PlstmConfig!;
        var vit = ModelRegistry.Get("vit_tiny").VitConfig!;
        Assert.Equal("ConvStemWidth", Assert.Throws<ArgumentException>(() => (plstm with { ConvStemWidth = -1 }).Validate()).ParamName);
        Assert.Equal("ConvStemWidth", Assert.Throws<ArgumentException>(() => (vit with { ConvStemWidth = -1 }).Validate()).ParamName);
        var ex = Assert.Throws<ArgumentException>(() => (plstm with { ConvStemWidth = 8, PatchSize = 6, ImageSize = 48 }).Validate());
        Assert.Equal("PatchSize", ex.ParamName);
        Assert.Contains("power of two", ex.Message);
        Assert.Throws<ArgumentException>(() => (vit with { ConvStemWidth = 8, PatchSize = 1 }).Validate());
        (plstm with { ConvStemWidth = 8, PatchSize = 2, ImageSize = 32 }).Validate();
        Assert.Throws<ArgumentOutOfRangeException>(() => ConvStem.Create(3, 4, 12));
        Assert.Throws<ArgumentOutOfRangeException>(() => ConvStem.Create(3, 0, 8));
    }

    [Fact]
    public void Stem_width_survives_the_checkpoint_config_and_old_configs_read_as_none()
    {
        var spec = new ExperimentModel("m", "plstm_vit_tiny", 1e-3, PatchSize: 8, ConvStemWidth: 16).Spec(64, 3, 2);
        Assert.Equal(16, spec.Plstm!.ConvStemWidth);
        string json = System.Text.Json.JsonSerializer.Serialize(spec, ModelSpec.JsonOptions);
        Assert.Contains("\"conv_stem_width\": 16", json);
        var back = System.Text.Json.JsonSerializer.Deserialize<ModelSpec>(json, ModelSpec.JsonOptions)!;
        Assert.Equal(spec.Plstm, back.Plstm);
        // A checkpoint config written before the stem existed has no such key.
        string old = System.Text.RegularExpressions.Regex.Replace(json, ",\\s*\"conv_stem_width\": 16", "");
        Assert.DoesNotContain("conv_stem_width", old);
        Assert.Equal(0, System.Text.Json.JsonSerializer.Deserialize<ModelSpec>(old, ModelSpec.JsonOptions)!.Plstm!.ConvStemWidth);
    }

    [Fact]
    public void Stem_kind_survives_the_checkpoint_config_and_old_configs_read_as_max_pool()
    {
        var spec = new ExperimentModel("m", "vit_tiny", 1e-3, PatchSize: 8, ConvStemWidth: 16,
            ConvStemKind: ConvStemKind.Strided).Spec(64, 3, 2);
        Assert.Equal(ConvStemKind.Strided, spec.Vit!.ConvStemKind);
        string json = System.Text.Json.JsonSerializer.Serialize(spec, ModelSpec.JsonOptions);
        Assert.Contains("\"conv_stem_kind\": \"strided\"", json);
        Assert.Equal(spec.Vit, System.Text.Json.JsonSerializer.Deserialize<ModelSpec>(json, ModelSpec.JsonOptions)!.Vit);
        string old = System.Text.RegularExpressions.Regex.Replace(json, ",\\s*\"conv_stem_kind\": \"strided\"", "");
        Assert.DoesNotContain("conv_stem_kind", old);
        Assert.Equal(ConvStemKind.MaxPool,
            System.Text.Json.JsonSerializer.Deserialize<ModelSpec>(old, ModelSpec.JsonOptions)!.Vit!.ConvStemKind);
        var vit = ModelRegistry.Get("vit_tiny").VitConfig!;
        Assert.Equal("ConvStemKind",
            Assert.Throws<ArgumentException>(() => (vit with { ConvStemKind = (ConvStemKind)7 }).Validate()).ParamName);
    }
}
