using static TorchSharp.torch;

namespace Plstm.Data.ArrowPointing;

/// <summary>
/// The arrow-pointing dataset as model input (<see cref="IImageDataset"/>): images are generated on demand (nothing is
/// stored), so any index is available at once and identical on every call, in any order and on any thread. An image
/// is a float32 tensor <c>[3, S, S]</c>: the grayscale render repeated over three channels, scaled to [0, 1] and then
/// normalised with <see cref="Normalization"/> — by default the ImageNet mean and standard deviation, as the paper's
/// trainer does (<c>imagenet1k_norm</c>).
/// </summary>
public sealed class ArrowPointingDataset : IBatchImageDataset, ICanonicalOrientation
{
    /// <summary>Number of image channels of every sample (the reference draws on an RGB canvas).</summary>
    public const int ImageChannels = 3;

    // Renders hold only 0 and 255, but a full byte lookup keeps the mapping exact whatever the renderer produces.
    private readonly float[][] _lookup;

    /// <summary>Creates a dataset of <paramref name="count"/> samples drawn with <paramref name="settings"/>.</summary>
    /// <param name="settings">Generator settings (validated here).</param>
    /// <param name="count">Number of samples, ≥ 0.</param>
    /// <param name="normalization">
    /// Normalisation after pixel / 255; null = ImageNet (<see cref="Data.Normalization.ImageNet"/>), the paper's input.
    /// Pass <see cref="Data.Normalization.Identity"/> for pixel / 255 only.
    /// </param>
    /// <exception cref="ArgumentException">Invalid settings, or statistics that do not fit three channels.</exception>
    public ArrowPointingDataset(ArrowPointingSettings settings, int count, NormalizationStats? normalization = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Generator = new ArrowPointingGenerator(settings);
        Count = count;
        Normalization = normalization ?? Data.Normalization.ImageNet;
        _lookup = Normalization.ByteLookup(ImageChannels);
    }

    /// <summary>The sample generator (settings, master seed, parameters and renders).</summary>
    public ArrowPointingGenerator Generator { get; }

    /// <summary>The settings of the generator.</summary>
    public ArrowPointingSettings Settings => Generator.Settings;

    /// <summary>The normalisation applied after pixel / 255.</summary>
    public NormalizationStats Normalization { get; }

    /// <inheritdoc />
    public int Count { get; }

    /// <inheritdoc />
    public int NumClasses => 2;

    /// <inheritdoc />
    public int Channels => ImageChannels;

    /// <inheritdoc />
    public int Height => Settings.ImageSize;

    /// <inheritdoc />
    public int Width => Settings.ImageSize;

    /// <summary>Side S of the square images.</summary>
    public int ImageSize => Settings.ImageSize;

    /// <summary>The parameters of sample <paramref name="index"/>.</summary>
    public ArrowPointingSample GetSample(int index) => Generator.GetSample(CheckIndex(index));

    /// <summary>The label of sample <paramref name="index"/> (cheap: no rendering).</summary>
    public int GetLabel(int index) => GetSample(index).Label;

    /// <summary>
    /// The turn that puts the circle to the right of and below the arrow's centre, closer to the horizontal than to the
    /// vertical (0 ≤ dy ≤ dx in image coordinates, y down): mirror x when the circle is to the left, mirror y when it
    /// is above, then transpose when it is more below than to the right. Whether the arrow points at the circle is a
    /// geometric relation, unchanged by any turn; in the canonical orientation the direction to the circle lies
    /// within 45° of "right", so the arrow's own direction alone nearly decides the label.
    /// </summary>
    public DihedralTurn CanonicalTurn(int index)
    {
        var sample = GetSample(index);
        double dx = sample.Cx - sample.Ax, dy = sample.Cy - sample.Ay;
        return new DihedralTurn(FlipX: dx < 0, FlipY: dy < 0, Transpose: Math.Abs(dy) > Math.Abs(dx));
    }

    /// <inheritdoc />
    public (Tensor Image, long Label) Get(int index)
    {
        var sample = GetSample(index);
        int s = ImageSize;
        var values = new float[ImageChannels * s * s];
        Fill(sample, values);
        return (tensor(values, [ImageChannels, s, s], ScalarType.Float32), sample.Label);
    }

    /// <summary>
    /// The samples at <paramref name="indices"/> as a new float32 tensor <c>[B, 3, S, S]</c> and an int64 label tensor
    /// <c>[B]</c> (both on the CPU). Samples are rendered in parallel; the result does not depend on the thread count.
    /// </summary>
    public (Tensor Images, Tensor Labels) GetBatch(IReadOnlyList<int> indices) => ImageBatch.Tensors(this, indices);

    /// <inheritdoc />
    /// <remarks>Samples are rendered in parallel, each into its own slice.</remarks>
    public void FillBatch(IReadOnlyList<int> indices, float[] pixels, long[] labels)
    {
        int perImage = ImageBatch.CheckBuffers(this, indices, pixels, labels);
        foreach (int index in indices) CheckIndex(index);
        ImageBatch.ForEachInParallel(indices.Count, i =>
        {
            var sample = Generator.GetSample(indices[i]);
            labels[i] = sample.Label;
            Fill(sample, pixels.AsSpan((int)((long)i * perImage), perImage));
        });
    }

    private void Fill(ArrowPointingSample sample, Span<float> destination)
    {
        int plane = ImageSize * ImageSize;
        var gray = new byte[plane];
        ArrowPointingRenderer.Render(sample, ImageSize, gray);
        for (int c = 0; c < ImageChannels; c++)
        {
            var channel = destination.Slice(c * plane, plane);
            var table = _lookup[c];
            for (int p = 0; p < plane; p++) channel[p] = table[gray[p]];
        }
    }

    private int CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The dataset has {Count} samples.");
        return index;
    }
}
