using Plstm.Tests.Support;
using Plstm.Data.Images;
using Plstm.Experiments;

namespace Plstm.Tests.Experiments;

/// <summary>Loading experiment data: generated arrows, IDX folders, image folders, subsets and resizing.</summary>
public sealed class ExperimentDataTests
{
    [Fact]
    public void Arrows_use_the_paper_seeds_and_the_scaled_sizes()
    {
        var data = ExperimentData.Load(ExperimentRegistry.Get("ape-small").Data with { TrainCount = 10, ValidationCount = 4, TestCount = 3 });
        Assert.Equal((64, 3, 2, 10), (data.ImageSize, data.Channels, data.NumClasses, data.Train.Count));
        Assert.Equal(4, data.Validation!.Count);
        Assert.Equal([("test", 64, 3), ("test-ext", 128, 3)], data.Tests.Select(t => (t.Name, t.ImageSize, t.Dataset.Count)));
        var test = Assert.IsType<Plstm.Data.ArrowPointing.ArrowPointingDataset>(data.Tests[0].Dataset);
        Assert.Equal(ExperimentData.ArrowTestSeed, test.Settings.Seed);
        var ext = Assert.IsType<Plstm.Data.ArrowPointing.ArrowPointingDataset>(data.Tests[1].Dataset);
        Assert.Equal(ExperimentData.ArrowTestExtSeed, ext.Settings.Seed);
        Assert.Equal(["not-pointing", "pointing"], data.ClassNames);
        Assert.Throws<ArgumentException>(() => ExperimentData.Load(ExperimentRegistry.Get("ape-small").Data with { ArrowScale = 5 }));
    }

    [Fact]
    public void An_idx_folder_holds_out_validation_images_and_computes_its_statistics()
    {
        using var temp = new TempFolder();
        var labels = Enumerable.Range(0, 20).Select(i => (byte)(i % 3)).ToArray();
        var pixels = Enumerable.Range(0, 20 * 16).Select(i => (byte)(i % 256)).ToArray();
        IdxWriter.WriteImages(temp.File("train-images-idx3-ubyte"), 20, 4, 4, pixels);
        IdxWriter.WriteLabels(temp.File("train-labels-idx1-ubyte"), labels, gzip: true);
        IdxWriter.WriteImages(temp.File("t10k-images-idx3-ubyte.gz"), 5, 4, 4, pixels[..80], gzip: true);
        IdxWriter.WriteLabels(temp.File("t10k-labels-idx1-ubyte"), labels[..5]);

        var data = ExperimentData.Load(new ExperimentDataSpec { Kind = ExperimentDataKind.Folder, Folder = temp.Path, ValidationCount = 4 });
        Assert.Equal((16, 4, 4, 1, 3), (data.Train.Count, data.Validation!.Count, data.ImageSize, data.Channels, data.NumClasses));
        Assert.Equal(5, Assert.Single(data.Tests).Dataset.Count);
        Assert.Equal(["0", "1", "2"], data.ClassNames);
        double mean = pixels.Average(b => b / 255.0);
        Assert.Equal(mean, data.Normalization.Mean[0], 5);
    }

    [Fact]
    public void Image_folders_with_splits_load_with_the_training_classes()
    {
        using var temp = new TempFolder();
        foreach (var (split, n) in new[] { ("train", 3), ("val", 2), ("test", 1) })
            foreach (string cls in new[] { "cat", "dog" })
            {
                string dir = Path.Combine(temp.Path, split, cls);
                Directory.CreateDirectory(dir);
                for (int i = 0; i < n; i++)
                    PngWriter.WriteFile(Path.Combine(dir, $"{i}.png"), PngImage.Grayscale(8, 8, new byte[64]));
            }
        var data = ExperimentData.Load(new ExperimentDataSpec { Kind = ExperimentDataKind.Folder, Folder = temp.Path });
        Assert.Equal((6, 4, 2, 1, 8), (data.Train.Count, data.Validation!.Count, Assert.Single(data.Tests).Dataset.Count,
            data.Channels, data.ImageSize));
        Assert.Equal(["cat", "dog"], data.ClassNames);

        var capped = ExperimentData.Load(new ExperimentDataSpec { Kind = ExperimentDataKind.Folder, Folder = temp.Path, TrainCount = 2, ImageSize = 16 });
        // An evenly spread subset covers both classes.
        Assert.Equal([0L, 1L], Enumerable.Range(0, 2).Select(i => capped.Train.Get(i).Label));
        Assert.Equal(16, capped.ImageSize);

        Directory.CreateDirectory(Path.Combine(temp.Path, "val", "bird"));
        PngWriter.WriteFile(Path.Combine(temp.Path, "val", "bird", "0.png"), PngImage.Grayscale(8, 8, new byte[64]));
        Assert.Throws<InvalidDataException>(() => ExperimentData.Load(new ExperimentDataSpec { Kind = ExperimentDataKind.Folder, Folder = temp.Path }));
    }

    [Fact]
    public void Resized_views_change_the_resolution()
    {
        var data = ExperimentData.Load(ExperimentRegistry.Get("ape-small").Data with { TrainCount = 2, TestCount = 0, ValidationCount = 0 });
        var view = new ResizedDataset(data.Train, 32, 32);
        var (image, label) = view.Get(1);
        using (image)
        {
            Assert.Equal(new long[] { 3, 32, 32 }, image.shape);
            Assert.Equal(data.Train.Get(1).Label, label);
        }
    }
}
