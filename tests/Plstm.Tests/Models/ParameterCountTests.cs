using Plstm.Models;

namespace Plstm.Tests.Models;

/// <summary>Exact parameter counts of models §6.4/§6.5 (obtained by instantiating the reference torch models).</summary>
public class ParameterCountTests
{
    [Theory]
    [InlineData("plstm_vit_t", 6_314_404L)]
    [InlineData("plstm_vit_s", 23_272_288L)]
    [InlineData("plstm_vit_b", 89_121_496L)]
    [InlineData("vit_t", 5_717_032L)]
    [InlineData("vit_s", 22_049_896L)]
    [InlineData("vit_b", 86_566_120L)]
    [InlineData("plstm_vit_ape", 5_551_610L)]
    [InlineData("vit_ape", 5_514_434L)]
    public void Preset_has_the_reference_parameter_count(string name, long expected)
    {
        // Counted by building the float32 model once (no forward pass).
        Assert.Equal(expected, ModelRegistry.Get(name).ParameterCount());
    }

    [Theory]
    [InlineData("plstm_vit_t", 192, 1000, 6_304_420L)]
    [InlineData("vit_t", 192, 1000, 5_707_048L)]
    [InlineData("plstm_vit_ape", 192, 2, 5_551_610L)]
    public void Counts_follow_image_size_and_class_overrides(string name, int imageSize, int classes, long expected)
    {
        Assert.Equal(expected, ModelRegistry.Get(name).ParameterCount(imageSize, classes));
    }

    [Fact]
    public void Plstm_vit_t_with_three_heads_at_the_ape_setting_matches_the_spec()
    {
        // models §6.4: APE with H = 3 would have 5,536,958 parameters.
        var config = ModelRegistry.Get("plstm_vit_ape").PlstmConfig! with { NumHeads = 3 };
        using var model = new PlstmVisionModel(config);
        Assert.Equal(5_536_958L, model.ParameterCount());
    }

    [Fact]
    public void Plstm_vit_t_breakdown_matches_models_section_6_4()
    {
        using var model = ModelRegistry.Create("plstm_vit_t");
        var sizes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.numel());
        long Sum(Func<string, bool> select) => sizes.Where(kv => select(kv.Key)).Sum(kv => kv.Value);

        Assert.Equal(147_648L, Sum(k => k.StartsWith("patch_embed.", StringComparison.Ordinal)));
        Assert.Equal(37_632L, Sum(k => k.StartsWith("pos_embed.", StringComparison.Ordinal)));
        Assert.Equal(192L, Sum(k => k.StartsWith("norm.", StringComparison.Ordinal)));
        Assert.Equal(769_000L, Sum(k => k.StartsWith("head.", StringComparison.Ordinal)));
        Assert.Equal(5_359_932L, Sum(k => k.StartsWith("block_stack.", StringComparison.Ordinal)));

        const string pair = "block_stack.blocks.0.";
        Assert.Equal(893_322L, Sum(k => k.StartsWith(pair, StringComparison.Ordinal)));
        // PostUp wrapper = the block without its interaction layer: 8D² + 7D.
        Assert.Equal(296_256L, Sum(k => k.StartsWith(pair + "block0.", StringComparison.Ordinal)
                                        && !k.StartsWith(pair + "block0.interaction_module.", StringComparison.Ordinal)));
        Assert.Equal(296_256L, Sum(k => k.StartsWith(pair + "block1.", StringComparison.Ordinal)
                                        && !k.StartsWith(pair + "block1.interaction_module.", StringComparison.Ordinal)));
        Assert.Equal(151_155L, Sum(k => k.StartsWith(pair + "block0.interaction_module.", StringComparison.Ordinal)));
        Assert.Equal(149_655L, Sum(k => k.StartsWith(pair + "block1.interaction_module.", StringComparison.Ordinal)));
    }

    [Fact]
    public void Vit_t_block_has_12_d_squared_plus_13_d_parameters()
    {
        using var model = ModelRegistry.Create("vit_t");
        long block = model.named_parameters()
            .Where(p => p.name.StartsWith("block_stack.blocks.3.", StringComparison.Ordinal))
            .Sum(p => p.parameter.numel());
        Assert.Equal(12L * 192 * 192 + 13 * 192, block);
        Assert.Equal(192L, model.named_parameters().Single(p => p.name == "cls_token").parameter.numel());
    }
}
