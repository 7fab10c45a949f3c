using Plstm.Models;

namespace Plstm.Tests.Models;

/// <summary>Parameter names and shapes follow the reference state_dict (docs/interop.md).</summary>
public class StateDictNameTests
{
    private static Dictionary<string, long[]> Shapes(VisionModel model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);

    [Fact]
    public void Plstm_model_uses_reference_names_and_shapes()
    {
        using var model = ModelRegistry.Create("plstm_vit_tiny"); // D 64, H 2, patch 8, 32 px, 10 classes
        var shapes = Shapes(model);
        Assert.Equal(new long[] { 64, 3, 8, 8 }, shapes["patch_embed.proj.weight"]);
        Assert.Equal(new long[] { 64 }, shapes["patch_embed.proj.bias"]);
        Assert.Equal(new long[] { 1, 4, 4, 64 }, shapes["pos_embed.embed"]);
        Assert.Equal(new long[] { 64 }, shapes["norm.scale"]);
        Assert.Equal(new long[] { 10, 256 }, shapes["head.weight"]);
        Assert.Equal(new long[] { 10 }, shapes["head.bias"]);
        Assert.DoesNotContain("cls_token", shapes.Keys);

        foreach (var block in new[] { "block0", "block1" })
        {
            string p = $"block_stack.blocks.1.{block}.";
            Assert.Equal(new long[] { 64 }, shapes[p + "norm.scale"]);
            Assert.Equal(new long[] { 64 }, shapes[p + "norm2.scale"]);
            Assert.Equal(new long[] { 256, 64 }, shapes[p + "upproj.weight"]);
            Assert.Equal(new long[] { 256 }, shapes[p + "upproj.bias"]);
            Assert.Equal(new long[] { 64, 256 }, shapes[p + "downproj.weight"]);
            Assert.Equal(new long[] { 64 }, shapes[p + "downproj.bias"]);
            Assert.Equal(new long[] { 2, 32, 1, 1, 64 }, shapes[p + "interaction_module.query.weight"]);
            Assert.Equal(new long[] { 64, 64 }, shapes[p + "interaction_module.outprojection.weight"]);
            Assert.Equal(new long[] { 2, 32 }, shapes[p + "interaction_module.mhnorm.scale"]);
        }
        Assert.Equal(new long[] { 4, 2 }, shapes["block_stack.blocks.0.block0.interaction_module.orientation_bias"]);
        Assert.Equal(new long[] { 4, 2, 64 }, shapes["block_stack.blocks.0.block0.interaction_module.orientation_weight"]);
        Assert.Contains("block_stack.blocks.0.block1.interaction_module.transition_rd.eigenvalues_bias", shapes.Keys);
        Assert.DoesNotContain(shapes.Keys, k => k.Contains("scale1", StringComparison.Ordinal));
        Assert.DoesNotContain(shapes.Keys, k => k.Contains("drop_path", StringComparison.Ordinal));
    }

    [Fact]
    public void Vit_model_uses_reference_names_and_shapes()
    {
        using var model = ModelRegistry.Create("vit_tiny"); // D 64, H 2, 4 blocks, patch 8, 32 px, 10 classes
        var shapes = Shapes(model);
        Assert.Equal(new long[] { 64, 1 }, shapes["cls_token"]);
        Assert.Equal(new long[] { 64, 3, 8, 8 }, shapes["patch_embed.proj.weight"]);
        Assert.Equal(new long[] { 1, 4, 4, 64 }, shapes["pos_embed.embed"]);
        Assert.Equal(new long[] { 10, 64 }, shapes["head.weight"]);
        string p = "block_stack.blocks.3.";
        var expected = new Dictionary<string, long[]>
        {
            ["norm.scale"] = new long[] { 64 },
            ["norm2.scale"] = new long[] { 64 },
            ["scale.scale"] = new long[] { 64 },
            ["scale2.scale"] = new long[] { 64 },
            ["qkv.weight"] = new long[] { 192, 64 },
            ["qkv.bias"] = new long[] { 192 },
            ["outproj.weight"] = new long[] { 64, 64 },
            ["outproj.bias"] = new long[] { 64 },
            ["upproj.weight"] = new long[] { 256, 64 },
            ["upproj.bias"] = new long[] { 256 },
            ["downproj.weight"] = new long[] { 64, 256 },
            ["downproj.bias"] = new long[] { 64 },
        };
        var blockKeys = shapes.Keys.Where(k => k.StartsWith(p, StringComparison.Ordinal)).Select(k => k[p.Length..]);
        Assert.Equal(expected.Keys.OrderBy(k => k, StringComparer.Ordinal), blockKeys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (key, shape) in expected)
            Assert.Equal(shape, shapes[p + key]);
    }

    [Fact]
    public void No_position_embedding_ablation_has_no_pos_embed_key()
    {
        var config = ModelRegistry.Get("plstm_vit_t_noposemb").PlstmConfig! with
        {
            Dim = 16, NumHeads = 1, NumBlocks = 1, ImageSize = 32, NumClasses = 3,
        };
        using var model = new PlstmVisionModel(config);
        Assert.DoesNotContain(model.state_dict().Keys, k => k.StartsWith("pos_embed", StringComparison.Ordinal));
    }

    [Fact]
    public void Layer_scale_adds_scale1_and_scale2_to_every_postup_block()
    {
        var config = ModelRegistry.Get("plstm_vit_tiny").PlstmConfig! with { LayerScaleInit = 1e-4 };
        using var model = new PlstmVisionModel(config);
        var state = model.state_dict();
        var gamma = state["block_stack.blocks.0.block1.scale2.scale"];
        Assert.Equal(new long[] { 64 }, gamma.shape);
        Assert.Equal(1e-4, gamma.max().item<float>(), 9);
        Assert.Contains("block_stack.blocks.1.block0.scale1.scale", state.Keys);
    }
}
