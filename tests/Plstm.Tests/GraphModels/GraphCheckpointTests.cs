using System.Globalization;
using System.Text.Json;
using Plstm.Tests.Cli;
using Plstm.Tests.Support;
using Plstm.Training;
using Plstm.Training.Graph;
using TorchSharp;

namespace Plstm.Tests.GraphModels;

/// <summary>
/// A fold checkpoint of the graph cross-validation loaded for inference (<see cref="GraphCheckpoint"/>, and
/// <c>plstm eval</c> on it): it reproduces the fold's own test and validation numbers, its predictions agree with its
/// accuracy and do not depend on the batch size, and what is not a graph checkpoint or not its data is refused.
/// </summary>
[Collection(nameof(GraphTrainingCollection))]
public sealed class GraphCheckpointTests
{
    [SkippableFact]
    public void A_fold_checkpoint_reproduces_its_result_in_the_library_and_in_plstm_eval()
    {
        string? root = GraphModelTestSupport.TuRoot;
        Skip.If(root is null, "MUTAG not found under ../shared/data/tu");
        using var temp = new TempFolder();
        var result = GraphCrossValidation.Run(new GraphCvOptions
        {
            Dataset = "MUTAG", DataDir = root, OutputFolder = temp.File("cv"), FoldIndices = [3], Epochs = 3, BatchSize = 16,
        });
        var fold = Assert.Single(result.Folds);
        string path = fold.Checkpoint;

        Assert.True(GraphCheckpoint.IsGraphCheckpoint(path));
        using (var checkpoint = GraphCheckpoint.Load(path, root))
        {
            Assert.Equal(3, checkpoint.Fold);
            Assert.Equal("MUTAG", checkpoint.Options.Dataset);
            var test = checkpoint.Evaluate();
            Assert.Equal(fold.TestAccuracy, test.Accuracy);
            Assert.Equal(fold.TestLoss, test.Loss);
            Assert.Equal(fold.TestRocAuc, test.RocAuc);
            Assert.Equal(fold.TestCount, test.Count);
            Assert.Equal(checkpoint.Split.Test, test.Predictions.Select(p => p.Index));
            Assert.Equal(test.Accuracy, test.Predictions.Count(p => p.Predicted == p.Label) / (double)test.Count);
            foreach (var p in test.Predictions)
            {
                Assert.Equal(1.0, p.Probabilities.Sum(), 6);
                Assert.Equal(p.Probabilities.Max(), p.Probabilities[p.Predicted]);
                Assert.Equal(checkpoint.Dataset.Graphs[p.Index].ClassIndex, p.Label);
            }
            Assert.Equal(fold.BestValidationAccuracy, checkpoint.Evaluate(GraphEvaluationSplit.Validation).Accuracy);
            // One graph per batch: the same probabilities up to float32 rounding.
            var alone = checkpoint.Evaluate(GraphEvaluationSplit.Test, batchSize: 1);
            foreach (var (a, b) in alone.Predictions.Zip(test.Predictions))
                for (int c = 0; c < a.Probabilities.Count; c++) Assert.Equal(b.Probabilities[c], a.Probabilities[c], 5);
            Assert.Equal(150, checkpoint.Evaluate(GraphEvaluationSplit.Train).Count);
        }

        var line = CliRunner.Run("eval", "--checkpoint", path, "--data", root!);
        CliAssert.Succeeded(line, "eval of a graph checkpoint");
        Assert.Contains(string.Create(CultureInfo.InvariantCulture,
            $"MUTAG fold 3 test: loss {fold.TestLoss:0.0000} acc {fold.TestAccuracy:0.0000} (19 graphs)"), line.Stdout,
            StringComparison.Ordinal);
        var json = CliRunner.Run("eval", "--checkpoint", path, "--split", "val", "--json");   // data folder as recorded
        CliAssert.Succeeded(json, "eval --json of a graph checkpoint");
        using (var document = JsonDocument.Parse(json.Stdout))
        {
            Assert.Equal(fold.BestValidationAccuracy, document.RootElement.GetProperty("acc").GetDouble());
            Assert.Equal(19, document.RootElement.GetProperty("predictions").GetArrayLength());
        }
        CliAssert.FailedWithOneLine(CliRunner.Run("eval", "--checkpoint", path, "--tta", "d4"), "--tta on a graph checkpoint");
        CliAssert.FailedWithOneLine(CliRunner.Run("eval", "--checkpoint", path, "--data", temp.File("cv")),
            "a data folder without MUTAG");
    }

    [Fact]
    public void Another_checkpoint_is_not_a_graph_checkpoint_and_is_refused_naming_the_path()
    {
        using var temp = new TempFolder();
        string path = temp.File("other.ckpt");
        using var module = torch.nn.Linear(2, 2);
        TrainingCheckpoint.Save(path, module, null, new CheckpointState { NumClasses = 2 }, "{\"model\": {\"preset\": \"x\"}}");
        Assert.False(GraphCheckpoint.IsGraphCheckpoint(path));
        var error = Assert.Throws<ArgumentException>(() => GraphCheckpoint.Load(path));
        Assert.Equal("path", error.ParamName);
        Assert.Throws<FileNotFoundException>(() => GraphCheckpoint.IsGraphCheckpoint(temp.File("missing.ckpt")));
    }
}
