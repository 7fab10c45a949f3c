using System.Text.Json;
using Plstm.Cli.Training;
using Plstm.Experiments;
using Plstm.Tests.Support;
using Plstm.Tests.Training;
using Plstm.Training;

namespace Plstm.Tests.Cli;

/// <summary>
/// <c>plstm train EXPERIMENT --parallel-models N</c>: the models train at once, each in a child process
/// (<see cref="ProcessModelWorker"/>), and give exactly the numbers of the same run one model after the other.
/// </summary>
[Collection(TrainingSerialCollection.Name)]
public sealed class ParallelModelsCliTests
{
    private static readonly string[] Tiny = ["train", "ape-small", "--scale", "6", "--steps", "3", "--batch-size", "4",
        "--train-count", "32", "--eval-count", "8", "--log-every", "1", "--threads", "1", "--no-plot"];

    [Fact]
    public void Models_in_parallel_processes_give_the_sequential_numbers()
    {
        using var temp = new TempFolder();
        string sequential = temp.File("sequential"), parallel = temp.File("parallel");
        var one = CliRunner.Run([.. Tiny, "--parallel-models", "1", "--out", sequential]);
        CliAssert.Succeeded(one, "--parallel-models 1");
        Assert.DoesNotContain("one process each", one.Stdout);
        var two = CliRunner.Run([.. Tiny, "--parallel-models", "2", "--out", parallel]);
        CliAssert.Succeeded(two, "--parallel-models 2");
        Assert.Contains("2 models at a time, one process each with 1 thread(s)", two.Stdout);
        // The workers' progress reaches the parent's view.
        Assert.Contains("[plstm] step 3/3 loss ", two.Stdout);
        Assert.Contains("[vit] test @32 d4: loss ", two.Stdout);

        var a = ExperimentResult.FromJson(File.ReadAllText(Path.Combine(sequential, ExperimentResult.JsonFileName)));
        var b = ExperimentResult.FromJson(File.ReadAllText(Path.Combine(parallel, ExperimentResult.JsonFileName)));
        Assert.Equal(["plstm", "vit"], b.Models.Select(m => m.Key));
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(a.Models[i].Evaluations, b.Models[i].Evaluations);
            Assert.Equal(a.Models[i].BestValidationAccuracy, b.Models[i].BestValidationAccuracy);
            Assert.Equal(Losses(sequential, a.Models[i].Key), Losses(parallel, b.Models[i].Key));
        }
    }

    [Fact]
    public void A_worker_that_fails_is_reported_with_its_reason()
    {
        using var temp = new TempFolder();
        var settings = new TrainSettings { Experiment = "ape-small", Out = temp.File("out"), Steps = 2 };
        var worker = new ProcessModelWorker(settings);
        var ex = Assert.Throws<InvalidOperationException>(() =>
            worker.Run("nope", new SyncProgress<ExperimentProgress>(_ => { }), CancellationToken.None));
        Assert.StartsWith("model 'nope' failed (worker process exit 2): Experiment 'ape-small' has no model 'nope'", ex.Message);
    }

    [Fact]
    public void A_cancelled_worker_saves_its_checkpoint_and_stops()
    {
        using var temp = new TempFolder();
        string output = temp.File("out");
        var settings = new TrainSettings
        {
            Experiment = "ape-small", Scale = 6, Steps = 10_000, BatchSize = 4, TrainCount = 32, EvalCount = 8,
            LogEvery = 1, Threads = 1, Out = output,
        };
        using var cancel = new CancellationTokenSource();
        long seen = 0;
        var result = new ProcessModelWorker(settings).Run("vit", new SyncProgress<ExperimentProgress>(p =>
        {
            if (p.Training is { Split: "train" } t && Interlocked.Exchange(ref seen, t.Step) == 0) cancel.Cancel();
        }), cancel.Token);
        Assert.Null(result);
        // A signal, not a kill: the trainer saved where it stopped, so --resume continues from there.
        var checkpoint = Path.Combine(output, "vit", TrainingCheckpoint.LastFileName);
        Assert.True(File.Exists(checkpoint), "no last.ckpt after the interrupt");
        Assert.InRange(Interlocked.Read(ref seen), 1, 9_999);
    }

    [Fact]
    public void Progress_reports_survive_the_json_line()
    {
        var step = new ExperimentProgress(ExperimentStage.Training, "plstm", 0, 2, 100,
            new TrainingProgress(7, 100, 0, "train", double.NaN, 0.5, 1e-3, null, 123.5, TimeSpan.FromSeconds(3.25), 2));
        var model = new ModelResult("vit", "vit_tiny", 239_298, 5e-4, 100, 12.5, 0.125, 0.9, 80, 0.875,
            [new NamedEvaluation("test", 64, 0.25, 0.95, 1024, "d4")], [10, 20]);
        var done = new ExperimentProgress(ExperimentStage.ModelFinished, "vit", 1, 2, 100, Model: model);
        foreach (var report in new[] { step, done })
        {
            string line = ExperimentProgressJson.ToLine(report);
            Assert.DoesNotContain('\n', line);
            var back = ExperimentProgressJson.TryParse(line);
            Assert.NotNull(back);
            Assert.Equal(report with { Model = null }, back! with { Model = null });
            Assert.Equal(report.Model is null, back.Model is null);
        }
        var parsed = ExperimentProgressJson.TryParse(ExperimentProgressJson.ToLine(done))!.Model!;
        Assert.Equal(model.Evaluations, parsed.Evaluations);
        Assert.Equal(model.CurriculumStageSteps, parsed.CurriculumStageSteps);
        Assert.Equal(model with { Evaluations = [], CurriculumStageSteps = null },
            parsed with { Evaluations = [], CurriculumStageSteps = null });
        // Anything else a worker prints is not a report.
        Assert.Null(ExperimentProgressJson.TryParse("libtorch: some warning"));
        Assert.Null(ExperimentProgressJson.TryParse("{not json"));
    }

    // The training losses of a model's metrics.jsonl, in order.
    private static List<double> Losses(string run, string model) =>
        [.. File.ReadLines(Path.Combine(run, model, MetricsWriter.JsonLinesFileName))
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.TryGetProperty("split", out var s) && s.GetString() == "train")
            .Select(e => e.GetProperty("loss").GetDouble())];
}
