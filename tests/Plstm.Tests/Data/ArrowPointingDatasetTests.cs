using Plstm.Data;
using Plstm.Data.ArrowPointing;
using Plstm.Tests.Support;

namespace Plstm.Tests.Data;

/// <summary>The tensor view of the dataset: shape, normalisation, determinism, batching.</summary>
public class ArrowPointingDatasetTests
{
    private static readonly float[] Mean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] Std = [0.229f, 0.224f, 0.225f];

    [Fact]
    public void Image_is_three_identical_channels_normalised_with_imagenet_statistics()
    {
        using var scope = NewDisposeScope();
        var dataset = new ArrowPointingDataset(ArrowPointingSettings.Paper(192, 42), 100);
        var (image, label) = dataset.Get(0);
        Assert.Equal(new long[] { 3, 192, 192 }, image.shape);
        Assert.Equal((2, 3, 192, 192, 100), (dataset.NumClasses, dataset.Channels, dataset.Height, dataset.Width, dataset.Count));
        Assert.IsAssignableFrom<IImageDataset>(dataset);
        Assert.Equal(ScalarType.Float32, image.dtype);
        Assert.Equal(1L, label);

        // Undo the normalisation per channel: every channel must give back the same 0/1 image, equal to the render.
        byte[] render = dataset.Generator.Render(0);
        var expected = tensor(render.Select(v => v / 255f).ToArray(), new long[] { 192, 192 });
        for (int c = 0; c < 3; c++)
        {
            var unnormalised = image[c] * Std[c] + Mean[c];
            TensorAssert.AssertCloseFloat32(unnormalised, expected, $"channel {c}");
        }
        // Exact values: white = (1 − mean)/std, black = (0 − mean)/std, in float32.
        Assert.Equal((1f - Mean[0]) / Std[0], image[0, 0, 0].item<float>());
        var flat = image[2].flatten().data<float>().ToArray();
        Assert.Equal(new[] { (0f - Mean[2]) / Std[2], (1f - Mean[2]) / Std[2] }.OrderBy(v => v), flat.Distinct().OrderBy(v => v));
    }

    [Fact]
    public void Unnormalised_images_are_pixel_over_255()
    {
        using var scope = NewDisposeScope();
        var dataset = new ArrowPointingDataset(ArrowPointingSettings.Paper(192, 42), 10, Normalization.Identity);
        var (image, _) = dataset.Get(4);
        byte[] render = dataset.Generator.Render(4);
        var values = image.data<float>().ToArray();
        float[] plane = render.Select(v => v / 255f).ToArray();
        Assert.Equal(plane.Concat(plane).Concat(plane), values);
    }

    [Fact]
    public void Batches_equal_single_samples_and_are_deterministic()
    {
        using var scope = NewDisposeScope();
        var dataset = new ArrowPointingDataset(ArrowPointingSettings.Paper(192, 42).Scaled(4), 1000);
        int[] indices = [999, 0, 2, 999, 17];
        var (images, labels) = dataset.GetBatch(indices);
        Assert.Equal(new long[] { 5, 3, 48, 48 }, images.shape);
        Assert.Equal(ScalarType.Int64, labels.dtype);
        var again = dataset.GetBatch(indices).Images;
        Assert.True(images.eq(again).all().item<bool>());
        for (int b = 0; b < indices.Length; b++)
        {
            var (single, label) = dataset.Get(indices[b]);
            Assert.True(images[b].eq(single).all().item<bool>(), $"batch item {b}");
            Assert.Equal(label, labels[b].item<long>());
            Assert.Equal(label, (long)dataset.GetLabel(indices[b]));
        }
    }

    [Fact]
    public void Indices_outside_the_dataset_are_rejected()
    {
        var dataset = new ArrowPointingDataset(ArrowPointingSettings.Paper(192, 42), 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => dataset.Get(10));
        Assert.Throws<ArgumentOutOfRangeException>(() => dataset.GetSample(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => dataset.GetBatch([0, 10]));
    }

    [Fact]
    public void Split_datasets_use_the_split_seed_and_size()
    {
        var dataset = ArrowPointingSplit.ValidationExtrapolation.CreateDataset(scale: 4);
        Assert.Equal(5_120, dataset.Count);
        Assert.Equal(96, dataset.ImageSize);
        Assert.Equal(100_043, dataset.Settings.Seed);
    }
}
