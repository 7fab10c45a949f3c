using System.Globalization;
using static Plstm.Cli.Commands.OptionChecks;
using Plstm.Data.Text;
using Plstm.Models.Language;
using Plstm.Training;
using Plstm.Training.Language;

namespace Plstm.Cli.Training;

/// <summary>
/// Turns <see cref="LanguageModelTrainSettings"/> into a checked run of <c>plstm train lm</c>: the preset, the loaded
/// corpus and the trainer options, with the defaults applied. Reads the text file but writes nothing, so a bad input
/// never leaves an output folder behind. Problems are <see cref="CliUsageException"/>s naming the option.
/// </summary>
public sealed record LanguageModelTrainPlan
{
    /// <summary>Default preset.</summary>
    public const string DefaultPreset = "lm_tiny";

    /// <summary>Default steps when neither <c>--steps</c> nor <c>--time-budget</c> is given.</summary>
    public const long DefaultSteps = 1_000;

    /// <summary>Default windows per batch.</summary>
    public const int DefaultBatchSize = 16;

    /// <summary>Default context in bytes (the transformer presets' maximal context).</summary>
    public const int DefaultContext = 256;

    /// <summary>Default peak learning rate.</summary>
    public const double DefaultLearningRate = 2e-3;

    /// <summary>Default weight decay.</summary>
    public const double DefaultWeightDecay = 0.1;

    /// <summary>Warm-up of a run without a step limit (time budget only).</summary>
    public const long DefaultBudgetWarmup = 100;

    /// <summary>The preset.</summary>
    public required LanguageModelPreset Preset { get; init; }

    /// <summary>The text.</summary>
    public required ByteCorpus Corpus { get; init; }

    /// <summary>The trainer options (output folder, resume and run configuration included).</summary>
    public required LanguageModelTrainingOptions Options { get; init; }

    /// <summary>The run configuration stored in every checkpoint.</summary>
    public required LanguageModelRunConfig RunConfig { get; init; }

    /// <summary>The output folder (full path).</summary>
    public required string OutputFolder { get; init; }

    /// <summary>libtorch threads to set, or null for libtorch's default.</summary>
    public int? Threads { get; init; }

    /// <summary>Checks the settings, loads the text and builds the plan.</summary>
    /// <exception cref="CliUsageException">Any invalid setting or input file.</exception>
    public static LanguageModelTrainPlan Build(LanguageModelTrainSettings s)
    {
        ArgumentNullException.ThrowIfNull(s);
        CheckValues(s);
        string presetName = s.Preset ?? DefaultPreset;
        if (!LanguageModelRegistry.TryGet(presetName, out var preset))
            throw new CliUsageException(
                $"Unknown language-model preset '{presetName}'. Known presets: {string.Join(", ", LanguageModelRegistry.Names)}.");
        int context = s.Context ?? DefaultContext;
        if (preset.MaxContext is int max && context > max)
            throw new CliUsageException($"--context {context} exceeds {preset.Name}'s maximal context {max}.");

        double? budget = null;
        if (s.TimeBudget is not null)
            budget = Duration.TryParseSeconds(s.TimeBudget)
                ?? throw new CliUsageException(
                    $"--time-budget must be a positive duration such as 600, 90s, 10m or 1h30m (got '{s.TimeBudget}').");
        long steps = s.Steps ?? (budget is null ? DefaultSteps : LanguageModelTrainingOptions.UnboundedSteps);
        long warmup = s.Warmup
            ?? (steps == LanguageModelTrainingOptions.UnboundedSteps ? DefaultBudgetWarmup : (long)Math.Round(steps * 0.05));
        if (warmup > steps) throw new CliUsageException($"--warmup {warmup} exceeds --steps {steps}.");
        if (s.StopAfter is long stopAfter && stopAfter > steps)
            throw new CliUsageException($"--stop-after {stopAfter} exceeds --steps {steps}.");

        string device = s.Device ?? "cpu";
        try
        {
            TrainingDevice.Resolve(device);
        }
        catch (ArgumentException ex)
        {
            throw new CliUsageException($"--device '{device}': {PlainMessage(ex)}", ex);
        }

        var corpus = LoadCorpus(s.Data);
        string output = Path.GetFullPath(s.Out ?? Path.Combine("runs", $"lm-{preset.Name}"));
        CheckOutput(output, s.Resume, preset);

        long evalEvery = s.EvalEvery ?? 250;
        var runConfig = LanguageModelRunConfig.Create(preset, context, corpus);
        var options = new LanguageModelTrainingOptions
        {
            Trainer = new TrainerOptions
            {
                Steps = steps,
                BatchSize = s.BatchSize ?? DefaultBatchSize,
                PeakLearningRate = s.Lr ?? DefaultLearningRate,
                WarmupSteps = warmup,
                WeightDecay = s.WeightDecay ?? DefaultWeightDecay,
                GradientClip = s.Clip ?? 1.0,
                Seed = s.Seed ?? 0,
                Device = device,
                EvalEverySteps = evalEvery,
                CheckpointEverySteps = s.CheckpointEvery ?? evalEvery,
                LogEverySteps = s.LogEvery ?? 10,
                SyncEverySteps = s.SyncEvery,
                StopAfterSteps = s.StopAfter,
                OutputFolder = output,
                Resume = s.Resume,
                RunConfigJson = runConfig.ToJson(),
            },
            SequenceLength = context,
            EvalBatches = s.EvalBatches ?? 16,
            TimeBudgetSeconds = budget,
        };
        try
        {
            options.Validate();
            new LanguageModelTrainer(options).CheckCorpus(corpus);
        }
        catch (ArgumentException ex)
        {
            throw new CliUsageException($"--data: {PlainMessage(ex)}", ex);
        }
        return new LanguageModelTrainPlan
        {
            Preset = preset,
            Corpus = corpus,
            Options = options,
            RunConfig = runConfig,
            OutputFolder = output,
            Threads = s.Threads,
        };
    }

    /// <summary>An exception's message without the <c> (Parameter 'x')</c> suffix that <see cref="ArgumentException"/>
    /// appends.</summary>
    public static string PlainMessage(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        string message = ex.Message;
        if (ex is ArgumentException { ParamName: { } name })
        {
            string suffix = $" (Parameter '{name}')";
            if (message.EndsWith(suffix, StringComparison.Ordinal)) message = message[..^suffix.Length];
        }
        return message;
    }

    private static ByteCorpus LoadCorpus(string? data)
    {
        try
        {
            if (data is null) return ByteCorpus.LoadTinyShakespeare();
            if (string.IsNullOrWhiteSpace(data)) throw new CliUsageException("--data must name a text file.");
            if (Directory.Exists(data))
                throw new CliUsageException($"--data '{data}' is a folder; give a UTF-8 text file.");
            return ByteCorpus.Load(data);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"--data: {PlainMessage(ex)}", ex);
        }
    }

    private static void CheckOutput(string output, bool resume, LanguageModelPreset preset)
    {
        if (File.Exists(output)) throw new CliUsageException($"--out '{output}' is a file, not a folder.");
        if (!Directory.Exists(output) || !Directory.EnumerateFileSystemEntries(output).Any()) return;
        if (!resume)
            throw new CliUsageException(
                $"Output folder '{output}' already exists and is not empty; add --resume to continue it or choose another --out.");
        string last = Path.Combine(output, TrainingCheckpoint.LastFileName);
        if (!File.Exists(last)) return;
        LanguageModelRunConfig saved;
        try
        {
            saved = LanguageModelRunConfig.FromJson(TrainingCheckpoint.ReadConfigJson(last) ?? "{}", $"--resume: '{last}'");
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            throw new CliUsageException(PlainMessage(ex), ex);
        }
        if (!string.Equals(saved.Preset, preset.Name, StringComparison.OrdinalIgnoreCase))
            throw new CliUsageException(
                $"--resume: the run in '{output}' trains {saved.Preset}, not {preset.Name}; give --preset {saved.Preset}.");
    }

    private static void CheckValues(LanguageModelTrainSettings s)
    {
        if (s.Steps is long steps) Require(steps >= 1, "steps", steps, "≥ 1");
        if (s.BatchSize is int batch) Require(batch >= 1, "batch-size", batch, "≥ 1");
        if (s.Context is int context) Require(context >= 1, "context", context, "≥ 1");
        if (s.Lr is double lr) Require(lr > 0 && double.IsFinite(lr), "lr", lr, "a positive number");
        if (s.Warmup is long warmup) Require(warmup >= 0, "warmup", warmup, "≥ 0");
        if (s.WeightDecay is double wd) Require(wd >= 0 && double.IsFinite(wd), "weight-decay", wd, "≥ 0");
        if (s.Clip is double clip) Require(clip >= 0 && double.IsFinite(clip), "clip", clip, "≥ 0 (0 = off)");
        if (s.Seed is long seed) Require(seed >= 0, "seed", seed, "≥ 0");
        if (s.EvalEvery is long evalEvery) Require(evalEvery >= 0, "eval-every", evalEvery, "≥ 0 (0 = only at the end)");
        if (s.EvalBatches is int evalBatches) Require(evalBatches >= 1, "eval-batches", evalBatches, "≥ 1");
        if (s.CheckpointEvery is long ckpt) Require(ckpt >= 0, "checkpoint-every", ckpt, "≥ 0 (0 = only at the end)");
        if (s.LogEvery is long log) Require(log >= 1, "log-every", log, "≥ 1");
        if (s.SyncEvery is int sync) Require(sync >= 1, "sync-every", sync, "≥ 1");
        if (s.StopAfter is long stop) Require(stop >= 1, "stop-after", stop, "≥ 1");
        if (s.Threads is int threads) Require(threads >= 1, "threads", threads, "≥ 1");
        if (s.Device is not null) Require(!string.IsNullOrWhiteSpace(s.Device), "device", "''", "cpu, cuda or cuda:N");
        if (s.Out is not null) Require(!string.IsNullOrWhiteSpace(s.Out), "out", "''", "a folder");
    }
}
