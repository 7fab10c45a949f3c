using System.Diagnostics;
using Plstm.Data;
using Plstm.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// Trains an image classifier (<c>Module&lt;Tensor, Tensor&gt;</c>: images → logits <c>[B, classes]</c>) with the
/// recipe of models.md §7: AdamW with decoupled weight decay on weights only (<see cref="ParameterGroups"/>), linear
/// warm-up then cosine to <c>EndFactor·peak</c> stepped per optimiser step (<see cref="LrSchedule"/>), global-norm
/// clipping, label smoothing, optional random crop and horizontal flip (<see cref="RandomCropFlip"/>, training batches
/// only), optional symmetry curriculum (<see cref="SymmetryCurriculum"/>), optional Mixup/CutMix, periodic
/// evaluation, optional weight average (<see cref="ModelEma"/>), JSONL + TensorBoard metrics, atomic
/// <c>last.ckpt</c>/<c>best.ckpt</c> checkpoints and exact resume. Float32 throughout (TorchSharp has no autocast;
/// none is imitated).
/// </summary>
/// <remarks>
/// <para>Resume guarantee: with <see cref="TrainerOptions.Resume"/>, <c>Fit</c> restores model, optimiser moments and
/// step counts, schedule step, data position, torch's CPU generator and the Mixup/CutMix generator from
/// <c>last.ckpt</c>; crops and flips are a function of (seed, step) and need no state, and so are the symmetry
/// curriculum's turns (<see cref="SymmetryCurriculum"/>), whose stage and open window the checkpoint stores. On the
/// CPU, N steps + stop + resume for M steps gives bit-identical per-step losses to N + M uninterrupted steps (same process or not, same
/// libtorch build and thread count). On CUDA the same state is
/// restored except torch's CUDA generator (TorchSharp 0.107 cannot read it), which is re-seeded from (seed, step); so
/// CUDA runs with stochastic layers (dropout, drop path &gt; 0) continue with a different random stream, and CUDA
/// kernels are not bitwise deterministic anyway.</para>
/// <para>Weight average: with <see cref="TrainerOptions.EmaDecay"/> &gt; 0 the average is updated after every
/// optimiser step; validation, <c>best.ckpt</c> and the model entry of <c>last.ckpt</c> use the averaged weights (so
/// <c>plstm eval</c> of either checkpoint evaluates them), <c>last.ckpt</c> keeps the optimiser's own weights beside
/// them for an exact resume, and <c>Fit</c> returns with the averaged weights in the model.</para>
/// <para>Tensor lifetime: every training step and every evaluation batch runs in its own dispose scope, so the number
/// of live tensors stays flat over a run.</para>
/// </remarks>
public sealed class Trainer
{
    private readonly IProgress<TrainingProgress>? _progress;

    /// <summary>Creates a trainer.</summary>
    /// <param name="options">Settings; validated here.</param>
    /// <param name="progress">Receives a report per training step and per evaluation (synchronously, on the
    /// training thread); null for none.</param>
    /// <exception cref="ArgumentException">An option is invalid; <see cref="ArgumentException.ParamName"/> names it.</exception>
    public Trainer(TrainerOptions options, IProgress<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _progress = progress;
    }

    /// <summary>The settings.</summary>
    public TrainerOptions Options { get; }

    /// <summary>Seeds torch's CPU generator and, when CUDA is available, every CUDA generator. Call it before building
    /// the model so that its initialisation is reproducible; <see cref="Fit"/> calls it again at a fresh start.</summary>
    public static void SeedTorch(long seed)
    {
        random.manual_seed(seed);
        if (cuda.is_available()) cuda.manual_seed_all(seed);
    }

    /// <summary>
    /// Trains <paramref name="model"/> on <paramref name="train"/> (moving it to the configured device), evaluating on
    /// <paramref name="validation"/> every <see cref="TrainerOptions.EvalEverySteps"/> steps and at the end.
    /// </summary>
    /// <param name="model">Classifier; its parameters are updated in place.</param>
    /// <param name="train">Training set.</param>
    /// <param name="validation">Validation set (same number of classes), or null.</param>
    /// <param name="cancellationToken">Checked before each step; when set, <c>last.ckpt</c> is written and the call
    /// returns with <see cref="TrainingResult.Completed"/> false.</param>
    /// <exception cref="ArgumentException">Datasets or a resume checkpoint do not fit the options.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite (the last checkpoint is kept), or
    /// the model's output is not <c>[B, classes]</c>.</exception>
    public TrainingResult Fit(nn.Module<Tensor, Tensor> model, IImageDataset train, IImageDataset? validation = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        var o = Options;
        _channelsLast = ResolveChannelsLast(model);
        var device = TrainingDevice.Resolve(o.Device);
        if (train.NumClasses <= 0) throw new ArgumentException("The training set declares no classes.", nameof(train));
        if (validation is not null && validation.NumClasses != train.NumClasses)
            throw new ArgumentException(
                $"The validation set has {validation.NumClasses} classes, the training set {train.NumClasses}.",
                nameof(validation));
        o.ValidateForImages(train.Channels, train.Height, train.Width);
        var loader = new DataLoader(train, o.BatchSize, shuffle: true, o.Seed, o.DropLast, o.Prefetch,
            pinMemory: device.type == DeviceType.CUDA);
        long total = o.TotalSteps(train.Count);
        if (o.WarmupSteps > total)
            throw new ArgumentException(
                $"Trainer option WarmupSteps ({o.WarmupSteps}) exceeds the run's {total} steps.", nameof(o.WarmupSteps));
        var schedule = new LrSchedule(o.PeakLearningRate, o.WarmupSteps, total, o.EndFactor);

        bool wasTraining = model.training;
        // Move first: the optimiser's moment tensors are created next to the parameters it is given.
        model.to(device);
        using var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), o.WeightDecay, o.Beta1, o.Beta2,
            o.Epsilon);
        using var ema = o.UsesEma ? new ModelEma(model, o.EmaDecay) : null;
        var mixer = o.UsesMixing
            ? new MixupCutmix(o.MixupAlpha, o.CutmixAlpha, o.MixProbability, o.MixSwitchProbability, o.Seed)
            : null;
        var augmentation = o.UsesAugmentation
            ? new RandomCropFlip(o.RandomCropPadding, o.HorizontalFlipProbability, o.RandomCropFill, o.Seed)
            : null;

        SymmetryCurriculum? curriculum = null;
        ICanonicalOrientation? oriented = null;
        if (o.UsesSymmetryCurriculum)
        {
            oriented = train as ICanonicalOrientation ?? throw new ArgumentException(
                $"Trainer option {nameof(o.SymmetryCurriculumThreshold)} needs a training set with canonical orientations "
                + $"({nameof(ICanonicalOrientation)}, e.g. arrow pointing); {train.GetType().Name} has none.",
                nameof(o.SymmetryCurriculumThreshold));
            if (train.Height != train.Width)
                throw new ArgumentException(
                    $"Trainer option {nameof(o.SymmetryCurriculumThreshold)} needs square images (got {train.Height}×{train.Width}).",
                    nameof(o.SymmetryCurriculumThreshold));
            curriculum = new SymmetryCurriculum(o.SymmetryCurriculumThreshold, o.SymmetryCurriculumWindow, o.Seed);
        }

        var (folder, lastPath, bestPath) = TrainingCheckpoint.PrepareFolder(o.OutputFolder);

        var run = new RunState();
        if (o.Resume && lastPath is not null && File.Exists(lastPath))
        {
            var saved = TrainingCheckpoint.Load(lastPath, model, optimizer);
            CheckResumable(saved, train, total);
            if (ema is not null)
            {
                // The model entry holds the average; the optimiser's own weights are stored beside it.
                ema.CopyFrom(model);
                TrainingCheckpoint.LoadOnlineWeights(lastPath, model);
            }
            run.Step = saved.Step;
            run.Position = saved.Position;
            run.Best = saved.BestValidationAccuracy;
            run.BestStep = saved.BestStep;
            run.ResumedFrom = saved.Step;
            RestoreRandomState(saved, mixer, device);
            if (curriculum is not null)
                curriculum.SetState(saved.SymmetryCurriculum
                    ?? throw new InvalidDataException("The checkpoint has no symmetry-curriculum state."));
        }
        else
        {
            SeedTorch(o.Seed);
        }

        long stopAt = Math.Min(total, o.StopAfterSteps ?? total);
        using var metrics = folder is null ? null : new MetricsWriter(folder, keepUpToStep: run.Step);
        var clock = Stopwatch.StartNew();
        long lastSaved = run.ResumedFrom ?? -1;
        double? lastTrainLoss = null;
        EvaluationResult? lastValidation = null;
        var window = new MetricsWindow();

        model.train();
        int syncEvery = o.SyncEveryStepsOn(device);
        using var pending = new DeferredStepReads<PendingStep>();
        long pendingSince = clock.ElapsedTicks;
        // Reads the queued steps' numbers (one wait for the device) and hands each step, in order, to the progress
        // report, the NaN stop, the metrics window and the curriculum; each step counts the batch's mean duration.
        void ReadPending()
        {
            int count = pending.Count;
            if (count == 0) return;
            var read = pending.ReadAll();
            double seconds = Math.Max((clock.ElapsedTicks - pendingSince) / (double)Stopwatch.Frequency / count, 1e-9);
            pendingSince = clock.ElapsedTicks;
            foreach (var (values, step) in read)
            {
                double loss = values[0], accuracy = values[1] / step.Size, gradNorm = values[2];
                curriculum?.Observe(accuracy, step.Step);
                lastTrainLoss = loss;
                _progress?.Report(new TrainingProgress(step.Step, total, step.Epoch, "train", loss, accuracy,
                    step.LearningRate, gradNorm, step.Size / seconds, clock.Elapsed, curriculum?.Stage));
                if (!double.IsFinite(loss))
                    throw new InvalidOperationException(
                        $"The training loss became {loss} at step {step.Step}; stopping (last.ckpt holds the last good state).");
                window.Add(loss, accuracy, gradNorm, step.Size, seconds);
            }
        }

        IEnumerator<Batch>? batches = run.Step < stopAt ? loader.Read(run.Position).GetEnumerator() : null;
        try
        {
            while (run.Step < stopAt && !cancellationToken.IsCancellationRequested)
            {
                batches!.MoveNext();
                using var batch = batches.Current;
                double lr = schedule.At(run.Step);
                var values = TrainStep(model, optimizer, augmentation, mixer, curriculum, oriented, batch, run.Step, lr,
                    device, train.NumClasses);
                ema?.Update(model, run.Step);
                run.Step++;
                run.Position = batch.Position.Next(loader.BatchesPerEpoch);
                pending.Add(values, new PendingStep(run.Step, batch.Position.Epoch, lr, batch.Size));

                bool logs = run.Step % o.LogEverySteps == 0 || run.Step == stopAt;
                bool validates = validation is not null
                    && ((o.EvalEverySteps > 0 && run.Step % o.EvalEverySteps == 0) || run.Step == total);
                bool saves = lastPath is not null && o.CheckpointEverySteps > 0 && run.Step % o.CheckpointEverySteps == 0;
                // Every step is read before anything is written or validated, so metrics, checkpoints and the NaN
                // stop cover every step up to here.
                if (pending.Count >= syncEvery || logs || validates || saves) ReadPending();
                if (logs) window.Flush(metrics, run.Step, batch.Position.Epoch, lr);

                if (validates)
                {
                    // With a weight average, the average is what is validated and kept as the best model.
                    ema?.Swap(model);
                    try
                    {
                        lastValidation = EvaluateDuringFit(model, validation!, device, run, total, batch.Position.Epoch,
                            clock, metrics);
                        if (run.Best is null || lastValidation.Accuracy > run.Best)
                        {
                            run.Best = lastValidation.Accuracy;
                            run.BestStep = run.Step;
                            if (bestPath is not null)
                                TrainingCheckpoint.Save(bestPath, model, null,
                                    MakeState(run, total, train, mixer, curriculum, lastValidation.Accuracy), o.RunConfigJson);
                        }
                    }
                    finally
                    {
                        ema?.Swap(model);
                    }
                    // Validation time is not a training step's.
                    pendingSince = clock.ElapsedTicks;
                }

                if (saves)
                {
                    SaveLast(lastPath!, model, optimizer, ema, MakeState(run, total, train, mixer, curriculum, null));
                    lastSaved = run.Step;
                    pendingSince = clock.ElapsedTicks;
                }
            }
            // A cancelled run stops between reads: its last steps are read (and checked) before last.ckpt is written.
            ReadPending();
            window.Flush(metrics, run.Step, run.Position.Epoch, optimizer.LearningRate);
            if (lastPath is not null && lastSaved != run.Step)
                SaveLast(lastPath, model, optimizer, ema, MakeState(run, total, train, mixer, curriculum, null));
            // The run's result is the averaged model (what was validated and saved).
            ema?.Swap(model);
        }
        finally
        {
            batches?.Dispose();
            // Gradients are not part of the state; free their memory.
            model.zero_grad(true);
            model.train(wasTraining);
        }
        return new TrainingResult(run.Step, total, run.Step == total, run.ResumedFrom, lastTrainLoss, lastValidation,
            run.Best, run.BestStep, curriculum?.GetState());
    }

    /// <summary>
    /// Mean cross-entropy (hard labels, no smoothing, no crops, flips or mixing) and top-1 accuracy of
    /// <paramref name="model"/> on <paramref name="dataset"/>, in eval mode without gradients (the model's mode is
    /// restored afterwards). The model is moved to the configured device.
    /// </summary>
    /// <param name="model">The classifier.</param>
    /// <param name="dataset">The images.</param>
    /// <param name="augmentation">Symmetric views whose class probabilities are averaged per image
    /// (<see cref="SymmetryAveraging"/>); the loss is then the cross-entropy of the averaged probabilities.</param>
    public EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, IImageDataset dataset,
        TestTimeAugmentation augmentation = TestTimeAugmentation.None)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        _channelsLast = ResolveChannelsLast(model);
        var device = TrainingDevice.Resolve(Options.Device);
        model.to(device);
        return EvaluateCore(model, dataset, device, augmentation);
    }

    /// <summary>Whether this call feeds the model <c>[B, H, W, C]</c>: the option when it is set, else the layout a
    /// library vision model declares, else channels-first. An explicit value that contradicts a library model's layout
    /// would otherwise fail inside the first forward pass with a shape error that does not name the option.</summary>
    /// <exception cref="ArgumentException">The option contradicts the model's layout (names <c>ChannelsLast</c>).</exception>
    private bool ResolveChannelsLast(nn.Module<Tensor, Tensor> model)
    {
        if (model is not VisionModel vision) return Options.ChannelsLast ?? false;
        bool modelReadsLast = !vision.Layout.ChannelsFirst;
        if (Options.ChannelsLast is bool asked && asked != modelReadsLast)
            throw new ArgumentException(modelReadsLast
                ? "Trainer option ChannelsLast is false, but the model reads channels-last [B, H, W, C] images: leave "
                    + "ChannelsLast unset (the trainer then follows the model) or set it to true."
                : "Trainer option ChannelsLast is true, but the model reads channels-first [B, C, H, W] images (its "
                    + "config's ChannelsFirst): leave ChannelsLast unset or set it to false.",
                nameof(TrainerOptions.ChannelsLast));
        return modelReadsLast;
    }

    // The layout resolved by the running Fit or Evaluate call (ResolveChannelsLast); a Trainer runs one call at a time.
    private bool _channelsLast;

    // The options as this call runs them (the layout resolved): what checkpoints record and resumes compare, so a run
    // resumed with the option unset matches one saved with it set to the same layout.
    private TrainerOptions Resolved => Options with { ChannelsLast = _channelsLast };

    // Validation during training (best checkpoint, curriculum-free model selection) always sees the plain images: it
    // runs every few hundred steps, and eight views would multiply its cost.
    private EvaluationResult EvaluateCore(nn.Module<Tensor, Tensor> model, IImageDataset dataset, Device device,
        TestTimeAugmentation augmentation = TestTimeAugmentation.None)
    {
        var loader = new DataLoader(dataset, Options.EvalBatchSize ?? Options.BatchSize, shuffle: false, seed: 0,
            dropLast: false, prefetch: Options.Prefetch, pinMemory: device.type == DeviceType.CUDA);
        bool wasTraining = model.training;
        model.eval();
        int count = 0;
        double[] totals;
        try
        {
            using var noGrad = no_grad();
            // Summed on the device and read once at the end: a read per batch would make the host wait for the device
            // before it could issue the next batch (the float64 sums add in the same order as on the host, so the
            // result is the same to the bit).
            using var lossSum = tensor(0.0, ScalarType.Float64, device);
            using var correct = tensor(0L, ScalarType.Int64, device);
            foreach (var batch in loader.ReadEpoch())
            {
                using var owned = batch;
                using var scope = NewDisposeScope();
                var labels = TrainingDevice.Upload(batch.Labels, device);
                var logits = SymmetryAveraging.Logits(x => Forward(model, x, dataset.NumClasses),
                    TrainingDevice.Upload(batch.Images, device), augmentation);
                // Sum per batch, averaged once at the end, so a smaller last batch is weighted correctly.
                lossSum.add_(nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum)
                    .to_type(ScalarType.Float64));
                correct.add_(logits.argmax(1).eq(labels).sum());
                count += batch.Size;
            }
            totals = OptimizerUpdate.Read(lossSum, correct);
        }
        finally
        {
            model.train(wasTraining);
        }
        return new EvaluationResult(totals[0] / count, totals[1] / count, count);
    }

    private EvaluationResult EvaluateDuringFit(nn.Module<Tensor, Tensor> model, IImageDataset validation, Device device,
        RunState run, long total, int epoch, Stopwatch clock, MetricsWriter? metrics)
    {
        long start = clock.ElapsedTicks;
        var result = EvaluateCore(model, validation, device);
        double seconds = Math.Max((clock.ElapsedTicks - start) / (double)Stopwatch.Frequency, 1e-9);
        double rate = result.Count / seconds;
        _progress?.Report(new TrainingProgress(run.Step, total, epoch, "val", result.Loss, result.Accuracy, null, null,
            rate, clock.Elapsed));
        metrics?.Write(new MetricRecord(run.Step, epoch, "val", result.Loss, result.Accuracy, null, null, rate,
            UnixTime.Now()));
        return result;
    }

    // Returns the step's loss, correct count and gradient norm as a float64 vector still on the device, outside the
    // step's dispose scope (the caller reads it, with the steps around it, through DeferredStepReads).
    private Tensor TrainStep(nn.Module<Tensor, Tensor> model,
        AdamWOptimizer optimizer, RandomCropFlip? augmentation, MixupCutmix? mixer, SymmetryCurriculum? curriculum,
        ICanonicalOrientation? oriented, Batch batch, long step, double learningRate, Device device, int numClasses)
    {
        using var scope = NewDisposeScope();
        // The curriculum turns whole images first: crops, flips and mixing (none in the arrow presets) act on what the
        // stage shows.
        var images = TrainingDevice.Upload(curriculum is null ? batch.Images : curriculum.Turn(batch.Images, batch.Indices, oriented!, step),
            device);
        var labels = TrainingDevice.Upload(batch.Labels, device);
        // Per-sample augmentation first, then batch mixing (timm's order). Keyed by the step: a resumed run draws the
        // same crops and flips without any stored generator state.
        if (augmentation is not null) images = augmentation.Augment(images, step);
        var targets = SoftTargets.Create(labels, numClasses, Options.LabelSmoothing);
        if (mixer is not null) (images, targets, _) = mixer.Mix(images, targets);
        var logits = Forward(model, images, numClasses);
        var loss = SoftTargetLoss.CrossEntropy(logits, targets);
        var gradNorm = OptimizerUpdate.Apply(model, optimizer, loss, learningRate, Options.GradientClip);
        Tensor correct;
        using (no_grad()) correct = logits.argmax(1).eq(labels).sum();
        return OptimizerUpdate.Gather(loss, correct, gradNorm).MoveToOuterDisposeScope();
    }

    private Tensor Forward(nn.Module<Tensor, Tensor> model, Tensor images, int numClasses)
    {
        var input = _channelsLast ? images.permute(0, 2, 3, 1) : images;
        var logits = model.forward(input);
        if (logits.ndim != 2 || logits.shape[0] != images.shape[0] || logits.shape[1] != numClasses)
            throw new InvalidOperationException(
                $"The model returned [{string.Join(", ", logits.shape)}] for {images.shape[0]} images; expected "
                + $"[{images.shape[0]}, {numClasses}] logits.");
        return logits;
    }

    /// <summary>Writes <c>last.ckpt</c>: with a weight average the model entry holds the average and the optimiser's
    /// own weights go beside it (<see cref="TrainingCheckpoint.OnlineEntry"/>).</summary>
    private void SaveLast(string path, nn.Module<Tensor, Tensor> model, AdamWOptimizer optimizer, ModelEma? ema,
        CheckpointState state)
    {
        if (ema is null)
        {
            TrainingCheckpoint.Save(path, model, optimizer, state, Options.RunConfigJson);
            return;
        }
        ema.Swap(model);
        try
        {
            TrainingCheckpoint.Save(path, model, optimizer, state, Options.RunConfigJson, onlineWeights: ema.Average);
        }
        finally
        {
            ema.Swap(model);
        }
    }

    private CheckpointState MakeState(RunState run, long total, IImageDataset train, MixupCutmix? mixer,
        SymmetryCurriculum? curriculum, double? validationAccuracy) => new()
    {
        SymmetryCurriculum = curriculum?.GetState(),
        Step = run.Step,
        TotalSteps = total,
        Epoch = run.Position.Epoch,
        BatchIndex = run.Position.BatchIndex,
        TorchRngState = TorchRandomState.Capture(),
        MixRngState = mixer?.GetState(),
        BestValidationAccuracy = run.Best,
        BestStep = run.BestStep,
        ValidationAccuracy = validationAccuracy,
        TrainCount = train.Count,
        NumClasses = train.NumClasses,
        Options = Resolved,
        SavedAt = DateTimeOffset.UtcNow,
    };

    private void CheckResumable(CheckpointState saved, IImageDataset train, long total)
    {
        Resolved.EnsureSameTrajectory(saved.Options);
        if (saved.TrainCount != train.Count || saved.NumClasses != train.NumClasses)
            throw new ArgumentException(
                $"The training set ({train.Count} samples, {train.NumClasses} classes) differs from the checkpoint's "
                + $"({saved.TrainCount}, {saved.NumClasses}).", nameof(train));
        if (saved.TotalSteps != total || saved.Step > total)
            throw new ArgumentException($"The checkpoint is for a {saved.TotalSteps}-step run; this one has {total}.",
                nameof(train));
    }

    private void RestoreRandomState(CheckpointState saved, MixupCutmix? mixer, Device device)
    {
        TorchRandomState.Restore(saved.TorchRngState, Options.Seed, saved.Step, device);
        if (mixer is not null)
        {
            if (saved.MixRngState is null)
                throw new InvalidDataException("The checkpoint has no Mixup/CutMix generator state.");
            mixer.SetState(saved.MixRngState);
        }
    }

    /// <summary>Mutable progress of one Fit call.</summary>
    // What the loop keeps about a step until its numbers are read.
    private readonly record struct PendingStep(long Step, int Epoch, double LearningRate, int Size);

    private sealed class RunState
    {
        public long Step;
        public DataPosition Position;
        public double? Best;
        public long? BestStep;
        public long? ResumedFrom;
    }
}
