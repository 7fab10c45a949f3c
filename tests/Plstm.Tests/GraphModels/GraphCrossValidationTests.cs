using System.Diagnostics;
using System.Text.Json;
using Plstm.Training;
using Plstm.Training.Graph;

namespace Plstm.Tests.GraphModels;

/// <summary>Runs alone: the smoke run seeds torch's global generator, which parallel tests would otherwise draw from.</summary>
[CollectionDefinition(nameof(GraphTrainingCollection), DisableParallelization = true)]
public sealed class GraphTrainingCollection;

[Collection(nameof(GraphTrainingCollection))]
public sealed class GraphCrossValidationTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "plstm-graphcv-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [SkippableFact]
    public void OneMutagFoldAtReducedEpochsBeatsTheMajorityClass()
    {
        var root = GraphModelTestSupport.TuRoot;
        Skip.If(root is null, "MUTAG not found under ../shared/data/tu");
        var reports = new List<GraphCvProgress>();
        var watch = Stopwatch.StartNew();
        var result = GraphCrossValidation.Run(new GraphCvOptions
        {
            Dataset = "MUTAG",
            DataDir = root,
            OutputFolder = _dir,
            FoldIndices = [0],
            Epochs = 10,
            BatchSize = 16,                                                               // more steps per epoch
        }, new Progress(reports));
        var fold = Assert.Single(result.Folds);
        Assert.True(watch.Elapsed.TotalSeconds < 60, $"took {watch.Elapsed.TotalSeconds:F0} s");
        Assert.Equal(19, fold.TestCount);
        Assert.Equal(150, fold.TrainCount);
        Assert.Equal(19, fold.ValidationCount);
        Assert.True(fold.TestAccuracy > fold.MajorityTestAccuracy,
            $"test accuracy {fold.TestAccuracy:F3} does not beat the majority class ({fold.MajorityTestAccuracy:F3})");
        Assert.Equal(469_602, result.ParameterCount);
        Assert.Equal(11, reports.Count);                                                  // 10 epochs + the fold report
        Assert.NotNull(reports[^1].Completed);
        Assert.True(File.Exists(Path.Combine(_dir, "fold-0", TrainingCheckpoint.BestFileName)));
        Assert.Equal(fold.BestEpoch, TrainingCheckpoint.ReadState(Path.Combine(_dir, "fold-0", TrainingCheckpoint.BestFileName)).Epoch);
        Assert.Equal(20, File.ReadAllLines(Path.Combine(_dir, "fold-0", MetricsWriter.JsonLinesFileName)).Length);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, GraphCrossValidation.SummaryFileName)));
        Assert.Equal(fold.TestAccuracy, summary.RootElement.GetProperty("mean_test_accuracy").GetDouble());
        using var foldJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "fold-0", GraphCrossValidation.FoldResultFileName)));
        Assert.Equal(fold.BestValidationAccuracy, foldJson.RootElement.GetProperty("best_validation_accuracy").GetDouble());

        // Resume reads the finished fold instead of training it again.
        var again = GraphCrossValidation.Run(new GraphCvOptions
        {
            Dataset = "MUTAG", DataDir = root, OutputFolder = _dir, FoldIndices = [0], Epochs = 10, BatchSize = 16, Resume = true,
        });
        Assert.Equal(fold.TestAccuracy, Assert.Single(again.Folds).TestAccuracy);
    }

    /// <summary>With a weight average the kept checkpoint holds the averaged weights: its validation loss (recomputed
    /// from the checkpoint by <see cref="GraphCheckpoint"/>) is the one the run selected on, and differs from the run
    /// without the average; everything else equal.</summary>
    [SkippableFact]
    public void WeightAverageIsWhatIsValidatedKeptAndTested()
    {
        var root = GraphModelTestSupport.TuRoot;
        Skip.If(root is null, "MUTAG not found under ../shared/data/tu");
        GraphFoldResult Fold(double ema, string name) => Assert.Single(GraphCrossValidation.Run(new GraphCvOptions
        {
            Dataset = "MUTAG", DataDir = root, OutputFolder = Path.Combine(_dir, name), FoldIndices = [0], Epochs = 3,
            BatchSize = 32, EmaDecay = ema, Selection = GraphModelSelection.Loss,
        }).Folds);
        var plain = Fold(0, "plain");
        var averaged = Fold(0.9, "ema");
        Assert.NotEqual(plain.TestLoss, averaged.TestLoss);
        using var checkpoint = GraphCheckpoint.Load(Path.Combine(_dir, "ema", "fold-0", TrainingCheckpoint.BestFileName));
        var test = checkpoint.Evaluate(GraphEvaluationSplit.Test);
        Assert.Equal(averaged.TestLoss, test.Loss, 6);
        Assert.Equal(averaged.TestAccuracy, test.Accuracy);
        var metrics = File.ReadAllLines(Path.Combine(_dir, "ema", "fold-0", MetricsWriter.JsonLinesFileName))
            .Select(l => JsonDocument.Parse(l).RootElement).Where(e => e.GetProperty("split").GetString() == "val")
            .Select(e => e.GetProperty("loss").GetDouble()).ToArray();
        var validation = checkpoint.Evaluate(GraphEvaluationSplit.Validation);
        Assert.Equal(metrics.Min(), validation.Loss, 5);                                     // the selected (lowest) one
    }

    [Fact]
    public void LearningRateFollowsTheReferenceSchedule()
    {
        Assert.Equal(1e-6, GraphCrossValidation.LearningRateFactor(0, 5, 100));
        Assert.Equal(0.4, GraphCrossValidation.LearningRateFactor(2, 5, 100), 12);
        Assert.Equal(1.0, GraphCrossValidation.LearningRateFactor(5, 5, 100), 12);
        Assert.Equal(0.5, GraphCrossValidation.LearningRateFactor(52, 5, 100), 1);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 94 / 95)), GraphCrossValidation.LearningRateFactor(99, 5, 100), 12);
        Assert.Equal(1.0, GraphCrossValidation.LearningRateFactor(0, 0, 12), 12);
        Assert.Equal(5, new GraphCvOptions().EffectiveWarmupEpochs);
    }

    [Fact]
    public void SelectionRulesDifferOnlyOnValidationAccuracyTies()
    {
        var rules = new[] { GraphModelSelection.Accuracy, GraphModelSelection.AccuracyThenLoss };
        foreach (var rule in rules)
        {
            Assert.True(rule.Replaces(0.5, 1.0, double.NegativeInfinity, double.PositiveInfinity));   // first epoch
            Assert.True(rule.Replaces(0.9, 2.0, 0.8, 0.1));     // higher accuracy wins whatever its loss
            Assert.False(rule.Replaces(0.7, 0.01, 0.8, 0.5));   // lower accuracy never does
            Assert.False(rule.Replaces(0.8, 0.5, 0.8, 0.5));    // a full tie keeps the earlier epoch
        }
        Assert.False(GraphModelSelection.Accuracy.Replaces(0.8, 0.3, 0.8, 0.5));         // the reference keeps the first
        Assert.True(GraphModelSelection.AccuracyThenLoss.Replaces(0.8, 0.3, 0.8, 0.5));  // the tie-break takes the lower loss
        Assert.False(GraphModelSelection.AccuracyThenLoss.Replaces(0.8, 0.6, 0.8, 0.5));
        Assert.True(GraphModelSelection.Loss.Replaces(0.7, 0.3, 0.8, 0.5));              // lower loss, lower accuracy
        Assert.False(GraphModelSelection.Loss.Replaces(0.9, 0.5, 0.8, 0.5));             // equal loss keeps the first
        Assert.True(GraphModelSelection.Loss.Replaces(0.0, 1.0, double.NegativeInfinity, double.PositiveInfinity));
    }

    [Fact]
    public void RocAucCountsTiesHalf()
    {
        Assert.Equal(0.75, ClassificationMetrics.BinaryRocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]));
        Assert.Equal(0.5, ClassificationMetrics.BinaryRocAuc([0.5, 0.5], [false, true]));
        Assert.Null(ClassificationMetrics.BinaryRocAuc([0.5, 0.2], [true, true]));
        Assert.Equal(1.0, ClassificationMetrics.MacroRocAuc([0.9, 0.1, 0.2, 0.8, 0.3, 0.7], [0, 1, 1], 2));
    }

    [Fact]
    public void InvalidOptionsNameTheOption()
    {
        Assert.Equal("Epochs", Assert.Throws<ArgumentException>(() => new GraphCvOptions { Epochs = 0 }.Validate()).ParamName);
        Assert.Equal("FoldIndices", Assert.Throws<ArgumentException>(() => new GraphCvOptions { FoldIndices = [10] }.Validate()).ParamName);
        Assert.Equal("NumHeads", Assert.Throws<ArgumentException>(() => new GraphCvOptions { NumHeads = 5 }.Validate()).ParamName);
        Assert.Equal("Device", Assert.Throws<ArgumentException>(() => new GraphCvOptions { Device = "tpu" }.Validate()).ParamName);
        Assert.Equal("ComputeDtype", Assert.Throws<ArgumentException>(
            () => new GraphCvOptions { ComputeDtype = ScalarType.Float16 }.Validate()).ParamName);
        foreach (double bad in new[] { -0.1, 1.0, double.NaN })
            Assert.Equal("EmaDecay", Assert.Throws<ArgumentException>(() => new GraphCvOptions { EmaDecay = bad }.Validate()).ParamName);
    }

    private sealed class Progress(List<GraphCvProgress> reports) : IProgress<GraphCvProgress>
    {
        public void Report(GraphCvProgress value) => reports.Add(value);
    }
}
