using Plstm.Models;
using Plstm.Tests.Support;

namespace Plstm.Tests.Models;

/// <summary>
/// <see cref="VisionModel.ComputeDtype"/>: float32 parameters, bfloat16 (or float16) activations. The logits and every
/// parameter's gradient come back in float32 and agree with the float32 model's (the logits within the bfloat16 rule,
/// each gradient as a whole within <see cref="Tolerances.MixedPrecisionGradRelative"/>); the parameters stay float32;
/// the model does compute in the lower dtype (the logits differ); ComputeDtype float32 changes no bit.
/// </summary>
public sealed class MixedPrecisionTests
{
    public static TheoryData<string, string, bool> Cases() => new()
    {
        { "plstm_vit_tiny", "bfloat16", false },
        { "vit_tiny", "bfloat16", false },
        { "plstm_vit_tiny", "float16", false },
        { "plstm_vit_tiny", "bfloat16", true },                                          // with layer scales
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Mixed_precision_follows_the_float32_model(string name, string computeName, bool layerScale)
    {
        using var scope = NewDisposeScope();
        var compute = computeName == "float16" ? ScalarType.Float16 : ScalarType.BFloat16;
        var preset = ModelRegistry.Get(name);
        int imageSize = 3 * preset.PatchSize;
        using var model = layerScale
            ? new PlstmVisionModel(preset.PlstmConfig! with { ImageSize = imageSize, LayerScaleInit = 1.0 }, preset.Name)
            : preset.Create(imageSize: imageSize);
        Randomize(model, seed: 21);
        var generator = new Generator(22);
        var images = randn(new long[] { 2, imageSize, imageSize, 3 }, generator: generator);
        var upstream = randn(new long[] { 2, preset.DefaultNumClasses }, generator: generator);

        var (expectedLogits, expectedGrads) = Run(model, images, upstream);
        model.ComputeDtype = ScalarType.Float32;
        var (sameLogits, sameGrads) = Run(model, images, upstream);
        model.ComputeDtype = compute;
        var (logits, grads) = Run(model, images, upstream);
        model.ComputeDtype = null;

        Assert.True(sameLogits.eq(expectedLogits).all().item<bool>(), "ComputeDtype float32 changed the logits");
        foreach (var (paramName, grad) in sameGrads)
            Assert.True(grad.eq(expectedGrads[paramName]).all().item<bool>(), $"ComputeDtype float32 changed d{paramName}");
        Assert.Equal(ScalarType.Float32, logits.dtype);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.True((logits - expectedLogits).abs().max().item<float>() > 0, "the mixed run computed in float32");
        Assert.True(expectedLogits.abs().max().item<float>() > 1, "logits too small for the bound to mean anything");
        var failures = new List<string?>
        {
            TensorAssert.CompareScaled(logits, expectedLogits, "logits", 0, Tolerances.BFloat16ComputeScale),
        };
        Assert.Equal(expectedGrads.Keys.Order(), grads.Keys.Order());                  // every gradient arrives
        foreach (var (paramName, grad) in grads)
        {
            Assert.Equal(ScalarType.Float32, grad.dtype);
            var e = expectedGrads[paramName];
            double relative = ((grad - e).norm() / e.norm().clamp_min(1e-30)).item<float>();
            if (relative > Tolerances.MixedPrecisionGradRelative)
                failures.Add($"d{paramName}: relative error {relative:G3} > {Tolerances.MixedPrecisionGradRelative}");
        }
        var real = failures.Where(f => f is not null).ToList();
        if (real.Count > 0) Assert.Fail(string.Join("\n", real));
    }

    [Fact]
    public void Compute_dtype_must_be_floating_point()
    {
        using var model = ModelRegistry.Get("vit_tiny").Create(imageSize: 16);
        var error = Assert.Throws<ArgumentException>(() => model.ComputeDtype = ScalarType.Int32);
        Assert.Contains("floating-point", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Logits and the gradients of Σ upstream ⊙ logits with respect to every parameter (detached copies).</summary>
    private static (Tensor Logits, Dictionary<string, Tensor> Grads) Run(VisionModel model, Tensor images, Tensor upstream)
    {
        model.zero_grad(true);
        var logits = model.forward(images);
        (logits.to(float32) * upstream).sum().backward();
        var grads = model.named_parameters().Where(p => p.parameter.grad is not null)
            .ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone());
        return (logits.detach(), grads);
    }

    /// <summary>Every parameter random (gains near 1, the rest N(0, 0.3²)) so that the logits and gradients are of order
    /// one: at initialisation the head's std of 2e-5 would make every comparison trivially pass.</summary>
    private static void Randomize(VisionModel model, long seed)
    {
        var g = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            var noise = randn(p.shape, generator: g);
            p.copy_(name.EndsWith("scale", StringComparison.Ordinal) ? 1 + 0.1 * noise : 0.3 * noise);
        }
    }
}
