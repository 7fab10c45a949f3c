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
/// <c>fold-{k}/result.json</c> and <c>summary.json</c> (mean ± std over the folds run).
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

    /// <summary>Runs the cross-validation described by <paramref name="options"/>.</summary>
    /// <param name="options">What to run; validated here.</param>
    /// <param name="progress">Receives one report per epoch and one per finished fold (synchronously).</param>
    /// <param name="cancellationToken">Checked before every fold and epoch; cancelling throws
    /// <see cref="OperationCanceledException"/> (finished folds keep their <c>result.json</c>, so <c>Resume</c>
    /// continues).</param>
    /// <exception cref="ArgumentException">An option is invalid (<c>ParamName</c> names it).</exception>
    /// <exception cref="DirectoryNotFoundException">The data set was not found.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite.</exception>
    public static GraphCvResult Run(GraphCvOptions options, IProgress<GraphCvProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var device = TrainingDevice.Resolve(options.Device);
        int previousThreads = get_num_threads();
        if (options.Threads is int threads) set_num_threads(threads);
        try
        {
            return RunFolds(options, device, progress, cancellationToken);
        }
        finally
        {
            if (get_num_threads() != previousThreads) set_num_threads(previousThreads);
        }
    }

    private static GraphCvResult RunFolds(GraphCvOptions options, Device device, IProgress<GraphCvProgress>? progress,
        CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var dataset = TuDataset.Load(options.Dataset, options.DataDir);
        var samples = GraphSample.FromTu(dataset);
        var folds = GraphSplits.CrossValidation(samples.Select(s => s.Label).ToArray(), options.Folds, options.SplitSeed,
            options.TrainFraction);
        Directory.CreateDirectory(options.OutputFolder);
        var results = new List<GraphFoldResult>();
        long parameters = 0;
        foreach (int f in options.FoldIndices ?? Enumerable.Range(0, options.Folds).ToArray())
        {
            cancellationToken.ThrowIfCancellationRequested();
            string folder = FoldFolder(options, f);
            string resultPath = Path.Combine(folder, FoldResultFileName);
            if (options.Resume && File.Exists(resultPath))
            {
                results.Add(JsonSerializer.Deserialize<GraphFoldResult>(File.ReadAllText(resultPath), Json)
                    ?? throw new InvalidDataException($"'{resultPath}' is empty."));
                continue;
            }
            var (result, count) = RunFold(options, dataset, samples, folds[f], device, progress, cancellationToken);
            parameters = count;
            results.Add(result);
        }
        if (parameters == 0)
        {
            using var model = CreateModel(options, dataset);
            parameters = model.parameters().Sum(p => p.numel());
        }
        var accuracies = results.Select(r => r.TestAccuracy).ToArray();
        double mean = accuracies.Average();
        double squares = accuracies.Sum(a => (a - mean) * (a - mean));
        var aucs = results.Where(r => r.TestRocAuc is not null).Select(r => r.TestRocAuc!.Value).ToArray();
        var summary = new GraphCvResult
        {
            Dataset = dataset.Name,
            GraphCount = samples.Count,
            ClassCount = dataset.ClassCount,
            NodeFeatureCount = dataset.NodeFeatureCount,
            ParameterCount = parameters,
            Folds = results,
            MeanTestAccuracy = mean,
            StdTestAccuracy = Math.Sqrt(squares / accuracies.Length),
            SampleStdTestAccuracy = accuracies.Length > 1 ? Math.Sqrt(squares / (accuracies.Length - 1)) : 0.0,
            MeanTestRocAuc = aucs.Length > 0 ? aucs.Average() : null,
            Seconds = watch.Elapsed.TotalSeconds,
            Options = options,
            FinishedAt = DateTimeOffset.UtcNow,
        };
        WriteJson(Path.Combine(options.OutputFolder, SummaryFileName), summary);
        return summary;
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
            Trainer.SeedTorch(o.Seed);
            using var model = CreateModel(o, dataset);
            model.to(device);
            model.train();
            long parameterCount = model.parameters().Sum(p => p.numel());
            var groups = ParameterGroups.Split(model, o.DecayAllParameters ? (_, _) => true : null);
            using var optimizer = new AdamWOptimizer(groups, o.WeightDecay);
            var parameters = groups.All.Select(p => p.Parameter).ToArray();
            using var metrics = new MetricsWriter(folder, keepUpToStep: 0, tensorBoard: false);
            string config = JsonSerializer.Serialize(new { fold = fold.Fold, options = o }, Json);

            int steps = (train.Length + o.BatchSize - 1) / o.BatchSize;
            double best = double.NegativeInfinity;
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
                    optimizer.Inner.zero_grad();
                    var logits = model.forward(batch);
                    var loss = nn.functional.cross_entropy(logits, batch.Labels);
                    double lossValue = loss.item<float>();
                    if (!double.IsFinite(lossValue))
                        throw new InvalidOperationException(
                            $"Fold {fold.Fold}, epoch {epoch}, step {s}: the loss is {lossValue}.");
                    loss.backward();
                    gradNormSum += GradientClipping.ClipByGlobalNorm(parameters, o.GradientClip);
                    optimizer.Step();
                    step++;
                    lossSum += lossValue * chosen.Length;
                    correct += logits.argmax(1).eq(batch.Labels).sum().item<long>();
                }
                double trainLoss = lossSum / train.Length;
                lastTrainAccuracy = correct / (double)train.Length;
                var (valLoss, valAccuracy, _, _) = Evaluate(model, validation);
                double now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
                metrics.Write(new MetricRecord(step, epoch, "train", trainLoss, lastTrainAccuracy, lr, gradNormSum / steps,
                    train.Length / Math.Max(1e-9, watch.Elapsed.TotalSeconds), now));
                metrics.Write(new MetricRecord(step, epoch, "val", valLoss, valAccuracy, lr, null, null, now));
                if (valAccuracy > best)
                {
                    best = valAccuracy;
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
                progress?.Report(new GraphCvProgress(fold.Fold, epoch, o.Epochs, trainLoss, lastTrainAccuracy, valAccuracy,
                    best, lr, watch.Elapsed.TotalSeconds));
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
                best, 0.0, watch.Elapsed.TotalSeconds, result));
            return (result, parameterCount);
        }
        finally
        {
            foreach (var b in validation.Concat(test)) b.Dispose();
        }
    }

    private static GraphBatch[] Batches(GraphSample[] samples, int size, Device device) =>
        Enumerable.Range(0, (samples.Length + size - 1) / size)
            .Select(i => GraphBatch.Create(samples.Skip(i * size).Take(size).ToArray(), device)).ToArray();

    private static string FoldFolder(GraphCvOptions o, int fold) =>
        Path.Combine(o.OutputFolder, string.Create(CultureInfo.InvariantCulture, $"fold-{fold}"));

    private static void WriteJson<T>(string path, T value) =>
        AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(value, Json));
}
