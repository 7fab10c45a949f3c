using System.Globalization;
using System.Text.Json;
using Plstm.Data.Graphs;
using Plstm.Layers.Graph;
using Plstm.Models.Graph;
using Plstm.Training;
using Plstm.Training.Graph;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Bench;

/// <summary>
/// <c>--graph-views --runs DIR[,DIR…] [--dataset MUTAG] [--data ../shared/data] [--views 8] [--reference-variants]</c>:
/// re-scores the test folds of finished <c>plstm train graph</c> runs (their <c>fold-k/best.ckpt</c>) with the class
/// probabilities averaged over node relabelings. The model orients every graph from lower to higher node id, so a
/// relabeling is another DAG of the same graph and, for the model, another input with the same label. View 0 is the
/// graph as given (its score must equal the run's own, checked); views 1… are fixed random permutations.
/// </summary>
public static class GraphViewProbe
{
    public static int Run(string[] args)
    {
        string Arg(string name, string fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        string name = Arg("--dataset", "MUTAG");
        var dataset = TuDataset.Load(name, Arg("--data", Path.Combine("..", "shared", "data")));
        int views = int.Parse(Arg("--views", "8"), CultureInfo.InvariantCulture);
        bool reference = args.Contains("--reference-variants");
        var options = new GraphCvOptions
        {
            Dataset = name,
            TransitionInput = reference ? GraphTransitionInput.Reference : GraphTransitionInput.SharedNode,
            PNormalization = reference ? GraphPNormalization.PerTargetEdge : GraphPNormalization.PerIncomingEdge,
        };
        var folds = GraphSplits.CrossValidation(dataset.Graphs.Select(g => g.ClassIndex).ToArray(), 10, 42);
        torch.set_num_threads(1);
        Console.WriteLine($"| run | plain (run's own) | plain (here) | {views} views | per fold: plain → views |");
        Console.WriteLine("|---|---:|---:|---:|---|");
        foreach (string run in Arg("--runs", "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            double ownSum = 0, plainSum = 0, viewSum = 0;
            var perFold = new List<string>();
            foreach (var fold in folds)
            {
                string folder = Path.Combine(run, $"fold-{fold.Fold}");
                using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "result.json")));
                double own = json.RootElement.GetProperty("test_accuracy").GetDouble();
                using var model = GraphCrossValidation.CreateModel(options, dataset);
                TrainingCheckpoint.Load(Path.Combine(folder, TrainingCheckpoint.BestFileName), model);
                model.eval();
                var graphs = fold.Test.Select(i => dataset.Graphs[i]).ToArray();
                var labels = graphs.Select(g => g.ClassIndex).ToArray();
                double[,] sum = new double[graphs.Length, dataset.ClassCount];
                double plain = 0;
                for (int v = 0; v < views; v++)
                {
                    var samples = graphs.Select(g => Relabel(dataset, g, v)).ToArray();
                    using var batch = GraphBatch.Create(samples);
                    using var scope = NewDisposeScope();
                    using var noGrad = no_grad();
                    var p = nn.functional.softmax(model.forward(batch), 1).to_type(ScalarType.Float64).data<double>().ToArray();
                    for (int g = 0; g < graphs.Length; g++)
                        for (int c = 0; c < dataset.ClassCount; c++) sum[g, c] += p[g * dataset.ClassCount + c];
                    if (v == 0) plain = Accuracy(sum, labels);
                }
                double averaged = Accuracy(sum, labels);
                ownSum += own; plainSum += plain; viewSum += averaged;
                perFold.Add($"{plain:0.000}→{averaged:0.000}");
            }
            int n = folds.Count;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {run} | {ownSum / n:0.0000} | {plainSum / n:0.0000} | {viewSum / n:0.0000} | {string.Join(", ", perFold)} |"));
        }
        return 0;
    }

    private static double Accuracy(double[,] probabilities, int[] labels)
    {
        int correct = 0;
        for (int g = 0; g < labels.Length; g++)
        {
            int best = 0;
            for (int c = 1; c < probabilities.GetLength(1); c++) if (probabilities[g, c] > probabilities[g, best]) best = c;
            if (best == labels[g]) correct++;
        }
        return correct / (double)labels.Length;
    }

    /// <summary>View <paramref name="view"/> of a graph: node i becomes π(i) (π = identity for view 0, else a permutation
    /// fixed by the graph's index and the view).</summary>
    private static GraphSample Relabel(TuDataset dataset, TuGraph graph, int view)
    {
        int n = graph.NodeCount, f = dataset.NodeFeatureCount;
        var pi = Enumerable.Range(0, n).ToArray();
        if (view > 0) new Random(graph.Index * 1009 + view).Shuffle(pi);
        var features = dataset.NodeFeatures(graph);
        var moved = new float[features.Length];
        for (int i = 0; i < n; i++) Array.Copy(features, i * f, moved, pi[i] * f, f);
        return new GraphSample(n, graph.Edges.Select(e => (pi[e.Tail], pi[e.Head])), moved, f, graph.ClassIndex);
    }
}
