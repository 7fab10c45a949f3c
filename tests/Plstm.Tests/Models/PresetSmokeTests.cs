using Plstm.Models;

namespace Plstm.Tests.Models;

/// <summary>Every registry preset runs forward and backward at a tiny resolution.</summary>
public class PresetSmokeTests
{
    public static TheoryData<string> PresetNames()
    {
        var data = new TheoryData<string>();
        foreach (var name in ModelRegistry.Names) data.Add(name);
        return data;
    }

    /// <summary>
    /// Builds a preset for a smoke run: T-width and smaller presets as they are; S and B presets with the width cut
    /// to 16 per head (same heads, depth, modes, pooling and embeddings) so the run stays CPU-cheap, since their
    /// full size is covered by the parameter-count tests.
    /// </summary>
    private static VisionModel CreateForSmoke(ModelPreset preset, int imageSize) => preset.Family switch
    {
        ModelFamily.Plstm when preset.PlstmConfig!.Dim > 192 => new PlstmVisionModel(preset.PlstmConfig with
        {
            Dim = 16 * preset.PlstmConfig.NumHeads, ImageSize = imageSize,
        }, preset.Name),
        ModelFamily.Vit when preset.VitConfig!.Dim > 192 => new VisionTransformer(preset.VitConfig with
        {
            Dim = 16 * preset.VitConfig.NumHeads, ImageSize = imageSize,
        }, preset.Name),
        _ => preset.Create(imageSize: imageSize),
    };

    [Theory]
    [MemberData(nameof(PresetNames))]
    public void Preset_runs_forward_and_backward_on_a_3x3_patch_grid(string name)
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        var preset = ModelRegistry.Get(name);
        int imageSize = 3 * preset.PatchSize; // 3×3 patches: an odd grid, padded inside the pLSTM layers
        using var model = CreateForSmoke(preset, imageSize);
        model.train();

        var images = randn(2, imageSize, imageSize, 3);                                 // [B, H, W, C]
        var logits = model.forward(images);
        Assert.Equal(new long[] { 2, preset.DefaultNumClasses }, logits.shape);
        Assert.True(logits.isfinite().all().item<bool>(), $"{name}: non-finite logits");

        // A loss that reaches every parameter: the head's tiny init (std 2e-5) makes upstream gradients small but not 0.
        var loss = nn.functional.cross_entropy(logits, tensor(new long[] { 0, 1 }));
        loss.backward();
        foreach (var (paramName, parameter) in model.named_parameters())
        {
            // The bias-only ablation keeps the transition's weight as an unused parameter (as the reference does).
            bool unused = preset.PlstmConfig is { InputDependentGates: false }
                          && paramName.EndsWith("eigenvalues_weight", StringComparison.Ordinal);
            var grad = parameter.grad;
            if (unused) continue;
            Assert.True(grad is not null, $"{name}: no gradient for {paramName}");
            Assert.True(grad!.isfinite().all().item<bool>(), $"{name}: non-finite gradient for {paramName}");
        }
        Assert.True(model.named_parameters().Single(p => p.name == "head.weight").parameter.grad!.abs().sum().item<float>() > 0);
        Assert.True(model.named_parameters().Single(p => p.name == "patch_embed.proj.weight").parameter.grad!
            .abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Eval_mode_is_deterministic_with_drop_path()
    {
        using var scope = NewDisposeScope();
        manual_seed(12);
        var config = ModelRegistry.Get("plstm_vit_tiny").PlstmConfig! with { DropPathRate = 0.3, NumBlocks = 1 };
        using var model = new PlstmVisionModel(config);
        model.eval();
        var images = randn(2, 16, 16, 3);
        var a = model.forward(images);
        var b = model.forward(images);
        Assert.True(a.SameAs(b));
    }

    [Theory]
    [InlineData("plstm_vit_tiny")]
    [InlineData("vit_tiny")]
    public void Repeated_training_steps_leave_no_tensors_behind(string name)
    {
        manual_seed(13);
        using var model = ModelRegistry.Create(name);
        var images = randn(2, 16, 24, 3);
        var labels = tensor(new long[] { 3, 7 });
        long Live() => DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        void Step()
        {
            using var scope = NewDisposeScope();
            nn.functional.cross_entropy(model.forward(images), labels).backward();
        }
        Step(); // allocates the gradients once
        long before = Live();
        for (int i = 0; i < 3; i++) Step();
        Assert.Equal(before, Live());
        images.Dispose();
        labels.Dispose();
    }

    [Fact]
    public void Float64_images_are_converted_to_the_parameter_dtype()
    {
        using var scope = NewDisposeScope();
        using var model = ModelRegistry.Create("vit_tiny");
        var logits = model.forward(randn(1, 16, 16, 3, dtype: float64));
        Assert.Equal(ScalarType.Float32, logits.dtype);
    }
}
