using Plstm.Tests.Support;
using Plstm.Interop;
using Plstm.Models;
using Plstm.Tests.Models;

namespace Plstm.Tests.Interop;

/// <summary>Strict loading: every missing, unexpected or mis-shaped key is reported by name; the model is unchanged.</summary>
public class CheckpointStrictnessTests
{
    private static Dictionary<string, Tensor> Snapshot(VisionModel model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

    private static void AssertUnchanged(VisionModel model, Dictionary<string, Tensor> before)
    {
        foreach (var (key, value) in model.state_dict())
            Assert.True(value.SameAs(before[key]), $"{key} was modified by a failed load");
    }

    [Theory]
    [InlineData(CheckpointFormat.Safetensors, "m.safetensors")]
    [InlineData(CheckpointFormat.PyTorch, "m.pth")]
    public void Missing_key_is_named(CheckpointFormat format, string fileName)
    {
        using var folder = new TempFolder();
        using var scope = NewDisposeScope();
        using var model = ModelRegistry.Create("plstm_vit_tiny");
        var state = Snapshot(model);
        const string key = "block_stack.blocks.1.block0.interaction_module.query.weight";
        var stored = state.Where(kv => kv.Key != key).ToDictionary(kv => kv.Key, kv => kv.Value + 1);
        ModelCheckpoint.WriteStateDict(stored, folder.File(fileName), format);

        var ex = Assert.Throws<CheckpointMismatchException>(() => ModelCheckpoint.Load(model, folder.File(fileName)));
        Assert.Contains($"'{key}'", ex.Message);
        Assert.Contains("missing", ex.Message);
        Assert.Equal(new[] { key }, ex.MissingKeys);
        Assert.Empty(ex.UnexpectedKeys);
        AssertUnchanged(model, state);
    }

    [Theory]
    [InlineData(CheckpointFormat.Safetensors, "m.safetensors")]
    [InlineData(CheckpointFormat.PyTorch, "m.pth")]
    public void Extra_key_is_named(CheckpointFormat format, string fileName)
    {
        using var folder = new TempFolder();
        using var scope = NewDisposeScope();
        using var model = ModelRegistry.Create("vit_tiny");
        var state = Snapshot(model);
        var stored = state.ToDictionary(kv => kv.Key, kv => kv.Value + 1);
        stored["block_stack.blocks.0.attn.relative_bias"] = zeros(3, 3);
        ModelCheckpoint.WriteStateDict(stored, folder.File(fileName), format);

        var ex = Assert.Throws<CheckpointMismatchException>(() => ModelCheckpoint.Load(model, folder.File(fileName)));
        Assert.Contains("'block_stack.blocks.0.attn.relative_bias'", ex.Message);
        Assert.Contains("unexpected", ex.Message);
        Assert.Empty(ex.MissingKeys);
        AssertUnchanged(model, state);

        // Non-strict loading ignores it and loads the rest.
        ModelCheckpoint.Load(model, folder.File(fileName), options: new CheckpointLoadOptions { Strict = false });
        Assert.True(model.state_dict()["head.bias"].SameAs(state["head.bias"] + 1));
    }

    [Theory]
    [InlineData(CheckpointFormat.Safetensors, "m.safetensors")]
    [InlineData(CheckpointFormat.PyTorch, "m.pth")]
    public void Misshaped_key_is_named_with_both_shapes(CheckpointFormat format, string fileName)
    {
        using var folder = new TempFolder();
        using var scope = NewDisposeScope();
        using var model = ModelRegistry.Create("vit_tiny");
        var state = Snapshot(model);
        var stored = new Dictionary<string, Tensor>(state) { ["head.weight"] = zeros(5, 64) };
        ModelCheckpoint.WriteStateDict(stored, folder.File(fileName), format);

        var ex = Assert.Throws<CheckpointMismatchException>(
            () => ModelCheckpoint.Load(model, folder.File(fileName), options: new CheckpointLoadOptions { Strict = false }));
        Assert.Contains("'head.weight' is [5, 64] in the checkpoint but [10, 64] in the model", ex.Message);
        var mismatch = Assert.Single(ex.ShapeMismatches);
        Assert.Equal("head.weight", mismatch.Key);
        AssertUnchanged(model, state);
    }

    [Fact]
    public void All_problems_are_reported_together()
    {
        using var scope = NewDisposeScope();
        using var model = ModelRegistry.Create("vit_tiny");
        var stored = model.state_dict()
            .Where(kv => kv.Key != "norm.scale")
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        stored["cls_token"] = zeros(64);
        stored["extra"] = zeros(1);
        var ex = Assert.Throws<CheckpointMismatchException>(() => ModelCheckpoint.LoadStateDict(model, stored));
        Assert.Contains("'norm.scale'", ex.Message);
        Assert.Contains("'extra'", ex.Message);
        Assert.Contains("'cls_token' is [64] in the checkpoint but [64, 1] in the model", ex.Message);
    }

    [Fact]
    public void Position_embedding_of_another_resolution_is_a_mismatch_unless_resizing_is_asked_for()
    {
        using var folder = new TempFolder();
        using var scope = NewDisposeScope();
        manual_seed(51);
        using var trained = ModelRegistry.Create("vit_tiny");                           // 32 px: 4×4 grid
        string path = folder.File("vit32.safetensors");
        ModelCheckpoint.Save(trained, path);
        using var larger = ModelRegistry.Create("vit_tiny", imageSize: 64);              // 8×8 grid

        var ex = Assert.Throws<CheckpointMismatchException>(() => ModelCheckpoint.Load(larger, path));
        Assert.Contains("'pos_embed.embed' is [1, 4, 4, 64] in the checkpoint but [1, 8, 8, 64] in the model", ex.Message);

        ModelCheckpoint.Load(larger, path, options: new CheckpointLoadOptions { ResizePositionEmbedding = true });
        var expected = PositionEmbedding2D.Resize(trained.state_dict()["pos_embed.embed"], 8, 8);
        Assert.True(larger.state_dict()["pos_embed.embed"].allclose(expected));
        Assert.True(larger.state_dict()["head.weight"].SameAs(trained.state_dict()["head.weight"]));
    }

    [Fact]
    public void Prefixes_such_as_module_can_be_stripped()
    {
        using var scope = NewDisposeScope();
        manual_seed(52);
        using var source = ModelRegistry.Create("vit_tiny");
        using var target = ModelRegistry.Create("vit_tiny");
        var prefixed = source.state_dict().ToDictionary(kv => "module." + kv.Key, kv => kv.Value);
        Assert.Throws<CheckpointMismatchException>(() => ModelCheckpoint.LoadStateDict(target, prefixed));
        ModelCheckpoint.LoadStateDict(target, prefixed,
            new CheckpointLoadOptions { StripPrefixes = ["_orig_mod.", "module."] });
        Assert.True(target.state_dict()["norm.scale"].SameAs(source.state_dict()["norm.scale"]));
    }
}
