using System.Text.Json;
using Plstm.Data.Graphs;
using Plstm.Models.Graph;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Training.Graph;

/// <summary>Which graphs of a fold to score: the ones the fold trained on, validated on, or tested on.</summary>
public enum GraphEvaluationSplit
{
    /// <summary>The fold's training graphs.</summary>
    Train,

    /// <summary>The fold's validation graphs (what chose the checkpoint).</summary>
    Validation,

    /// <summary>The fold's test graphs (what <c>result.json</c> reports).</summary>
    Test,
}

/// <summary>One graph's prediction.</summary>
/// <param name="Index">The graph's 0-based index in the TU data set (line order of <c>NAME_graph_labels.txt</c>).</param>
/// <param name="Label">Its class index (position of its TU label among the data set's sorted labels, as the model's
/// outputs).</param>
/// <param name="Predicted">The class of highest probability.</param>
/// <param name="Probabilities">Softmax over the classes.</param>
public sealed record GraphPrediction(int Index, int Label, int Predicted, IReadOnlyList<double> Probabilities);

/// <summary>A checkpoint's scores on some graphs of its data set.</summary>
/// <param name="Dataset">TU data set name.</param>
/// <param name="Fold">The fold the checkpoint was trained on.</param>
/// <param name="Split">Which of the fold's graphs.</param>
/// <param name="Count">Graphs scored.</param>
/// <param name="Loss">Mean cross-entropy.</param>
/// <param name="Accuracy">Top-1 accuracy.</param>
/// <param name="RocAuc">Macro one-vs-rest ROC-AUC (null when a class is missing).</param>
/// <param name="Predictions">Per graph, in the split's order.</param>
public sealed record GraphEvaluation(string Dataset, int Fold, GraphEvaluationSplit Split, int Count, double Loss,
    double Accuracy, double? RocAuc, IReadOnlyList<GraphPrediction> Predictions);

/// <summary>
/// A fold checkpoint of <see cref="GraphCrossValidation"/> (<c>OUT/fold-K/best.ckpt</c>) loaded for inference: the
/// model rebuilt from the options stored in the checkpoint, its weights, the TU data set it was trained on and the
/// fold's split recomputed from the same seeds. <see cref="Evaluate"/> on <see cref="GraphEvaluationSplit.Test"/>
/// reproduces the fold's <c>result.json</c> (same batches, same numbers).
/// </summary>
public sealed class GraphCheckpoint : IDisposable
{
    private readonly Device _device;

    private GraphCheckpoint(string path, GraphCvOptions options, int fold, TuDataset dataset, PlstmGraphModel model,
        GraphFold split, Device device)
    {
        Path = path;
        Options = options;
        Fold = fold;
        Dataset = dataset;
        Model = model;
        Split = split;
        _device = device;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <summary>The cross-validation options the checkpoint was trained with.</summary>
    public GraphCvOptions Options { get; }

    /// <summary>The fold it was trained on.</summary>
    public int Fold { get; }

    /// <summary>The TU data set.</summary>
    public TuDataset Dataset { get; }

    /// <summary>The model with the checkpoint's weights, in eval mode.</summary>
    public PlstmGraphModel Model { get; }

    /// <summary>The fold's graph indices (training, validation, test).</summary>
    public GraphFold Split { get; }

    /// <summary>Whether <paramref name="path"/> is a checkpoint written by <see cref="GraphCrossValidation"/> (its
    /// <c>config.json</c> holds a fold and the cross-validation options).</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a checkpoint.</exception>
    public static bool IsGraphCheckpoint(string path) => ReadConfig(path) is not null;

    /// <summary>Loads the checkpoint at <paramref name="path"/> with its data set.</summary>
    /// <param name="path">A fold's <c>best.ckpt</c>.</param>
    /// <param name="dataDir">Where the TU data set lies (a folder holding <c>tu/NAME/</c> or <c>NAME/</c>); default: the
    /// folder recorded at training when it still exists, else <c>PLSTM_DATA</c>, else <c>../shared/data</c>.</param>
    /// <param name="device">cpu, cuda or cuda:N.</param>
    /// <exception cref="ArgumentException">Not a graph checkpoint (<c>ParamName</c> path), or the data set does not fit
    /// the model (<c>ParamName</c> dataDir).</exception>
    /// <exception cref="DirectoryNotFoundException">The data set was not found.</exception>
    public static GraphCheckpoint Load(string path, string? dataDir = null, string device = "cpu")
    {
        ArgumentNullException.ThrowIfNull(path);
        var (fold, options) = ReadConfig(path) ?? throw new ArgumentException(
            $"'{path}' is not a checkpoint of 'plstm train graph' (its config holds no fold and options).", nameof(path));
        string? recorded = options.DataDir is not null && Directory.Exists(options.DataDir) ? options.DataDir : null;
        var dataset = TuDataset.Load(options.Dataset, dataDir ?? recorded);
        int classes = TrainingCheckpoint.ReadState(path).NumClasses;
        if (classes != dataset.ClassCount)
            throw new ArgumentException(
                $"The checkpoint's model has {classes} classes, the data set {options.Dataset} found there {dataset.ClassCount}.",
                nameof(dataDir));
        var resolved = TrainingDevice.Resolve(device);
        var model = GraphCrossValidation.CreateModel(options, dataset);
        try
        {
            TrainingCheckpoint.Load(path, model);
        }
        catch (InvalidDataException ex)
        {
            model.Dispose();
            throw new ArgumentException(
                $"The data set {options.Dataset} found there does not fit the checkpoint's model ({ex.Message}).", nameof(dataDir), ex);
        }
        model.to(resolved);
        model.eval();
        var labels = dataset.Graphs.Select(g => g.ClassIndex).ToArray();   // as the training's samples
        var split = GraphSplits.CrossValidation(labels, options.Folds, options.SplitSeed, options.TrainFraction)[fold];
        return new GraphCheckpoint(path, options, fold, dataset, model, split, resolved);
    }

    /// <summary>Scores the fold's <paramref name="split"/> graphs in batches of <paramref name="batchSize"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> &lt; 1.</exception>
    public GraphEvaluation Evaluate(GraphEvaluationSplit split = GraphEvaluationSplit.Test, int? batchSize = null)
    {
        int size = batchSize ?? Options.EvalBatchSize;
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1, nameof(batchSize));
        var indices = split switch
        {
            GraphEvaluationSplit.Train => Split.Train,
            GraphEvaluationSplit.Validation => Split.Validation,
            _ => Split.Test,
        };
        var samples = indices.Select(i => GraphSample.FromTu(Dataset, Dataset.Graphs[i])).ToArray();
        var batches = GraphCrossValidation.Batches(samples, size, _device);   // as the fold's own evaluation
        try
        {
            var (loss, accuracy, probabilities, labels) = GraphCrossValidation.Evaluate(Model, batches);
            int classes = Dataset.ClassCount;
            var predictions = indices.Select((graph, k) =>
            {
                var p = probabilities.AsSpan(k * classes, classes).ToArray();
                int best = 0;
                for (int c = 1; c < classes; c++) if (p[c] > p[best]) best = c;
                return new GraphPrediction(graph, labels[k], best, p);
            }).ToArray();
            return new GraphEvaluation(Options.Dataset, Fold, split, samples.Length, loss, accuracy,
                ClassificationMetrics.MacroRocAuc(probabilities, labels, classes), predictions);
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
    }

    /// <inheritdoc />
    public void Dispose() => Model.Dispose();

    private static (int Fold, GraphCvOptions Options)? ReadConfig(string path)
    {
        string? json = TrainingCheckpoint.ReadConfigJson(path);
        if (json is null) return null;
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("fold", out var fold) || fold.ValueKind != JsonValueKind.Number
                || !root.TryGetProperty("options", out var options) || options.ValueKind != JsonValueKind.Object)
                return null;
            var parsed = options.Deserialize<GraphCvOptions>(GraphCrossValidation.Json);
            return parsed is null ? null : (fold.GetInt32(), parsed);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
