using Plstm.Tests.Support;
using System.Text.Json;
using Plstm.Experiments;
using Plstm.Tests.Training;
using Plstm.Training;

namespace Plstm.Tests.Cli;

/// <summary>
/// <c>plstm train</c> → <c>eval</c> → <c>predict</c> end to end, in-process, in a temporary folder, with tiny settings
/// (arrow pointing shrunk by 6 to 32 px, a few steps). Serial: training seeds torch's global generator.
/// </summary>
[Collection(TrainingSerialCollection.Name)]
public sealed class TrainEvalPredictCliTests
{
    /// <summary>Mixed precision end to end: a few steps with the models computing in bfloat16, float32 parameters (the
    /// checkpoint a plain float32 eval reads).</summary>
    [Fact]
    public void Train_with_a_bfloat16_compute_dtype_keeps_float32_checkpoints()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        var train = CliRunner.Run("train", "--preset", "plstm_vit_tiny", "--data", "arrows", "--scale", "6",
            "--steps", "3", "--batch-size", "8", "--train-count", "32", "--eval-count", "8", "--log-every", "1",
            "--eval-every", "0", "--no-plot", "--out", run, "--compute-dtype", "bfloat16");
        CliAssert.Succeeded(train, "train --compute-dtype bfloat16");
        Assert.Contains("(bfloat16 compute, float32 parameters)", train.Stdout);
        Assert.Contains("[plstm_vit_tiny] step 3/3 loss ", train.Stdout);
        string last = Path.Combine(run, "plstm_vit_tiny", TrainingCheckpoint.LastFileName);
        var eval = CliRunner.Run("eval", "--checkpoint", last, "--count", "8", "--json");
        CliAssert.Succeeded(eval, "eval of a mixed-precision checkpoint");
        using var json = JsonDocument.Parse(eval.Stdout);
        Assert.True(double.IsFinite(json.RootElement.GetProperty("loss").GetDouble()));
    }

    [Fact]
    public void Train_then_eval_then_predict_on_arrows()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");

        var train = CliRunner.Run("train", "--preset", "plstm_vit_tiny", "--data", "arrows", "--scale", "6",
            "--steps", "3", "--batch-size", "8", "--train-count", "64", "--eval-count", "16", "--log-every", "1",
            "--out", run, "--tf32", "--recompute");
        CliAssert.Succeeded(train, "train");
        Assert.Contains("on cpu (TF32 products) (recomputing in backward)", train.Stdout);   // TF32: CUDA only, but stated
        Assert.Contains("[plstm_vit_tiny] step 3/3 loss ", train.Stdout);
        Assert.Contains(" img/s eta ", train.Stdout);
        Assert.Contains("| plstm_vit_tiny | plstm_vit_tiny |", train.Stdout);

        string model = Path.Combine(run, "plstm_vit_tiny");
        foreach (string file in new[] { "last.ckpt", "best.ckpt", "metrics.jsonl", ExperimentRunner.EvaluationFileName })
            Assert.True(File.Exists(Path.Combine(model, file)), $"missing {file}");
        Assert.Equal((MetricsPlot.DefaultWidth, MetricsPlot.DefaultHeight),
            CliAssert.IsPng(Path.Combine(run, ExperimentResult.CurvesFileName)));
        Assert.Contains("test-ext acc @64", File.ReadAllText(Path.Combine(run, ExperimentResult.MarkdownFileName)));
        var results = ExperimentResult.FromJson(File.ReadAllText(Path.Combine(run, ExperimentResult.JsonFileName)));
        var modelResult = Assert.Single(results.Models);
        Assert.Equal(3, modelResult.Steps);
        // Arrow data brings ape-small's settings, among them the second scoring of the test at the training size with
        // the eight views averaged.
        Assert.Equal(["test@32", "test@32 d4", "test-ext@64"],
            modelResult.Evaluations.Select(e => $"{e.Name}@{e.ImageSize}{(e.Augmentation is null ? "" : " " + e.Augmentation)}"));
        Assert.All(modelResult.Evaluations, e => Assert.Equal(16, e.Count));

        // eval at the training size reproduces the run's own test evaluation (same seed, count and weights) …
        string last = Path.Combine(model, TrainingCheckpoint.LastFileName);
        var eval = CliRunner.Run("eval", "--checkpoint", last, "--count", "16", "--json");
        CliAssert.Succeeded(eval, "eval");
        using (var json = JsonDocument.Parse(eval.Stdout))
        {
            Assert.Equal("test", json.RootElement.GetProperty("split").GetString());
            Assert.Equal(32, json.RootElement.GetProperty("image_size").GetInt32());
            Assert.Equal(3, json.RootElement.GetProperty("step").GetInt64());
            Assert.Equal(modelResult.Evaluations[0].Accuracy, json.RootElement.GetProperty("acc").GetDouble(), 12);
            Assert.Equal(modelResult.Evaluations[0].Loss, json.RootElement.GetProperty("loss").GetDouble(), 5);
        }
        // … and at twice the size it is the extrapolation test.
        eval = CliRunner.Run("eval", "--checkpoint", last, "--image-size", "64", "--count", "16");
        CliAssert.Succeeded(eval, "eval --image-size 64");
        Assert.Contains("on arrows test-ext @64: loss ", eval.Stdout);
        Assert.Contains("(16 images)", eval.Stdout);
        // … and with the eight views averaged it is the run's averaged test.
        eval = CliRunner.Run("eval", "--checkpoint", last, "--count", "16", "--tta", "d4", "--json");
        CliAssert.Succeeded(eval, "eval --tta d4");
        using (var json = JsonDocument.Parse(eval.Stdout))
        {
            Assert.Equal("d4", json.RootElement.GetProperty("tta").GetString());
            Assert.Equal(modelResult.Evaluations[1].Accuracy, json.RootElement.GetProperty("acc").GetDouble(), 12);
            Assert.Equal(modelResult.Evaluations[1].Loss, json.RootElement.GetProperty("loss").GetDouble(), 5);
        }
        CliAssert.FailedWithOneLine(CliRunner.Run("eval", "--checkpoint", last, "--tta", "rot"), "eval --tta rot");

        // predict on PNG files exported by 'plstm data arrows' at the same scale.
        string pngs = temp.File("pngs");
        CliAssert.Succeeded(CliRunner.Run("data", "arrows", "--seed", "200042", "--size", "192", "--scale", "6",
            "--count", "3", "--out", pngs), "data arrows");
        string[] files = Directory.GetFiles(pngs, "*.png").Order(StringComparer.Ordinal).ToArray();
        var predict = CliRunner.Run(["predict", "--checkpoint", Path.Combine(model, TrainingCheckpoint.BestFileName), .. files]);
        CliAssert.Succeeded(predict, "predict");
        string[] lines = predict.Stdout.TrimEnd().Split('\n');
        Assert.Equal(files.Length, lines.Length);
        for (int i = 0; i < files.Length; i++)
            Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(files[i])}: (not-pointing|pointing) \\((0\\.[5-9]\\d\\d|1\\.000)\\)$",
                lines[i].TrimEnd('\r'));
        var averaged = CliRunner.Run(["predict", "--checkpoint", Path.Combine(model, TrainingCheckpoint.BestFileName),
            "--tta", "d4", .. files]);
        CliAssert.Succeeded(averaged, "predict --tta d4");
        Assert.Equal(files.Length, averaged.Stdout.TrimEnd().Split('\n').Length);
    }

    [Fact]
    public void Experiment_trains_both_models_resumes_and_refuses_to_overwrite()
    {
        using var temp = new TempFolder();
        string run = temp.File("ape");
        string[] args = ["train", "ape-small", "--scale", "6", "--steps", "2", "--batch-size", "4", "--train-count", "32",
            "--eval-count", "8", "--out", run];

        var first = CliRunner.Run(args);
        CliAssert.Succeeded(first, "train ape-small");
        Assert.Contains("[plstm] training plstm_vit_tiny (1/2)", first.Stdout);
        Assert.Contains("[vit] training vit_tiny (2/2)", first.Stdout);
        var results = ExperimentResult.FromJson(File.ReadAllText(Path.Combine(run, ExperimentResult.JsonFileName)));
        Assert.Equal(["plstm", "vit"], results.Models.Select(m => m.Key));
        // ape-small scores the test at the training size twice: as given and with the eight symmetric views averaged.
        Assert.All(results.Models, m => Assert.Equal(["test", "test d4", "test-ext"],
            m.Evaluations.Select(e => e.Augmentation is null ? e.Name : $"{e.Name} {e.Augmentation}")));
        Assert.Contains("test acc @32 d4", File.ReadAllText(Path.Combine(run, ExperimentResult.MarkdownFileName)));
        Assert.Contains("[plstm] test @32 d4: loss ", first.Stdout);
        // The run's averaged score is what 'plstm eval --tta d4' gives for the same weights and images.
        var evalD4 = CliRunner.Run("eval", "--checkpoint", Path.Combine(run, "plstm", TrainingCheckpoint.LastFileName),
            "--count", "8", "--tta", "d4", "--json");
        CliAssert.Succeeded(evalD4, "eval --tta d4");
        using (var json = JsonDocument.Parse(evalD4.Stdout))
        {
            var d4 = results.Models[0].Evaluations[1];
            Assert.Equal(d4.Accuracy, json.RootElement.GetProperty("acc").GetDouble(), 12);
            Assert.Equal(d4.Loss, json.RootElement.GetProperty("loss").GetDouble(), 4);
        }
        // Same-size pair: parameter counts within 5 %.
        Assert.InRange(results.Models[0].Parameters / (double)results.Models[1].Parameters, 0.95, 1.05);

        // Resuming a complete run trains nothing more and reuses the evaluations.
        var resumed = CliRunner.Run([.. args, "--resume"]);
        CliAssert.Succeeded(resumed, "train --resume");
        var again = ExperimentResult.FromJson(File.ReadAllText(Path.Combine(run, ExperimentResult.JsonFileName)));
        Assert.Equal(results.Models.Select(m => m.Evaluations), again.Models.Select(m => m.Evaluations), new SequenceComparer());
        Assert.DoesNotContain(" step 1/2 ", resumed.Stdout);

        // Without --resume an existing run is never overwritten.
        var before = CliAssert.Snapshot(run);
        CliAssert.FailedWithOneLine(CliRunner.Run(args), "train into a non-empty --out");
        Assert.Equal(before, CliAssert.Snapshot(run));
    }

    private sealed class SequenceComparer : IEqualityComparer<IReadOnlyList<NamedEvaluation>>
    {
        public bool Equals(IReadOnlyList<NamedEvaluation>? x, IReadOnlyList<NamedEvaluation>? y) =>
            x is not null && y is not null && x.SequenceEqual(y);

        public int GetHashCode(IReadOnlyList<NamedEvaluation> obj) => obj.Count;
    }
}
