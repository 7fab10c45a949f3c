using Plstm.Training;

namespace Plstm.Tests.Training;

public class SoftTargetsAndMixingTests
{
    private static float[] Values(Tensor t) => t.contiguous().data<float>().ToArray();

    [Fact]
    public void Label_smoothing_rows_sum_to_one()
    {
        using var scope = NewDisposeScope();
        var labels = tensor(new long[] { 0, 2, 1 });
        var targets = SoftTargets.Create(labels, numClasses: 4, smoothing: 0.1);
        Assert.Equal(new long[] { 3, 4 }, targets.shape);
        var v = Values(targets);
        Assert.Equal(0.9f + 0.025f, v[0], 6);
        Assert.Equal(0.025f, v[1], 6);
        Assert.Equal(0.925f, v[4 + 2], 6);
        foreach (var row in Values(targets.sum(1))) Assert.Equal(1f, row, 6);

        var hard = SoftTargets.Create(labels, 4);
        Assert.Equal(new[] { 1f, 0f, 0f, 0f }, Values(hard)[..4]);
    }

    [Fact]
    public void Soft_target_loss_equals_cross_entropy_for_one_hot_targets()
    {
        using var scope = NewDisposeScope();
        torch.random.manual_seed(3);
        var logits = randn(5, 3);
        var labels = tensor(new long[] { 0, 1, 2, 1, 0 });
        var soft = SoftTargetLoss.CrossEntropy(logits, SoftTargets.Create(labels, 3)).item<float>();
        var reference = nn.functional.cross_entropy(logits, labels).item<float>();
        Assert.Equal(reference, soft, 5);
        // And with smoothing it matches torch's label_smoothing.
        var smoothed = SoftTargetLoss.CrossEntropy(logits, SoftTargets.Create(labels, 3, 0.1)).item<float>();
        Assert.Equal(nn.functional.cross_entropy(logits, labels, label_smoothing: 0.1).item<float>(), smoothed, 5);
    }

    /// <summary>Each image is constant and equal to its own index, so every mixed pixel tells where it came from.</summary>
    private static (Tensor Images, Tensor Targets) IndexedBatch(int batch, int classes, int size)
    {
        var images = arange(batch, dtype: ScalarType.Float32).reshape(batch, 1, 1, 1).expand(batch, 2, size, size).contiguous();
        var labels = arange(batch, dtype: ScalarType.Int64).remainder(classes);
        return (images, SoftTargets.Create(labels, classes, 0.1));
    }

    [Fact]
    public void Cutmix_label_weight_is_the_kept_area_and_targets_sum_to_one()
    {
        using var scope = NewDisposeScope();
        var mixer = new MixupCutmix(mixupAlpha: 0, cutmixAlpha: 1.0, seed: 11);
        int cutmixBatches = 0;
        for (int trial = 0; trial < 20; trial++)
        {
            var (images, targets) = IndexedBatch(6, 5, 10);
            var (mixed, mixedTargets, d) = mixer.Mix(images, targets);
            Assert.Equal(MixKind.Cutmix, d.Kind);
            cutmixBatches++;
            foreach (var row in Values(mixedTargets.sum(1))) Assert.Equal(1f, row, 5);
            double boxArea = (double)d.BoxHeight * d.BoxWidth / 100.0;
            Assert.Equal(1.0 - boxArea, d.LabelWeight, 12);
            for (int i = 0; i < 6; i++)
            {
                int partner = d.Permutation[i];
                var sample = mixed[i];
                // Fraction of pixels still holding the sample's own value = kept area (unless paired with itself).
                if (partner != i)
                {
                    double keptFraction = sample.eq(i).to_type(ScalarType.Float64).mean().item<double>();
                    Assert.Equal(d.LabelWeight, keptFraction, 12);
                }
                var expected = targets[i].mul(d.LabelWeight).add(targets[partner].mul(1 - d.LabelWeight));
                Assert.True(mixedTargets[i].allclose(expected, rtol: 1e-5, atol: 1e-6));
            }
        }
        Assert.Equal(20, cutmixBatches);
    }

    [Fact]
    public void Mixup_mixes_images_and_targets_with_one_ratio()
    {
        using var scope = NewDisposeScope();
        var mixer = new MixupCutmix(mixupAlpha: 0.8, cutmixAlpha: 0, seed: 5);
        var (images, targets) = IndexedBatch(4, 3, 4);
        var (mixed, mixedTargets, d) = mixer.Mix(images, targets);
        Assert.Equal(MixKind.Mixup, d.Kind);
        Assert.InRange(d.LabelWeight, 0.0, 1.0);
        for (int i = 0; i < 4; i++)
        {
            double expected = d.LabelWeight * i + (1 - d.LabelWeight) * d.Permutation[i];
            Assert.True(mixed[i].allclose(full_like(mixed[i], expected), rtol: 1e-5, atol: 1e-5));
        }
        foreach (var row in Values(mixedTargets.sum(1))) Assert.Equal(1f, row, 5);
    }

    [Fact]
    public void Both_enabled_chooses_each_about_half_the_time_and_state_resumes_exactly()
    {
        var mixer = new MixupCutmix(0.8, 1.0, probability: 1.0, switchProbability: 0.5, seed: 1);
        var kinds = Enumerable.Range(0, 400).Select(_ => mixer.Draw(8, 16, 16).Kind).ToList();
        int cutmix = kinds.Count(k => k == MixKind.Cutmix);
        Assert.InRange(cutmix, 150, 250);
        Assert.Equal(400 - cutmix, kinds.Count(k => k == MixKind.Mixup));

        var state = mixer.GetState();
        var expected = Enumerable.Range(0, 10).Select(_ => mixer.Draw(8, 16, 16)).ToList();
        var restored = new MixupCutmix(0.8, 1.0, seed: 999);
        restored.SetState(state);
        var actual = Enumerable.Range(0, 10).Select(_ => restored.Draw(8, 16, 16)).ToList();
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(expected[i].Kind, actual[i].Kind);
            Assert.Equal(expected[i].LabelWeight, actual[i].LabelWeight);
            Assert.Equal(expected[i].Permutation, actual[i].Permutation);
            Assert.Equal((expected[i].Top, expected[i].Left, expected[i].BoxHeight), (actual[i].Top, actual[i].Left, actual[i].BoxHeight));
        }
    }

    [Fact]
    public void Probability_zero_never_mixes()
    {
        using var scope = NewDisposeScope();
        var mixer = new MixupCutmix(0.8, 1.0, probability: 0.0, seed: 2);
        var (images, targets) = IndexedBatch(4, 3, 4);
        var (mixed, mixedTargets, d) = mixer.Mix(images, targets);
        Assert.Equal(MixKind.None, d.Kind);
        Assert.True(mixed.eq(images).all().item<bool>());
        Assert.True(mixedTargets.eq(targets).all().item<bool>());
    }
}
