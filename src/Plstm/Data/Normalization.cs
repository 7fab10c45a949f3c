using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Data;

/// <summary>
/// Per-channel mean and standard deviation for the torchvision-style input normalisation
/// <c>x = (pixel / 255 − mean[c]) / std[c]</c>. One value applies to every channel; otherwise there is one value per
/// channel. Immutable and thread-safe.
/// </summary>
public sealed class NormalizationStats
{
    private readonly float[] _mean;
    private readonly float[] _std;

    /// <summary>Creates the statistics; <paramref name="mean"/> and <paramref name="std"/> must have the same length ≥ 1.</summary>
    /// <param name="mean">Channel means on the [0, 1] scale.</param>
    /// <param name="std">Channel standard deviations on the [0, 1] scale, each finite and &gt; 0.</param>
    /// <exception cref="ArgumentException">Empty or unequal lengths, a non-finite mean or a non-positive std.</exception>
    public NormalizationStats(IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Count == 0 || mean.Count != std.Count)
            throw new ArgumentException(
                $"Normalisation needs as many means as standard deviations (≥ 1); got {mean.Count} and {std.Count}.");
        for (int c = 0; c < mean.Count; c++)
        {
            if (!float.IsFinite(mean[c]))
                throw new ArgumentException($"Normalisation mean {c} is not finite ({mean[c]}).", nameof(mean));
            if (!float.IsFinite(std[c]) || std[c] <= 0)
                throw new ArgumentException($"Normalisation std {c} must be finite and > 0 (got {std[c]}).", nameof(std));
        }
        _mean = [.. mean];
        _std = [.. std];
    }

    /// <summary>Statistics with one value for every channel.</summary>
    public NormalizationStats(float mean, float std) : this([mean], [std])
    {
    }

    /// <summary>Channel means (one value or one per channel).</summary>
    public IReadOnlyList<float> Mean => _mean;

    /// <summary>Channel standard deviations (one value or one per channel).</summary>
    public IReadOnlyList<float> Std => _std;

    /// <summary>Whether these statistics can be applied to <paramref name="channels"/> channels (one value, or exactly that many).</summary>
    public bool Fits(int channels) => channels >= 1 && (_mean.Length == 1 || _mean.Length == channels);

    /// <summary>Mean of channel <paramref name="channel"/> (the single value when there is one).</summary>
    public float MeanOf(int channel) => _mean.Length == 1 ? _mean[0] : _mean[channel];

    /// <summary>Standard deviation of channel <paramref name="channel"/> (the single value when there is one).</summary>
    public float StdOf(int channel) => _std.Length == 1 ? _std[0] : _std[channel];

    /// <summary>
    /// <c>(value − mean[c]) / std[c]</c> for each value of the statistics (one, or one per channel): what a pixel of
    /// <paramref name="value"/> on the [0, 1] scale becomes after normalisation (e.g. black, 0, for padding).
    /// </summary>
    public float[] NormalizedValues(float value)
    {
        var result = new float[_mean.Length];
        for (int c = 0; c < result.Length; c++) result[c] = (value - _mean[c]) / _std[c];
        return result;
    }

    /// <summary>
    /// The normalised value of every byte 0 … 255 for each of <paramref name="channels"/> channels: row c holds
    /// <c>(b / 255f − mean[c]) / std[c]</c> computed in float32, in torchvision's order of operations.
    /// </summary>
    /// <exception cref="ArgumentException">The statistics do not fit <paramref name="channels"/>.</exception>
    public float[][] ByteLookup(int channels)
    {
        EnsureFits(channels);
        var table = new float[channels][];
        for (int c = 0; c < channels; c++)
        {
            table[c] = new float[256];
            float m = MeanOf(c), s = StdOf(c);
            for (int b = 0; b < 256; b++) table[c][b] = (b / 255f - m) / s;
        }
        return table;
    }

    /// <summary>Throws unless <see cref="Fits"/>(<paramref name="channels"/>).</summary>
    /// <exception cref="ArgumentException">The statistics have another number of values than the image has channels.</exception>
    public void EnsureFits(int channels)
    {
        if (!Fits(channels))
            throw new ArgumentException(
                $"Normalisation statistics with {_mean.Length} values do not fit images with {channels} channel(s).");
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"mean [{string.Join(", ", _mean)}], std [{string.Join(", ", _std)}]";
}

/// <summary>
/// Standard normalisation statistics and helpers that apply them to image tensors.
/// </summary>
public static class Normalization
{
    /// <summary>ImageNet channel means (R, G, B), the torchvision constants.</summary>
    public static IReadOnlyList<float> ImageNetMean { get; } = [0.485f, 0.456f, 0.406f];

    /// <summary>ImageNet channel standard deviations (R, G, B), the torchvision constants.</summary>
    public static IReadOnlyList<float> ImageNetStd { get; } = [0.229f, 0.224f, 0.225f];

    /// <summary>ImageNet statistics for RGB images.</summary>
    public static NormalizationStats ImageNet { get; } = new(ImageNetMean, ImageNetStd);

    /// <summary>
    /// ImageNet statistics reduced to one channel for grayscale images: the averages of the three means (0.449) and of
    /// the three standard deviations (0.226).
    /// </summary>
    public static NormalizationStats ImageNetGray { get; } = new(
        (ImageNetMean[0] + ImageNetMean[1] + ImageNetMean[2]) / 3f,
        (ImageNetStd[0] + ImageNetStd[1] + ImageNetStd[2]) / 3f);

    /// <summary>
    /// Fashion-MNIST training-set pixel mean on the [0, 1] scale (0.2860; recomputed from the 60 000 training images of
    /// Debian's <c>dataset-fashion-mnist</c>: 0.28604).
    /// </summary>
    public const float FashionMnistMean = 0.2860f;

    /// <summary>Fashion-MNIST training-set pixel standard deviation on the [0, 1] scale (0.3530; recomputed: 0.35302).</summary>
    public const float FashionMnistStd = 0.3530f;

    /// <summary>MNIST training-set pixel mean on the [0, 1] scale (0.1307, the value of the PyTorch MNIST example).</summary>
    public const float MnistMean = 0.1307f;

    /// <summary>MNIST training-set pixel standard deviation on the [0, 1] scale (0.3081, the PyTorch MNIST example).</summary>
    public const float MnistStd = 0.3081f;

    /// <summary>Fashion-MNIST statistics (one channel).</summary>
    public static NormalizationStats FashionMnist { get; } = new(FashionMnistMean, FashionMnistStd);

    /// <summary>MNIST statistics (one channel).</summary>
    public static NormalizationStats Mnist { get; } = new(MnistMean, MnistStd);

    /// <summary>No normalisation beyond pixel / 255 (mean 0, std 1).</summary>
    public static NormalizationStats Identity { get; } = new(0f, 1f);

    /// <summary>
    /// "Ink" for black-on-white drawings: pixel / 255 − 1, so the white background is exactly 0 and black strokes −1.
    /// With ImageNet statistics every background pixel of an arrow-pointing image is ≈ +2.2 and only the few stroke
    /// pixels differ; patch models then did not leave chance on <c>ape-small</c> (<c>docs/experiments.md</c>).
    /// </summary>
    public static NormalizationStats Ink { get; } = new(1f, 1f);

    /// <summary>
    /// <c>(image − mean[c]) / std[c]</c> for a float tensor <c>[C, H, W]</c> or <c>[B, C, H, W]</c> already scaled to
    /// [0, 1]; returns a new tensor of the same shape, dtype and device (the input is left unchanged).
    /// </summary>
    /// <exception cref="ArgumentException">Not 3-D or 4-D, not floating point, or statistics that do not fit the channels.</exception>
    public static Tensor Apply(Tensor image, NormalizationStats stats)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(stats);
        if (image.dim() is not (3 or 4))
            throw new ArgumentException($"Expected an image [C, H, W] or a batch [B, C, H, W]; got shape [{string.Join(", ", image.shape)}].", nameof(image));
        if (!image.is_floating_point())
            throw new ArgumentException($"Expected a floating-point image; got {image.dtype}.", nameof(image));
        int channels = (int)image.shape[image.dim() - 3];
        stats.EnsureFits(channels);
        using var scope = NewDisposeScope();
        var mean = new float[channels];
        var std = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            mean[c] = stats.MeanOf(c);
            std[c] = stats.StdOf(c);
        }
        var m = tensor(mean, [channels, 1, 1]).to(image.dtype, image.device);
        var s = tensor(std, [channels, 1, 1]).to(image.dtype, image.device);
        return image.sub(m).div_(s).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Normalises a planar float buffer <c>[C, H·W]</c> in place: <c>v = (v − mean[c]) / std[c]</c>, in float32.
    /// </summary>
    /// <exception cref="ArgumentException">The length is not a multiple of <paramref name="channels"/>, or the statistics do not fit.</exception>
    public static void ApplyInPlace(Span<float> planar, int channels, NormalizationStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        stats.EnsureFits(channels);
        if (planar.Length % channels != 0)
            throw new ArgumentException($"A buffer of {planar.Length} values does not split into {channels} channels.", nameof(planar));
        int plane = planar.Length / channels;
        for (int c = 0; c < channels; c++)
        {
            float m = stats.MeanOf(c), s = stats.StdOf(c);
            var channel = planar.Slice(c * plane, plane);
            for (int i = 0; i < channel.Length; i++) channel[i] = (channel[i] - m) / s;
        }
    }
}
