using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Plstm.Data;
using Plstm.Data.Graphs;
using Plstm.Models.Graph;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Training.Graph;

/// <summary>
/// K-fold cross-validation of <see cref="PlstmGraphModel"/> on a TU data set (models §7.5, <c>docs/graphs.md</c>):
/// the reference's folds (<see cref="GraphSplits"/>, seed 42), per fold a fresh model (torch seed
/// <see cref="GraphCvOptions.Seed"/>), AdamW (lr 1e-3, wd 0.01), the reference's per-epoch schedule (linear warm-up over
/// <c>epochs/20</c> epochs, then cosine to 0), global-norm clipping 1.0, cross-entropy, batches of 64 graphs; after
/// every epoch the validation accuracy, and whenever it beats the best so far an atomic <c>best.ckpt</c>. The test
/// accuracy is that checkpoint's. Writes <c>fold-{k}/metrics.jsonl</c>, <c>fold-{k}/best.ckpt</c>,
/// <c>fold-{k}/result.json</c>, <c>summary.json</c> and <c>summary.md</c> (mean ± std over the folds run). Folds can
/// run in parallel (<see cref="GraphCvOptions.ParallelFolds"/>) with the same numbers as one after the other.
/// </summary>
/// <remarks>Float32. The library prints nothing: progress goes to the <see cref="IProgress{T}"/>, reported
/// synchronously on the calling thread.</remarks>
public static class GraphCrossValidation
{
    /// <summary>File name of a fold's result.</summary>
    public const string FoldResultFileName = "result.json";

    /// <summary>File name of the run summary.</summary>
    public const string SummaryFileName = "summary.json";

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>File name of the run summary as a markdown table.</summary>
    public const string SummaryMarkdownFileName = "summary.md";

    // torch's default generator is process-wide: folds trained in parallel seed it and draw their initial weights under
    // this lock, so each fold's model is the same as in a sequential run.
    private static readonly Lock TorchSeedLock = new();

    /// <summary>Runs the cross-validation described by <paramref name="options"/>.</summary>
    /// <param name="options">What to run; validated here.</param>
    /// <param name="progress">Receives one report per epoch and one per finished fold, one at a time (from the thread
    /// that trains the fold: the calling thread, or with <see cref="GraphCvOptions.ParallelFolds"/> &gt; 1 a worker).</param>
    /// <param name="cancellationToken">Checked before every fold and epoch; cancelling throws
    /// <see cref="OperationCanceledException"/> (finished folds keep their <c>result.json</c>, so <c>Resume</c>
    /// continues).</param>
    /// <exception cref="ArgumentException">An option is invalid (<c>ParamName</c> names it).</exception>
    /// <exception cref="DirectoryNotFoundException">The data set was not found.</exception>
    /// <exception cref="InvalidDataException">A TU file is malformed, or a finished fold's result does not match.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite.</exception>
    public static GraphCvResult Run(GraphCvOptions options, IProgress<GraphCvProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return Run(options, TuDataset.Load(options.Dataset, options.DataDir), progress, cancellationToken);
    }

    /// <summary>Runs the cross-validation described by <paramref name="options"/> on an already loaded
    /// <paramref name="dataset"/> (<see cref="GraphCvOptions.Dataset"/> and <see cref="GraphCvOptions.DataDir"/> are then
    /// only recorded). Nothing is written before the options are validated.</summary>
    /// <inheritdoc cref="Run(GraphCvOptions, IProgress{GraphCvProgress}?, CancellationToken)"/>
    public static GraphCvResult Run(GraphCvOptions options, TuDataset dataset, IProgress<GraphCvProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dataset);
        return RunMany([(options, dataset)], progress, cancellationToken)[0];
    }

    /// <summary>
    /// Runs several cross-validations (e.g. one per data set) with one pool of
    /// <see cref="GraphCvOptions.ParallelFolds"/> workers shared by all their folds, so that a many-core machine stays
    /// busy until the last fold ends: with more than one worker the folds start longest first (by the data set's
    /// node count × epochs). Each run writes its own output folder and summary, as <see cref="Run(GraphCvOptions,
    /// TuDataset, IProgress{GraphCvProgress}?, CancellationToken)"/> would.
    /// </summary>
    /// <param name="runs">The runs; all must agree on <see cref="GraphCvOptions.ParallelFolds"/> and
    /// <see cref="GraphCvOptions.Threads"/>, and their output folders must differ.</param>
    /// <param name="progress">As for <c>Run</c>; <see cref="GraphCvProgress.Dataset"/> tells the runs apart.</param>
    /// <param name="cancellationToken">As for <c>Run</c>.</param>
    /// <returns>The summaries, in the order of <paramref name="runs"/>.</returns>
    /// <exception cref="ArgumentException">An option is invalid, or the runs disagree on the pool.</exception>
    /// <param name="foldRunner">With more than one worker: trains a fold elsewhere (e.g. in a child process) instead of
    /// on the worker thread; it must leave the fold's <c>result.json</c> in its folder and report its own progress. The
    /// worker threads then only wait, so no two folds share this process's garbage collector.</param>
    public static IReadOnlyList<GraphCvResult> RunMany(IReadOnlyList<(GraphCvOptions Options, TuDataset Dataset)> runs,
        IProgress<GraphCvProgress>? progress = null, CancellationToken cancellationToken = default,
        GraphFoldRunner? foldRunner = null)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0) throw new ArgumentException("No run given.", nameof(runs));
        foreach (var (options, dataset) in runs)
        {
            ArgumentNullException.ThrowIfNull(options);
            ArgumentNullException.ThrowIfNull(dataset);
            options.Validate();
        }
        var first = runs[0].Options;
        if (runs.Any(r => r.Options.ParallelFolds != first.ParallelFolds || r.Options.Threads != first.Threads))
            throw new ArgumentException("The runs must share ParallelFolds and Threads (one worker pool).", nameof(runs));
        if (runs.Select(r => Path.GetFullPath(r.Options.OutputFolder)).Distinct(StringComparer.Ordinal).Count() != runs.Count)
            throw new ArgumentException("The runs must have different output folders.", nameof(runs));
        var devices = runs.Select(r => TrainingDevice.Resolve(r.Options.Device)).ToArray();
        int previousThreads = get_num_threads();
        if (first.Threads is int threads) set_num_threads(threads);
        try
        {
            return RunFolds(runs, devices, progress, cancellationToken, foldRunner);
        }
        finally
        {
            if (get_num_threads() != previousThreads) set_num_threads(previousThreads);
        }
    }

    private static IReadOnlyList<GraphCvResult> RunFolds(IReadOnlyList<(GraphCvOptions Options, TuDataset Dataset)> runs,
        Device[] devices, IProgress<GraphCvProgress>? progress, CancellationToken cancellationToken, GraphFoldRunner? foldRunner)
    {
        var watch = Stopwatch.StartNew();
        var plans = runs.Select(r => new RunPlan(r.Options, r.Dataset)).ToArray();
        var jobs = new List<(int Run, int Index)>();
        for (int r = 0; r < plans.Length; r++)
        {
            var plan = plans[r];
            for (int i = 0; i < plan.Indices.Count; i++)
            {
                string resultPath = Path.Combine(FoldFolder(plan.Options, plan.Indices[i]), FoldResultFileName);
                if (plan.Options.Resume && File.Exists(resultPath))
                    plan.Results[i] = ReadFoldResult(resultPath, plan.Options, plan.Indices[i]);
                else jobs.Add((r, i));
            }
        }
        foreach (var plan in plans) Directory.CreateDirectory(plan.Options.OutputFolder);
        // Reports from parallel folds reach the caller one at a time.
        IProgress<GraphCvProgress>? serialProgress = progress is null ? null : new SerialProgress(progress, new Lock());
        int workers = Math.Min(runs[0].Options.ParallelFolds, jobs.Count);
        void Train(int job, CancellationToken token)
        {
            var (r, i) = jobs[job];
            var plan = plans[r];
            if (foldRunner is not null && workers > 1)
            {
                int fold = plan.Indices[i];
                foldRunner(plan.Options, fold, token);
                string path = Path.Combine(FoldFolder(plan.Options, fold), FoldResultFileName);
                if (!File.Exists(path))
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                        $"The runner of fold {fold} ({plan.Options.Dataset}) finished without writing '{path}'."));
                plan.Results[i] = ReadFoldResult(path, plan.Options, fold);
                return;
            }
            var (result, count) = RunFold(plan.Options, plan.Dataset, plan.Samples, plan.Folds[plan.Indices[i]], devices[r],
                serialProgress, token);
            plan.Results[i] = result;
            Interlocked.Exchange(ref plan.Parameters, count);
        }
        try
        {
            if (workers <= 1)
            {
                for (int job = 0; job < jobs.Count; job++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Train(job, cancellationToken);
                }
            }
            else
            {
                // Longest folds first, so that the short ones fill the gaps at the end.
                var order = Enumerable.Range(0, jobs.Count).OrderByDescending(j => plans[jobs[j].Run].Cost).ThenBy(j => j).ToArray();
                RunParallel(order, workers, runs[0].Options.Threads, Train, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // A run stopped by a time limit still leaves the summary of the folds it finished (marked interrupted).
            foreach (var plan in plans.Where(p => p.Options.WriteSummary && p.Results.Any(r => r is not null)))
                WriteSummary(plan, watch.Elapsed.TotalSeconds, interrupted: true);
            throw;
        }
        return plans.Select(plan => WriteSummary(plan, watch.Elapsed.TotalSeconds, interrupted: false)).ToArray();
    }

    private static GraphCvResult WriteSummary(RunPlan plan, double seconds, bool interrupted)
    {
        if (plan.Parameters == 0)
        {
            using var model = CreateModel(plan.Options, plan.Dataset);
            plan.Parameters = model.parameters().Sum(p => p.numel());
        }
        var summary = Summarize(plan.Options, plan.Dataset, plan.Samples.Count, plan.Parameters,
            plan.Results.Where(r => r is not null).Select(r => r!).ToArray(), seconds) with { Interrupted = interrupted };
        if (!plan.Options.WriteSummary) return summary;
        WriteJson(Path.Combine(plan.Options.OutputFolder, SummaryFileName), summary);
        AtomicFile.WriteAllBytes(Path.Combine(plan.Options.OutputFolder, SummaryMarkdownFileName),
            System.Text.Encoding.UTF8.GetBytes(GraphCvReport.ToMarkdown(summary)));
        return summary;
    }

    /// <summary>One run's prepared graphs, folds and (filled in as they finish) fold results.</summary>
    private sealed class RunPlan
    {
        public RunPlan(GraphCvOptions options, TuDataset dataset)
        {
            Options = options;
            Dataset = dataset;
            Samples = GraphSample.FromTu(dataset);
            Folds = GraphSplits.CrossValidation(Samples.Select(s => s.Label).ToArray(), options.Folds, options.SplitSeed,
                options.TrainFraction);
            Indices = options.FoldIndices ?? Enumerable.Range(0, options.Folds).ToArray();
            Results = new GraphFoldResult?[Indices.Count];
            Cost = (double)Samples.Sum(s => s.NodeCount) * options.Epochs;
        }

        public GraphCvOptions Options { get; }
        public TuDataset Dataset { get; }
        public IReadOnlyList<GraphSample> Samples { get; }
        public IReadOnlyList<GraphFold> Folds { get; }
        public IReadOnlyList<int> Indices { get; }
        public GraphFoldResult?[] Results { get; }
        public double Cost { get; }
        public long Parameters;
    }

    /// <summary>Runs <paramref name="train"/> for every item of <paramref name="work"/> on <paramref name="workers"/>
    /// dedicated threads; the first failure cancels the rest and is rethrown as it is.</summary>
    private static void RunParallel(IReadOnlyList<int> work, int workers, int? threads, Action<int, CancellationToken> train,
        CancellationToken cancellationToken)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var queue = new System.Collections.Concurrent.ConcurrentQueue<int>(work);
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? firstError = null;
        var pool = Enumerable.Range(0, workers).Select(w => new Thread(() =>
        {
            try
            {
                // libtorch's thread count is per thread once set (OpenMP): each worker takes the run's.
                if (threads is int n) set_num_threads(n);
                while (!failed.IsCancellationRequested && queue.TryDequeue(out int i)) train(i, failed.Token);
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref firstError, System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex), null);
                failed.Cancel();
            }
        })
        {
            IsBackground = true,
            Name = string.Create(CultureInfo.InvariantCulture, $"graph-fold-worker-{w}"),
        }).ToArray();
        foreach (var t in pool) t.Start();
        foreach (var t in pool) t.Join();
        firstError?.Throw();
        cancellationToken.ThrowIfCancellationRequested();
    }

    private static GraphFoldResult ReadFoldResult(string path, GraphCvOptions options, int fold)
    {
        var result = JsonSerializer.Deserialize<GraphFoldResult>(File.ReadAllText(path), Json)
            ?? throw new InvalidDataException($"'{path}' is empty.");
        // A finished fold of another recipe must not slip into this run's summary.
        if (result.Fold != fold || result.Epochs != options.Epochs)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"'{path}' is fold {result.Fold} of a {result.Epochs}-epoch run, not fold {fold} of this {options.Epochs}-epoch run; use another output folder."));
        if (result.Selection != options.Selection)
            throw new InvalidDataException(
                $"'{path}' was selected by {result.Selection}, not by this run's {options.Selection}; use another output folder.");
        return result;
    }

    private static GraphCvResult Summarize(GraphCvOptions options, TuDataset dataset, int graphs, long parameters,
        IReadOnlyList<GraphFoldResult> results, double seconds)
    {
        var accuracies = results.Select(r => r.TestAccuracy).ToArray();
        double mean = accuracies.Average();
        double squares = accuracies.Sum(a => (a - mean) * (a - mean));
        var aucs = results.Where(r => r.TestRocAuc is not null).Select(r => r.TestRocAuc!.Value).ToArray();
        return new GraphCvResult
        {
            Dataset = dataset.Name,
            GraphCount = graphs,
            ClassCount = dataset.ClassCount,
            NodeFeatureCount = dataset.NodeFeatureCount,
            ParameterCount = parameters,
            Folds = results,
            MeanTestAccuracy = mean,
            StdTestAccuracy = Math.Sqrt(squares / accuracies.Length),
            SampleStdTestAccuracy = accuracies.Length > 1 ? Math.Sqrt(squares / (accuracies.Length - 1)) : 0.0,
            MeanTestRocAuc = aucs.Length > 0 ? aucs.Average() : null,
            Seconds = seconds,
            Options = options,
            FinishedAt = DateTimeOffset.UtcNow,
        };
    }

    private sealed class SerialProgress(IProgress<GraphCvProgress> inner, Lock gate) : IProgress<GraphCvProgress>
    {
        public void Report(GraphCvProgress value)
        {
            lock (gate) inner.Report(value);
        }
    }

    /// <summary>The reference's learning-rate factor for <paramref name="epoch"/> (Hugging Face
    /// <c>get_cosine_schedule_with_warmup</c>, stepped per epoch): <c>max(1e-6, e/W)</c> during the warm-up, then
    /// <c>½(1 + cos(π (e − W)/(E − W)))</c>.</summary>
    public static double LearningRateFactor(int epoch, int warmupEpochs, int epochs)
    {
        if (epoch < warmupEpochs) return Math.Max(1e-6, epoch / (double)Math.Max(1, warmupEpochs));
        double progress = (epoch - warmupEpochs) / (double)Math.Max(1, epochs - warmupEpochs);
        return Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * progress)));
    }

    /// <summary>The model of a run (before training): <see cref="PlstmGraphModel"/> sized for the data set.</summary>
    public static PlstmGraphModel CreateModel(GraphCvOptions options, TuDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dataset);
        return new PlstmGraphModel("model", new PlstmGraphModelConfig(dataset.NodeFeatureCount, dataset.ClassCount)
        {
            HiddenDim = options.HiddenDim,
            NumHeads = options.NumHeads,
            NumBlocks = options.NumBlocks,
            TransitionInput = options.TransitionInput,
            PNormalization = options.PNormalization,
            ComputeDtype = options.ComputeDtype,
        });
    }

    /// <summary>Accuracy, mean cross-entropy and class probabilities of <paramref name="model"/> on
    /// <paramref name="batches"/> (eval mode, no autograd).</summary>
    public static (double Loss, double Accuracy, double[] Probabilities, int[] Labels) Evaluate(PlstmGraphModel model,
        IReadOnlyList<GraphBatch> batches)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        model.eval();
        double lossSum = 0;
        long correct = 0, count = 0;
        var probabilities = new List<double>();
        var labels = new List<int>();
        using (no_grad())
        {
            foreach (var batch in batches)
            {
                using var scope = NewDisposeScope();
                var logits = model.forward(batch);
                lossSum += nn.functional.cross_entropy(logits, batch.Labels, reduction: nn.Reduction.Sum).item<float>();
                correct += logits.argmax(1).eq(batch.Labels).sum().item<long>();
                count += batch.Count;
                probabilities.AddRange(softmax(logits, 1).to_type(ScalarType.Float64).cpu().data<double>().ToArray());
                labels.AddRange(batch.Samples.Select(s => s.Label));
            }
        }
        model.train();
        return (count == 0 ? double.NaN : lossSum / count, count == 0 ? double.NaN : correct / (double)count,
            probabilities.ToArray(), labels.ToArray());
    }

    private static (GraphFoldResult Result, long Parameters) RunFold(GraphCvOptions o, TuDataset dataset,
        IReadOnlyList<GraphSample> samples, GraphFold fold, Device device, IProgress<GraphCvProgress>? progress,
        CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        string folder = FoldFolder(o, fold.Fold);
        Directory.CreateDirectory(folder);
        string checkpoint = Path.Combine(folder, TrainingCheckpoint.BestFileName);
        var train = fold.Train.Select(i => samples[i]).ToArray();
        var validation = Batches(fold.Validation.Select(i => samples[i]).ToArray(), o.EvalBatchSize, device);
        var test = Batches(fold.Test.Select(i => samples[i]).ToArray(), o.EvalBatchSize, device);
        try
        {
            PlstmGraphModel created;
            lock (TorchSeedLock)
            {
                Trainer.SeedTorch(o.Seed);
                created = CreateModel(o, dataset);
            }
            using var model = created;
            model.to(device);
            model.train();
            long parameterCount = model.parameters().Sum(p => p.numel());
            var groups = ParameterGroups.Split(model, o.DecayAllParameters ? (_, _) => true : null);
            using var optimizer = new AdamWOptimizer(groups, o.WeightDecay);
            using var ema = o.EmaDecay > 0 ? new ModelEma(model, o.EmaDecay) : null;
            using var metrics = new MetricsWriter(folder, keepUpToStep: 0, tensorBoard: false);
            string config = JsonSerializer.Serialize(new { fold = fold.Fold, options = o }, Json);

            int steps = (train.Length + o.BatchSize - 1) / o.BatchSize;
            double best = double.NegativeInfinity, bestLoss = double.PositiveInfinity;
            int bestEpoch = -1;
            long step = 0;
            double lastTrainAccuracy = double.NaN;
            for (int epoch = 0; epoch < o.Epochs; epoch++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                double lr = o.LearningRate * LearningRateFactor(epoch, o.EffectiveWarmupEpochs, o.Epochs);
                optimizer.SetLearningRate(lr);
                var order = TrainingRandom.ForStream(o.Seed + fold.Fold, TrainingRandom.ShuffleStream, epoch)
                    .Permutation(train.Length);
                double lossSum = 0, gradNormSum = 0;
                long correct = 0;
                for (int s = 0; s < steps; s++)
                {
                    var chosen = order.Skip(s * o.BatchSize).Take(o.BatchSize).Select(i => train[i]).ToArray();
                    using var batch = GraphBatch.Create(chosen, device);
                    using var scope = NewDisposeScope();
                    optimizer.ZeroGradients();
                    var logits = model.forward(batch);
                    var loss = o.AccumulationLossScale
                        ? nn.functional.cross_entropy(logits, batch.Labels, reduction: nn.Reduction.Sum) / o.BatchSize
                        : nn.functional.cross_entropy(logits, batch.Labels);
                    double lossValue = loss.item<float>();
                    // Logged per graph, whatever the scaling of the optimised loss.
                    double meanLoss = o.AccumulationLossScale ? lossValue * o.BatchSize / chosen.Length : lossValue;
                    if (!double.IsFinite(lossValue))
                        throw new InvalidOperationException(
                            $"Fold {fold.Fold}, epoch {epoch}, step {s}: the loss is {lossValue}.");
                    loss.backward();
                    gradNormSum += optimizer.Step(o.GradientClip);
                    ema?.Update(model, step);
                    step++;
                    lossSum += meanLoss * chosen.Length;
                    correct += logits.argmax(1).eq(batch.Labels).sum().item<long>();
                }
                double trainLoss = lossSum / train.Length;
                lastTrainAccuracy = correct / (double)train.Length;
                // With the weight average on, validation and the kept checkpoint see the averaged weights.
                ema?.Swap(model);
                var (valLoss, valAccuracy, _, _) = Evaluate(model, validation);
                double now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
                metrics.Write(new MetricRecord(step, epoch, "train", trainLoss, lastTrainAccuracy, lr, gradNormSum / steps,
                    train.Length / Math.Max(1e-9, watch.Elapsed.TotalSeconds), now));
                metrics.Write(new MetricRecord(step, epoch, "val", valLoss, valAccuracy, lr, null, null, now));
                if (o.Selection.Replaces(valAccuracy, valLoss, best, bestLoss))
                {
                    best = valAccuracy;
                    bestLoss = valLoss;
                    bestEpoch = epoch;
                    TrainingCheckpoint.Save(checkpoint, model, null, new CheckpointState
                    {
                        Step = step,
                        TotalSteps = (long)steps * o.Epochs,
                        Epoch = epoch,
                        BestValidationAccuracy = best,
                        BestStep = step,
                        ValidationAccuracy = valAccuracy,
                        TrainCount = train.Length,
                        NumClasses = dataset.ClassCount,
                        SavedAt = DateTimeOffset.UtcNow,
                    }, config);
                }
                ema?.Swap(model);                                                                  // back to the online weights
                progress?.Report(new GraphCvProgress(fold.Fold, epoch, o.Epochs, trainLoss, lastTrainAccuracy, valAccuracy,
                    best, lr, watch.Elapsed.TotalSeconds, Dataset: dataset.Name));
            }

            TrainingCheckpoint.Load(checkpoint, model);
            var (testLoss, testAccuracy, probabilities, labels) = Evaluate(model, test);
            int majority = train.GroupBy(g => g.Label).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
            var result = new GraphFoldResult
            {
                Fold = fold.Fold,
                TrainCount = train.Length,
                ValidationCount = fold.Validation.Count,
                TestCount = fold.Test.Count,
                Stratified = fold.Stratified,
                Epochs = o.Epochs,
                BestEpoch = bestEpoch,
                BestValidationAccuracy = best,
                BestValidationLoss = bestLoss,
                Selection = o.Selection,
                TestAccuracy = testAccuracy,
                TestLoss = testLoss,
                TestRocAuc = ClassificationMetrics.MacroRocAuc(probabilities, labels, dataset.ClassCount),
                MajorityTestAccuracy = labels.Count(l => l == majority) / (double)labels.Length,
                FinalTrainAccuracy = lastTrainAccuracy,
                Seconds = watch.Elapsed.TotalSeconds,
                Checkpoint = Path.GetFullPath(checkpoint),
            };
            WriteJson(Path.Combine(folder, FoldResultFileName), result);
            progress?.Report(new GraphCvProgress(fold.Fold, o.Epochs - 1, o.Epochs, double.NaN, lastTrainAccuracy, double.NaN,
                best, 0.0, watch.Elapsed.TotalSeconds, result, dataset.Name));
            return (result, parameterCount);
        }
        finally
        {
            foreach (var b in validation.Concat(test)) b.Dispose();
        }
    }

    /// <summary>Consecutive batches of <paramref name="size"/> graphs (the last may be smaller), in order.</summary>
    internal static GraphBatch[] Batches(GraphSample[] samples, int size, Device device) =>
        Enumerable.Range(0, (samples.Length + size - 1) / size)
            .Select(i => GraphBatch.Create(samples.Skip(i * size).Take(size).ToArray(), device)).ToArray();

    private static string FoldFolder(GraphCvOptions o, int fold) =>
        Path.Combine(o.OutputFolder, string.Create(CultureInfo.InvariantCulture, $"fold-{fold}"));

    private static void WriteJson<T>(string path, T value) =>
        AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(value, Json));
}
