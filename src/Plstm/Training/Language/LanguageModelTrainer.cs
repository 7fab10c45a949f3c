using System.Diagnostics;
using System.Globalization;
using Plstm.Data.Text;
using Plstm.Models.Language;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Training.Language;

/// <summary>
/// Trains a <see cref="ByteLanguageModel"/> on a <see cref="ByteCorpus"/> with the machinery of the image
/// <see cref="Trainer"/>: AdamW with decoupled weight decay on weights only (<see cref="ParameterGroups"/>), linear
/// warm-up then cosine (<see cref="LrSchedule"/>, optionally driven by a wall-clock budget), global-norm clipping,
/// periodic validation, JSONL + TensorBoard metrics (<see cref="MetricsWriter"/>), atomic <c>last.ckpt</c> /
/// <c>best.ckpt</c> (<see cref="TrainingCheckpoint"/>) and exact resume. Loss: next-byte cross-entropy in nats per
/// byte (<see cref="LanguageModelLoss"/>). Float32.
/// </summary>
/// <remarks>
/// <para>Data: step k trains on <see cref="ByteCorpus.TrainingBatch"/>(B, T, seed, k), random windows of the training
/// split (the first 90 %) that are a pure function of (seed, step), so resuming needs no data position. Validation:
/// <see cref="ByteCorpus.SequentialWindows"/> of the last 10 % (periodic evaluations: the first
/// <see cref="LanguageModelTrainingOptions.EvalBatches"/> batches; <see cref="Evaluate"/>: all of them).</para>
/// <para>Resume: as <see cref="Trainer"/> — model, AdamW moments and step counts, schedule step, torch's CPU generator
/// and the time spent are restored from <c>last.ckpt</c>; the trainer options, context, time budget and corpus
/// (sha256) must match. On the CPU, N steps + stop + resume for M steps gives bit-identical losses and weights to
/// N + M uninterrupted steps (same libtorch build and thread count) — unless a time budget drives the schedule, whose
/// learning rates depend on measured time.</para>
/// <para>Tensor lifetime: every training step and every evaluation batch runs in its own dispose scope.</para>
/// </remarks>
public sealed class LanguageModelTrainer
{
    private readonly IProgress<LanguageModelTrainingProgress>? _progress;

    /// <summary>Creates a trainer.</summary>
    /// <param name="options">Settings; validated here.</param>
    /// <param name="progress">Receives a report per training step and per evaluation (synchronously), or null.</param>
    /// <exception cref="ArgumentException">An option is invalid; <see cref="ArgumentException.ParamName"/> names it.</exception>
    public LanguageModelTrainer(LanguageModelTrainingOptions options,
        IProgress<LanguageModelTrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _progress = progress;
    }

    /// <summary>The settings.</summary>
    public LanguageModelTrainingOptions Options { get; }

    /// <summary>
    /// Checks that <paramref name="corpus"/> can feed this run: both splits must hold at least one window of
    /// <see cref="LanguageModelTrainingOptions.SequenceLength"/> + 1 bytes.
    /// </summary>
    /// <exception cref="ArgumentException">A split is too short (the message gives the sizes).</exception>
    public void CheckCorpus(ByteCorpus corpus)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        int window = Options.SequenceLength + 1;
        if (corpus.TrainLength < window || corpus.ValidationLength < window)
            throw new ArgumentException(
                $"The text '{corpus.Source}' has {corpus.Length} bytes: its training split (first 90 %, {corpus.TrainLength} "
                + $"bytes) and validation split (last 10 %, {corpus.ValidationLength} bytes) must each hold one window of "
                + $"context + 1 = {window} bytes; use a longer text (at least {MinimumLength(Options.SequenceLength)} bytes) "
                + "or a shorter context.", nameof(corpus));
    }

    /// <summary>The shortest corpus whose two splits hold a window of <paramref name="sequenceLength"/> + 1 bytes.</summary>
    public static long MinimumLength(int sequenceLength)
    {
        long window = sequenceLength + 1L;
        // Validation = n − floor(0.9 n) ≥ window is the binding condition: n ≥ 10·window − 9 suffices and is minimal
        // up to the floor; search the few candidates around it.
        for (long n = Math.Max(1, 10 * window - 10); ; n++)
            if (n * 9 / 10 >= window && n - n * 9 / 10 >= window) return n;
    }

    /// <summary>
    /// Trains <paramref name="model"/> (moved to the configured device) on the training split of
    /// <paramref name="corpus"/>, validating every <see cref="TrainerOptions.EvalEverySteps"/> steps; ends at the step
    /// count, the time budget, <see cref="TrainerOptions.StopAfterSteps"/> or cancellation, always writing
    /// <c>last.ckpt</c> when an output folder is set. A run that ends (steps or budget) is finally evaluated on the whole
    /// validation split (<see cref="LanguageModelTrainingResult.FinalValidation"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The corpus is too short, or a resume checkpoint does not fit.</exception>
    /// <exception cref="InvalidDataException">The resume checkpoint is malformed or belongs to another model.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite (the last checkpoint is kept).</exception>
    public LanguageModelTrainingResult Fit(ByteLanguageModel model, ByteCorpus corpus,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckCorpus(corpus);
        var o = Options.Trainer;
        int batchSize = o.BatchSize, length = Options.SequenceLength;
        if (model.MaxContext is int max && length > max)
            throw new ArgumentException(
                $"The context {length} exceeds the model's maximal context {max}.", nameof(model));
        var device = TrainingDevice.Resolve(o.Device);
        long total = o.Steps!.Value;
        var schedule = new LrSchedule(o.PeakLearningRate, o.WarmupSteps, total, o.EndFactor);
        string sha = corpus.Sha256();

        bool wasTraining = model.training;
        // Move first: the optimiser's moment tensors are created next to the parameters it is given.
        model.to(device);
        using var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), o.WeightDecay, o.Beta1, o.Beta2,
            o.Epsilon);

        var (folder, lastPath, bestPath) = TrainingCheckpoint.PrepareFolder(o.OutputFolder);

        var run = new RunState();
        if (o.Resume && lastPath is not null && File.Exists(lastPath))
        {
            var saved = TrainingCheckpoint.Load(lastPath, model, optimizer);
            CheckResumable(saved, sha, total);
            run.Step = saved.Step;
            run.Best = saved.BestValidationLoss;
            run.BestStep = saved.BestStep;
            run.ResumedFrom = saved.Step;
            run.TrainSeconds = saved.TrainSeconds ?? 0;
            TorchRandomState.Restore(saved.TorchRngState, o.Seed, saved.Step, device);
        }
        else
        {
            Trainer.SeedTorch(o.Seed);
        }

        long stopAt = Math.Min(total, o.StopAfterSteps ?? total);
        double? budget = Options.TimeBudgetSeconds;
        bool BudgetUsed() => budget is double b && run.TrainSeconds >= b;
        using var metrics = folder is null ? null : new MetricsWriter(folder, keepUpToStep: run.Step);
        long lastSaved = run.ResumedFrom ?? -1;
        double? lastTrainLoss = null, lastLearningRate = null;
        LanguageModelEvaluation? lastValidation = null;
        var window = new MetricsWindow(MetricRecord.BytesPerSecondName);
        double secondsThisCall = 0;
        long stepsThisCall = 0;
        long bytesPerStep = (long)batchSize * length;

        model.train();
        // Reads every few steps on CUDA (TrainerOptions.SyncEverySteps); with a time budget every step, since the budget's
        // clock and its learning-rate schedule follow each step's measured time.
        int syncEvery = budget is null ? o.SyncEveryStepsOn(device) : 1;
        using var pending = new DeferredStepReads<(long Step, double LearningRate)>();
        long pendingSince = Stopwatch.GetTimestamp();
        // Reads the queued steps' numbers (one wait for the device) and hands each step, in order, to the clocks, the
        // progress report, the NaN stop and the metrics window; each step counts the batch's mean duration.
        void ReadPending()
        {
            int count = pending.Count;
            if (count == 0) return;
            var read = pending.ReadAll();
            double seconds = Math.Max(Stopwatch.GetElapsedTime(pendingSince).TotalSeconds / count, 1e-9);
            pendingSince = Stopwatch.GetTimestamp();
            foreach (var (values, step) in read)
            {
                double loss = values[0], gradNorm = values[1];
                run.TrainSeconds += seconds;
                secondsThisCall += seconds;
                stepsThisCall++;
                lastTrainLoss = loss;
                lastLearningRate = step.LearningRate;
                _progress?.Report(new LanguageModelTrainingProgress(step.Step, total, "train", loss, step.LearningRate,
                    gradNorm, bytesPerStep / seconds, run.TrainSeconds, Eta(run, stopAt, secondsThisCall / stepsThisCall)));
                if (!double.IsFinite(loss))
                    throw new InvalidOperationException(
                        $"The training loss became {loss} at step {step.Step}; stopping (last.ckpt holds the last good state).");
                window.Add(loss, null, gradNorm, bytesPerStep, seconds);
            }
        }

        try
        {
            while (run.Step < stopAt && !BudgetUsed() && !cancellationToken.IsCancellationRequested)
            {
                double lr = schedule.At(run.Step, budget is double b ? run.TrainSeconds / b : 0);
                using (var scope = NewDisposeScope())
                {
                    var windows = corpus.TrainingBatch(batchSize, length, o.Seed, run.Step);
                    var lossTensor = LanguageModelLoss.Compute(model, windows);
                    var gradNorm = OptimizerUpdate.Apply(model, optimizer, lossTensor, lr, o.GradientClip);
                    pending.Add(OptimizerUpdate.Gather(lossTensor, gradNorm).MoveToOuterDisposeScope(), (run.Step + 1, lr));
                }
                run.Step++;
                bool evaluates = o.EvalEverySteps > 0 && run.Step % o.EvalEverySteps == 0;
                bool saves = lastPath is not null && o.CheckpointEverySteps > 0 && run.Step % o.CheckpointEverySteps == 0;
                // Every step is read before anything is written or evaluated, and at the run's end.
                if (pending.Count >= syncEvery || run.Step % o.LogEverySteps == 0 || run.Step == stopAt || evaluates
                    || saves)
                    ReadPending();
                bool last = run.Step == stopAt || BudgetUsed();
                if (run.Step % o.LogEverySteps == 0 || last) window.Flush(metrics, run.Step, 0, lr);

                if (evaluates)
                {
                    lastValidation = EvaluateDuringFit(model, corpus, run, total, metrics);
                    if (run.Best is null || lastValidation.NatsPerByte < run.Best)
                    {
                        run.Best = lastValidation.NatsPerByte;
                        run.BestStep = run.Step;
                        if (bestPath is not null)
                            TrainingCheckpoint.Save(bestPath, model, null, MakeState(run, total, sha), o.RunConfigJson);
                    }
                    pendingSince = Stopwatch.GetTimestamp();
                }

                if (saves)
                {
                    TrainingCheckpoint.Save(lastPath!, model, optimizer, MakeState(run, total, sha), o.RunConfigJson);
                    lastSaved = run.Step;
                    pendingSince = Stopwatch.GetTimestamp();
                }
            }
            // A cancelled run stops between reads: its last steps are read (and checked) before last.ckpt is written.
            ReadPending();
            window.Flush(metrics, run.Step, 0, lastLearningRate ?? optimizer.LearningRate);
            if (lastPath is not null && lastSaved != run.Step)
                TrainingCheckpoint.Save(lastPath, model, optimizer, MakeState(run, total, sha), o.RunConfigJson);
        }
        finally
        {
            // Gradients are not part of the state; free their memory.
            model.zero_grad(true);
            model.train(wasTraining);
        }

        var reason = run.Step >= total ? LanguageModelStopReason.Steps
            : BudgetUsed() ? LanguageModelStopReason.TimeBudget
            : run.Step >= stopAt ? LanguageModelStopReason.StopAfterSteps
            : LanguageModelStopReason.Cancelled;
        LanguageModelEvaluation? final = null;
        if (reason is LanguageModelStopReason.Steps or LanguageModelStopReason.TimeBudget)
        {
            // The run's result: the whole validation split (returned, not reported as progress). A resumed run that was
            // already complete evaluates again (deterministic) but does not repeat the metrics line its first
            // completion wrote.
            long start = Stopwatch.GetTimestamp();
            final = Evaluate(model, corpus);
            double rate = final.Bytes / Math.Max(Stopwatch.GetElapsedTime(start).TotalSeconds, 1e-9);
            if (stepsThisCall > 0) WriteValidation(metrics, run.Step, final, rate);
        }
        return new LanguageModelTrainingResult(run.Step, total, reason, run.ResumedFrom, lastTrainLoss, lastValidation,
            run.Best, run.BestStep, run.TrainSeconds, lastLearningRate) { FinalValidation = final };
    }

    /// <summary>
    /// Next-byte loss of <paramref name="model"/> on the validation split (sequential windows of
    /// <see cref="LanguageModelTrainingOptions.SequenceLength"/> + 1 bytes, every byte after the first of each window a
    /// target once), in eval mode under <c>no_grad</c> (mode restored). The model is moved to the configured device.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="corpus">The corpus.</param>
    /// <param name="maxBatches">Use only the first this-many batches; null = the whole split.</param>
    public LanguageModelEvaluation Evaluate(ByteLanguageModel model, ByteCorpus corpus, int? maxBatches = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckCorpus(corpus);
        model.to(TrainingDevice.Resolve(Options.Trainer.Device));
        int length = Options.SequenceLength, batch = Options.EvalBatchSize;
        int windows = (corpus.ValidationLength - 1) / length;
        if (maxBatches is int m) windows = (int)Math.Min(windows, (long)m * batch);
        double nats = LanguageModelLoss.Evaluate(model, corpus, CorpusSplit.Validation, batch, length, windows);
        return new LanguageModelEvaluation(nats, (long)windows * length);
    }

    private LanguageModelEvaluation EvaluateDuringFit(ByteLanguageModel model, ByteCorpus corpus, RunState run,
        long total, MetricsWriter? metrics)
    {
        long start = Stopwatch.GetTimestamp();
        var result = Evaluate(model, corpus, Options.EvalBatches);
        double rate = result.Bytes / Math.Max(Stopwatch.GetElapsedTime(start).TotalSeconds, 1e-9);
        _progress?.Report(new LanguageModelTrainingProgress(run.Step, total, "val", result.NatsPerByte, null, null, rate,
            run.TrainSeconds, null));
        WriteValidation(metrics, run.Step, result, rate);
        return result;
    }

    private static void WriteValidation(MetricsWriter? metrics, long step, LanguageModelEvaluation result, double rate) =>
        metrics?.Write(new MetricRecord(step, 0, "val", result.NatsPerByte, null, null, null, rate, UnixTime.Now())
        {
            ThroughputName = MetricRecord.BytesPerSecondName,
            Extra = [new("bits_per_byte", result.BitsPerByte)],
        });

    private TimeSpan? Eta(RunState run, long stopAt, double meanStepSeconds)
    {
        double bySteps = stopAt >= LanguageModelTrainingOptions.UnboundedSteps
            ? double.PositiveInfinity
            : meanStepSeconds * (stopAt - run.Step);
        double byBudget = Options.TimeBudgetSeconds is double b ? Math.Max(0, b - run.TrainSeconds) : double.PositiveInfinity;
        double seconds = Math.Min(bySteps, byBudget);
        return double.IsFinite(seconds) ? TimeSpan.FromSeconds(seconds) : null;
    }

    private IReadOnlyDictionary<string, string> TrajectoryOptions() => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [nameof(LanguageModelTrainingOptions.SequenceLength)] =
            Options.SequenceLength.ToString(CultureInfo.InvariantCulture),
        [nameof(LanguageModelTrainingOptions.TimeBudgetSeconds)] =
            Options.TimeBudgetSeconds?.ToString("R", CultureInfo.InvariantCulture) ?? "none",
    };

    private CheckpointState MakeState(RunState run, long total, string sha) => new()
    {
        Step = run.Step,
        TotalSteps = total,
        TorchRngState = TorchRandomState.Capture(),
        BestValidationLoss = run.Best,
        BestStep = run.BestStep,
        TrainSeconds = run.TrainSeconds,
        DataSha256 = sha,
        NumClasses = ByteLanguageModel.VocabSize,
        Trajectory = TrajectoryOptions(),
        Options = Options.Trainer,
        SavedAt = DateTimeOffset.UtcNow,
    };

    private void CheckResumable(CheckpointState saved, string sha, long total)
    {
        Options.Trainer.EnsureSameTrajectory(saved.Options);
        if (saved.Trajectory is null || saved.DataSha256 is null)
            throw new InvalidDataException("The checkpoint to resume from is not a language-model checkpoint.");
        foreach (var (name, now) in TrajectoryOptions())
        {
            string then = saved.Trajectory.TryGetValue(name, out var v) ? v : "unset";
            if (then != now)
                throw new ArgumentException(
                    $"Language-model option {name} differs from the checkpoint being resumed ({then} there, {now} now); "
                    + "an exact resume needs the same trajectory options.", name);
        }
        if (saved.DataSha256 != sha)
            throw new ArgumentException(
                $"The text differs from the one the checkpoint was trained on (sha256 {saved.DataSha256} there, {sha} now).",
                "corpus");
        if (saved.TotalSteps != total || saved.Step > total)
            throw new ArgumentException($"The checkpoint is for a {saved.TotalSteps}-step run; this one has {total}.",
                nameof(TrainerOptions.Steps));
    }

    /// <summary>Mutable progress of one Fit call.</summary>
    private sealed class RunState
    {
        public long Step;
        public double? Best;
        public long? BestStep;
        public long? ResumedFrom;
        public double TrainSeconds;
    }
}
