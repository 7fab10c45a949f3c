using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// Batch-level Mixup / CutMix (models.md §7, the JAX trainer's variant): per batch one permutation, one Mixup ratio
/// λ ~ Beta(α_mixup) and one CutMix ratio λ ~ Beta(α_cutmix) are drawn — both always computed, so the number of draws
/// per batch is constant — and one of the two is applied, CutMix with probability <see cref="SwitchProbability"/>
/// (0.5). Mixup: <c>x = λx + (1 − λ)x[perm]</c>, <c>t = λt + (1 − λ)t[perm]</c>. CutMix: a box of area ≈ (1 − λ)·H·W,
/// centred at a uniform pixel and clipped to the image, is pasted from <c>x[perm]</c>; the label weight is the kept area
/// <c>1 − box/(H·W)</c> (timm's rule). The targets passed in are expected to be smoothed already.
/// </summary>
/// <remarks>
/// All draws come from an own <see cref="TrainingRandom"/> seeded from (seed, <see cref="TrainingRandom.MixStream"/>);
/// its state is part of a training checkpoint (<see cref="GetState"/> / <see cref="SetState"/>), so a resumed run
/// mixes exactly as an uninterrupted one. With only one α &gt; 0 that mix is always used.
/// </remarks>
public sealed class MixupCutmix
{
    private readonly TrainingRandom _random;

    /// <summary>Creates the mixer.</summary>
    /// <param name="mixupAlpha">Beta parameter of Mixup (0: no Mixup).</param>
    /// <param name="cutmixAlpha">Beta parameter of CutMix (0: no CutMix).</param>
    /// <param name="probability">Probability that a batch is mixed at all.</param>
    /// <param name="switchProbability">Probability of CutMix when both are enabled.</param>
    /// <param name="seed">Run seed.</param>
    public MixupCutmix(double mixupAlpha, double cutmixAlpha, double probability = 1.0, double switchProbability = 0.5,
        long seed = 0)
    {
        if (!(mixupAlpha >= 0) || double.IsInfinity(mixupAlpha))
            throw new ArgumentOutOfRangeException(nameof(mixupAlpha), mixupAlpha, "Must be ≥ 0 and finite.");
        if (!(cutmixAlpha >= 0) || double.IsInfinity(cutmixAlpha))
            throw new ArgumentOutOfRangeException(nameof(cutmixAlpha), cutmixAlpha, "Must be ≥ 0 and finite.");
        if (mixupAlpha == 0 && cutmixAlpha == 0)
            throw new ArgumentException("At least one of mixupAlpha and cutmixAlpha must be positive.", nameof(mixupAlpha));
        if (!(probability >= 0 && probability <= 1))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "Must be in [0, 1].");
        if (!(switchProbability >= 0 && switchProbability <= 1))
            throw new ArgumentOutOfRangeException(nameof(switchProbability), switchProbability, "Must be in [0, 1].");
        MixupAlpha = mixupAlpha;
        CutmixAlpha = cutmixAlpha;
        Probability = probability;
        SwitchProbability = switchProbability;
        _random = TrainingRandom.ForStream(seed, TrainingRandom.MixStream, 0);
    }

    /// <summary>Mixup's Beta parameter (0: off).</summary>
    public double MixupAlpha { get; }

    /// <summary>CutMix's Beta parameter (0: off).</summary>
    public double CutmixAlpha { get; }

    /// <summary>Probability that a batch is mixed.</summary>
    public double Probability { get; }

    /// <summary>Probability of CutMix rather than Mixup when both are on.</summary>
    public double SwitchProbability { get; }

    /// <summary>The generator state, for checkpoints.</summary>
    public ulong[] GetState() => _random.GetState();

    /// <summary>Restores the generator state.</summary>
    public void SetState(IReadOnlyList<ulong> state) => _random.SetState(state);

    /// <summary>Draws the choices for a batch of <paramref name="batchSize"/> images of
    /// <paramref name="height"/> × <paramref name="width"/> pixels.</summary>
    public MixDecision Draw(int batchSize, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        // Fixed draw order (apply, switch, permutation, λ_mixup, λ_cutmix, box centre): every batch consumes the same
        // draws whatever is chosen, so the stream position depends only on the number of batches.
        double applyDraw = _random.NextDouble();
        double switchDraw = _random.NextDouble();
        int[] permutation = _random.Permutation(batchSize);
        double mixupLambda = MixupAlpha > 0 ? _random.NextBeta(MixupAlpha, MixupAlpha) : 1.0;
        double cutmixLambda = CutmixAlpha > 0 ? _random.NextBeta(CutmixAlpha, CutmixAlpha) : 1.0;
        int centreY = _random.NextInt(height);
        int centreX = _random.NextInt(width);

        if (applyDraw >= Probability) return new MixDecision(MixKind.None, 1.0, permutation, 0, 0, 0, 0);
        bool cutmix = CutmixAlpha > 0 && (MixupAlpha == 0 || switchDraw < SwitchProbability);
        if (!cutmix) return new MixDecision(MixKind.Mixup, mixupLambda, permutation, 0, 0, 0, 0);

        double cutRatio = Math.Sqrt(1.0 - cutmixLambda);
        int cutH = (int)(height * cutRatio);
        int cutW = (int)(width * cutRatio);
        int top = Math.Clamp(centreY - cutH / 2, 0, height);
        int bottom = Math.Clamp(centreY + cutH / 2, 0, height);
        int left = Math.Clamp(centreX - cutW / 2, 0, width);
        int right = Math.Clamp(centreX + cutW / 2, 0, width);
        int boxH = bottom - top, boxW = right - left;
        // The label weight follows the box actually pasted (after clipping), not the drawn λ.
        double kept = 1.0 - (double)boxH * boxW / ((double)height * width);
        return new MixDecision(MixKind.Cutmix, kept, permutation, top, left, boxH, boxW);
    }

    /// <summary>Draws the choices and applies them (see <see cref="Apply"/>).</summary>
    /// <param name="images">Images <c>[B, C, H, W]</c>.</param>
    /// <param name="targets">Soft targets <c>[B, K]</c>.</param>
    public (Tensor Images, Tensor Targets, MixDecision Decision) Mix(Tensor images, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.ndim != 4) throw new ArgumentException("Images must be [B, C, H, W].", nameof(images));
        var decision = Draw((int)images.shape[0], (int)images.shape[2], (int)images.shape[3]);
        var (mixedImages, mixedTargets) = Apply(images, targets, decision);
        return (mixedImages, mixedTargets, decision);
    }

    /// <summary>Applies <paramref name="decision"/>: new tensors on the inputs' device; the inputs are unchanged.</summary>
    public static (Tensor Images, Tensor Targets) Apply(Tensor images, Tensor targets, MixDecision decision)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(decision);
        if (images.ndim != 4 || targets.ndim != 2 || images.shape[0] != targets.shape[0]
            || images.shape[0] != decision.Permutation.Count)
            throw new ArgumentException("Images [B, C, H, W], targets [B, K] and the permutation must agree on B.",
                nameof(decision));
        using var scope = NewDisposeScope();
        if (decision.Kind == MixKind.None)
            return (images.clone().MoveToOuterDisposeScope(), targets.clone().MoveToOuterDisposeScope());
        var permutation = tensor(decision.Permutation.Select(i => (long)i).ToArray(), ScalarType.Int64, images.device);
        var partnerImages = images.index_select(0, permutation);
        var partnerTargets = targets.index_select(0, permutation);
        double w = decision.LabelWeight;
        var mixedTargets = targets.mul(w).add_(partnerTargets.mul(1.0 - w));
        Tensor mixedImages;
        if (decision.Kind == MixKind.Mixup)
        {
            mixedImages = images.mul(w).add_(partnerImages.mul(1.0 - w));
        }
        else
        {
            mixedImages = images.clone();
            if (decision.BoxHeight > 0 && decision.BoxWidth > 0)
            {
                using var noGrad = no_grad();
                var box = mixedImages.narrow(2, decision.Top, decision.BoxHeight).narrow(3, decision.Left, decision.BoxWidth);
                box.copy_(partnerImages.narrow(2, decision.Top, decision.BoxHeight).narrow(3, decision.Left, decision.BoxWidth));
            }
        }
        return (mixedImages.MoveToOuterDisposeScope(), mixedTargets.MoveToOuterDisposeScope());
    }
}
