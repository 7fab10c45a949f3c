using System.Globalization;
using static Plstm.Cli.Commands.OptionChecks;
using Plstm.Experiments;
using Plstm.Models;
using Plstm.Training;

namespace Plstm.Cli.Training;

/// <summary>
/// Turns <see cref="TrainSettings"/> (config file + command line) into the experiment to run and its run options:
/// a named experiment, or a custom run of one model preset on <c>arrows</c> (the <c>ape-small</c> recipe and data),
/// <c>fashion-mnist</c> (the <c>fashion-mnist</c> recipe) or a folder (<see cref="FolderBase"/>), with the overrides
/// applied. Every value is checked here; problems are <see cref="CliUsageException"/>s naming the option.
/// </summary>
public static class TrainPlan
{
    /// <summary>The recipe of custom runs on a data folder.</summary>
    public static ExperimentPreset FolderBase { get; } = new()
    {
        Name = "folder",
        Description = "image classification on a data folder",
        Data = new ExperimentDataSpec { Kind = ExperimentDataKind.Folder },
        Models = [new ExperimentModel("model", "plstm_vit_tiny", 1e-3)],
        Steps = 1_000,
        BatchSize = 32,
        WarmupSteps = 50,
        EvalEverySteps = 250,
        CheckpointEverySteps = 250,
        LogEverySteps = 10,
        Seed = 0,
    };

    /// <summary>Builds the plan.</summary>
    /// <exception cref="CliUsageException">Conflicting or invalid settings.</exception>
    public static (ExperimentPreset Preset, ExperimentRunOptions Options) Build(TrainSettings s)
    {
        ArgumentNullException.ThrowIfNull(s);
        CheckValues(s);
        var preset = s.Experiment is not null ? FromExperiment(s) : FromModel(s);

        long steps = s.Steps ?? preset.Steps;
        long warmup = s.Warmup
            ?? (s.Steps is null ? preset.WarmupSteps : (long)Math.Round(preset.WarmupSteps * (double)steps / preset.Steps));
        if (warmup > steps)
            throw new CliUsageException($"--warmup {warmup} exceeds --steps {steps}.");
        var data = preset.Data;
        if (s.TrainCount is int train) data = data with { TrainCount = train };
        if (s.EvalCount is int eval) data = data with { ValidationCount = eval, TestCount = eval };
        if (s.Seed is long seed && data.Kind == ExperimentDataKind.Arrows) data = data with { TrainSeed = seed };
        if (s.Scale is double scale)
        {
            if (data.Kind != ExperimentDataKind.Arrows)
                throw new CliUsageException("--scale applies to arrow-pointing data only.");
            data = data with { ArrowScale = scale };
        }
        if (s.ArrowInput is string input)
        {
            if (data.Kind != ExperimentDataKind.Arrows)
                throw new CliUsageException("--arrow-input applies to arrow-pointing data only.");
            data = data with { ArrowInk = input == "ink" };
        }
        if (s.SymmetryCurriculum is > 0 && data.Kind != ExperimentDataKind.Arrows)
            throw new CliUsageException("--symmetry-curriculum applies to arrow-pointing data only (it needs images whose label survives flips and transposes).");
        if (s.DataDir is not null)
        {
            if (data.Kind != ExperimentDataKind.FashionMnist)
                throw new CliUsageException("--data-dir applies to fashion-mnist only (give a data folder with --data DIR).");
            data = data with { Folder = s.DataDir };
        }
        var models = preset.Models.Select(m => m with
        {
            LearningRate = s.Lr ?? m.LearningRate,
            PatchSize = s.PatchSize ?? m.PatchSize,
            ConvStemWidth = s.ConvStem ?? m.ConvStemWidth,
            ConvStemKind = s.ConvStemKind is string kind ? ParseStemKind(kind.Trim().ToLowerInvariant()) : m.ConvStemKind,
        }).ToArray();

        preset = preset with
        {
            Data = data,
            Models = models,
            Steps = steps,
            WarmupSteps = warmup,
            BatchSize = s.BatchSize ?? preset.BatchSize,
            EvalBatchSize = s.EvalBatchSize ?? preset.EvalBatchSize,
            WeightDecay = s.WeightDecay ?? preset.WeightDecay,
            GradientClip = s.Clip ?? preset.GradientClip,
            LabelSmoothing = s.LabelSmoothing ?? preset.LabelSmoothing,
            RandomCropPadding = s.RandomCrop ?? preset.RandomCropPadding,
            HorizontalFlipProbability = s.HorizontalFlip ?? preset.HorizontalFlipProbability,
            SymmetryCurriculumThreshold = s.SymmetryCurriculum ?? preset.SymmetryCurriculumThreshold,
            SymmetryCurriculumWindow = s.CurriculumWindow ?? preset.SymmetryCurriculumWindow,
            EmaDecay = s.EmaDecay ?? preset.EmaDecay,
            TestTimeAugmentation = s.Tta is string tta ? TestTimeAugmentationNames.Parse(tta) : preset.TestTimeAugmentation,
            Seed = s.Seed ?? preset.Seed,
            EvalEverySteps = s.EvalEvery ?? preset.EvalEverySteps,
            CheckpointEverySteps = s.CheckpointEvery ?? preset.CheckpointEverySteps,
            LogEverySteps = s.LogEvery ?? preset.LogEverySteps,
            SyncEverySteps = s.SyncEvery ?? preset.SyncEverySteps,
            RecomputeInBackward = s.Recompute ?? preset.RecomputeInBackward,
            ComputeDtype = s.ComputeDtype is { } computeDtype
                ? Commands.OptionChecks.ComputeDtype(computeDtype, "compute_dtype") : preset.ComputeDtype,
        };
        if (preset.SyncEverySteps > 1 && preset.SymmetryCurriculumThreshold > 0)
            throw new CliUsageException(
                $"--sync-every must be 1 with the symmetry curriculum, which reads every step's accuracy before the next "
                + $"(got {preset.SyncEverySteps}; --symmetry-curriculum 0 turns the curriculum off).");
        try
        {
            preset.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new CliUsageException(ex.Message, ex);
        }

        string device = s.Device ?? "cpu";
        try
        {
            TrainingDevice.Resolve(device);
        }
        catch (ArgumentException ex)
        {
            throw new CliUsageException($"--device '{device}': {ex.Message}", ex);
        }
        string output = s.Out ?? Path.Combine("runs", preset.Name);
        if (string.IsNullOrWhiteSpace(output)) throw new CliUsageException("--out must name a folder.");
        return (preset, new ExperimentRunOptions
        {
            OutputFolder = output,
            Device = device,
            Resume = s.Resume ?? false,
            Plot = s.Plot ?? true,
        });
    }

    private static ExperimentPreset FromExperiment(TrainSettings s)
    {
        if (s.Preset is not null)
            throw new CliUsageException($"Give an experiment ('{s.Experiment}') or --preset, not both.");
        if (!ExperimentRegistry.TryGet(s.Experiment!, out var preset))
            throw new CliUsageException(
                $"Unknown experiment '{s.Experiment}'. Known experiments: {string.Join(", ", ExperimentRegistry.Names)}; "
                + "or train one model with --preset MODEL --data DATA.");
        if (s.Data is not null)
            throw new CliUsageException(
                $"--data is for --preset runs; experiment '{preset.Name}' brings its own data.");
        return preset;
    }

    private static ExperimentPreset FromModel(TrainSettings s)
    {
        if (s.Preset is null)
            throw new CliUsageException(
                $"Name an experiment ({string.Join(", ", ExperimentRegistry.Names)}) or give --preset MODEL --data DATA.");
        if (!ModelRegistry.TryGet(s.Preset, out var model))
            throw new CliUsageException(
                $"Unknown model preset '{s.Preset}'. Known presets: {string.Join(", ", ModelRegistry.Names)}.");
        if (string.IsNullOrWhiteSpace(s.Data))
            throw new CliUsageException("--preset needs --data arrows|fashion-mnist|DIR.");
        string data = s.Data.Trim();
        ExperimentPreset basis;
        string kind;
        if (string.Equals(data, "arrows", StringComparison.OrdinalIgnoreCase))
            (basis, kind) = (ExperimentRegistry.Get("ape-small"), "arrows");
        else if (string.Equals(data, "fashion-mnist", StringComparison.OrdinalIgnoreCase))
            (basis, kind) = (ExperimentRegistry.Get("fashion-mnist"), "fashion-mnist");
        else
            (basis, kind) = (FolderBase with { Data = FolderBase.Data with { Folder = data } }, "folder");
        var like = basis.Models.FirstOrDefault(m => m.Preset == model.Name) ?? basis.Models[0];
        return basis with
        {
            Name = $"{model.Name}-{kind}",
            Description = $"{model.Name} on {(kind == "folder" ? data : kind)}",
            // The recipe's model settings (learning rate, patch, stem), under this preset's name.
            Models = [like with { Key = model.Name, Preset = model.Name }],
        };
    }

    private static ConvStemKind ParseStemKind(string kind) => kind switch
    {
        "maxpool" => ConvStemKind.MaxPool,
        "strided" => ConvStemKind.Strided,
        _ => throw new CliUsageException($"--conv-stem-kind must be maxpool or strided (got {kind})."),
    };

    private static void CheckValues(TrainSettings s)
    {
        if (s.Steps is long steps) Require(steps >= 1, "steps", steps, "≥ 1");
        if (s.BatchSize is int batch) Require(batch >= 1, "batch-size", batch, "≥ 1");
        if (s.EvalBatchSize is int evalBatch) Require(evalBatch >= 1, "eval-batch-size", evalBatch, "≥ 1");
        if (s.Lr is double lr) Require(lr > 0 && double.IsFinite(lr), "lr", lr, "a positive number");
        if (s.Warmup is long warmup) Require(warmup >= 0, "warmup", warmup, "≥ 0");
        if (s.WeightDecay is double wd) Require(wd >= 0 && double.IsFinite(wd), "weight-decay", wd, "≥ 0");
        if (s.Clip is double clip) Require(clip >= 0 && double.IsFinite(clip), "clip", clip, "≥ 0 (0 = off)");
        if (s.LabelSmoothing is double smoothing)
            Require(smoothing >= 0 && smoothing < 1, "label-smoothing", smoothing, "in [0, 1)");
        if (s.RandomCrop is int crop) Require(crop >= 0, "random-crop", crop, "≥ 0 (0 = off)");
        if (s.HorizontalFlip is double flip) Require(flip >= 0 && flip <= 1, "hflip", flip, "in [0, 1] (0 = off)");
        if (s.SymmetryCurriculum is double sc)
            Require(sc >= 0 && sc <= 1, "symmetry-curriculum", sc, "in [0, 1] (0 = off)");
        if (s.CurriculumWindow is int cw) Require(cw >= 1, "curriculum-window", cw, "≥ 1");
        if (s.EmaDecay is double ema) Require(ema >= 0 && ema < 1, "ema-decay", ema, "in [0, 1) (0 = off)");
        if (s.Tta is string tta)
            Require(TestTimeAugmentationNames.TryParse(tta, out _), "tta", tta, "none, flips or d4");
        if (s.ArrowInput is string ai) Require(ai is "ink" or "imagenet", "arrow-input", ai, "ink or imagenet");
        if (s.Seed is long seed) Require(seed >= 0, "seed", seed, "≥ 0");
        if (s.EvalEvery is long evalEvery) Require(evalEvery >= 0, "eval-every", evalEvery, "≥ 0 (0 = only at the end)");
        if (s.CheckpointEvery is long ckpt) Require(ckpt >= 0, "checkpoint-every", ckpt, "≥ 0 (0 = only at the end)");
        if (s.LogEvery is long log) Require(log >= 1, "log-every", log, "≥ 1");
        if (s.SyncEvery is int sync) Require(sync >= 1, "sync-every", sync, "≥ 1");
        if (s.TrainCount is int train) Require(train >= 1, "train-count", train, "≥ 1");
        if (s.EvalCount is int eval) Require(eval >= 0, "eval-count", eval, "≥ 0");
        if (s.Scale is double scale) Require(scale >= 1 && double.IsFinite(scale), "scale", scale, "a number ≥ 1");
        if (s.PatchSize is int patch) Require(patch >= 1, "patch-size", patch, "≥ 1");
        if (s.ConvStem is int stem) Require(stem >= 0, "conv-stem", stem, "≥ 0 (0 = the linear patch projection)");
        if (s.Threads is int threads) Require(threads >= 1, "threads", threads, "≥ 1");
        if (s.ParallelModels is int parallel) Require(parallel >= 1, "parallel-models", parallel, "≥ 1");
        if (s.Experiment is not null) Require(!string.IsNullOrWhiteSpace(s.Experiment), "experiment", "''", "a name");
        if (s.Device is not null) Require(!string.IsNullOrWhiteSpace(s.Device), "device", "''", "cpu, cuda or cuda:N");
    }
}
