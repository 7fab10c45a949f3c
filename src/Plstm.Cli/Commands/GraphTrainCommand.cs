using System.CommandLine;
using System.Globalization;
using Plstm.Data.Graphs;
using Plstm.Layers.Graph;
using Plstm.Training.Graph;

namespace Plstm.Cli.Commands;

/// <summary>
/// <c>plstm train graph --dataset MUTAG|PROTEINS|NCI1|PTC_FM [--folds 10] [--fold K …] [--parallel-folds N] …</c>:
/// K-fold cross-validation of the pLSTM graph classifier on a TU data set (<see cref="GraphCrossValidation"/>, models
/// §7.5): per fold the best-validation checkpoint, <c>fold-K/result.json</c> and <c>metrics.jsonl</c>; then
/// <c>summary.json</c> and <c>summary.md</c> with the mean ± std of the test accuracy at the best-validation epoch.
/// </summary>
/// <remarks>The data set is read and every option checked before <c>--out</c> is touched, so a bad input writes
/// nothing. One progress line per epoch and fold.</remarks>
public sealed class GraphTrainCommand : IVerb
{
    /// <summary>The data sets of the paper's graph table.</summary>
    public static IReadOnlyList<string> Datasets { get; } = ["MUTAG", "PROTEINS", "NCI1", "PTC_FM"];

    /// <summary>The values of <c>--transition-input</c> and <c>--p-normalization</c> (also written by
    /// <see cref="ProcessFoldRunner"/> for its workers).</summary>
    internal const string SharedNodeInput = "shared-node", ReferenceInput = "reference",
        PerIncomingEdge = "per-incoming-edge", PerTargetEdge = "per-target-edge",
        SelectAccuracy = "accuracy", SelectAccuracyThenLoss = "accuracy-then-loss", SelectLoss = "loss",
        Float32Compute = "float32", BFloat16Compute = "bfloat16";

    /// <inheritdoc />
    public Command Create()
    {
        var defaults = new GraphCvOptions();
        var dataset = new Option<string[]>("--dataset")
        {
            Description = $"TU data set: {string.Join(", ", Datasets)}. Several (repeated or comma-separated) share one "
                + "pool of --parallel-folds workers; each then writes OUT/graph-<name>/.",
            Required = true,
        };
        var data = new Option<string?>("--data")
        {
            Description = "Folder holding tu/<NAME>/ or <NAME>/ (default: $PLSTM_DATA, then ../shared/data).",
        };
        var folds = new Option<int>("--folds") { Description = "Number of folds K.", DefaultValueFactory = _ => defaults.Folds };
        OptionChecks.Add(folds, v => v >= 2, "--folds must be ≥ 2.");
        var fold = new Option<int[]>("--fold")
        {
            Description = "Run only fold K (0-based; repeat for several), e.g. to split the folds across machines.",
        };
        var parallelFolds = new Option<int>("--parallel-folds")
        {
            Description = "Folds trained at the same time, each in its own process with --threads libtorch threads.",
            DefaultValueFactory = _ => defaults.ParallelFolds,
        };
        OptionChecks.Add(parallelFolds, v => v >= 1, "--parallel-folds must be ≥ 1.");
        var epochs = new Option<int>("--epochs") { Description = "Epochs per fold.", DefaultValueFactory = _ => defaults.Epochs };
        OptionChecks.Add(epochs, v => v >= 1, "--epochs must be ≥ 1.");
        var warmup = new Option<int?>("--warmup-epochs") { Description = "Linear warm-up epochs (default: epochs / 20)." };
        OptionChecks.Add(warmup, v => v is null or >= 0, "--warmup-epochs must be ≥ 0.");
        var batchSize = new Option<int>("--batch-size")
        {
            Description = "Graphs per optimiser step (the reference: batch 1 × 64-step accumulation).",
            DefaultValueFactory = _ => defaults.BatchSize,
        };
        OptionChecks.Add(batchSize, v => v >= 1, "--batch-size must be ≥ 1.");
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => defaults.LearningRate };
        OptionChecks.Add(lr, v => v > 0 && double.IsFinite(v), "--lr must be positive and finite.");
        var weightDecay = new Option<double>("--weight-decay")
        {
            Description = "AdamW weight decay (on every parameter, as the reference).",
            DefaultValueFactory = _ => defaults.WeightDecay,
        };
        OptionChecks.Add(weightDecay, v => v >= 0 && double.IsFinite(v), "--weight-decay must be ≥ 0 and finite.");
        var emaDecay = new Option<double>("--ema-decay")
        {
            Description = "Validate, select, keep and test an exponential moving average of the weights with this decay in [0, 1) (0 = off, the reference's recipe).",
            DefaultValueFactory = _ => defaults.EmaDecay,
        };
        OptionChecks.Add(emaDecay, v => v >= 0 && v < 1, "--ema-decay must be in [0, 1).");
        var seed = new Option<long>("--seed") { Description = "Torch seed of every fold (initialisation) and of the data order.", DefaultValueFactory = _ => defaults.Seed };
        var layers = new Option<int>("--layers") { Description = "Graph blocks (each a P and a D layer).", DefaultValueFactory = _ => defaults.NumBlocks };
        OptionChecks.Add(layers, v => v >= 0, "--layers must be ≥ 0.");
        var dim = new Option<int>("--dim") { Description = "Hidden width.", DefaultValueFactory = _ => defaults.HiddenDim };
        OptionChecks.Add(dim, v => v >= 2 && v % 2 == 0, "--dim must be positive and even.");
        var heads = new Option<int>("--heads") { Description = "Heads per graph layer (must divide --dim).", DefaultValueFactory = _ => defaults.NumHeads };
        OptionChecks.Add(heads, v => v >= 1, "--heads must be ≥ 1.");
        var transition = new Option<string>("--transition-input")
        {
            Description = "Transition node input: shared-node (default, operators §5.1) or reference (the tail of the predecessor edge).",
            DefaultValueFactory = _ => SharedNodeInput,
        };
        transition.AcceptOnlyFromAmong(SharedNodeInput, ReferenceInput);
        var normalization = new Option<string>("--p-normalization")
        {
            Description = "P-mode normalisation: per-incoming-edge (default, the paper's) or per-target-edge (the reference code's).",
            DefaultValueFactory = _ => PerIncomingEdge,
        };
        normalization.AcceptOnlyFromAmong(PerIncomingEdge, PerTargetEdge);
        var referenceVariants = new Option<bool>("--reference-variants")
        {
            Description = "Shorthand for --transition-input reference --p-normalization per-target-edge.",
        };
        var meanLoss = new Option<bool>("--mean-loss")
        {
            Description = "Average the loss over each batch, also the epoch's last partial one (default: divide by --batch-size, as the reference's gradient accumulation).",
        };
        var selection = new Option<string>("--select")
        {
            Description = "Checkpoint kept per fold: accuracy (default, the reference's: first epoch of the best validation accuracy) accuracy-then-loss (ties broken by the lower validation loss) or loss (the lowest validation loss).",
            DefaultValueFactory = _ => SelectAccuracy,
        };
        selection.AcceptOnlyFromAmong(SelectAccuracy, SelectAccuracyThenLoss, SelectLoss);
        var computeDtype = new Option<string>("--compute-dtype")
        {
            Description = "dtype the graph layers compute in: float32 (default) or bfloat16 (as the reference's torch.autocast; parameters stay float32).",
            DefaultValueFactory = _ => Float32Compute,
        };
        computeDtype.AcceptOnlyFromAmong(Float32Compute, BFloat16Compute);
        var device = new Option<string>("--device") { Description = "cpu (default), cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var threads = new Option<int>("--threads")
        {
            Description = "libtorch intra-op threads per fold (default 1: a step is thousands of small operations).",
            DefaultValueFactory = _ => 1,
        };
        OptionChecks.Add(threads, v => v >= 1, "--threads must be ≥ 1.");
        var tf32 = OptionChecks.Tf32Option();
        var output = new Option<string?>("--out")
        {
            Description = "Output folder (default runs/graph-<dataset>); with several data sets the folder that receives graph-<dataset>/ for each (default runs).",
        };
        var resume = new Option<bool>("--resume") { Description = "Skip folds whose result.json exists in --out (their results enter the summary)." };
        // Set by a parent run with --parallel-folds > 1 for each fold it starts as a process (ProcessFoldRunner).
        var foldWorker = new Option<bool>("--fold-worker") { Hidden = true };

        var command = new Command("graph",
            "Cross-validate the pLSTM graph classifier on a TU data set (MUTAG, PROTEINS, NCI1, PTC_FM): per fold the "
            + "best-validation checkpoint and result.json, then summary.json and summary.md (mean ± std test accuracy).")
        {
            dataset, data, folds, fold, parallelFolds, epochs, warmup, batchSize, lr, weightDecay, emaDecay, seed, layers, dim, heads,
            transition, normalization, referenceVariants, meanLoss, selection, computeDtype, device, threads, tf32, output, resume, foldWorker,
        };
        // On a worker thread so that Ctrl+C can cancel it between epochs; finished folds stay, --resume continues.
        command.SetAction((parseResult, cancellationToken) => Task.Run(() =>
        {
            var names = parseResult.GetValue(dataset)!
                .SelectMany(d => d.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .Select(Canonical).ToArray();
            string? outArg = parseResult.GetValue(output);
            bool reference = parseResult.GetValue(referenceVariants);
            int[] chosen = parseResult.GetValue(fold) ?? [];
            var runs = names.Select(name => new GraphCvOptions
            {
                Dataset = name,
                DataDir = parseResult.GetValue(data),
                OutputFolder = names.Length == 1
                    ? outArg ?? Path.Combine("runs", "graph-" + name.ToLowerInvariant())
                    : Path.Combine(outArg ?? "runs", "graph-" + name.ToLowerInvariant()),
                Folds = parseResult.GetValue(folds),
                FoldIndices = chosen.Length > 0 ? chosen : null,
                ParallelFolds = parseResult.GetValue(parallelFolds),
                Epochs = parseResult.GetValue(epochs),
                WarmupEpochs = parseResult.GetValue(warmup),
                BatchSize = parseResult.GetValue(batchSize),
                LearningRate = parseResult.GetValue(lr),
                WeightDecay = parseResult.GetValue(weightDecay),
                EmaDecay = parseResult.GetValue(emaDecay),
                Seed = parseResult.GetValue(seed),
                NumBlocks = parseResult.GetValue(layers),
                HiddenDim = parseResult.GetValue(dim),
                NumHeads = parseResult.GetValue(heads),
                TransitionInput = reference || parseResult.GetValue(transition) == ReferenceInput
                    ? GraphTransitionInput.Reference : GraphTransitionInput.SharedNode,
                PNormalization = reference || parseResult.GetValue(normalization) == PerTargetEdge
                    ? GraphPNormalization.PerTargetEdge : GraphPNormalization.PerIncomingEdge,
                AccumulationLossScale = !parseResult.GetValue(meanLoss),
                Selection = parseResult.GetValue(selection) switch
                {
                    SelectAccuracyThenLoss => GraphModelSelection.AccuracyThenLoss,
                    SelectLoss => GraphModelSelection.Loss,
                    _ => GraphModelSelection.Accuracy,
                },
                ComputeDtype = parseResult.GetValue(computeDtype) == BFloat16Compute ? TorchSharp.torch.ScalarType.BFloat16 : null,
                Device = parseResult.GetValue(device)!,
                Threads = parseResult.GetValue(threads),
                Resume = parseResult.GetValue(resume),
                WriteSummary = !parseResult.GetValue(foldWorker),
            }).ToArray();
            bool useTf32 = parseResult.GetValue(tf32);
            OptionChecks.ApplyTf32(useTf32);
            return Run(runs, parseResult.InvocationConfiguration.Output, cancellationToken, parseResult.GetValue(foldWorker),
                useTf32);
        }, CancellationToken.None));
        return command;
    }

    /// <summary>Runs the cross-validations of <paramref name="runs"/> (one per data set, sharing one worker pool),
    /// printing progress to <paramref name="writer"/>; returns the exit code. With more than one parallel fold each
    /// fold is a child process (<see cref="ProcessFoldRunner"/>); <paramref name="worker"/> is such a child: progress
    /// lines only, no summary. <paramref name="tf32"/> is passed on to the fold processes (<c>--tf32</c>).</summary>
    /// <exception cref="CliUsageException">An option, the data or an output folder is unusable (nothing written).</exception>
    public static int Run(IReadOnlyList<GraphCvOptions> runs, TextWriter writer, CancellationToken cancellationToken,
        bool worker = false, bool tf32 = false)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(writer);
        if (runs.Count == 0) throw new CliUsageException("--dataset names no data set.");
        if (runs.Select(r => r.Dataset).Distinct(StringComparer.Ordinal).Count() != runs.Count)
            throw new CliUsageException("--dataset names a data set twice.");
        var loaded = runs.Select(r => (Options: r, Dataset: Check(r))).ToArray();
        var inv = CultureInfo.InvariantCulture;
        if (worker)
        {
            GraphCrossValidation.RunMany(loaded, new LineProgress(writer, named: false), cancellationToken);
            return PlstmApp.Success;
        }
        foreach (var (options, dataset) in loaded)
        {
            var foldList = options.FoldIndices ?? Enumerable.Range(0, options.Folds).ToArray();
            writer.WriteLine(string.Create(inv,
                $"graph CV: {dataset.Name} ({dataset.Graphs.Count} graphs, {dataset.ClassCount} classes, {dataset.NodeFeatureCount} node features), "
                + $"fold(s) {string.Join(",", foldList)} of {options.Folds}, {options.Epochs} epochs, batch {options.BatchSize}, lr {options.LearningRate:G}; "
                + $"output {Path.GetFullPath(options.OutputFolder)}{(options.Resume ? " (resuming)" : "")}"));
        }
        var first = runs[0];
        writer.WriteLine(string.Create(inv,
            $"{first.ParallelFolds} fold(s) at a time{(first.ParallelFolds > 1 ? " (one process each)" : "")} × {first.Threads} libtorch thread(s) on {first.Device}"));
        writer.Flush();
        IReadOnlyList<GraphCvResult> results;
        try
        {
            var runner = first.ParallelFolds > 1 ? new ProcessFoldRunner(writer, runs.Count > 1, tf32) : null;
            results = GraphCrossValidation.RunMany(loaded, new LineProgress(writer, runs.Count > 1), cancellationToken,
                runner is null ? null : runner.Run);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            writer.WriteLine("interrupted: finished folds and a summary of them are kept; run the same command with --resume to continue.");
            writer.Flush();
            return TrainCommand.Interrupted;
        }
        foreach (var (result, options) in results.Zip(runs))
        {
            string folder = Path.GetFullPath(options.OutputFolder);
            writer.WriteLine();
            writer.Write(GraphCvReport.ToMarkdown(result));
            writer.WriteLine();
            writer.WriteLine($"summary: {Path.Combine(folder, GraphCrossValidation.SummaryFileName)}");
            writer.WriteLine($"table:   {Path.Combine(folder, GraphCrossValidation.SummaryMarkdownFileName)}");
        }
        writer.Flush();
        return PlstmApp.Success;
    }

    /// <summary>Every check that needs no output: names, ranges, the device, the data (read in full, so a malformed
    /// file fails here) and the output folder.</summary>
    private static TuDataset Check(GraphCvOptions options)
    {
        if (!Datasets.Contains(options.Dataset, StringComparer.Ordinal))
            throw new CliUsageException($"--dataset '{options.Dataset}' is not one of {string.Join(", ", Datasets)}.");
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new CliUsageException(Flag(ex.ParamName) is { } flag ? $"{flag}: {ex.Message}" : ex.Message, ex);
        }
        OptionChecks.Device(options.Device);
        var dataset = OptionChecks.Usage(() => TuDataset.Load(options.Dataset, options.DataDir));
        if (!options.Resume)
        {
            foreach (int f in options.FoldIndices ?? Enumerable.Range(0, options.Folds).ToArray())
            {
                string foldFolder = Path.Combine(options.OutputFolder, string.Create(CultureInfo.InvariantCulture, $"fold-{f}"));
                if (Directory.Exists(foldFolder) && Directory.EnumerateFileSystemEntries(foldFolder).Any())
                    throw new CliUsageException(
                        $"--out '{options.OutputFolder}' already holds fold-{f}; pass --resume to keep finished folds, or choose another --out.");
            }
        }
        return dataset;
    }

    private static string Canonical(string name) =>
        Datasets.FirstOrDefault(d => string.Equals(d, name.Trim(), StringComparison.OrdinalIgnoreCase)) ?? name;

    private static string? Flag(string? option) => option switch
    {
        nameof(GraphCvOptions.FoldIndices) => "--fold",
        nameof(GraphCvOptions.Folds) => "--folds",
        nameof(GraphCvOptions.NumHeads) => "--heads",
        nameof(GraphCvOptions.WarmupEpochs) => "--warmup-epochs",
        nameof(GraphCvOptions.Device) => "--device",
        _ => null,
    };

    /// <summary>One plain line per epoch and per finished fold.</summary>
    private sealed class LineProgress(TextWriter writer, bool named) : IProgress<GraphCvProgress>
    {
        public void Report(GraphCvProgress p)
        {
            var inv = CultureInfo.InvariantCulture;
            if (named) writer.Write(p.Dataset + " ");
            writer.WriteLine(p.Completed is { } r
                ? string.Create(inv,
                    $"fold {p.Fold} done: test acc {r.TestAccuracy:F4} at best val {r.BestValidationAccuracy:F4} (epoch {r.BestEpoch}); majority {r.MajorityTestAccuracy:F4}; {r.Seconds:F0} s")
                : string.Create(inv,
                    $"fold {p.Fold} epoch {p.Epoch + 1}/{p.Epochs}: loss {p.TrainLoss:F4} train acc {p.TrainAccuracy:F3} val acc {p.ValidationAccuracy:F3} (best {p.BestValidationAccuracy:F3}) lr {p.LearningRate:E2} {p.Seconds:F0} s"));
            writer.Flush();
        }
    }
}
