using System.Diagnostics;
using System.Globalization;
using System.Text;
using Plstm.Data.Graphs;
using Plstm.Models.Graph;
using Plstm.Training.Graph;
using Plstm.Layers.Graph;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Bench;

/// <summary>
/// <c>--graph [--runs N] [--batch B] [--dataset NAME] [--data DIR] [--scan|--levels|--naive] [--threads T]</c>: Stopwatch timing of one training
/// step's forward + backward of <see cref="PlstmGraphModel"/> (hidden 96, 4 heads, 2 blocks) on a batch of the first B
/// graphs of a TU data set (default MUTAG, B = 64) on the CPU: model forward, cross-entropy, backward. Also times
/// building the <see cref="GraphBatch"/> (union of the four preparations + tensors) and the forward alone (no_grad).
/// One warm-up, then N timed runs (default 20); prints a markdown table (median, mean, min).
/// </summary>
public static class GraphBench
{
    /// <summary>Runs the graph benchmark.</summary>
    public static int Run(string[] args)
    {
        if (args.Contains("--cv")) return CrossValidate(args);
        int runs = IntArg(args, "--runs", 20);
        int batchSize = IntArg(args, "--batch", 64);
        string dataset = StringArg(args, "--dataset") ?? "MUTAG";
        string? dataDir = StringArg(args, "--data");
        set_num_threads(IntArg(args, "--threads", get_num_threads()));
        // Default: the model's default form (path gates); the flags pick the state forms or the oracle.
        var form = args.Contains("--naive") ? GraphOperatorForm.Naive
            : args.Contains("--levels") ? GraphOperatorForm.Levels
            : args.Contains("--scan") ? GraphOperatorForm.Scan
            : GraphOperatorForm.PathGates;

        var prepare = Stopwatch.StartNew();
        var data = TuDataset.Load(dataset, dataDir);
        var samples = GraphSample.FromTu(data);
        double prepareMs = prepare.Elapsed.TotalMilliseconds;
        var chosen = samples.Take(batchSize).ToArray();

        random.manual_seed(42);
        using var model = new PlstmGraphModel("model", new PlstmGraphModelConfig(data.NodeFeatureCount, data.ClassCount)
        {
            Form = form,
        });
        model.train();

        double Build()
        {
            var watch = Stopwatch.StartNew();
            using var batch = GraphBatch.Create(chosen);
            return watch.Elapsed.TotalMilliseconds;
        }

        double Step(GraphBatch batch)
        {
            var watch = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                model.zero_grad();
                var loss = nn.functional.cross_entropy(model.forward(batch), batch.Labels);
                loss.backward();
            }
            return watch.Elapsed.TotalMilliseconds;
        }

        double Forward(GraphBatch batch)
        {
            var watch = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            using (var noGrad = no_grad())
                _ = model.forward(batch);
            return watch.Elapsed.TotalMilliseconds;
        }

        using var fixedBatch = GraphBatch.Create(chosen);
        var u = fixedBatch.ForwardP.Union;
        var d = fixedBatch.ForwardD.Union;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{dataset}: {samples.Count} graphs prepared (P, D, reversed P, reversed D) in {prepareMs:F0} ms; batch of {chosen.Length}: "
            + $"N = {u.NodeCount}, E = {u.EdgeCount}, L(P) = {u.LineEdgeCount}, L(D) = {d.LineEdgeCount}, "
            + $"levels P/D/rP/rD = {u.LevelCount}/{d.LevelCount}/{fixedBatch.ReverseP.Union.LevelCount}/{fixedBatch.ReverseD.Union.LevelCount}; "
            + $"form {form}; torch threads {get_num_threads()}"));
        Build();
        Step(fixedBatch);
        Forward(fixedBatch);
        var build = new double[runs];
        var step = new double[runs];
        var forward = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            build[i] = Build();
            step[i] = Step(fixedBatch);
            forward[i] = Forward(fixedBatch);
        }
        var table = new StringBuilder()
            .AppendLine("| what | median | mean | min |")
            .AppendLine("|---|---:|---:|---:|");
        foreach (var (name, values) in new[]
        {
            ("forward + loss + backward", step), ("forward only (no_grad)", forward), ("GraphBatch.Create (CPU, no autograd)", build),
        })
        {
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {Median(values):F1} ms | {values.Average():F1} ms | {values.Min():F1} ms |"));
        }
        Console.WriteLine();
        Console.Write(table.ToString());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"\nruns {runs}; forward+backward per graph (median): {Median(step) / chosen.Length:F2} ms"));
        return 0;
    }

    /// <summary>
    /// <c>--graph --cv [--dataset NAME] [--data DIR] [--out DIR] [--epochs E] [--batch B] [--lr LR] [--seed S] [--folds "0,1,…"] [--threads T]
    /// [--reference-transition] [--reference-normalization] [--resume]</c>: runs <see cref="GraphCrossValidation"/> (the
    /// library API the CLI wraps) and prints one line per epoch and per fold.
    /// </summary>
    private static int CrossValidate(string[] args)
    {
        var folds = StringArg(args, "--folds");
        var options = new GraphCvOptions
        {
            Dataset = StringArg(args, "--dataset") ?? "MUTAG",
            DataDir = StringArg(args, "--data"),
            OutputFolder = StringArg(args, "--out") ?? Path.Combine("runs", "graph"),
            Epochs = IntArg(args, "--epochs", 100),
            BatchSize = IntArg(args, "--batch", 64),
            Seed = IntArg(args, "--seed", 42),
            LearningRate = StringArg(args, "--lr") is { } lr ? double.Parse(lr, CultureInfo.InvariantCulture) : 1e-3,
            FoldIndices = folds?.Split(',').Select(f => int.Parse(f, CultureInfo.InvariantCulture)).ToArray(),
            Threads = IntArg(args, "--threads", 1),
            TransitionInput = args.Contains("--reference-transition") ? GraphTransitionInput.Reference : GraphTransitionInput.SharedNode,
            PNormalization = args.Contains("--reference-normalization") ? GraphPNormalization.PerTargetEdge : GraphPNormalization.PerIncomingEdge,
            Resume = args.Contains("--resume"),
        };
        Console.WriteLine($"graph CV: {System.Text.Json.JsonSerializer.Serialize(options)}");
        var progress = new SynchronousProgress(p => Console.WriteLine(p.Completed is { } r
            ? string.Create(CultureInfo.InvariantCulture,
                $"fold {p.Fold} done: test acc {r.TestAccuracy:F4} (best val {r.BestValidationAccuracy:F4} at epoch {r.BestEpoch}, majority {r.MajorityTestAccuracy:F4}, auc {r.TestRocAuc:F4}), {r.Seconds:F0} s")
            : string.Create(CultureInfo.InvariantCulture,
                $"fold {p.Fold} epoch {p.Epoch + 1}/{p.Epochs}: loss {p.TrainLoss:F4} train acc {p.TrainAccuracy:F3} val acc {p.ValidationAccuracy:F3} (best {p.BestValidationAccuracy:F3}) lr {p.LearningRate:E2} {p.Seconds:F0} s")));
        var result = GraphCrossValidation.Run(options, progress);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{result.Dataset}: {result.Folds.Count} folds, test accuracy {result.MeanTestAccuracy:F4} ± {result.StdTestAccuracy:F4} (sample std {result.SampleStdTestAccuracy:F4}), "
            + $"ROC-AUC {result.MeanTestRocAuc:F4}, {result.ParameterCount} parameters, {result.Seconds:F0} s"));
        return 0;
    }

    private sealed class SynchronousProgress(Action<GraphCvProgress> report) : IProgress<GraphCvProgress>
    {
        public void Report(GraphCvProgress value) => report(value);
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }

    private static int IntArg(string[] args, string name, int fallback)
    {
        var text = StringArg(args, name);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < 1)
            throw new ArgumentException($"{name} needs a positive integer");
        return value;
    }

    private static string? StringArg(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        if (at < 0) return null;
        if (at + 1 >= args.Length) throw new ArgumentException($"{name} needs a value");
        return args[at + 1];
    }
}
