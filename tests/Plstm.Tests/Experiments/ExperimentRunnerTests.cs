using Plstm.Tests.Support;
using Plstm.Experiments;
using Plstm.Tests.Training;

namespace Plstm.Tests.Experiments;

/// <summary>The runner checks everything before writing, reports progress in order, and writes results.json last.</summary>
[Collection(TrainingSerialCollection.Name)]
public sealed class ExperimentRunnerTests
{
    private static ExperimentPreset Tiny() => ExperimentRegistry.Get("ape-small") with
    {
        Data = ExperimentRegistry.Get("ape-small").Data with { ArrowScale = 6, TrainCount = 16, ValidationCount = 4, TestCount = 4 },
        Steps = 2,
        BatchSize = 4,
        WarmupSteps = 0,
        EvalEverySteps = 0,
        CheckpointEverySteps = 0,
        LogEverySteps = 1,
    };

    [Fact]
    public void Prepare_writes_nothing_and_refuses_a_non_empty_folder()
    {
        using var temp = new TempFolder();
        string output = temp.File("out");
        new ExperimentRunner(Tiny(), new ExperimentRunOptions { OutputFolder = output }).Prepare();
        Assert.False(Directory.Exists(output));

        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "keep.txt"), "x");
        var ex = Assert.Throws<ArgumentException>(() => new ExperimentRunner(Tiny(), new ExperimentRunOptions { OutputFolder = output }).Prepare());
        Assert.Contains("not empty", ex.Message);
        Assert.Throws<ArgumentException>(() => new ExperimentRunner(Tiny() with { Models = [] }, new ExperimentRunOptions { OutputFolder = temp.File("x") }).Prepare());
        Assert.Throws<ArgumentException>(() => new ExperimentRunner(Tiny() with { WarmupSteps = 3 }, new ExperimentRunOptions { OutputFolder = temp.File("x") }).Prepare());
    }

    [Fact]
    public void Runs_both_models_and_reports_progress_in_order()
    {
        using var temp = new TempFolder();
        var reports = new List<ExperimentProgress>();
        var runner = new ExperimentRunner(Tiny(), new ExperimentRunOptions { OutputFolder = temp.File("out"), Plot = false },
            new SyncProgress<ExperimentProgress>(reports.Add));
        var result = runner.Run();
        Assert.NotNull(result);

        string Stage(ExperimentProgress p) => p.Stage switch
        {
            ExperimentStage.Training => $"{p.ModelKey}:{p.Training!.Split}{p.Training.Step}",
            ExperimentStage.Evaluating => $"{p.ModelKey}:{p.Stage}:{p.EvaluationName}@{p.ImageSize}",
            ExperimentStage.Evaluated => $"{p.ModelKey}:{p.Stage}:{p.Evaluation!.Describe()}",
            _ => $"{p.ModelKey}:{p.Stage}",
        };
        // ape-small's test at the training size is scored a second time with the eight symmetric views averaged.
        string[] expected = ["ModelStarting", "train1", "train2", "val2", "Evaluating:test@32", "Evaluated:test @32",
            "Evaluated:test @32 d4", "Evaluating:test-ext@64", "Evaluated:test-ext @64", "ModelFinished"];
        Assert.Equal(expected.Select(s => "plstm:" + s).Concat(expected.Select(s => "vit:" + s)), reports.Select(Stage));
        Assert.True(File.Exists(Path.Combine(temp.Path, "out", ExperimentResult.JsonFileName)));
        Assert.False(File.Exists(Path.Combine(temp.Path, "out", ExperimentResult.CurvesFileName)));
        Assert.All(result!.Models, m => Assert.NotNull(m.SecondsPerStep));
    }
}
