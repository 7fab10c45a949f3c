using static TorchSharp.torch;

namespace Plstm.Data.Images;

/// <summary>
/// An MNIST-style data set held in memory from a pair of IDX files: one-channel images <c>[1, rows, columns]</c>,
/// scaled to [0, 1] (pixel / 255) and then normalised with <see cref="Normalization"/> (torchvision's
/// <c>ToTensor</c> + <c>Normalize</c>, in float32). Immutable; <see cref="Get"/> is thread-safe.
/// </summary>
public sealed class IdxImageDataset : IBatchImageDataset
{
    private readonly byte[] _labels;
    private readonly float[] _lookup;

    /// <summary>Wraps decoded images and labels.</summary>
    /// <param name="images">The images.</param>
    /// <param name="labels">One label per image, each below <paramref name="numClasses"/>.</param>
    /// <param name="numClasses">Number of classes (1 … 256).</param>
    /// <param name="normalization">Normalisation after pixel / 255 (one value); null = none (<see cref="Normalization.Identity"/>).</param>
    /// <exception cref="ArgumentException">Counts differ, a label is out of range, or the statistics have more than one value.</exception>
    public IdxImageDataset(IdxImages images, byte[] labels, int numClasses = 10, NormalizationStats? normalization = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(numClasses, 256);
        if (labels.Length != images.Count)
            throw new ArgumentException($"{images.Count} images but {labels.Length} labels.", nameof(labels));
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] >= numClasses)
                throw new ArgumentException($"Label {labels[i]} of item {i} is out of range (expected 0 … {numClasses - 1}).", nameof(labels));
        Normalization = normalization ?? Data.Normalization.Identity;
        _lookup = Normalization.ByteLookup(1)[0];
        Images = images;
        _labels = labels;
        NumClasses = numClasses;
    }

    /// <summary>Reads and checks an image file and its label file (see <see cref="IdxReader.ReadPair"/>).</summary>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt, the counts differ or a label is out of range (the message names the file).</exception>
    public static IdxImageDataset Load(string imagesPath, string labelsPath, int numClasses = 10, NormalizationStats? normalization = null)
    {
        var (images, labels) = IdxReader.ReadPair(imagesPath, labelsPath, numClasses);
        return new IdxImageDataset(images, labels, numClasses, normalization);
    }

    /// <summary>The raw images.</summary>
    public IdxImages Images { get; }

    /// <summary>The labels, one per image.</summary>
    public IReadOnlyList<byte> Labels => _labels;

    /// <summary>The normalisation applied after pixel / 255.</summary>
    public NormalizationStats Normalization { get; }

    /// <inheritdoc />
    public int Count => Images.Count;

    /// <inheritdoc />
    public int NumClasses { get; }

    /// <inheritdoc />
    public int Channels => 1;

    /// <inheritdoc />
    public int Height => Images.Rows;

    /// <inheritdoc />
    public int Width => Images.Columns;

    /// <summary>The label of sample <paramref name="index"/>.</summary>
    public int GetLabel(int index) => _labels[CheckIndex(index)];

    /// <inheritdoc />
    public (Tensor Image, long Label) Get(int index)
    {
        CheckIndex(index);
        var values = new float[Images.PixelsPerImage];
        Fill(index, values);
        return (tensor(values, [1, Height, Width], ScalarType.Float32), _labels[index]);
    }

    /// <summary>
    /// The samples at <paramref name="indices"/>: a float32 tensor <c>[B, 1, H, W]</c> and an int64 label tensor
    /// <c>[B]</c>, both new and on the CPU.
    /// </summary>
    public (Tensor Images, Tensor Labels) GetBatch(IReadOnlyList<int> indices) => ImageBatch.Tensors(this, indices);

    /// <inheritdoc />
    /// <remarks>One thread: a sample is a table lookup per pixel, cheaper than handing it to another thread.</remarks>
    public void FillBatch(IReadOnlyList<int> indices, float[] pixels, long[] labels)
    {
        int per = ImageBatch.CheckBuffers(this, indices, pixels, labels);
        foreach (int i in indices) CheckIndex(i);
        for (int b = 0; b < indices.Count; b++)
        {
            Fill(indices[b], pixels.AsSpan(b * per, per));
            labels[b] = _labels[indices[b]];
        }
    }

    private void Fill(int index, Span<float> destination)
    {
        var pixels = Images.Image(index);
        for (int p = 0; p < pixels.Length; p++) destination[p] = _lookup[pixels[p]];
    }

    private int CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The dataset has {Count} samples.");
        return index;
    }
}
