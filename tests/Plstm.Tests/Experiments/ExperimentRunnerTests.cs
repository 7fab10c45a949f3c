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

    [Fact]
    public void A_model_worker_runs_the_models_at_once_and_the_runner_writes_the_summary_in_order()
    {
        using var temp = new TempFolder();
        string output = temp.File("out");
        // Both models must be inside the worker at the same time, or the barrier times out.
        var worker = new FakeWorker(new Barrier(2), fail: null);
        var reports = new List<ExperimentProgress>();
        var runner = new ExperimentRunner(Tiny(), new ExperimentRunOptions
        {
            OutputFolder = output, Plot = false, ModelWorker = worker, ParallelModels = 2,
        }, new SyncProgress<ExperimentProgress>(reports.Add));
        var result = runner.Run();

        Assert.NotNull(result);
        Assert.Equal(["plstm", "vit"], result!.Models.Select(m => m.Key));
        Assert.Equal(2, worker.MostAtOnce);
        var saved = ExperimentResult.FromJson(File.ReadAllText(Path.Combine(output, ExperimentResult.JsonFileName)));
        Assert.Equal(["plstm", "vit"], saved.Models.Select(m => m.Key));
        Assert.Equal(0.5, saved.Models[1].Evaluations[0].Accuracy);
        // Every report of both workers arrived (serialised: the list above is not thread-safe).
        Assert.Equal(2 * FakeWorker.ReportsPerModel, reports.Count);
        Assert.False(Directory.Exists(Path.Combine(output, "plstm")));
    }

    [Fact]
    public void A_failing_model_stops_the_others_and_no_summary_is_written()
    {
        using var temp = new TempFolder();
        string output = temp.File("out");
        var worker = new FakeWorker(barrier: null, fail: "vit");
        var runner = new ExperimentRunner(Tiny(), new ExperimentRunOptions
        {
            OutputFolder = output, Plot = false, ModelWorker = worker, ParallelModels = 2,
        });
        var ex = Assert.Throws<InvalidOperationException>(() => runner.Run());
        Assert.Equal("model 'vit' failed: boom", ex.Message);
        // The other model was cancelled rather than left running.
        Assert.Contains("plstm", worker.Cancelled);
        Assert.False(File.Exists(Path.Combine(output, ExperimentResult.JsonFileName)));
    }

    [Fact]
    public void Only_model_trains_one_model_and_writes_no_summary()
    {
        using var temp = new TempFolder();
        string output = temp.File("out");
        var reports = new List<ExperimentProgress>();
        var result = new ExperimentRunner(Tiny(), new ExperimentRunOptions { OutputFolder = output, OnlyModel = "vit" },
            new SyncProgress<ExperimentProgress>(reports.Add)).Run();
        Assert.Equal(["vit"], result!.Models.Select(m => m.Key));
        Assert.All(reports, r => Assert.Equal("vit", r.ModelKey));
        // The model keeps its index in the experiment, so a parent shows it where it belongs.
        Assert.All(reports, r => Assert.Equal((1, 2), (r.ModelIndex, r.ModelCount)));
        Assert.True(File.Exists(Path.Combine(output, "vit", ExperimentRunner.EvaluationFileName)));
        Assert.False(Directory.Exists(Path.Combine(output, "plstm")));
        Assert.Empty(Directory.GetFiles(output));

        var unknown = Assert.Throws<ArgumentException>(() => new ExperimentRunner(Tiny(),
            new ExperimentRunOptions { OutputFolder = temp.File("x"), OnlyModel = "nope" }).Prepare());
        Assert.Contains("no model 'nope' (models: plstm, vit)", unknown.Message);
        Assert.Throws<ArgumentException>(() => new ExperimentRunner(Tiny(),
            new ExperimentRunOptions { OutputFolder = temp.File("x"), ParallelModels = 0 }).Prepare());
    }

    /// <summary>Pretends to train: reports a start, a step and a finish; waits at the barrier (when given) so that a
    /// test proves the models overlap; fails for one key (when given) after the others have started.</summary>
    private sealed class FakeWorker(Barrier? barrier, string? fail) : IExperimentModelWorker
    {
        public const int ReportsPerModel = 3;
        private int _inside;
        public int MostAtOnce;
        public readonly System.Collections.Concurrent.ConcurrentBag<string> Cancelled = [];

        public ModelResult? Run(string modelKey, IProgress<ExperimentProgress> progress, CancellationToken cancellationToken)
        {
            int now = Interlocked.Increment(ref _inside);
            InterlockedMax(ref MostAtOnce, now);
            try
            {
                int index = modelKey == "plstm" ? 0 : 1;
                progress.Report(new ExperimentProgress(ExperimentStage.ModelStarting, modelKey, index, 2, 2));
                if (barrier is not null && !barrier.SignalAndWait(TimeSpan.FromSeconds(30)))
                    throw new TimeoutException("the models did not run at the same time");
                if (modelKey == fail)
                {
                    Thread.Sleep(100);
                    throw new InvalidOperationException($"model '{modelKey}' failed: boom");
                }
                if (fail is not null)
                {
                    // Wait to be stopped by the failure of the other model.
                    if (cancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(30))) Cancelled.Add(modelKey);
                    return null;
                }
                progress.Report(new ExperimentProgress(ExperimentStage.Training, modelKey, index, 2, 2,
                    new global::Plstm.Training.TrainingProgress(1, 2, 0, "train", 0.7, 0.5, 1e-3, 1, 100, TimeSpan.FromSeconds(1))));
                var result = new ModelResult(modelKey, modelKey, 10, 1e-3, 2, 1, 0.5, 0.5, 2, 0.5,
                    [new NamedEvaluation("test", 32, 0.7, 0.5, 4)]);
                progress.Report(new ExperimentProgress(ExperimentStage.ModelFinished, modelKey, index, 2, 2, Model: result));
                return result;
            }
            finally
            {
                Interlocked.Decrement(ref _inside);
            }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }
}
