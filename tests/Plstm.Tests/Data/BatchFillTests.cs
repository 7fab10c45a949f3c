using Plstm.Data;
using Plstm.Data.ArrowPointing;
using Plstm.Data.Images;
using Plstm.Experiments;
using Plstm.Tests.Data.Images;
using Plstm.Tests.Support;
using Plstm.Training;

namespace Plstm.Tests.Data;

/// <summary>
/// <see cref="IBatchImageDataset.FillBatch"/> (the data loader's fast path: a whole batch into managed buffers, samples
/// in parallel) must write exactly what <see cref="IImageDataset.Get"/> returns, for every dataset that has it, and the
/// loader's batches must not depend on which path filled them.
/// </summary>
public class BatchFillTests
{
    // Out of order, with a repeat.
    private static readonly int[] Indices = [5, 0, 3, 5, 1, 4];

    [Fact]
    public void Arrow_pointing_batches_equal_the_samples_bit_for_bit()
    {
        var dataset = new ArrowPointingDataset(ArrowPointingSettings.Paper(192, 42).Scaled(4), 6);
        AssertBatchEqualsSamples(dataset, Indices);
    }

    [Fact]
    public void Idx_batches_equal_the_samples_bit_for_bit()
    {
        var pixels = ImageFixtures.RandomPixels(6 * 5 * 3, seed: 9);
        var dataset = new IdxImageDataset(new IdxImages(6, 5, 3, pixels), [3, 1, 4, 1, 5, 9],
            normalization: Normalization.FashionMnist);
        AssertBatchEqualsSamples(dataset, Indices);
    }

    [Fact]
    public void Image_folder_batches_equal_the_samples_with_decoding_in_parallel_and_resizes_after()
    {
        using var folder = new TempFolder();
        void Write(string relative, byte[] bytes)
        {
            string path = Path.Combine(folder.Path, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
        }
        // Four files of the data set's size (RGB, gray), one larger and one smaller: resized bilinearly.
        for (int i = 0; i < 4; i++)
            Write($"{(i % 2 == 0 ? "a" : "b")}/{i}.png", ImageFixtures.Png(6, 4, i % 2 == 0 ? 3 : 1,
                ImageFixtures.RandomPixels(6 * 4 * (i % 2 == 0 ? 3 : 1), seed: i)));
        Write("a/big.png", ImageFixtures.Png(12, 9, 3, ImageFixtures.RandomPixels(12 * 9 * 3, seed: 7)));
        Write("b/small.png", ImageFixtures.Png(3, 2, 3, ImageFixtures.RandomPixels(3 * 2 * 3, seed: 8)));
        var dataset = new ImageFolderDataset(folder.Path, new ImageFolderOptions { Height = 4, Width = 6 });
        Assert.Equal(6, dataset.Count);
        AssertBatchEqualsSamples(dataset, Indices);

        // A wrong size under RequireSameSize fails the batch with the file's own error, not an AggregateException.
        var strict = new ImageFolderDataset(folder.Path,
            new ImageFolderOptions { Height = 4, Width = 6, Resize = ImageResizeMode.RequireSameSize });
        var error = Assert.Throws<InvalidDataException>(() =>
            strict.FillBatch([0, 1, 2, 3, 4, 5], new float[6 * 3 * 24], new long[6]));
        // The first failing sample in batch order: big.png sorts first in class a.
        Assert.Contains("big.png", error.Message);
    }

    [Fact]
    public void A_subset_fills_through_its_source_and_a_source_without_a_batch_fill_sample_by_sample()
    {
        var arrows = new ArrowPointingDataset(ArrowPointingSettings.Paper(192, 42).Scaled(4), 12);
        AssertBatchEqualsSamples(new SubsetDataset(arrows, [11, 2, 7, 0, 3, 9]), Indices);
        AssertBatchEqualsSamples(new SubsetDataset(new SampleOnlyView(arrows), [11, 2, 7, 0, 3, 9]), Indices);
    }

    [Fact]
    public void Bad_indices_and_short_buffers_are_refused_naming_the_argument()
    {
        var dataset = new ArrowPointingDataset(ArrowPointingSettings.Paper(192, 42).Scaled(4), 6);
        int per = 3 * 48 * 48;
        Assert.Throws<ArgumentOutOfRangeException>(() => dataset.FillBatch([0, 6], new float[2 * per], new long[2]));
        var error = Assert.Throws<ArgumentException>(() => dataset.FillBatch([0, 1], new float[2 * per - 1], new long[2]));
        Assert.Equal("pixels", error.ParamName);
        error = Assert.Throws<ArgumentException>(() => dataset.FillBatch([0, 1], new float[2 * per], new long[1]));
        Assert.Equal("labels", error.ParamName);
        var subset = new SubsetDataset(dataset, [1, 2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => subset.FillBatch([2], new float[per], new long[1]));
    }

    [Fact]
    public void The_loaders_batches_do_not_depend_on_which_path_filled_them()
    {
        using var scope = NewDisposeScope();
        var arrows = new ArrowPointingDataset(ArrowPointingSettings.Paper(192, 42).Scaled(4), 20);
        var fast = new DataLoader(arrows, batchSize: 6, shuffle: true, seed: 3, dropLast: false);
        var slow = new DataLoader(new SampleOnlyView(arrows), batchSize: 6, shuffle: true, seed: 3, dropLast: false);
        var fastBatches = fast.ReadEpoch().ToList();
        var slowBatches = slow.ReadEpoch().ToList();
        Assert.Equal(4, fastBatches.Count);
        for (int b = 0; b < fastBatches.Count; b++)
        {
            Assert.Equal(slowBatches[b].Indices, fastBatches[b].Indices);
            Assert.True(fastBatches[b].Images.eq(slowBatches[b].Images).all().item<bool>(), $"batch {b}");
            Assert.True(fastBatches[b].Labels.eq(slowBatches[b].Labels).all().item<bool>(), $"batch {b}");
        }
        foreach (var batch in fastBatches.Concat(slowBatches)) batch.Dispose();
    }

    [SkippableFact]
    public void Pinned_batches_without_CUDA_are_refused_naming_the_option()
    {
        Skip.If(cuda.is_available(), "CUDA is available here");
        var arrows = new ArrowPointingDataset(ArrowPointingSettings.Paper(192, 42).Scaled(4), 8);
        var error = Assert.Throws<ArgumentException>(() => new DataLoader(arrows, 4, pinMemory: true));
        Assert.Equal("pinMemory", error.ParamName);
    }

    [Fact]
    public void A_parallel_fill_rethrows_the_first_failure_in_batch_order()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ImageBatch.ForEachInParallel(64, i =>
        {
            if (i % 10 == 7) throw new InvalidOperationException($"sample {i}");
        }));
        Assert.Equal("sample 7", error.Message);
        var visited = new int[64];
        ImageBatch.ForEachInParallel(64, i => visited[i]++);
        Assert.All(visited, v => Assert.Equal(1, v));
    }

    private static void AssertBatchEqualsSamples(IBatchImageDataset dataset, int[] indices)
    {
        int per = dataset.Channels * dataset.Height * dataset.Width;
        var pixels = new float[indices.Length * per];
        var labels = new long[indices.Length];
        // Poisoned, so that an unwritten value shows.
        Array.Fill(pixels, float.NaN);
        Array.Fill(labels, -1);
        dataset.FillBatch(indices, pixels, labels);
        for (int i = 0; i < indices.Length; i++)
        {
            var (image, label) = dataset.Get(indices[i]);
            using (image)
            {
                Assert.Equal(label, labels[i]);
                var expected = image.contiguous().data<float>().ToArray();
                var actual = pixels.AsSpan(i * per, per).ToArray();
                Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
            }
        }
    }

    /// <summary>A dataset that hides its source's batch fill: the loader then reads it one sample at a time.</summary>
    private sealed class SampleOnlyView(IImageDataset source) : IImageDataset
    {
        public int Count => source.Count;
        public int NumClasses => source.NumClasses;
        public int Channels => source.Channels;
        public int Height => source.Height;
        public int Width => source.Width;
        public (Tensor Image, long Label) Get(int index) => source.Get(index);
    }
}
