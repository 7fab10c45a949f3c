using System.Globalization;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// Settings of a <see cref="Trainer"/> run. Defaults follow models.md §7 (AdamW β 0.9/0.999, ε 1e-8, weight decay
/// 0.05, clip 1.0, cosine to 1e-3·peak); set exactly one of <see cref="Steps"/> and <see cref="Epochs"/>.
/// <see cref="Validate"/> throws an <see cref="ArgumentException"/> whose <see cref="ArgumentException.ParamName"/> is
/// the offending property's name.
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>Total optimiser steps (one batch each). Exclusive with <see cref="Epochs"/>.</summary>
    public long? Steps { get; init; }

    /// <summary>Total epochs; steps = epochs × batches per epoch. Exclusive with <see cref="Steps"/>.</summary>
    public int? Epochs { get; init; }

    /// <summary>Training batch size.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Evaluation batch size; null uses <see cref="BatchSize"/>.</summary>
    public int? EvalBatchSize { get; init; }

    /// <summary>Peak learning rate (end of the warm-up).</summary>
    public double PeakLearningRate { get; init; } = 1e-3;

    /// <summary>Linear warm-up steps from 0 to the peak.</summary>
    public long WarmupSteps { get; init; }

    /// <summary>Final learning rate as a fraction of the peak (cosine end).</summary>
    public double EndFactor { get; init; } = 1e-3;

    /// <summary>Decoupled weight decay, applied to the decay group only (<see cref="ParameterGroups"/>).</summary>
    public double WeightDecay { get; init; } = 0.05;

    /// <summary>AdamW β₁.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>AdamW β₂.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>AdamW ε.</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Maximum global gradient norm; 0 disables clipping (the norm is still logged).</summary>
    public double GradientClip { get; init; } = 1.0;

    /// <summary>Label smoothing ε in [0, 1), applied before mixing.</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Mixup Beta parameter; 0 disables Mixup.</summary>
    public double MixupAlpha { get; init; }

    /// <summary>CutMix Beta parameter; 0 disables CutMix.</summary>
    public double CutmixAlpha { get; init; }

    /// <summary>Probability that a batch is mixed (when Mixup or CutMix is on).</summary>
    public double MixProbability { get; init; } = 1.0;

    /// <summary>Probability of CutMix rather than Mixup when both are on.</summary>
    public double MixSwitchProbability { get; init; } = 0.5;

    /// <summary>Random crop of training batches: pad every side by this many pixels with <see cref="RandomCropFill"/>,
    /// then cut a window of the original size at a random offset (<see cref="RandomCropFlip"/>); 0 disables it. Must
    /// be smaller than the images' sides (checked by <see cref="ValidateForImages"/>). Never applied in
    /// evaluation.</summary>
    public int RandomCropPadding { get; init; }

    /// <summary>Padding value of <see cref="RandomCropPadding"/> in the images' normalised units: one value for every
    /// channel or one per channel; null pads with 0 (the normalised mean). The experiments pass black (pixel 0).</summary>
    public IReadOnlyList<float>? RandomCropFill { get; init; }

    /// <summary>Probability in [0, 1] that a training image is mirrored left–right (<see cref="RandomCropFlip"/>); 0
    /// disables it. Never applied in evaluation.</summary>
    public double HorizontalFlipProbability { get; init; }

    /// <summary>Symmetry curriculum (<see cref="SymmetryCurriculum"/>): &gt; 0 starts on canonically turned training
    /// images and releases one symmetry whenever a window of <see cref="SymmetryCurriculumWindow"/> steps reaches this
    /// mean training accuracy; needs a training set that implements <see cref="Data.ICanonicalOrientation"/> (arrow
    /// pointing). 0 disables it. Never applied in evaluation.</summary>
    public double SymmetryCurriculumThreshold { get; init; }

    /// <summary>Steps per window of the symmetry curriculum.</summary>
    public int SymmetryCurriculumWindow { get; init; } = 100;

    /// <summary>Exponential moving average of the weights (<see cref="ModelEma"/>) with this long-run decay in [0, 1);
    /// 0 disables it. When on, validation, <c>best.ckpt</c>, the model of every checkpoint and the model <c>Fit</c>
    /// returns are the averaged weights; <c>last.ckpt</c> also stores the optimiser's own weights for resuming.</summary>
    public double EmaDecay { get; init; }

    /// <summary>Evaluate on the validation set every this many steps (0: only at the end).</summary>
    public long EvalEverySteps { get; init; }

    /// <summary>Write <c>last.ckpt</c> every this many steps (0: only at the end / when stopping).</summary>
    public long CheckpointEverySteps { get; init; }

    /// <summary>Write a training metrics line every this many steps (averaged over them).</summary>
    public long LogEverySteps { get; init; } = 10;

    /// <summary>Read the steps' numbers (loss, accuracy, gradient norm) back from the device every this many steps
    /// instead of after every step: between reads the host queues the next steps while the device still runs the last,
    /// so a GPU whose steps are short for the host that issues them is not left idle at each step's start (pLSTM-ViT-T,
    /// 224 px, H200: 42.9–43.6 ms per step against 43.7–49.8 with a read every step;
    /// bench/results/gpu-h200-pipelined-steps-2026-12-02.md). The numbers themselves do not change, and a read also
    /// happens at every log, evaluation and checkpoint step and at the end, so metrics, checkpoints and the NaN stop
    /// see every step before anything is written (a non-finite loss is then reported up to this many steps late, with
    /// its own step number; <c>last.ckpt</c> still holds the last good state). Progress reports arrive in bursts of up
    /// to this many steps, each with the burst's mean duration. On CUDA the training images are also copied from
    /// pinned memory without waiting (an ordinary copy would wait for the device). Null (the default): 10 on CUDA, 1 on
    /// the CPU (where nothing runs ahead) and with the symmetry curriculum, whose stage decides the next step's images
    /// and so needs every step's accuracy at once (a value above 1 with the curriculum is refused).</summary>
    public int? SyncEverySteps { get; init; }

    /// <summary>Stop after this many completed steps (saving <c>last.ckpt</c>) without changing the schedule, e.g.
    /// to split a run into time-limited jobs; null runs to the end.</summary>
    public long? StopAfterSteps { get; init; }

    /// <summary>Run seed: data order, Mixup/CutMix, and torch's generator at the start of a fresh run.</summary>
    public long Seed { get; init; }

    /// <summary><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Output folder for <c>metrics.jsonl</c>, TensorBoard events and checkpoints; null writes nothing.</summary>
    public string? OutputFolder { get; init; }

    /// <summary>Resume from <c>last.ckpt</c> in <see cref="OutputFolder"/> when it exists (else start fresh).</summary>
    public bool Resume { get; init; }

    /// <summary>Drop each epoch's incomplete last batch.</summary>
    public bool DropLast { get; init; } = true;

    /// <summary>Build the next batch on a background task while the current one trains. Off by default: with
    /// TorchSharp 0.107 a garbage collection started by that task while the main thread is inside libtorch can finalize
    /// a temporary Scalar still in use there (random "Unknown scalar type" / "Expected false to be true" failures:
    /// 5 of 18 short ape-small runs with prefetching, 0 of 16 without, 2026-11-30; Directory.Build.props). Turn it on
    /// only where batches are slow to build and the risk is acceptable.</summary>
    public bool Prefetch { get; init; }

    /// <summary>Feed the model channels-last <c>[B, H, W, C]</c> (the reference vision models' default input) instead
    /// of the loader's <c>[B, C, H, W]</c>. Null (the default): follow the model — the library's vision models
    /// (<see cref="Models.VisionModel"/>) declare their layout, any other module gets <c>[B, C, H, W]</c>. Set it only
    /// for a module of your own that reads channels-last; a value that contradicts a library model's layout is
    /// refused.</summary>
    public bool? ChannelsLast { get; init; }

    /// <summary>Optional run configuration (JSON text, e.g. the model preset) stored as <c>config.json</c> in every
    /// checkpoint; not interpreted by the trainer.</summary>
    [JsonIgnore]
    public string? RunConfigJson { get; init; }

    /// <summary>Whether Mixup or CutMix is on.</summary>
    [JsonIgnore]
    public bool UsesMixing => MixupAlpha > 0 || CutmixAlpha > 0;

    /// <summary>Whether random crops or flips are on.</summary>
    [JsonIgnore]
    public bool UsesAugmentation => RandomCropPadding > 0 || HorizontalFlipProbability > 0;

    /// <summary>Whether the weight average (EMA) is on.</summary>
    [JsonIgnore]
    public bool UsesEma => EmaDecay > 0;

    /// <summary>Whether the symmetry curriculum is on.</summary>
    [JsonIgnore]
    public bool UsesSymmetryCurriculum => SymmetryCurriculumThreshold > 0;

    /// <summary>The steps between reads on <paramref name="device"/>: <see cref="SyncEverySteps"/> when set, else 10 on
    /// CUDA without the symmetry curriculum and 1 otherwise.</summary>
    public int SyncEveryStepsOn(Device device) =>
        SyncEverySteps ?? (device.type == DeviceType.CUDA && !UsesSymmetryCurriculum ? 10 : 1);

    /// <summary>Total steps for a training set of <paramref name="trainCount"/> samples.</summary>
    public long TotalSteps(int trainCount) =>
        Steps ?? (long)Epochs!.Value * DataLoader.CountBatches(trainCount, BatchSize, DropLast);

    /// <summary>Checks every option; throws an <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (Steps.HasValue == Epochs.HasValue)
            throw Bad(nameof(Steps), "set exactly one of Steps and Epochs");
        if (Steps is <= 0) throw Bad(nameof(Steps), $"must be positive (got {Steps})");
        if (Epochs is <= 0) throw Bad(nameof(Epochs), $"must be positive (got {Epochs})");
        if (BatchSize <= 0) throw Bad(nameof(BatchSize), $"must be positive (got {BatchSize})");
        if (EvalBatchSize is <= 0) throw Bad(nameof(EvalBatchSize), $"must be positive (got {EvalBatchSize})");
        if (!(PeakLearningRate > 0) || double.IsInfinity(PeakLearningRate))
            throw Bad(nameof(PeakLearningRate), $"must be positive and finite (got {PeakLearningRate})");
        if (WarmupSteps < 0) throw Bad(nameof(WarmupSteps), $"must be ≥ 0 (got {WarmupSteps})");
        if (Steps is long steps && WarmupSteps > steps)
            throw Bad(nameof(WarmupSteps), $"must not exceed Steps = {steps} (got {WarmupSteps})");
        if (!(EndFactor >= 0 && EndFactor <= 1)) throw Bad(nameof(EndFactor), $"must be in [0, 1] (got {EndFactor})");
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay))
            throw Bad(nameof(WeightDecay), $"must be ≥ 0 and finite (got {WeightDecay})");
        if (!(Beta1 >= 0 && Beta1 < 1)) throw Bad(nameof(Beta1), $"must be in [0, 1) (got {Beta1})");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw Bad(nameof(Beta2), $"must be in [0, 1) (got {Beta2})");
        if (!(Epsilon > 0) || double.IsInfinity(Epsilon)) throw Bad(nameof(Epsilon), $"must be positive (got {Epsilon})");
        if (!(GradientClip >= 0)) throw Bad(nameof(GradientClip), $"must be ≥ 0, 0 disables clipping (got {GradientClip})");
        if (!(LabelSmoothing >= 0 && LabelSmoothing < 1))
            throw Bad(nameof(LabelSmoothing), $"must be in [0, 1) (got {LabelSmoothing})");
        if (!(MixupAlpha >= 0) || double.IsInfinity(MixupAlpha))
            throw Bad(nameof(MixupAlpha), $"must be ≥ 0 and finite, 0 disables Mixup (got {MixupAlpha})");
        if (!(CutmixAlpha >= 0) || double.IsInfinity(CutmixAlpha))
            throw Bad(nameof(CutmixAlpha), $"must be ≥ 0 and finite, 0 disables CutMix (got {CutmixAlpha})");
        if (!(MixProbability >= 0 && MixProbability <= 1))
            throw Bad(nameof(MixProbability), $"must be in [0, 1] (got {MixProbability})");
        if (!(MixSwitchProbability >= 0 && MixSwitchProbability <= 1))
            throw Bad(nameof(MixSwitchProbability), $"must be in [0, 1] (got {MixSwitchProbability})");
        if (RandomCropPadding < 0)
            throw Bad(nameof(RandomCropPadding), $"must be ≥ 0, 0 disables random crops (got {RandomCropPadding})");
        if (RandomCropFill is not null && RandomCropFill.Any(v => !float.IsFinite(v)))
            throw Bad(nameof(RandomCropFill), $"must hold finite values (got {string.Join(", ", RandomCropFill)})");
        if (!(HorizontalFlipProbability >= 0 && HorizontalFlipProbability <= 1))
            throw Bad(nameof(HorizontalFlipProbability), $"must be in [0, 1] (got {HorizontalFlipProbability})");
        if (!(SymmetryCurriculumThreshold >= 0 && SymmetryCurriculumThreshold <= 1))
            throw Bad(nameof(SymmetryCurriculumThreshold), $"must be in [0, 1], 0 disables the curriculum (got {SymmetryCurriculumThreshold})");
        if (SymmetryCurriculumWindow <= 0)
            throw Bad(nameof(SymmetryCurriculumWindow), $"must be positive (got {SymmetryCurriculumWindow})");
        if (!(EmaDecay >= 0 && EmaDecay < 1))
            throw Bad(nameof(EmaDecay), $"must be in [0, 1), 0 disables the weight average (got {EmaDecay})");
        if (EvalEverySteps < 0) throw Bad(nameof(EvalEverySteps), $"must be ≥ 0 (got {EvalEverySteps})");
        if (CheckpointEverySteps < 0) throw Bad(nameof(CheckpointEverySteps), $"must be ≥ 0 (got {CheckpointEverySteps})");
        if (LogEverySteps <= 0) throw Bad(nameof(LogEverySteps), $"must be positive (got {LogEverySteps})");
        if (SyncEverySteps is <= 0) throw Bad(nameof(SyncEverySteps), $"must be positive (got {SyncEverySteps})");
        if (SyncEverySteps > 1 && UsesSymmetryCurriculum)
            throw Bad(nameof(SyncEverySteps),
                $"must be 1 with the symmetry curriculum, which reads every step's accuracy before the next (got {SyncEverySteps})");
        if (StopAfterSteps is <= 0) throw Bad(nameof(StopAfterSteps), $"must be positive (got {StopAfterSteps})");
        if (Resume && string.IsNullOrWhiteSpace(OutputFolder))
            throw Bad(nameof(OutputFolder), "is required when Resume is set");
        TrainingDevice.Resolve(Device);
    }

    /// <summary>
    /// Checks the options that depend on the training images: <see cref="RandomCropPadding"/> smaller than both sides
    /// and <see cref="RandomCropFill"/> with one value or one per channel.
    /// </summary>
    /// <exception cref="ArgumentException">An option does not fit; <see cref="ArgumentException.ParamName"/> names it.</exception>
    public void ValidateForImages(int channels, int height, int width)
    {
        // A padding as large as the image could crop a window that holds no pixel of it at all.
        if (RandomCropPadding > 0 && (RandomCropPadding >= height || RandomCropPadding >= width))
            throw Bad(nameof(RandomCropPadding),
                $"must be smaller than the training images' sides (got {RandomCropPadding} for {height}×{width} images)");
        if (RandomCropFill is { Count: > 0 } fill && fill.Count != 1 && fill.Count != channels)
            throw Bad(nameof(RandomCropFill),
                $"must hold one value or one per channel (got {fill.Count} for {channels}-channel images)");
    }

    /// <summary>
    /// The options that shape the optimisation trajectory (all but bookkeeping such as output, logging, evaluation,
    /// checkpoint cadence, stop step, device and prefetching): a resumed run must match the checkpoint in these for
    /// the resume to be exact. Returns "name=value" strings.
    /// </summary>
    internal IReadOnlyList<string> TrajectoryFingerprint() =>
    [
        $"{nameof(Steps)}={Steps}", $"{nameof(Epochs)}={Epochs}", $"{nameof(BatchSize)}={BatchSize}",
        $"{nameof(PeakLearningRate)}={PeakLearningRate:R}", $"{nameof(WarmupSteps)}={WarmupSteps}",
        $"{nameof(EndFactor)}={EndFactor:R}", $"{nameof(WeightDecay)}={WeightDecay:R}", $"{nameof(Beta1)}={Beta1:R}",
        $"{nameof(Beta2)}={Beta2:R}", $"{nameof(Epsilon)}={Epsilon:R}", $"{nameof(GradientClip)}={GradientClip:R}",
        $"{nameof(LabelSmoothing)}={LabelSmoothing:R}", $"{nameof(MixupAlpha)}={MixupAlpha:R}",
        $"{nameof(CutmixAlpha)}={CutmixAlpha:R}", $"{nameof(MixProbability)}={MixProbability:R}",
        $"{nameof(MixSwitchProbability)}={MixSwitchProbability:R}", $"{nameof(Seed)}={Seed}",
        $"{nameof(DropLast)}={DropLast}", $"{nameof(ChannelsLast)}={ChannelsLast}",
        $"{nameof(RandomCropPadding)}={RandomCropPadding}",
        $"{nameof(RandomCropFill)}={FillText(RandomCropFill)}",
        $"{nameof(HorizontalFlipProbability)}={HorizontalFlipProbability:R}",
        $"{nameof(SymmetryCurriculumThreshold)}={SymmetryCurriculumThreshold:R}",
        $"{nameof(SymmetryCurriculumWindow)}={(UsesSymmetryCurriculum ? SymmetryCurriculumWindow : 0)}",
        // Not the optimiser's path, but the averaged weights it yields, checkpoints and best-model selection.
        $"{nameof(EmaDecay)}={EmaDecay:R}",
    ];

    /// <summary>
    /// Throws when <paramref name="saved"/> (the options stored in a checkpoint being resumed) differs from these in an
    /// option of <see cref="TrajectoryFingerprint"/>: an exact resume needs the same trajectory.
    /// </summary>
    /// <exception cref="InvalidDataException">The checkpoint stores no options.</exception>
    /// <exception cref="ArgumentException">An option differs; <see cref="ArgumentException.ParamName"/> names it.</exception>
    internal void EnsureSameTrajectory(TrainerOptions? saved)
    {
        if (saved is null)
            throw new InvalidDataException("The checkpoint to resume from stores no trainer options.");
        var now = TrajectoryFingerprint();
        var then = saved.TrajectoryFingerprint();
        for (int i = 0; i < now.Count; i++)
        {
            if (now[i] == then[i]) continue;
            string option = now[i][..now[i].IndexOf('=')];
            throw new ArgumentException(
                $"Trainer option {option} differs from the checkpoint being resumed ({then[i]} there, {now[i]} now); an "
                + "exact resume needs the same trajectory options.", option);
        }
    }

    private static string FillText(IReadOnlyList<float>? fill) =>
        fill is null ? "" : string.Join(";", fill.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    private static ArgumentException Bad(string option, string problem) =>
        new($"Trainer option {option} {problem}.", option);
}
