using System.CommandLine;
using System.Globalization;
using Plstm.Data.StateTracking;
using Plstm.Models.StateTracking;
using Plstm.Training;
using Plstm.Training.StateTracking;

namespace Plstm.Cli.Commands;

/// <summary>
/// <c>plstm train state --task parity|s5 --model plstm|transformer --jt N …</c>: trains one state-tracking model on
/// generated sequences (Merrill et al. 2024), then reports per-position and last-position accuracy at every test length,
/// prints the table and writes <c>metrics.jsonl</c> during the run and <c>results.md</c> and, last and atomically,
/// <c>results.json</c> into <c>--out</c>. The whole comparison (2 tasks × {JT = 1, JT = 4, transformer}) is
/// <c>bench/state-suite.sh</c>.
/// </summary>
/// <remarks>Every option is checked before <c>--out</c> is created, so a bad input leaves no output folder.</remarks>
public sealed class TrainStateCommand : IVerb
{
    /// <summary>The file name of the results table.</summary>
    public const string MarkdownFileName = "results.md";

    /// <inheritdoc />
    public Command Create()
    {
        var defaults = new StateTrackingOptions();
        var model = new StateTrackingModelConfig();
        var task = new Option<string>("--task")
        {
            Description = $"Task: {string.Join(", ", StateTrackingTasks.All.Select(t => t.Name()))}.",
            Required = true,
        };
        var kind = new Option<string>("--model") { Description = "plstm (default) or transformer.", DefaultValueFactory = _ => "plstm" };
        var jt = new Option<int>("--jt") { Description = "pLSTM transition size JT (1 = scalar transitions; default 4).", DefaultValueFactory = _ => model.JT };
        var layers = new Option<int>("--layers") { Description = $"Blocks (default {model.NumBlocks}).", DefaultValueFactory = _ => model.NumBlocks };
        var dim = new Option<int>("--dim") { Description = $"Model width D (default {model.Dim}).", DefaultValueFactory = _ => model.Dim };
        var heads = new Option<int>("--heads") { Description = $"Heads (default {model.NumHeads}).", DefaultValueFactory = _ => model.NumHeads };
        var conv = new Option<int>("--conv") { Description = $"pLSTM causal convolution kernel, 0 = none (default {model.ConvolutionKernelSize}).", DefaultValueFactory = _ => model.ConvolutionKernelSize };
        var delay = new Option<int>("--readout-delay") { Description = "1 (default): the logits of position t come from position t + 1 (one appended read token; the pLSTM output at t reads the state before t); 0: from t itself.", DefaultValueFactory = _ => model.ReadoutDelay };
        var noStartToken = new Option<bool>("--no-start-token") { Description = "Do not prepend the start token (by default every sequence starts with one, whose output is dropped, so the model can tell the first position from the others)." };
        var referenceGates = new Option<bool>("--reference-gate-init") { Description = "pLSTM: start the source and mark gate biases at the reference's constant −5 instead of N(0, 1) draws." };
        var transitionInit = new Option<double>("--transition-init") { Description = "pLSTM JT > 1: std of random transition in/out projection weights at init (0 = the reference's zeros: every token starts with the same transition).", DefaultValueFactory = _ => model.TransitionInitStd };
        var levels = new Option<int>("--levels") { Description = $"pLSTM chunk depth: chunks of 2^levels positions; results do not depend on it, speed does (default {model.Levels}).", DefaultValueFactory = _ => model.Levels };
        var steps = new Option<long>("--steps") { Description = $"Optimiser steps (default {defaults.Steps}).", DefaultValueFactory = _ => defaults.Steps };
        var batchSize = new Option<int>("--batch-size") { Description = $"Sequences per step (default {defaults.BatchSize}).", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = $"Peak learning rate (default {defaults.LearningRate}).", DefaultValueFactory = _ => defaults.LearningRate };
        var warmup = new Option<long?>("--warmup") { Description = "Warm-up steps (default 5 % of --steps)." };
        var weightDecay = new Option<double>("--weight-decay") { Description = $"Decoupled weight decay (default {defaults.WeightDecay}).", DefaultValueFactory = _ => defaults.WeightDecay };
        var clip = new Option<double>("--clip") { Description = $"Global gradient-norm clip, 0 = off (default {defaults.GradientClip}).", DefaultValueFactory = _ => defaults.GradientClip };
        var trainLength = new Option<int>("--train-length") { Description = $"Training sequence length (default {defaults.TrainLength}).", DefaultValueFactory = _ => defaults.TrainLength };
        var curriculum = new Option<long>("--curriculum") { Description = "Grow the training length linearly from --min-train-length to --train-length over this many steps (default 0 = off).", DefaultValueFactory = _ => 0 };
        var curriculumThreshold = new Option<double>("--curriculum-threshold") { Description = "Adaptive curriculum: start at --min-train-length and lengthen the sequences by a quarter whenever the mean training accuracy of a window of steps at the current length reaches this value (0 = off; with --curriculum too, the length is the larger of the two).", DefaultValueFactory = _ => 0 };
        var curriculumWindow = new Option<int>("--curriculum-window") { Description = $"Steps per window of the adaptive curriculum (default {defaults.CurriculumWindow}).", DefaultValueFactory = _ => defaults.CurriculumWindow };
        var minTrainLength = new Option<int>("--min-train-length") { Description = $"Curriculum start length (default {defaults.MinTrainLength}).", DefaultValueFactory = _ => defaults.MinTrainLength };
        var testLengths = new Option<string>("--test-lengths") { Description = "Comma-separated test lengths (default 64,128,256).", DefaultValueFactory = _ => "64,128,256" };
        var testCount = new Option<int>("--test-count") { Description = $"Sequences per test length (default {defaults.TestCount}).", DefaultValueFactory = _ => defaults.TestCount };
        var evalEvery = new Option<long>("--eval-every") { Description = $"Evaluate the first test length every N steps, 0 = only at the end (default {defaults.EvalEvery}).", DefaultValueFactory = _ => defaults.EvalEvery };
        var logEvery = new Option<long>("--log-every") { Description = $"Progress line every N steps (default {defaults.LogEvery}).", DefaultValueFactory = _ => defaults.LogEvery };
        var stopAtTarget = new Option<bool>("--stop-at-target") { Description = "Stop once a periodic evaluation reaches 95 % per-position accuracy (the final evaluation still runs)." };
        var timeLimit = new Option<double>("--time-limit") { Description = "Stop training after this many seconds (0 = no limit); the learning-rate schedule and curriculum then follow the larger of the step and time fractions.", DefaultValueFactory = _ => 0 };
        var seed = new Option<long>("--seed") { Description = "Seed of initialisation, training data and test sets (default 0).", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu (default), cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var output = new Option<string?>("--out") { Description = "Output folder (default runs/state/<task>-<model>); must not exist or be empty." };
        var threads = OptionChecks.ThreadsOption();
        var tf32 = OptionChecks.Tf32Option();

        OptionChecks.Add(jt, v => v >= 1, "--jt must be ≥ 1 (1 = scalar transitions, > 1 = JT×JT matrices).");
        OptionChecks.Add(layers, v => v >= 1, "--layers must be ≥ 1.");
        OptionChecks.Add(dim, v => v >= 1, "--dim must be ≥ 1.");
        OptionChecks.Add(heads, v => v >= 1, "--heads must be ≥ 1.");
        OptionChecks.Add(conv, v => v >= 0, "--conv must be ≥ 0.");
        OptionChecks.Add(delay, v => v is 0 or 1, "--readout-delay must be 0 or 1.");
        OptionChecks.Add(transitionInit, v => v >= 0 && double.IsFinite(v), "--transition-init must be finite and ≥ 0.");
        OptionChecks.Add(levels, v => v is >= 0 and <= 16, "--levels must be in 0 … 16.");
        OptionChecks.Add(steps, v => v >= 1, "--steps must be ≥ 1.");
        OptionChecks.Add(batchSize, v => v >= 1, "--batch-size must be ≥ 1.");
        OptionChecks.Add(lr, v => v > 0 && double.IsFinite(v), "--lr must be positive and finite.");
        OptionChecks.Add(warmup, v => v is null or >= 0, "--warmup must be ≥ 0.");
        OptionChecks.Add(weightDecay, v => v >= 0 && double.IsFinite(v), "--weight-decay must be finite and ≥ 0.");
        OptionChecks.Add(clip, v => v >= 0 && double.IsFinite(v), "--clip must be finite and ≥ 0.");
        OptionChecks.Add(trainLength, v => v >= 1, "--train-length must be ≥ 1.");
        OptionChecks.Add(curriculum, v => v >= 0, "--curriculum must be ≥ 0.");
        OptionChecks.Add(curriculumThreshold, v => v >= 0 && v <= 1, "--curriculum-threshold must be in [0, 1] (0 = off).");
        OptionChecks.Add(curriculumWindow, v => v >= 1, "--curriculum-window must be ≥ 1.");
        OptionChecks.Add(minTrainLength, v => v >= 1, "--min-train-length must be ≥ 1.");
        OptionChecks.Add(testLengths, v => ParseLengths(v) is not null,
            "--test-lengths must be a comma-separated list of distinct positive lengths, e.g. 64,128,256.");
        OptionChecks.Add(testCount, v => v >= 1, "--test-count must be ≥ 1.");
        OptionChecks.Add(evalEvery, v => v >= 0, "--eval-every must be ≥ 0.");
        OptionChecks.Add(timeLimit, v => v >= 0 && double.IsFinite(v), "--time-limit must be finite and ≥ 0.");
        OptionChecks.Add(logEvery, v => v >= 1, "--log-every must be ≥ 1.");

        var command = new Command("state",
            "Train a state-tracking model (parity or S5 word problems, Merrill et al. 2024) on generated sequences; "
            + "report per-position and last-position accuracy at each test length; write metrics.jsonl, results.md "
            + "and results.json.")
        {
            task, kind, jt, layers, dim, heads, conv, delay, noStartToken, referenceGates, transitionInit, levels, steps, batchSize, lr, warmup, weightDecay, clip, trainLength,
            curriculum, curriculumThreshold, curriculumWindow, minTrainLength, testLengths, testCount, evalEvery, logEvery, stopAtTarget, timeLimit, seed, device,
            output, threads, tf32,
        };
        command.SetAction((parseResult, cancellationToken) => Task.Run(() =>
        {
            var taskValue = OptionChecks.Usage(() => StateTrackingTasks.Parse(parseResult.GetValue(task)!));
            var kindValue = ParseKind(parseResult.GetValue(kind)!);
            var options = new StateTrackingOptions
            {
                Task = taskValue,
                Model = new StateTrackingModelConfig
                {
                    Kind = kindValue,
                    JT = parseResult.GetValue(jt),
                    NumBlocks = parseResult.GetValue(layers),
                    Dim = parseResult.GetValue(dim),
                    NumHeads = parseResult.GetValue(heads),
                    ConvolutionKernelSize = parseResult.GetValue(conv),
                    Levels = parseResult.GetValue(levels),
                    ReadoutDelay = parseResult.GetValue(delay),
                    StartToken = !parseResult.GetValue(noStartToken),
                    RandomGateInit = !parseResult.GetValue(referenceGates),
                    TransitionInitStd = parseResult.GetValue(transitionInit),
                },
                Steps = parseResult.GetValue(steps),
                BatchSize = parseResult.GetValue(batchSize),
                LearningRate = parseResult.GetValue(lr),
                WarmupSteps = parseResult.GetValue(warmup),
                WeightDecay = parseResult.GetValue(weightDecay),
                GradientClip = parseResult.GetValue(clip),
                TrainLength = parseResult.GetValue(trainLength),
                CurriculumSteps = parseResult.GetValue(curriculum),
                CurriculumThreshold = parseResult.GetValue(curriculumThreshold),
                CurriculumWindow = parseResult.GetValue(curriculumWindow),
                // The default start length follows a shorter --train-length; an explicit one is checked as given.
                MinTrainLength = parseResult.GetResult(minTrainLength) is not { Implicit: false }
                    ? Math.Min(defaults.MinTrainLength, parseResult.GetValue(trainLength))
                    : parseResult.GetValue(minTrainLength),
                TestLengths = ParseLengths(parseResult.GetValue(testLengths)!)!,
                TestCount = parseResult.GetValue(testCount),
                EvalEvery = parseResult.GetValue(evalEvery),
                LogEvery = parseResult.GetValue(logEvery),
                StopAtTarget = parseResult.GetValue(stopAtTarget),
                TimeLimitSeconds = parseResult.GetValue(timeLimit),
                Seed = parseResult.GetValue(seed),
                Device = parseResult.GetValue(device)!,
            };
            OptionChecks.ApplyTf32(parseResult.GetValue(tf32));
            return Run(options, parseResult.GetValue(output), parseResult.GetValue(threads),
                parseResult.InvocationConfiguration.Output, cancellationToken);
        }, CancellationToken.None));
        return command;
    }

    /// <summary>Trains and evaluates; returns the exit code.</summary>
    /// <exception cref="CliUsageException">Invalid settings or output folder (nothing is written then).</exception>
    public static int Run(StateTrackingOptions options, string? outFolder, int? threads, TextWriter writer,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(writer);
        OptionChecks.Device(options.Device);
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new CliUsageException(Describe(ex), ex);
        }
        string folder = Path.GetFullPath(outFolder
            ?? Path.Combine("runs", "state", $"{options.Task.Name()}-{StateTrackingResult.Label(options.Model)}"));
        if (File.Exists(folder))
            throw new CliUsageException($"--out '{folder}' is a file, not a folder.");
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
            throw new CliUsageException($"--out '{folder}' already exists and is not empty; choose another folder.");
        OptionChecks.ApplyThreads(threads);

        var inv = CultureInfo.InvariantCulture;
        var m = options.ModelConfig();
        writer.WriteLine(string.Create(inv,
            $"state tracking: {options.Task.Name()} · {StateTrackingResult.Label(m)} (D {m.Dim}, {m.NumBlocks} layers, {m.NumHeads} heads) · "
            + $"{options.Steps} steps of {options.BatchSize} × {options.TrainLength} on {options.Device}; test lengths {string.Join(", ", options.TestLengths)}"));
        writer.WriteLine($"output: {folder}");
        writer.Flush();

        Directory.CreateDirectory(folder);
        StateTrackingResult result;
        using (var metrics = new MetricsWriter(folder, tensorBoard: false))
            result = StateTrackingTrainer.Run(options, metrics, line =>
            {
                writer.WriteLine(line);
                writer.Flush();
            }, cancellationToken);

        string table = result.ToMarkdown();
        writer.WriteLine();
        writer.Write(table);
        Data.AtomicFile.WriteAllBytes(Path.Combine(folder, MarkdownFileName), System.Text.Encoding.UTF8.GetBytes(table));
        // Last, so that its presence means the run completed.
        result.WriteJson(Path.Combine(folder, StateTrackingResult.JsonFileName));
        writer.WriteLine($"results: {Path.Combine(folder, StateTrackingResult.JsonFileName)}");
        writer.Flush();
        return PlstmApp.Success;
    }

    /// <summary>The lengths of a comma-separated list, or null when it is not a list of distinct positive integers.</summary>
    public static int[]? ParseLengths(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var lengths = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out lengths[i]) || lengths[i] < 1)
                return null;
        return lengths.Distinct().Count() == lengths.Length ? lengths : null;
    }

    private static SequenceModelKind ParseKind(string name) => name.Trim().ToLowerInvariant() switch
    {
        "plstm" => SequenceModelKind.Plstm,
        "transformer" => SequenceModelKind.Transformer,
        _ => throw new CliUsageException($"--model '{name}' is not plstm or transformer."),
    };

    /// <summary>The message of a settings error, with the option that sets the field named where there is one.</summary>
    private static string Describe(ArgumentException ex)
    {
        string? flag = ex.ParamName switch
        {
            nameof(StateTrackingModelConfig.Dim) => "--dim",
            nameof(StateTrackingModelConfig.NumHeads) => "--heads",
            "DV" or "DK" => "--dim/--heads",
            nameof(StateTrackingModelConfig.JT) => "--jt",
            nameof(StateTrackingOptions.MinTrainLength) => "--min-train-length",
            nameof(StateTrackingOptions.CurriculumThreshold) => "--curriculum-threshold",
            nameof(StateTrackingOptions.WarmupSteps) => "--warmup",
            nameof(StateTrackingOptions.TestLengths) => "--test-lengths",
            _ => null,
        };
        string message = ex.Message.Replace($" (Parameter '{ex.ParamName}')", "", StringComparison.Ordinal);
        return flag is null ? message : $"{flag}: {message}";
    }
}
