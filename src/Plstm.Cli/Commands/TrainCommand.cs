using System.CommandLine;
using System.Globalization;
using Plstm.Cli.Training;
using Plstm.Experiments;
using Plstm.Training;

namespace Plstm.Cli.Commands;

/// <summary>
/// <c>plstm train EXPERIMENT</c> or <c>plstm train --preset MODEL --data arrows|fashion-mnist|DIR</c>: trains every
/// model of the experiment (each in <c>OUT/&lt;model&gt;/</c>), evaluates them, prints the results table and writes
/// <c>results.md</c>, <c>curves.png</c> and, last, <c>results.json</c> (<see cref="ExperimentRunner"/>). Settings come
/// from the experiment, then a <c>--config</c> file (JSON or YAML), then the command line.
/// </summary>
/// <remarks>Everything is checked before <c>--out</c> is created, so a bad input leaves no output folder.</remarks>
public sealed class TrainCommand : IVerb
{
    /// <summary>Exit code when the run was interrupted (Ctrl+C): checkpoints are saved, <c>--resume</c> continues.</summary>
    public const int Interrupted = 130;

    /// <inheritdoc />
    public Command Create()
    {
        var experiment = new Argument<string?>("EXPERIMENT")
        {
            Description = $"Experiment to run: {string.Join(", ", ExperimentRegistry.Names)} (or use --preset and --data).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var preset = new Option<string?>("--preset") { Description = "Train one model preset (see 'plstm models') instead of an experiment." };
        var data = new Option<string?>("--data") { Description = "Data of a --preset run: arrows (ape-small's), fashion-mnist, or a folder (IDX files, or DIR/train/<class>/*.png with optional val/ and test/)." };
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder holding the Fashion-MNIST IDX files (default: $PLSTM_DATA, ../shared/data, /usr/share/datasets)." };
        var steps = new Option<long?>("--steps") { Description = "Optimiser steps per model." };
        var batchSize = new Option<int?>("--batch-size") { Description = "Training batch size." };
        var evalBatchSize = new Option<int?>("--eval-batch-size") { Description = "Evaluation batch size." };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate (every model)." };
        var warmup = new Option<long?>("--warmup") { Description = "Warm-up steps (default: the experiment's warm-up share of the steps)." };
        var weightDecay = new Option<double?>("--weight-decay") { Description = "Decoupled weight decay." };
        var clip = new Option<double?>("--clip") { Description = "Global gradient-norm clip (0 = off)." };
        var labelSmoothing = new Option<double?>("--label-smoothing") { Description = "Label smoothing ε in [0, 1) (fashion-mnist: 0.1)." };
        var randomCrop = new Option<int?>("--random-crop") { Description = "Random crop of training images: pad each side by P pixels (black), crop back at a random offset; 0 = off (fashion-mnist: 2)." };
        var hflip = new Option<double?>("--hflip") { Description = "Probability of mirroring a training image left-right; 0 = off (fashion-mnist: 0.5)." };
        var symmetryCurriculum = new Option<double?>("--symmetry-curriculum") { Description = "Arrows: symmetry curriculum threshold A in (0, 1] (train on canonically turned images, release one symmetry whenever a window's mean training accuracy reaches A); 0 = off (ape-small: 0.75)." };
        var curriculumWindow = new Option<int?>("--curriculum-window") { Description = "Steps per window of the symmetry curriculum (ape-small: 100)." };
        var emaDecay = new Option<double?>("--ema-decay") { Description = "Validate, save and test an exponential moving average of the weights with this decay in [0, 1), e.g. 0.998; 0 = off." };
        var tta = new Option<string?>("--tta") { Description = "Also score every test split with class probabilities averaged over symmetric views: none, flips (4 views) or d4 (the square's 8 symmetries; ape presets). Both numbers are reported." };
        tta.AcceptOnlyFromAmong([.. TestTimeAugmentationNames.All]);
        var arrowInput = new Option<string?>("--arrow-input") { Description = "Arrows: ink (background 0, strokes -1; ape-small) or imagenet (the paper's statistics; ape)." };
        arrowInput.AcceptOnlyFromAmong("ink", "imagenet");
        var seed = new Option<long?>("--seed") { Description = "Run seed (initialisation, data order; arrows: also the training set's seed)." };
        var device = new Option<string?>("--device") { Description = "cpu (default), cuda or cuda:N." };
        var evalEvery = new Option<long?>("--eval-every") { Description = "Validate every N steps (0 = only at the end)." };
        var checkpointEvery = new Option<long?>("--checkpoint-every") { Description = "Write last.ckpt every N steps (0 = only at the end)." };
        var logEvery = new Option<long?>("--log-every") { Description = "Progress line and metrics every N steps." };
        var syncEvery = new Option<int?>("--sync-every") { Description = "Read the training numbers (loss, accuracy, gradient norm) from the device every N steps, so the host can queue the next steps meanwhile (default: 10 on CUDA, 1 on the CPU and with the symmetry curriculum, which needs 1)." };
        var trainCount = new Option<int?>("--train-count") { Description = "Training images (arrows: generated; files: a subset)." };
        var evalCount = new Option<int?>("--eval-count") { Description = "Images of the validation set and of each test set." };
        var scale = new Option<double?>("--scale") { Description = "Arrow pointing: divide the paper's sizes by this factor (ape-small: 3)." };
        var patchSize = new Option<int?>("--patch-size") { Description = "Patch size of every model." };
        var convStem = new Option<int?>("--conv-stem") { Description = "Width of a convolutional stem before every model's patch projection (0 = the reference's linear projection; needs a power-of-two patch size)." };
        var convStemKind = new Option<string?>("--conv-stem-kind") { Description = "How the convolutional stem halves the resolution: maxpool (3×3 conv, 2×2 max-pool) or strided (3×3 conv with stride 2)." };
        var config = new Option<string?>("--config") { Description = "Settings file (JSON or YAML) with keys named like these options, e.g. steps, batch_size, lr; options given here win." };
        var output = new Option<string?>("--out") { Description = "Output folder (default runs/<experiment>); must not exist or be empty unless --resume." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last checkpoints." };
        var noPlot = new Option<bool>("--no-plot") { Description = "Do not write curves.png." };
        var threads = OptionChecks.ThreadsOption();
        var tf32 = OptionChecks.Tf32Option();
        var recompute = new Option<bool>("--recompute")
        {
            Description = "Every pLSTM layer keeps only its gates for backward and recomputes the rest there: less memory "
                + "(pLSTM-ViT-T at 1024 px on an H200: 19 instead of 52 GiB at batch 8), about 11-14 % slower on large images, same result.",
        };
        var computeDtype = new Option<string?>("--compute-dtype")
        {
            Description = "Mixed precision, as autocast: the models compute in bfloat16 or float16 while their parameters "
                + "and the optimiser's state stay float32 (float32, the default, computes in float32). Mainly for CUDA.",
        };
        computeDtype.AcceptOnlyFromAmong(OptionChecks.ComputeDtypeNames);
        var parallelModels = new Option<int?>("--parallel-models")
        {
            Description = "Train this many of the experiment's models at once, each in a process of its own with its "
                + "share of the cores (default: on the CPU one per core, up to every model; on CUDA 1). 1 = one after "
                + "the other in this process.",
        };
        // A worker for one model of a parallel run: settings as JSON on standard input, progress as JSON lines.
        var modelWorker = new Option<string?>(ProcessModelWorker.WorkerOption) { Hidden = true };

        var train = new Command("train",
            "Train an experiment (ape-small, ape, fashion-mnist) or one model preset on some data; evaluate, print the "
            + "results table, write results.json, results.md and curves.png.")
        {
            experiment, preset, data, dataDir, steps, batchSize, evalBatchSize, lr, warmup, weightDecay, clip,
            labelSmoothing, randomCrop, hflip, symmetryCurriculum, curriculumWindow, emaDecay, tta, arrowInput, seed, device, evalEvery, checkpointEvery, logEvery, syncEvery, trainCount, evalCount, scale, patchSize, convStem, convStemKind, config, output,
            resume, noPlot, threads, tf32, recompute, computeDtype, parallelModels, modelWorker,
        };
        // Asynchronous (on a worker thread) so that Ctrl+C can cancel it: the trainer then saves last.ckpt and stops,
        // and the run can be resumed (PlstmApp gives it time to finish).
        train.SetAction((parseResult, cancellationToken) => Task.Run(() =>
        {
            if (parseResult.GetValue(modelWorker) is { } workerKey)
                return RunWorker(workerKey, Console.In.ReadToEnd(), parseResult.InvocationConfiguration.Output, cancellationToken);
            var flags = new TrainSettings
            {
                Experiment = parseResult.GetValue(experiment),
                Preset = parseResult.GetValue(preset),
                Data = parseResult.GetValue(data),
                DataDir = parseResult.GetValue(dataDir),
                Steps = parseResult.GetValue(steps),
                BatchSize = parseResult.GetValue(batchSize),
                EvalBatchSize = parseResult.GetValue(evalBatchSize),
                Lr = parseResult.GetValue(lr),
                Warmup = parseResult.GetValue(warmup),
                WeightDecay = parseResult.GetValue(weightDecay),
                Clip = parseResult.GetValue(clip),
                LabelSmoothing = parseResult.GetValue(labelSmoothing),
                RandomCrop = parseResult.GetValue(randomCrop),
                HorizontalFlip = parseResult.GetValue(hflip),
                SymmetryCurriculum = parseResult.GetValue(symmetryCurriculum),
                CurriculumWindow = parseResult.GetValue(curriculumWindow),
                EmaDecay = parseResult.GetValue(emaDecay),
                Tta = parseResult.GetValue(tta),
                ArrowInput = parseResult.GetValue(arrowInput),
                Seed = parseResult.GetValue(seed),
                Device = parseResult.GetValue(device),
                EvalEvery = parseResult.GetValue(evalEvery),
                CheckpointEvery = parseResult.GetValue(checkpointEvery),
                LogEvery = parseResult.GetValue(logEvery),
                SyncEvery = parseResult.GetValue(syncEvery),
                TrainCount = parseResult.GetValue(trainCount),
                EvalCount = parseResult.GetValue(evalCount),
                Scale = parseResult.GetValue(scale),
                PatchSize = parseResult.GetValue(patchSize),
                ConvStem = parseResult.GetValue(convStem),
                ConvStemKind = parseResult.GetValue(convStemKind),
                Out = parseResult.GetValue(output),
                Resume = parseResult.GetValue(resume) ? true : null,
                Plot = parseResult.GetValue(noPlot) ? false : null,
                Threads = parseResult.GetValue(threads),
                Tf32 = parseResult.GetValue(tf32) ? true : null,
                Recompute = parseResult.GetValue(recompute) ? true : null,
                ComputeDtype = parseResult.GetValue(computeDtype),
                ParallelModels = parseResult.GetValue(parallelModels),
            };
            string? configPath = parseResult.GetValue(config);
            var settings = configPath is null ? flags : TrainSettings.Load(configPath).Overlay(flags);
            return Run(settings, parseResult.InvocationConfiguration.Output, cancellationToken);
        }, CancellationToken.None));
        foreach (var sub in TrainSubcommands.All) train.Subcommands.Add(sub.Create());
        return train;
    }

    /// <summary>Runs the training described by <paramref name="settings"/>; returns the exit code.</summary>
    public static int Run(TrainSettings settings, TextWriter writer, CancellationToken cancellationToken)
    {
        var (preset, options) = TrainPlan.Build(settings);
        int parallel = ParallelModels(settings, preset, options.Device);
        string workers = "";
        if (parallel > 1)
        {
            // The parent only waits, relays progress and writes the summary; each model trains in its own process with
            // a fixed share of the cores, so its numbers do not depend on when the other models finish.
            int threadsEach = settings.Threads ?? Math.Max(1, Environment.ProcessorCount / parallel);
            var workerSettings = new TrainSettings().Overlay(settings);
            workerSettings.Out = Path.GetFullPath(options.OutputFolder);
            workerSettings.Threads = threadsEach;
            workerSettings.ParallelModels = null;
            workerSettings.Resume = null;
            options = options with { ModelWorker = new ProcessModelWorker(workerSettings), ParallelModels = parallel };
            workers = string.Create(CultureInfo.InvariantCulture,
                $"; {parallel} models at a time, one process each with {threadsEach} thread(s)");
        }
        else
        {
            ApplyProcessSettings(settings);
        }
        Action<ExperimentProgress>? sink = null;
        var runner = new ExperimentRunner(preset, options, new SyncProgress<ExperimentProgress>(p => sink?.Invoke(p)));
        OptionChecks.Usage(runner.Prepare);   // checks the run before anything is written

        var inv = CultureInfo.InvariantCulture;
        writer.WriteLine(string.Create(inv,
            $"{preset.Name}: {preset.Models.Count} model(s) × {preset.Steps} steps of {preset.BatchSize} on {options.Device}{(settings.Tf32 == true ? " (TF32 products)" : "")}{(preset.RecomputeInBackward ? " (recomputing in backward)" : "")}{(preset.ComputeDtype is { } compute ? $" ({compute.ToString().ToLowerInvariant()} compute, float32 parameters)" : "")}{workers}; {preset.Data.Describe()}{Regularisation(preset)}"));
        writer.WriteLine($"output: {Path.GetFullPath(options.OutputFolder)}{(options.Resume ? " (resuming)" : "")}");
        writer.Flush();

        var view = TrainingView.Create(writer, preset, CliContext.Interactive);
        var result = view.Run(progress =>
        {
            sink = progress.Report;
            return runner.Run(cancellationToken);
        });
        if (result is null)
        {
            writer.WriteLine(
                $"interrupted: checkpoints are in {Path.GetFullPath(options.OutputFolder)}; run the same command with --resume to continue.");
            writer.Flush();
            return Interrupted;
        }
        writer.WriteLine();
        writer.Write(result.ToMarkdown());
        writer.WriteLine();
        string folder = Path.GetFullPath(options.OutputFolder);
        writer.WriteLine($"results: {Path.Combine(folder, ExperimentResult.JsonFileName)}");
        writer.WriteLine($"table:   {Path.Combine(folder, ExperimentResult.MarkdownFileName)}");
        if (options.Plot) writer.WriteLine($"curves:  {Path.Combine(folder, ExperimentResult.CurvesFileName)}");
        writer.WriteLine(string.Create(inv, $"total time: {ExperimentResult.FormatDuration(result.WallSeconds)}"));
        writer.Flush();
        return PlstmApp.Success;
    }

    /// <summary>The process-wide settings of the process that trains: libtorch's thread count and cuBLAS's TF32 flag
    /// (off unless <see cref="TrainSettings.Tf32"/> is set).</summary>
    private static void ApplyProcessSettings(TrainSettings settings)
    {
        OptionChecks.ApplyThreads(settings.Threads);
        OptionChecks.ApplyTf32(settings.Tf32 == true);
    }

    /// <summary>
    /// Runs one model of a parallel run (<see cref="ProcessModelWorker"/>): the parent's settings from
    /// <paramref name="settingsJson"/>, the model's checkpoints resumed when present, progress as JSON lines on
    /// <paramref name="writer"/>; returns the exit code (<see cref="Interrupted"/> when cancelled).
    /// </summary>
    public static int RunWorker(string modelKey, string settingsJson, TextWriter writer, CancellationToken cancellationToken)
    {
        var settings = TrainSettings.FromJson(settingsJson, "worker settings");
        var (preset, options) = TrainPlan.Build(settings);
        ApplyProcessSettings(settings);
        var runner = new ExperimentRunner(preset, options with { OnlyModel = modelKey, Resume = true },
            new SyncProgress<ExperimentProgress>(p =>
            {
                writer.WriteLine(ExperimentProgressJson.ToLine(p));
                writer.Flush();
            }));
        OptionChecks.Usage(runner.Prepare);   // checks the run before anything is written
        return runner.Run(cancellationToken) is null ? Interrupted : PlstmApp.Success;
    }

    /// <summary>How many models train at once: <c>--parallel-models</c> (at most every model), else on the CPU one per
    /// core up to every model, on CUDA one (its kernels already fill the device).</summary>
    internal static int ParallelModels(TrainSettings settings, ExperimentPreset preset, string device)
    {
        if (settings.ParallelModels is int n) return Math.Min(n, preset.Models.Count);
        if (TrainingDevice.Resolve(device).type != TorchSharp.DeviceType.CPU) return 1;
        return Math.Clamp(Environment.ProcessorCount, 1, preset.Models.Count);
    }

    /// <summary>"; random crop 2 px, flip 0.5, label smoothing 0.1" for the settings that are on, so the header shows
    /// how the training images are altered; empty when none is.</summary>
    private static string Regularisation(ExperimentPreset preset)
    {
        var inv = CultureInfo.InvariantCulture;
        var parts = new List<string>();
        if (preset.RandomCropPadding > 0) parts.Add(string.Create(inv, $"random crop {preset.RandomCropPadding} px"));
        if (preset.HorizontalFlipProbability > 0)
            parts.Add(string.Create(inv, $"flip {preset.HorizontalFlipProbability}"));
        if (preset.LabelSmoothing > 0) parts.Add(string.Create(inv, $"label smoothing {preset.LabelSmoothing}"));
        if (preset.SymmetryCurriculumThreshold > 0)
            parts.Add(string.Create(inv,
                $"symmetry curriculum (threshold {preset.SymmetryCurriculumThreshold}, window {preset.SymmetryCurriculumWindow})"));
        if (preset.EmaDecay > 0) parts.Add(string.Create(inv, $"weight average (EMA) {preset.EmaDecay}"));
        if (preset.TestTimeAugmentation != TestTimeAugmentation.None)
            parts.Add($"tests also with {preset.TestTimeAugmentation.ToName()} view averaging");
        return parts.Count == 0 ? "" : "; " + string.Join(", ", parts);
    }
}
