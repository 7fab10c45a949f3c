using Plstm.Data;
using Plstm.Data.Images;

namespace Plstm.Tests.Data.Images;

/// <summary>Tests that read or set <c>PLSTM_DATA</c> run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DataEnvironmentCollection
{
    public const string Name = "PLSTM_DATA environment";
}

/// <summary>Locating MNIST-style files, and the real Fashion-MNIST of Debian's <c>dataset-fashion-mnist</c>.</summary>
[Collection(DataEnvironmentCollection.Name)]
public sealed class FashionMnistTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "plstm-fmnist-tests-" + Guid.NewGuid().ToString("N"));

    public FashionMnistTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static void WriteSynthetic(string dir, bool gzip, int train = 3, int test = 2)
    {
        Directory.CreateDirectory(dir);
        string ext = gzip ? ".gz" : "";
        IdxWriter.WriteImages(Path.Combine(dir, "train-images-idx3-ubyte" + ext), train, 28, 28, new byte[train * 784], gzip);
        IdxWriter.WriteLabels(Path.Combine(dir, "train-labels-idx1-ubyte" + ext), Enumerable.Range(0, train).Select(i => (byte)(i % 10)).ToArray(), gzip);
        IdxWriter.WriteImages(Path.Combine(dir, "t10k-images-idx3-ubyte" + ext), test, 28, 28, new byte[test * 784], gzip);
        IdxWriter.WriteLabels(Path.Combine(dir, "t10k-labels-idx1-ubyte" + ext), Enumerable.Range(0, test).Select(i => (byte)(9 - i)).ToArray(), gzip);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Explicit_folder_or_its_subfolder_is_used(bool gzip, bool inSubfolder)
    {
        string dataset = inSubfolder ? Path.Combine(_folder, "fashion-mnist") : _folder;
        WriteSynthetic(dataset, gzip);
        var files = FashionMnist.Locate(_folder);
        Assert.Equal(Path.GetFullPath(dataset), files.Directory);
        Assert.EndsWith("t10k-labels-idx1-ubyte" + (gzip ? ".gz" : ""), files.TestLabels);

        var test = FashionMnist.Load(IdxSplit.Test, _folder);
        Assert.Equal((2, 10, 1, 28, 28), (test.Count, test.NumClasses, test.Channels, test.Height, test.Width));
        Assert.Equal(9, test.GetLabel(0));
        Assert.Same(Normalization.FashionMnist, test.Normalization);
        Assert.Equal(3, FashionMnist.Load(IdxSplit.Train, _folder).Count);
    }

    [Fact]
    public void Missing_explicit_folder_is_DirectoryNotFound_listing_the_places()
    {
        string missing = Path.Combine(_folder, "absent");
        var ex = Assert.Throws<DirectoryNotFoundException>(() => FashionMnist.Locate(missing));
        Assert.Contains(missing, ex.Message);
        Assert.Contains(Path.Combine(missing, "fashion-mnist"), ex.Message);
        Assert.DoesNotContain(FashionMnist.DebianDirectory, ex.Message); // an explicit folder is the only place searched
    }

    [Fact]
    public void Incomplete_folder_is_FileNotFound_naming_what_is_missing()
    {
        WriteSynthetic(_folder, gzip: true);
        File.Delete(Path.Combine(_folder, "t10k-images-idx3-ubyte.gz"));
        var ex = Assert.Throws<FileNotFoundException>(() => FashionMnist.Locate(_folder));
        Assert.Contains(_folder, ex.Message);
        Assert.Contains("missing t10k-images-idx3-ubyte(.gz)", ex.Message);
    }

    [Fact]
    public void PLSTM_DATA_is_searched_before_the_system_folder()
    {
        WriteSynthetic(Path.Combine(_folder, "mnist"), gzip: false, train: 4);
        string? before = Environment.GetEnvironmentVariable(DataPaths.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(DataPaths.EnvironmentVariable, _folder);
            Assert.Equal(Path.Combine(_folder, "mnist"), Mnist.Locate().Directory);
            Assert.Equal(4, Mnist.Load(IdxSplit.Train).Count);
            Assert.Same(Normalization.Mnist, Mnist.Load(IdxSplit.Test).Normalization);

            // No fashion-mnist under PLSTM_DATA: the search goes on to the shared folder and the Debian package's.
            var candidates = DataPaths.Candidates(null, FashionMnist.Name, FashionMnist.DebianDirectory);
            Assert.Equal(Path.Combine(_folder, "fashion-mnist"), candidates[0]);
            Assert.Equal(FashionMnist.DebianDirectory, candidates[^1]);
            if (!Directory.Exists(FashionMnist.DebianDirectory) && DataPaths.SharedDataDirectory is { } shared
                && !Directory.Exists(Path.Combine(shared, FashionMnist.Name)))
            {
                var ex = Assert.ThrowsAny<IOException>(() => FashionMnist.Locate());
                Assert.Contains(FashionMnist.DebianDirectory, ex.Message);
                Assert.Contains("apt-get install dataset-fashion-mnist", ex.Message);
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable(DataPaths.EnvironmentVariable, before);
        }
    }

    [Fact]
    public void Repository_root_and_shared_folder_are_found_from_the_test_build()
    {
        string? root = DataPaths.FindRepositoryRoot(AppContext.BaseDirectory);
        Assert.NotNull(root);
        Assert.True(File.Exists(Path.Combine(root, "Plstm.slnx")));
        Assert.Equal(Path.GetFullPath(Path.Combine(root, "..", "shared", "data")), DataPaths.SharedDataDirectory);
    }

    [SkippableFact]
    public void Real_fashion_mnist_from_the_debian_package()
    {
        Skip.IfNot(Directory.Exists(FashionMnist.DebianDirectory),
            $"Debian package '{FashionMnist.DebianPackage}' is not installed ({FashionMnist.DebianDirectory} is missing); " +
            "CI installs it from .ci/apt-packages.txt. Locally: apt-get install dataset-fashion-mnist");
        var files = FashionMnist.Locate(FashionMnist.DebianDirectory);
        Assert.Equal(FashionMnist.DebianDirectory, files.Directory);
        Assert.EndsWith(".gz", files.TrainImages);

        var train = FashionMnist.Load(IdxSplit.Train, FashionMnist.DebianDirectory);
        var test = FashionMnist.Load(IdxSplit.Test, FashionMnist.DebianDirectory);
        Assert.Equal((60000, 10000), (train.Count, test.Count));
        Assert.Equal((1, 28, 28, 10), (train.Channels, train.Height, train.Width, train.NumClasses));
        Assert.Equal(9, train.GetLabel(0)); // the first training image is an ankle boot
        Assert.Equal(0, train.GetLabel(1));
        Assert.Equal(9, test.GetLabel(0));
        Assert.Equal(2, test.GetLabel(1));
        // Balanced: 6000 training and 1000 test images per class.
        Assert.All(train.Labels.GroupBy(l => l), g => Assert.Equal(6000, g.Count()));
        Assert.All(test.Labels.GroupBy(l => l), g => Assert.Equal(1000, g.Count()));
        Assert.Equal(10, train.Labels.Distinct().Count());

        // The normalisation constants are the training set's pixel mean and std (population) on [0, 1].
        double sum = 0, sumSq = 0;
        foreach (byte p in train.Images.Pixels)
        {
            double x = p / 255.0;
            sum += x;
            sumSq += x * x;
        }
        double n = train.Images.Pixels.LongLength, mean = sum / n, std = Math.Sqrt(sumSq / n - mean * mean);
        Assert.Equal(Normalization.FashionMnistMean, mean, 4e-4);
        Assert.Equal(Normalization.FashionMnistStd, std, 4e-4);

        using var image = train.Get(0).Image;
        Assert.Equal([1L, 28, 28], image.shape);
        Assert.Equal(-0.2860f / 0.3530f, image[0, 0, 0].item<float>(), 5); // the border is background
    }
}
