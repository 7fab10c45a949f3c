using System.Text;
using System.Text.Json;
using Plstm.Models.Language;
using Plstm.Tests.Support;
using Plstm.Tests.Training;
using Plstm.Training;
using Plstm.Training.Language;

namespace Plstm.Tests.Cli;

/// <summary>
/// <c>plstm train lm</c> and <c>plstm generate</c> end to end, in-process, on a small temporary text with
/// <c>lm_tiny</c> (a few steps of 4 × 32 bytes). Serial: training seeds torch's global generator.
/// </summary>
[Collection(TrainingSerialCollection.Name)]
public sealed class LanguageModelCliTests
{
    private const string Fallback =
        "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n" +
        "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n\n";

    /// <summary>The first 20 kB of tiny Shakespeare (or a repeated excerpt when it is not available) in a file.</summary>
    internal static string SmallText(TempFolder temp, string name = "small.txt")
    {
        byte[] bytes;
        try
        {
            var full = Plstm.Data.Text.ByteCorpus.LoadTinyShakespeare(verifyChecksum: false);
            bytes = full.Bytes[..20_000].ToArray();
        }
        catch (FileNotFoundException)
        {
            bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(Fallback, 120)));
        }
        string path = temp.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string[] TrainArgs(string data, string output, int steps, params string[] more) =>
    [
        "train", "lm", "--data", data, "--preset", "lm_tiny", "--steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--batch-size", "4", "--context", "32", "--lr", "3e-3", "--warmup", "1", "--log-every", "1", "--eval-every", "0",
        "--threads", "1", "--out", output, .. more,
    ];

    private static List<JsonElement> TrainLines(string folder) =>
        File.ReadAllLines(Path.Combine(folder, MetricsWriter.JsonLinesFileName))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("split").GetString() == "train")
            .ToList();

    [Fact]
    public void Train_lm_writes_results_the_loss_falls_and_generate_prints_the_sampled_bytes()
    {
        using var temp = new TempFolder();
        string data = SmallText(temp);
        string run = temp.File("run");

        var train = CliRunner.Run(TrainArgs(data, run, 10));
        CliAssert.Succeeded(train, "train lm");
        Assert.Contains("[lm_tiny] step 10/10 loss ", train.Stdout);
        Assert.Contains(" bytes/s eta ", train.Stdout);
        Assert.Contains("validation: ", train.Stdout);
        foreach (string file in new[] { "last.ckpt", "metrics.jsonl", LanguageModelRunResult.FileName })
            Assert.True(File.Exists(Path.Combine(run, file)), $"missing {file}");
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(run, MetricsWriter.TensorBoardFolderName)));

        var results = LanguageModelRunResult.FromJson(File.ReadAllText(Path.Combine(run, LanguageModelRunResult.FileName)));
        Assert.Equal("lm_tiny", results.Preset);
        Assert.Equal(10, results.Steps);
        Assert.Equal(LanguageModelStopReason.Steps, results.StoppedBy);
        Assert.Equal(LanguageModelRegistry.Get("lm_tiny").ParameterCount(), results.Parameters);
        Assert.Equal(results.ValNatsPerByte / Math.Log(2), results.ValBitsPerByte, 12);
        Assert.Equal(2_000, results.ValidationBytes);
        Assert.Equal(1_984, results.ValBytes);                                           // 62 windows of 32
        Assert.True(results.WallSeconds > 0 && results.TrainSeconds > 0 && results.BytesPerSecond > 0);
        Assert.InRange(results.ValNatsPerByte, 0.5, Math.Log(256) - 0.5);                 // learnt something

        var losses = TrainLines(run).Select(e => e.GetProperty("loss").GetDouble()).ToList();
        Assert.Equal(10, losses.Count);
        Assert.True(losses.TakeLast(3).Average() < losses.Take(3).Average() - 0.5,
            $"training loss did not fall: {string.Join(", ", losses.Select(l => l.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)))}");
        var val = File.ReadAllLines(Path.Combine(run, MetricsWriter.JsonLinesFileName))
            .Select(l => JsonDocument.Parse(l).RootElement).Single(e => e.GetProperty("split").GetString() == "val");
        Assert.Equal(results.ValBitsPerByte, val.GetProperty("bits_per_byte").GetDouble(), 12);

        // generate: N bytes, deterministic with a seed, printed as the UTF-8 decoding of the sampled bytes.
        string checkpoint = Path.Combine(run, TrainingCheckpoint.LastFileName);
        string[] args = ["generate", "--checkpoint", checkpoint, "--prompt", "ROMEO:\n", "--tokens", "24",
            "--temperature", "0.9", "--top-k", "8", "--seed", "5", "--threads", "1"];
        var first = CliRunner.Run(args);
        CliAssert.Succeeded(first, "generate");
        Assert.Equal(first.Stdout, CliRunner.Run(args).Stdout);
        using var trained = TrainedLanguageModel.Load(checkpoint);
        Assert.Equal(10, trained.Step);
        byte[] expected = Sampling.Generate(trained.Model, "ROMEO:\n"u8, 24, 0.9, 8, 5);
        Assert.Equal(24, expected.Length);
        Assert.Equal(Encoding.UTF8.GetString(expected) + Environment.NewLine, first.Stdout);
    }

    [Fact]
    public void Train_lm_stopped_and_resumed_equals_the_uninterrupted_run()
    {
        using var temp = new TempFolder();
        string data = SmallText(temp);
        string whole = temp.File("whole"), split = temp.File("split");

        CliAssert.Succeeded(CliRunner.Run(TrainArgs(data, whole, 6)), "uninterrupted");
        var stopped = CliRunner.Run(TrainArgs(data, split, 6, "--stop-after", "3"));
        CliAssert.Succeeded(stopped, "--stop-after 3");
        Assert.Contains("stopped after step 3 of 6", stopped.Stdout);
        Assert.False(File.Exists(Path.Combine(split, LanguageModelRunResult.FileName)), "results.json of an unfinished run");
        Assert.Equal(3, TrainingCheckpoint.ReadState(Path.Combine(split, TrainingCheckpoint.LastFileName)).Step);

        // Without --resume the existing run is never touched.
        var before = CliAssert.Snapshot(split);
        CliAssert.FailedWithOneLine(CliRunner.Run(TrainArgs(data, split, 6)), "train lm into a non-empty --out");
        Assert.Equal(before, CliAssert.Snapshot(split));
        // Other trajectory options are refused.
        CliAssert.FailedWithOneLine(CliRunner.Run(TrainArgs(data, split, 6, "--resume", "--seed", "1")), "resume, other seed");
        CliAssert.FailedWithOneLine(CliRunner.Run(
            [.. TrainArgs(data, split, 6, "--resume"), "--preset", "lm_tiny_transformer"]), "resume, other preset");

        CliAssert.Succeeded(CliRunner.Run(TrainArgs(data, split, 6, "--resume")), "--resume");

        // Bit-identical on the CPU: every step's loss, gradient norm and learning rate, and the final validation.
        string[] keys = ["step", "loss", "grad_norm", "lr"];
        var a = TrainLines(whole);
        var b = TrainLines(split);
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++)
            foreach (string key in keys)
                Assert.Equal(a[i].GetProperty(key).GetDouble(), b[i].GetProperty(key).GetDouble());
        var ra = LanguageModelRunResult.FromJson(File.ReadAllText(Path.Combine(whole, LanguageModelRunResult.FileName)));
        var rb = LanguageModelRunResult.FromJson(File.ReadAllText(Path.Combine(split, LanguageModelRunResult.FileName)));
        Assert.Equal(ra.ValNatsPerByte, rb.ValNatsPerByte);
        Assert.Equal(6, rb.Steps);
    }

    [Fact]
    public void Reading_every_few_steps_changes_no_metric_evaluation_or_checkpoint()
    {
        using var temp = new TempFolder();
        string data = SmallText(temp);
        // Logs every 2, validates every 3, saves every 5: reads forced off the window's rhythm.
        (List<string> Metrics, double Validation, string Weights) Run(int sync)
        {
            string run = temp.File($"sync-{sync}");
            var train = CliRunner.Run("train", "lm", "--data", data, "--preset", "lm_tiny", "--steps", "10", "--batch-size", "4",
                "--context", "32", "--lr", "3e-3", "--warmup", "1", "--log-every", "2", "--eval-every", "3",
                "--checkpoint-every", "5", "--threads", "1", "--out", run,
                "--sync-every", sync.ToString(System.Globalization.CultureInfo.InvariantCulture));
            CliAssert.Succeeded(train, $"train lm --sync-every {sync}");
            var metrics = File.ReadAllLines(Path.Combine(run, MetricsWriter.JsonLinesFileName))
                .Select(line => string.Join(",", JsonDocument.Parse(line).RootElement.EnumerateObject()
                    .Where(p => p.Name is not (MetricRecord.BytesPerSecondName or "time"))
                    .Select(p => $"{p.Name}={p.Value.GetRawText()}")))
                .ToList();
            var results = LanguageModelRunResult.FromJson(File.ReadAllText(Path.Combine(run, LanguageModelRunResult.FileName)));
            using var trained = TrainedLanguageModel.Load(Path.Combine(run, "last.ckpt"));
            string weights = string.Join(";", trained.Model.named_parameters()
                .Select(p => p.name + ":" + string.Join(",", p.parameter.data<float>().ToArray().Select(BitConverter.SingleToInt32Bits))));
            return (metrics, results.ValNatsPerByte, weights);
        }

        var everyStep = Run(1);
        Assert.Equal(5, everyStep.Metrics.Count(m => m.Contains("split=\"train\"")));          // steps 2, 4, …, 10
        foreach (int sync in new[] { 4, 10 })
        {
            var deferred = Run(sync);
            Assert.Equal(everyStep.Metrics, deferred.Metrics);
            Assert.Equal(BitConverter.DoubleToInt64Bits(everyStep.Validation), BitConverter.DoubleToInt64Bits(deferred.Validation));
            Assert.Equal(everyStep.Weights, deferred.Weights);
        }
    }

    [Fact]
    public void A_time_budget_stops_the_run_and_anneals_the_learning_rate()
    {
        using var temp = new TempFolder();
        string data = SmallText(temp);
        string run = temp.File("budget");
        var train = CliRunner.Run("train", "lm", "--data", data, "--time-budget", "1s", "--batch-size", "2", "--context", "16",
            "--lr", "1e-3", "--warmup", "0", "--eval-every", "0", "--log-every", "1000", "--threads", "1", "--out", run,
            "--tf32");                                                   // a CUDA setting: accepted, no effect here
        CliAssert.Succeeded(train, "train lm --time-budget 1s");
        Assert.Contains("stopped by the time budget", train.Stdout);
        var results = LanguageModelRunResult.FromJson(File.ReadAllText(Path.Combine(run, LanguageModelRunResult.FileName)));
        Assert.Equal(LanguageModelStopReason.TimeBudget, results.StoppedBy);
        Assert.Null(results.MaxSteps);
        Assert.Equal(1.0, results.TimeBudgetSeconds);
        Assert.True(results.TrainSeconds >= 1.0, $"stopped before the budget: {results.TrainSeconds} s");
        Assert.True(results.Steps >= 1);
        // The cosine follows the budget: the last step's rate is far below the peak (exactly the end value would need
        // a step that starts exactly at the budget).
        Assert.True(results.LastLearningRate < 0.5e-3, $"last learning rate {results.LastLearningRate}");
    }

    [Fact]
    public void Train_lm_rejects_bad_input_without_creating_the_output_folder()
    {
        using var temp = new TempFolder();
        string data = SmallText(temp);
        string output = temp.File("never");
        string empty = temp.File("empty.txt");
        File.WriteAllBytes(empty, []);
        string latin1 = temp.File("latin1.txt");
        File.WriteAllBytes(latin1, [.. "caf"u8, 0xE9, .. " au lait\n"u8]);
        string tiny = temp.File("tiny.txt");
        File.WriteAllText(tiny, string.Concat(Enumerable.Repeat("To be or not to be. ", 10)));        // 200 bytes

        // Base settings, each left out when the case sets it itself (an option may be given once).
        string[] Args(params string[] more)
        {
            var args = new List<string> { "train", "lm", "--data", data, "--out", output };
            foreach (var (option, value) in new[] { ("--steps", "2"), ("--batch-size", "2"), ("--context", "16") })
                if (!more.Contains(option)) args.AddRange([option, value]);
            return [.. args, .. more];
        }
        (string[] Args, string? Expect)[] cases =
        [
            (["train", "lm", "--data", temp.File("missing.txt"), "--out", output], "does not exist"),
            (["train", "lm", "--data", temp.Path, "--out", output], "is a folder"),
            (["train", "lm", "--data", empty, "--out", output], "empty"),
            (["train", "lm", "--data", latin1, "--out", output], "byte offset 3"),
            (["train", "lm", "--data", tiny, "--context", "32", "--out", output], "shorter context"),
            (Args("--preset", "lm_huge"), "Known presets"),
            (Args("--preset", "plstm_vit_tiny"), "Known presets"),
            (Args("--preset", "lm_tiny_transformer", "--context", "300"), "maximal context 256"),
            (Args("--steps", "0"), "--steps"),
            (Args("--steps", "abc"), null),
            (Args("--batch-size", "0"), "--batch-size"),
            (Args("--sync-every", "0"), "--sync-every must be ≥ 1 (got 0)."),
            (Args("--context", "0"), "--context"),
            (Args("--lr", "-1"), "--lr"),
            (Args("--lr", "NaN"), "--lr"),
            (Args("--warmup", "3"), "--warmup"),
            (Args("--weight-decay", "-0.1"), "--weight-decay"),
            (Args("--clip", "-1"), "--clip"),
            (Args("--seed", "-1"), "--seed"),
            (Args("--eval-batches", "0"), "--eval-batches"),
            (Args("--eval-every", "-1"), "--eval-every"),
            (Args("--time-budget", "soon"), "--time-budget"),
            (Args("--time-budget", "0"), "--time-budget"),
            (Args("--time-budget", "-5m"), "--time-budget"),
            (Args("--stop-after", "5"), "--stop-after"),
            (Args("--threads", "0"), "--threads"),
            (Args("--device", "gpu"), "--device"),
            (Args("--bogus"), null),
        ];
        foreach (var (args, expect) in cases)
        {
            string what = string.Join(' ', args.Select(a => a.Replace(temp.Path, "TMP", StringComparison.Ordinal)));
            var run = CliRunner.Run(args);
            CliAssert.FailedWithOneLine(run, what);
            if (expect is not null) Assert.True(run.Stderr.Contains(expect, StringComparison.Ordinal), $"{what}: {run.Stderr}");
            Assert.True(run.Stdout.Length == 0, $"{what}: printed '{run.Stdout}'");
            Assert.False(Directory.Exists(output), $"{what}: created --out");
        }
    }

    [Fact]
    public void Generate_rejects_bad_input_with_one_line()
    {
        using var temp = new TempFolder();
        string text = temp.File("text.txt");
        File.WriteAllText(text, "not a checkpoint");
        // A checkpoint of an image model (config.json of 'plstm train') and one without config.json.
        string image = temp.File("image.ckpt"), bare = temp.File("bare.ckpt");
        using (var linear = nn.Linear(2, 2))
        {
            TrainingCheckpoint.Save(image, linear, null, new CheckpointState(), "{\"format\": \"plstm-run\", \"version\": 1}");
            TrainingCheckpoint.Save(bare, linear, null, new CheckpointState());
        }
        // A language-model configuration whose weights are not there.
        string wrongWeights = temp.File("wrong.ckpt");
        using (var linear = nn.Linear(2, 2))
        {
            var config = new LanguageModelRunConfig { Preset = "lm_tiny", Plstm = LanguageModelRegistry.Get("lm_tiny").PlstmConfig, Context = 32 };
            TrainingCheckpoint.Save(wrongWeights, linear, null, new CheckpointState(), config.ToJson());
        }

        (string[] Args, string? Expect)[] cases =
        [
            (["generate", "--checkpoint", temp.File("missing.ckpt")], "does not exist"),
            (["generate", "--checkpoint", temp.Path], "is a folder"),
            (["generate", "--checkpoint", text], "not a training checkpoint"),
            (["generate", "--checkpoint", image], "not a language model"),
            (["generate", "--checkpoint", bare], "no config.json"),
            (["generate", "--checkpoint", wrongWeights], "does not match the model"),
            (["generate"], null),
            (["generate", "--checkpoint", image, "--tokens", "0"], "--tokens"),
            (["generate", "--checkpoint", image, "--tokens", "-3"], "--tokens"),
            (["generate", "--checkpoint", image, "--temperature", "-0.5"], "--temperature"),
            (["generate", "--checkpoint", image, "--temperature", "Infinity"], "--temperature"),
            (["generate", "--checkpoint", image, "--top-k", "-1"], "--top-k"),
            (["generate", "--checkpoint", image, "--seed", "-1"], "--seed"),
            (["generate", "--checkpoint", image, "--device", "tpu"], "--device"),
            (["generate", "--checkpoint", image, "--prompt", "a\uD800b"], "lone surrogate"),
        ];
        foreach (var (args, expect) in cases)
        {
            string what = string.Join(' ', args.Select(a => a.Replace(temp.Path, "TMP", StringComparison.Ordinal)));
            var run = CliRunner.Run(args);
            CliAssert.FailedWithOneLine(run, what);
            if (expect is not null) Assert.True(run.Stderr.Contains(expect, StringComparison.Ordinal), $"{what}: {run.Stderr}");
            Assert.True(run.Stdout.Length == 0, $"{what}: printed '{run.Stdout}'");
        }
    }
}
