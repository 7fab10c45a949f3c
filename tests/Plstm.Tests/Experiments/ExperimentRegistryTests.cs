using Plstm.Data;
using Plstm.Experiments;
using Plstm.Models;

namespace Plstm.Tests.Experiments;

/// <summary>The named experiments hold the parameters documented in docs/experiments.md and models.md §7.1.</summary>
public sealed class ExperimentRegistryTests
{
    [Fact]
    public void Lists_the_three_experiments_and_finds_them_case_insensitively()
    {
        Assert.Equal(["ape-small", "ape", "fashion-mnist"], ExperimentRegistry.Names);
        Assert.Same(ExperimentRegistry.Get("ape-small"), ExperimentRegistry.Get("APE-SMALL"));
        var ex = Assert.Throws<ArgumentException>(() => ExperimentRegistry.Get("ape-huge"));
        Assert.Contains("ape-small, ape, fashion-mnist", ex.Message);
        foreach (var preset in ExperimentRegistry.All) preset.Validate();
    }

    [Fact]
    public void Ape_is_the_paper_recipe()
    {
        var ape = ExperimentRegistry.Get("ape");
        Assert.Equal(ExperimentDataKind.Arrows, ape.Data.Kind);
        Assert.Equal((1.0, 192, 100_000, 5_120, 10_240, true, 43L),
            (ape.Data.ArrowScale, ape.Data.ArrowImageSize, ape.Data.TrainCount, ape.Data.ValidationCount, ape.Data.TestCount,
                ape.Data.Extrapolation, ape.Data.TrainSeed));
        Assert.Equal((39_050L, 128, 781L, 0.05, 1.0, 2_000L), (ape.Steps, ape.BatchSize, ape.WarmupSteps, ape.WeightDecay,
            ape.GradientClip, ape.EvalEverySteps));
        Assert.Equal([("plstm", "plstm_vit_ape", 1e-4), ("vit", "vit_ape", 3e-4)],
            ape.Models.Select(m => (m.Key, m.Preset, m.LearningRate)));
    }

    [Fact]
    public void Ape_small_shrinks_the_task_by_three_and_compares_a_same_size_pair()
    {
        var small = ExperimentRegistry.Get("ape-small");
        Assert.Equal(3.0, small.Data.ArrowScale);
        Assert.Equal(64, small.Data.ArrowImageSize);
        Assert.True(small.Data.Extrapolation);

        var train = ExperimentData.ArrowSettings(64, 3, small.Data.TrainSeed);
        Assert.Equal((64, 10.0, 5.0, 10.0, 5.0, 10.0), (train.ImageSize, train.Padding, train.RadiusMin, train.RadiusMax,
            train.LengthMin, train.LengthMax));
        Assert.Equal(2 / 3.0, train.WidthMin, 12);
        Assert.Equal(4 / 3.0, train.WidthMax, 12);
        var ext = ExperimentData.ArrowSettings(128, 3, ExperimentData.ArrowTestExtSeed);
        Assert.Equal((128, 10.0, 5.0, 10.0), (ext.ImageSize, ext.Padding, ext.RadiusMin, ext.RadiusMax));

        Assert.Equal(["plstm", "vit"], small.Models.Select(m => m.Key));
        var specs = small.Models.Select(m => m.Spec(64, 3, 2)).ToArray();
        Assert.Equal([ModelFamily.Plstm, ModelFamily.Vit], specs.Select(s => s.Family));
        Assert.All(specs, s => Assert.Equal((8, 64, 3, 2), (s.PatchSize, s.ImageSize, s.NumChannels, s.NumClasses)));
        // Both behind the same convolutional stem (the linear 8×8 projection left the pLSTM near 0.8).
        Assert.Equal(24, ExperimentRegistry.ApeSmallConvStem);
        Assert.Equal([24, 24], new[] { specs[0].Plstm!.ConvStemWidth, specs[1].Vit!.ConvStemWidth });
        Assert.Equal(64, specs[0].Plstm!.Dim);
        Assert.Equal(64, specs[1].Vit!.Dim);
        using var plstm = specs[0].Create();
        using var vit = specs[1].Create();
        double ratio = plstm.ParameterCount() / (double)vit.ParameterCount();
        Assert.InRange(ratio, 0.95, 1.05);
        // Same recipe for both, only the learning rate may differ.
        Assert.Equal(small.TrainerOptions(small.Models[0], null, "cpu", false) with { PeakLearningRate = 0 },
            small.TrainerOptions(small.Models[1], null, "cpu", false) with { PeakLearningRate = 0 });
    }

    [Fact]
    public void Fashion_mnist_adapts_the_tiny_plstm_to_28_pixel_gray_images()
    {
        var fashion = ExperimentRegistry.Get("fashion-mnist");
        var model = Assert.Single(fashion.Models);
        var spec = model.Spec(28, 1, 10);
        Assert.Equal((4, 28, 1, 10, 7), (spec.PatchSize, spec.ImageSize, spec.NumChannels, spec.NumClasses, spec.Plstm!.GridSize));
        Assert.Equal(5_000, fashion.Data.ValidationCount);
        Assert.Equal(5 * 429, fashion.Steps);
        Assert.Throws<ArgumentException>(() => (model with { PatchSize = 8 }).Spec(28, 1, 10));
    }

    [Fact]
    public void Fashion_mnist_trains_with_random_crops_flips_and_label_smoothing()
    {
        var fashion = ExperimentRegistry.Get("fashion-mnist");
        var options = fashion.TrainerOptions(fashion.Models[0], null, "cpu", false, normalization: Normalization.FashionMnist);
        Assert.Equal((2, 0.5, 0.1), (options.RandomCropPadding, options.HorizontalFlipProbability, options.LabelSmoothing));
        // The padding is black, the background of Fashion-MNIST: pixel 0 after normalisation.
        var fill = Assert.Single(options.RandomCropFill!);
        Assert.Equal(-Normalization.FashionMnistMean / Normalization.FashionMnistStd, fill, 6);
        options.ValidateForImages(1, 28, 28);

        foreach (var other in ExperimentRegistry.All.Where(p => p.Name != "fashion-mnist"))
        {
            var o = other.TrainerOptions(other.Models[0], null, "cpu", false, normalization: Normalization.ImageNet);
            Assert.False(o.UsesAugmentation, other.Name);
            Assert.Null(o.RandomCropFill);
            Assert.Equal(0, o.LabelSmoothing);
        }
    }
}
