using System.Runtime.ExceptionServices;
using static TorchSharp.torch;

namespace Plstm.Data;

/// <summary>
/// Fills a batch's managed buffers from any <see cref="IImageDataset"/>: through <see cref="IBatchImageDataset.FillBatch"/>
/// when the dataset has it, else one <see cref="IImageDataset.Get"/> per sample (shapes and labels checked).
/// </summary>
public static class ImageBatch
{
    /// <summary>Writes the samples at <paramref name="indices"/> into <paramref name="pixels"/> (<c>[B, C, H, W]</c>
    /// order) and <paramref name="labels"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the dataset.</exception>
    /// <exception cref="ArgumentException">A buffer is shorter than the batch needs.</exception>
    /// <exception cref="InvalidDataException">A sample has another shape than the dataset declares, or a label outside
    /// its classes.</exception>
    public static void Fill(IImageDataset dataset, IReadOnlyList<int> indices, float[] pixels, long[] labels)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        // Both paths check the buffers themselves (FillBatch is public).
        if (dataset is IBatchImageDataset batched) batched.FillBatch(indices, pixels, labels);
        else FillFromSamples(dataset, indices, pixels, labels);
        for (int i = 0; i < indices.Count; i++)
            if (labels[i] < 0 || labels[i] >= dataset.NumClasses)
                throw new InvalidDataException(
                    $"Sample {indices[i]} has label {labels[i]}, outside 0 … {dataset.NumClasses - 1}.");
    }

    /// <summary>The samples at <paramref name="indices"/> as new CPU tensors: images <c>[B, C, H, W]</c> float32 and
    /// labels <c>[B]</c> int64, through <paramref name="dataset"/>'s batch fill.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the dataset.</exception>
    public static (Tensor Images, Tensor Labels) Tensors(IBatchImageDataset dataset, IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(indices);
        int b = indices.Count;
        var pixels = new float[(long)b * dataset.Channels * dataset.Height * dataset.Width];
        var labels = new long[b];
        dataset.FillBatch(indices, pixels, labels);
        return (tensor(pixels, [b, dataset.Channels, dataset.Height, dataset.Width], ScalarType.Float32),
            tensor(labels, [b], ScalarType.Int64));
    }

    /// <summary>Writes the samples one <see cref="IImageDataset.Get"/> at a time, on the calling thread (every tensor
    /// created and released inside its own dispose scope there).</summary>
    /// <exception cref="InvalidDataException">A sample has another shape than the dataset declares.</exception>
    public static void FillFromSamples(IImageDataset dataset, IReadOnlyList<int> indices, float[] pixels, long[] labels)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        int perImage = CheckBuffers(dataset, indices, pixels, labels);
        for (int i = 0; i < indices.Count; i++)
        {
            int index = indices[i];
            using var scope = NewDisposeScope();
            var (image, label) = dataset.Get(index);
            if (image.ndim != 3 || image.shape[0] != dataset.Channels || image.shape[1] != dataset.Height
                || image.shape[2] != dataset.Width)
                throw new InvalidDataException(
                    $"Sample {index} has shape [{string.Join(", ", image.shape)}]; the dataset declares "
                    + $"[{dataset.Channels}, {dataset.Height}, {dataset.Width}].");
            using var cpu = image.to_type(ScalarType.Float32).cpu().contiguous();
            using (var values = cpu.data<float>())
                values.CopyTo(pixels.AsSpan(i * perImage, perImage), 0, 0);
            labels[i] = label;
            // The sample tensor may have been created outside this scope (inside the dataset); release it explicitly.
            image.Dispose();
        }
    }

    /// <summary>Checks the arguments of a fill; returns the values per image.</summary>
    /// <exception cref="ArgumentException">A buffer is shorter than the batch needs.</exception>
    public static int CheckBuffers(IImageDataset dataset, IReadOnlyList<int> indices, float[] pixels, long[] labels)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        int perImage = dataset.Channels * dataset.Height * dataset.Width;
        if (pixels.LongLength < (long)indices.Count * perImage)
            throw new ArgumentException(
                $"The pixel buffer holds {pixels.LongLength} values; {indices.Count} images of {perImage} need "
                + $"{(long)indices.Count * perImage}.", nameof(pixels));
        if (labels.Length < indices.Count)
            throw new ArgumentException(
                $"The label buffer holds {labels.Length} values; the batch has {indices.Count}.", nameof(labels));
        return perImage;
    }

    /// <summary>Runs <paramref name="body"/> for every sample of a batch in parallel; when any fails, rethrows the
    /// failure of the first such sample in batch order (not an <see cref="AggregateException"/>, and the same one
    /// whatever the threads' timing).</summary>
    public static void ForEachInParallel(int count, Action<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var errors = new Exception?[count];
        Parallel.For(0, count, i =>
        {
            try
            {
                body(i);
            }
            catch (Exception ex)
            {
                errors[i] = ex;
            }
        });
        foreach (var error in errors)
            if (error is not null) ExceptionDispatchInfo.Capture(error).Throw();
    }
}
