using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// Batch-level random crop with padding and random horizontal flip, the standard augmentation of small-image
/// classification (torchvision's <c>RandomCrop(size, padding=p)</c> + <c>RandomHorizontalFlip(q)</c>): each image of a
/// training batch is padded by <see cref="Padding"/> pixels on every side with <see cref="Fill"/>, a window of the
/// original size is cut out at a per-sample uniform offset in <c>[0, 2p]²</c>, and that window is mirrored left–right
/// with probability <see cref="FlipProbability"/>.
/// </summary>
/// <remarks>
/// <para>Randomness: the draws of a batch come from a fresh <see cref="TrainingRandom"/> for (seed,
/// <see cref="TrainingRandom.AugmentStream"/>, counter), the trainer passing its step as the counter. So, like the
/// per-epoch shuffle, a batch's augmentation is a pure function of the run seed and its position in the run: nothing
/// needs to be stored in a checkpoint and a resumed run augments exactly as an uninterrupted one. Per sample the draws
/// are always (top, left, flip) in that order, whatever the settings.</para>
/// <para>Cost: the whole batch is handled by two <c>gather</c>s on the images' device with index tensors of
/// <c>B·(H + W)</c> entries built from the draws (the flip is folded into the column index), so no per-pixel work runs
/// in managed code.</para>
/// <para>Fill: values are in the units of the images the trainer sees, i.e. after normalisation. The experiments pass
/// black (pixel 0, torchvision's padding before <c>Normalize</c>: <c>−mean/std</c>, Fashion-MNIST's background), so a
/// crop is a pure translation of the picture; without a fill the padding is 0, the normalised mean.</para>
/// </remarks>
public sealed class RandomCropFlip
{
    private readonly float[] _fill;

    /// <summary>Creates the augmentation.</summary>
    /// <param name="padding">Pixels of padding on every side (0: no crop, only flips).</param>
    /// <param name="flipProbability">Probability in [0, 1] that a sample is mirrored left–right.</param>
    /// <param name="fill">Padding value per channel (one value for every channel, or one per channel), in normalised
    /// units; null or empty pads with 0.</param>
    /// <param name="seed">Run seed.</param>
    /// <exception cref="ArgumentOutOfRangeException">Negative padding, a probability outside [0, 1], or a non-finite
    /// fill value.</exception>
    public RandomCropFlip(int padding, double flipProbability, IReadOnlyList<float>? fill = null, long seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        if (!(flipProbability >= 0 && flipProbability <= 1))
            throw new ArgumentOutOfRangeException(nameof(flipProbability), flipProbability, "Must be in [0, 1].");
        if (fill is not null && fill.Any(v => !float.IsFinite(v)))
            throw new ArgumentOutOfRangeException(nameof(fill), string.Join(", ", fill), "Fill values must be finite.");
        Padding = padding;
        FlipProbability = flipProbability;
        _fill = fill is null || fill.Count == 0 ? [0f] : [.. fill];
        Seed = seed;
    }

    /// <summary>Pixels of padding on every side before cropping.</summary>
    public int Padding { get; }

    /// <summary>Probability that a sample is mirrored left–right.</summary>
    public double FlipProbability { get; }

    /// <summary>Padding value per channel (one value or one per channel), in normalised units.</summary>
    public IReadOnlyList<float> Fill => _fill;

    /// <summary>Run seed of the draws.</summary>
    public long Seed { get; }

    /// <summary>Draws the crop offsets and flips of a batch of <paramref name="batchSize"/> samples; the same
    /// (seed, <paramref name="counter"/>) always gives the same choices.</summary>
    /// <param name="counter">The batch's position in the run (the trainer's step).</param>
    /// <param name="batchSize">Samples in the batch.</param>
    public CropFlipDecision Draw(long counter, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var random = TrainingRandom.ForStream(Seed, TrainingRandom.AugmentStream, counter);
        var top = new int[batchSize];
        var left = new int[batchSize];
        var flip = new bool[batchSize];
        for (int i = 0; i < batchSize; i++)
        {
            top[i] = random.NextInt(2 * Padding + 1);
            left[i] = random.NextInt(2 * Padding + 1);
            flip[i] = random.NextDouble() < FlipProbability;
        }
        return new CropFlipDecision(top, left, flip);
    }

    /// <summary>Draws the choices for <paramref name="counter"/> and applies them (see <see cref="Apply"/>).</summary>
    /// <param name="images">Images <c>[B, C, H, W]</c>.</param>
    /// <param name="counter">The batch's position in the run (the trainer's step).</param>
    public Tensor Augment(Tensor images, long counter)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.ndim != 4) throw new ArgumentException("Images must be [B, C, H, W].", nameof(images));
        return Apply(images, Draw(counter, (int)images.shape[0]));
    }

    /// <summary>
    /// Pads, crops and flips <paramref name="images"/> as <paramref name="decision"/> says: output pixel
    /// <c>[b, c, h, w]</c> is padded pixel <c>[b, c, Top[b] + h, Left[b] + w']</c> with <c>w' = W − 1 − w</c> when
    /// <c>Flip[b]</c>, else <c>w</c>. A new tensor of the same shape, dtype and device; the input is unchanged.
    /// </summary>
    /// <exception cref="ArgumentException">Not <c>[B, C, H, W]</c>, a padding not smaller than H and W, a fill that
    /// does not fit the channels, or a decision for another batch size or with offsets outside <c>[0, 2p]</c>.</exception>
    public Tensor Apply(Tensor images, CropFlipDecision decision)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(decision);
        if (images.ndim != 4) throw new ArgumentException("Images must be [B, C, H, W].", nameof(images));
        long batch = images.shape[0], channels = images.shape[1], height = images.shape[2], width = images.shape[3];
        int p = Padding;
        if (p >= height || p >= width)
            throw new ArgumentException(
                $"A random-crop padding of {p} px must be smaller than the {height}×{width} images.", nameof(images));
        if (_fill.Length != 1 && _fill.Length != channels)
            throw new ArgumentException(
                $"The crop fill has {_fill.Length} values; the images have {channels} channel(s).", nameof(images));
        if (decision.Count != batch || decision.Left.Count != batch || decision.Flip.Count != batch)
            throw new ArgumentException($"The decision is for {decision.Count} samples; the batch has {batch}.",
                nameof(decision));

        // Source row and column of every output row and column, per sample; the flip reverses the column order.
        var rows = new long[batch * height];
        var cols = new long[batch * width];
        for (int b = 0; b < batch; b++)
        {
            int top = decision.Top[b], left = decision.Left[b];
            if (top < 0 || top > 2 * p || left < 0 || left > 2 * p)
                throw new ArgumentException(
                    $"Sample {b}: crop offset ({top}, {left}) is outside [0, {2 * p}] for padding {p}.", nameof(decision));
            for (int h = 0; h < height; h++) rows[b * height + h] = top + h;
            bool flip = decision.Flip[b];
            for (int w = 0; w < width; w++) cols[b * width + w] = left + (flip ? width - 1 - w : w);
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var padded = Pad(images, p);
        var rowIndex = tensor(rows, [batch, 1, height, 1]).to(images.device)
            .expand(batch, channels, height, width + 2 * p);
        var colIndex = tensor(cols, [batch, 1, 1, width]).to(images.device).expand(batch, channels, height, width);
        return padded.gather(2, rowIndex).gather(3, colIndex).MoveToOuterDisposeScope();
    }

    /// <summary><paramref name="images"/> with <paramref name="p"/> pixels of <see cref="Fill"/> on every side.</summary>
    private Tensor Pad(Tensor images, int p)
    {
        if (p == 0) return images;
        long batch = images.shape[0], channels = images.shape[1], height = images.shape[2], width = images.shape[3];
        if (_fill.Length == 1)
            return nn.functional.pad(images, [p, p, p, p], TorchSharp.PaddingModes.Constant, _fill[0]);
        // Per-channel fill: fill the whole canvas, then copy the images into its centre (exact, no arithmetic on them).
        var fill = tensor(_fill, [1, channels, 1, 1]).to(images.dtype, images.device);
        var padded = empty([batch, channels, height + 2 * p, width + 2 * p], images.dtype, images.device);
        padded.copy_(fill.expand(padded.shape));
        padded.narrow(2, p, height).narrow(3, p, width).copy_(images);
        return padded;
    }
}
