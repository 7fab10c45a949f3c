using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Plstm.Data;
using Plstm.Training;

namespace Plstm.Experiments;

/// <summary>Settings of an <see cref="ExperimentRunner"/> that are not part of the experiment itself.</summary>
public sealed record ExperimentRunOptions
{
    /// <summary>Output folder: one subfolder per model (the trainer's output), then <c>results.md</c>,
    /// <c>curves.png</c> and, last, <c>results.json</c>.</summary>
    public required string OutputFolder { get; init; }

    /// <summary><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Continue the models' <c>last.ckpt</c> in an existing output folder. Without it the output folder must
    /// not exist or be empty.</summary>
    public bool Resume { get; init; }

    /// <summary>Write <c>curves.png</c>.</summary>
    public bool Plot { get; init; } = true;

    /// <summary>
    /// Train and evaluate only the model with this key (into <c>OUT/&lt;key&gt;/</c>, with its
    /// <see cref="ExperimentRunner.EvaluationFileName"/>); the experiment's summary files are not written. What a
    /// <see cref="IExperimentModelWorker"/> process runs. Null: every model.
    /// </summary>
    public string? OnlyModel { get; init; }

    /// <summary>
    /// Run the models through this worker (e.g. one process each), <see cref="ParallelModels"/> at a time, instead of
    /// one after the other on the calling thread; the runner then only waits, relays progress and writes the summary.
    /// Null: in-process, in order.
    /// </summary>
    public IExperimentModelWorker? ModelWorker { get; init; }

    /// <summary>How many models the <see cref="ModelWorker"/> runs at once (at least 1).</summary>
    public int ParallelModels { get; init; } = 1;
}

/// <summary>Where an experiment run is.</summary>
public enum ExperimentStage
{
    /// <summary>A model is about to train (<see cref="ExperimentProgress.Steps"/> holds its total steps).</summary>
    ModelStarting,

    /// <summary>A training step or validation finished (<see cref="ExperimentProgress.Training"/>).</summary>
    Training,

    /// <summary>A final evaluation starts (<see cref="ExperimentProgress.EvaluationName"/>, image size).</summary>
    Evaluating,

    /// <summary>A final evaluation finished (<see cref="ExperimentProgress.Evaluation"/>).</summary>
    Evaluated,

    /// <summary>A model is done (<see cref="ExperimentProgress.Model"/>).</summary>
    ModelFinished,
}

/// <summary>A progress report of <see cref="ExperimentRunner"/>; reported synchronously on the running thread.</summary>
/// <param name="Stage">What happened.</param>
/// <param name="ModelKey">The model concerned.</param>
/// <param name="ModelIndex">Its index (0-based).</param>
/// <param name="ModelCount">Models in the experiment.</param>
/// <param name="Steps">Total steps of the model's run.</param>
/// <param name="Training">The trainer's report (stage Training).</param>
/// <param name="EvaluationName">Split name (stages Evaluating, Evaluated).</param>
/// <param name="ImageSize">Image side of the evaluation.</param>
/// <param name="Evaluation">The evaluation result (stage Evaluated).</param>
/// <param name="Model">The model's result (stage ModelFinished).</param>
public sealed record ExperimentProgress(ExperimentStage Stage, string ModelKey, int ModelIndex, int ModelCount,
    long Steps, TrainingProgress? Training = null, string? EvaluationName = null, int? ImageSize = null,
    NamedEvaluation? Evaluation = null, ModelResult? Model = null);

/// <summary>
/// Runs an <see cref="ExperimentPreset"/>: loads (or sets up the generation of) the data, trains every model with the
/// <see cref="Trainer"/> in its own subfolder, evaluates the final weights on the test sets (for arrows at the
/// training size and at twice the size: the positional embedding is resized bicubically by the model), then writes
/// <c>results.md</c>, <c>curves.png</c> and finally <c>results.json</c> — atomically and last, so that its presence
/// marks a complete run. Prints nothing: progress goes to the <see cref="IProgress{T}"/>.
/// </summary>
/// <remarks>
/// <para><see cref="Prepare"/> checks everything that can be checked without writing (experiment, options, device, data
/// files, model configurations, output folder) and is called by <see cref="Run"/> first, so a bad input never leaves
/// an output folder behind. A run that fails or is cancelled later leaves the models' checkpoints (resumable with
/// <see cref="ExperimentRunOptions.Resume"/>) but no <c>results.json</c>.</para>
/// <para>Models train one after the other on the calling thread, or, with an
/// <see cref="ExperimentRunOptions.ModelWorker"/>, several at once elsewhere (the <c>plstm</c> command: one process per
/// model, each with a fixed share of the cores, so that two small CPU trainings keep two cores busy instead of sharing
/// both through libtorch's threads); a worker runs a runner with <see cref="ExperimentRunOptions.OnlyModel"/>.</para>
/// </remarks>
public sealed class ExperimentRunner
{
    /// <summary>Name of the per-model evaluation file, reused when a resumed run finds the model already complete.</summary>
    public const string EvaluationFileName = "evaluation.json";

    private readonly IProgress<ExperimentProgress>? _progress;
    private Prepared? _prepared;

    /// <summary>Creates a runner (nothing is checked or loaded yet).</summary>
    public ExperimentRunner(ExperimentPreset preset, ExperimentRunOptions options,
        IProgress<ExperimentProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentNullException.ThrowIfNull(options);
        Preset = preset;
        Options = options;
        _progress = progress;
    }

    /// <summary>The experiment.</summary>
    public ExperimentPreset Preset { get; }

    /// <summary>The run settings.</summary>
    public ExperimentRunOptions Options { get; }

    /// <summary>The loaded data (after <see cref="Prepare"/>).</summary>
    public ExperimentData? Data => _prepared?.Data;

    /// <summary>
    /// Validates the experiment and the options, resolves the device, loads the data and builds every model
    /// configuration; writes nothing. Idempotent.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid experiment or options (incl. an output folder that is not empty
    /// without <see cref="ExperimentRunOptions.Resume"/>, or CUDA requested but unavailable).</exception>
    /// <exception cref="IOException">Data files are missing (<see cref="FileNotFoundException"/>,
    /// <see cref="DirectoryNotFoundException"/>).</exception>
    /// <exception cref="InvalidDataException">A data file is corrupt.</exception>
    public void Prepare()
    {
        if (_prepared is not null) return;
        Preset.Validate();
        TrainingDevice.Resolve(Options.Device);
        if (string.IsNullOrWhiteSpace(Options.OutputFolder))
            throw new ArgumentException("An output folder is required.", nameof(ExperimentRunOptions.OutputFolder));
        string output = Path.GetFullPath(Options.OutputFolder);
        if (File.Exists(output))
            throw new ArgumentException($"Output '{Options.OutputFolder}' is a file, not a folder.",
                nameof(ExperimentRunOptions.OutputFolder));
        if (!Options.Resume && Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
            throw new ArgumentException(
                $"Output folder '{Options.OutputFolder}' already exists and is not empty; resume it or choose another folder.",
                nameof(ExperimentRunOptions.OutputFolder));

        if (Options.OnlyModel is { } only && Preset.Models.All(m => m.Key != only))
            throw new ArgumentException(
                $"Experiment '{Preset.Name}' has no model '{only}' (models: {string.Join(", ", Preset.Models.Select(m => m.Key))}).",
                nameof(ExperimentRunOptions.OnlyModel));
        if (Options.ParallelModels < 1)
            throw new ArgumentException($"Parallel models must be at least 1, got {Options.ParallelModels}.",
                nameof(ExperimentRunOptions.ParallelModels));

        var data = ExperimentData.Load(Preset.Data);
        var models = new List<(ExperimentModel Model, ModelSpec Spec, TrainerOptions Options)>();
        foreach (var model in Preset.Models)
        {
            var spec = model.Spec(data.ImageSize, data.Channels, data.NumClasses);
            string json = RunConfig.Create(Preset.Name, model, spec, data).ToJson();
            var options = Preset.TrainerOptions(model, Path.Combine(output, model.Key), Options.Device, Options.Resume,
                json, data.Normalization);
            options.Validate();
            options.ValidateForImages(data.Channels, data.Train.Height, data.Train.Width);
            long total = options.TotalSteps(data.Train.Count);
            if (options.WarmupSteps > total)
                throw new ArgumentException($"Warm-up ({options.WarmupSteps} steps) exceeds the run's {total} steps.");
            if (data.Train.Count < options.BatchSize)
                throw new ArgumentException(
                    $"The training set has {data.Train.Count} images, fewer than one batch of {options.BatchSize}.");
            models.Add((model, spec, options));
        }
        _prepared = new Prepared(output, data, models);
    }

    /// <summary>Runs the experiment (see the class remarks). Returns null when cancelled (checkpoints are kept).</summary>
    public ExperimentResult? Run(CancellationToken cancellationToken = default)
    {
        Prepare();
        var p = _prepared!;
        var clock = Stopwatch.StartNew();
        // Without Resume the folder is new or empty (checked by Prepare). With Resume an existing results.json stays
        // valid while this run is in progress: the checkpoints can only continue the same trajectory, and a folder
        // with results.json holds completed models, which a resume does not train further.
        Directory.CreateDirectory(p.Output);

        var results = Options.ModelWorker is { } worker && Options.OnlyModel is null
            ? RunThroughWorker(p, worker, cancellationToken)
            : RunInProcess(p, cancellationToken);
        if (results is null) return null;

        var experiment = new ExperimentResult(Preset.Name, Preset.Data.Describe(), Preset.Steps, Preset.BatchSize,
            Preset.Seed, Options.Device, clock.Elapsed.TotalSeconds, results);
        // One model of a parallel run: its folder and evaluation are the output; the parent writes the summary.
        if (Options.OnlyModel is not null) return experiment;
        AtomicFile.WriteAllBytes(Path.Combine(p.Output, ExperimentResult.MarkdownFileName),
            Encoding.UTF8.GetBytes(experiment.ToMarkdown()));
        if (Options.Plot)
        {
            var series = p.Models.Select(m => new MetricsSeries(m.Model.Key,
                MetricsPlot.Read(Path.Combine(p.Output, m.Model.Key, MetricsWriter.JsonLinesFileName)))).ToList();
            byte[] png = MetricsPlot.RenderPng(series, $"{Preset.Name}: training curves");
            AtomicFile.WriteAllBytes(Path.Combine(p.Output, ExperimentResult.CurvesFileName), png);
        }
        AtomicFile.WriteAllBytes(Path.Combine(p.Output, ExperimentResult.JsonFileName),
            Encoding.UTF8.GetBytes(experiment.ToJson()));
        return experiment;
    }

    // The models one after the other on this thread (all of them, or OnlyModel).
    private List<ModelResult>? RunInProcess(Prepared p, CancellationToken cancellationToken)
    {
        var results = new List<ModelResult>();
        for (int i = 0; i < p.Models.Count; i++)
        {
            if (Options.OnlyModel is { } only && p.Models[i].Model.Key != only) continue;
            var result = RunModel(p, i, cancellationToken);
            if (result is null) return null;
            results.Add(result);
            _progress?.Report(new ExperimentProgress(ExperimentStage.ModelFinished, result.Key, i, p.Models.Count,
                result.Steps, Model: result));
        }
        return results;
    }

    // Every model through the worker, ParallelModels at a time; results in the experiment's order. The first failure
    // cancels the other models (their checkpoints stay, so --resume continues them) and is rethrown once all stopped.
    private List<ModelResult>? RunThroughWorker(Prepared p, IExperimentModelWorker worker, CancellationToken cancellationToken)
    {
        var results = new ModelResult?[p.Models.Count];
        var reportLock = new Lock();
        var relay = new SyncProgress<ExperimentProgress>(e =>
        {
            lock (reportLock) _progress?.Report(e);
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var slots = new SemaphoreSlim(Math.Min(Options.ParallelModels, p.Models.Count));
        Exception? failure = null;
        // Dedicated threads, not the thread pool: each one only waits on its model for minutes.
        var threads = Enumerable.Range(0, p.Models.Count).Select(i => new Thread(() =>
        {
            try
            {
                slots.Wait(stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                results[i] = worker.Run(p.Models[i].Model.Key, relay, stop.Token);
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref failure, ex, null);
                stop.Cancel();
            }
            finally
            {
                slots.Release();
            }
        }) { IsBackground = true, Name = $"experiment model {p.Models[i].Model.Key}" }).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        if (cancellationToken.IsCancellationRequested || results.Any(r => r is null)) return null;
        return [.. results.Select(r => r!)];
    }

    private ModelResult? RunModel(Prepared p, int index, CancellationToken cancellationToken)
    {
        var (model, spec, options) = p.Models[index];
        int count = p.Models.Count;
        long total = options.TotalSteps(p.Data.Train.Count);
        _progress?.Report(new ExperimentProgress(ExperimentStage.ModelStarting, model.Key, index, count, total));

        double stepSeconds = 0;
        long stepsRun = 0;
        var relay = new SyncProgress<TrainingProgress>(t =>
        {
            if (t.Split == "train" && t.ImagesPerSecond > 0)
            {
                stepSeconds += options.BatchSize / t.ImagesPerSecond;
                stepsRun++;
            }
            _progress?.Report(new ExperimentProgress(ExperimentStage.Training, model.Key, index, count, total, t));
        });

        Trainer.SeedTorch(Preset.Seed);
        using var network = CreateNetwork(spec, Preset.RecomputeInBackward, Preset.ComputeDtype);
        long parameters = network.ParameterCount();
        var trainer = new Trainer(options, relay);
        var clock = Stopwatch.StartNew();
        var fit = trainer.Fit(network, p.Data.Train, p.Data.Validation, cancellationToken);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        if (!fit.Completed) return null;

        string folder = options.OutputFolder!;
        string evaluationPath = Path.Combine(folder, EvaluationFileName);
        if (fit.ResumedFromStep == total && TryReadEvaluation(evaluationPath, total) is { } saved)
            return saved;

        var evaluations = new List<NamedEvaluation>();
        foreach (var set in p.Data.Tests)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _progress?.Report(new ExperimentProgress(ExperimentStage.Evaluating, model.Key, index, count, total,
                EvaluationName: set.Name, ImageSize: set.ImageSize));
            foreach (var augmentation in Preset.AugmentsTest(set.Name)
                         ? new[] { TestTimeAugmentation.None, Preset.TestTimeAugmentation }
                         : [TestTimeAugmentation.None])
            {
                var r = trainer.Evaluate(network, set.Dataset, augmentation);
                var named = new NamedEvaluation(set.Name, set.ImageSize, r.Loss, r.Accuracy, r.Count,
                    augmentation == TestTimeAugmentation.None ? null : augmentation.ToName());
                evaluations.Add(named);
                _progress?.Report(new ExperimentProgress(ExperimentStage.Evaluated, model.Key, index, count, total,
                    EvaluationName: set.Name, ImageSize: set.ImageSize, Evaluation: named));
            }
        }
        var result = new ModelResult(model.Key, model.Preset, parameters, model.LearningRate, fit.Step, trainSeconds,
            stepsRun > 0 ? stepSeconds / stepsRun : null, fit.BestValidationAccuracy, fit.BestStep,
            fit.LastValidation?.Accuracy, evaluations, fit.SymmetryCurriculum?.StageSteps);
        AtomicFile.WriteAllBytes(evaluationPath, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(result, EvaluationJson)));
        return result;
    }

    private static readonly JsonSerializerOptions EvaluationJson = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private static ModelResult? TryReadEvaluation(string path, long total)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var saved = JsonSerializer.Deserialize<ModelResult>(File.ReadAllText(path), EvaluationJson);
            return saved is not null && saved.Steps == total ? saved : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record Prepared(string Output, ExperimentData Data,
        IReadOnlyList<(ExperimentModel Model, ModelSpec Spec, TrainerOptions Options)> Models);

    /// <summary>The model of <paramref name="spec"/>, its pLSTM 2D layers recomputing their path sums in backward when
    /// <paramref name="recompute"/> (<see cref="ExperimentPreset.RecomputeInBackward"/>), computing in
    /// <paramref name="computeDtype"/> (<see cref="ExperimentPreset.ComputeDtype"/>).</summary>
    internal static Models.VisionModel CreateNetwork(ModelSpec spec, bool recompute,
        TorchSharp.torch.ScalarType? computeDtype = null)
    {
        var network = spec.Create();
        network.ComputeDtype = computeDtype;
        if (recompute)
            foreach (var layer in network.modules().OfType<Layers.Plstm2DLayer>()) layer.RecomputeInBackward = true;
        return network;
    }
}

/// <summary>An <see cref="IProgress{T}"/> that calls its handler synchronously on the reporting thread (unlike
/// <see cref="Progress{T}"/>, which posts to a synchronisation context or the thread pool).</summary>
public sealed class SyncProgress<T> : IProgress<T>
{
    private readonly Action<T> _handler;

    /// <summary>Creates the relay.</summary>
    public SyncProgress(Action<T> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _handler = handler;
    }

    /// <inheritdoc />
    public void Report(T value) => _handler(value);
}
