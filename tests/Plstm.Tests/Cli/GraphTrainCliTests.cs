using System.Globalization;
using System.Text.Json;
using Plstm.Tests.GraphModels;
using Plstm.Tests.Support;
using Plstm.Training.Graph;

namespace Plstm.Tests.Cli;

/// <summary>
/// <c>plstm train graph</c>: one MUTAG fold at two epochs writes its fold JSON, checkpoint and the summaries; a fold run
/// alone, or two folds run in parallel, give the same numbers as the sequential run; bad input gives one error line
/// and writes nothing.
/// </summary>
[Collection(nameof(GraphTrainingCollection))]
public sealed class GraphTrainCliTests
{
    [SkippableFact]
    public void One_mutag_fold_writes_the_fold_result_and_the_summaries()
    {
        string? root = GraphModelTestSupport.TuRoot;
        Skip.If(root is null, "MUTAG not found under ../shared/data/tu");
        using var temp = new TempFolder();
        string output = temp.File("mutag");
        var run = CliRunner.Run("train", "graph", "--dataset", "MUTAG", "--data", root!, "--fold", "3", "--epochs", "2",
            "--out", output);
        CliAssert.Succeeded(run, "train graph");
        Assert.Contains("fold 3 epoch 2/2:", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("fold 3 done: test acc", run.Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(output, "fold-3", "best.ckpt")));
        Assert.False(Directory.Exists(Path.Combine(output, "fold-0")));
        using var fold = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "fold-3", GraphCrossValidation.FoldResultFileName)));
        Assert.Equal(3, fold.RootElement.GetProperty("fold").GetInt32());
        Assert.Equal(2, fold.RootElement.GetProperty("epochs").GetInt32());
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, GraphCrossValidation.SummaryFileName)));
        Assert.Equal("MUTAG", summary.RootElement.GetProperty("dataset").GetString());
        Assert.Equal(fold.RootElement.GetProperty("test_accuracy").GetDouble(),
            summary.RootElement.GetProperty("mean_test_accuracy").GetDouble());
        string markdown = File.ReadAllText(Path.Combine(output, GraphCrossValidation.SummaryMarkdownFileName));
        Assert.Contains("**Test accuracy", markdown, StringComparison.Ordinal);
        Assert.Contains("| 3 |", markdown, StringComparison.Ordinal);

        // A second run into the same folder must not overwrite the finished fold; --resume reads it back.
        var again = CliRunner.Run("train", "graph", "--dataset", "MUTAG", "--data", root!, "--fold", "3", "--epochs", "2",
            "--out", output);
        CliAssert.FailedWithOneLine(again, "train graph into a used --out");
        Assert.Contains("--resume", again.Stderr, StringComparison.Ordinal);
        var resumed = CliRunner.Run("train", "graph", "--dataset", "MUTAG", "--data", root!, "--fold", "3", "--epochs", "2",
            "--out", output, "--resume");
        CliAssert.Succeeded(resumed, "train graph --resume");
        Assert.DoesNotContain("epoch 1/2", resumed.Stdout, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_fold_alone_and_folds_in_parallel_give_the_sequential_numbers()
    {
        string? root = GraphModelTestSupport.TuRoot;
        Skip.If(root is null, "MUTAG not found under ../shared/data/tu");
        using var temp = new TempFolder();
        // Non-default values for every recipe option: parallel folds run as child processes, whose command lines
        // must carry each of them, or their numbers would differ from the in-process sequential run.
        string[] common = ["train", "graph", "--dataset", "MUTAG", "--data", root!, "--epochs", "2", "--batch-size", "32",
            "--folds", "5", "--warmup-epochs", "1", "--lr", "0.002", "--weight-decay", "0.02", "--seed", "7", "--layers", "1",
            "--dim", "48", "--heads", "2", "--transition-input", "reference", "--p-normalization", "per-target-edge",
            "--mean-loss", "--select", "accuracy-then-loss", "--ema-decay", "0.9", "--threads", "1", "--tf32"];   // --tf32: CUDA only, passed on
        string sequential = temp.File("sequential"), alone = temp.File("alone"), parallel = temp.File("parallel");
        CliAssert.Succeeded(CliRunner.Run([.. common, "--fold", "0", "--fold", "1", "--out", sequential]), "sequential");
        CliAssert.Succeeded(CliRunner.Run([.. common, "--fold", "1", "--out", alone]), "--fold 1");
        var inParallel = CliRunner.Run([.. common, "--fold", "0", "--fold", "1", "--parallel-folds", "2", "--out", parallel]);
        CliAssert.Succeeded(inParallel, "--parallel-folds 2");
        // One process per fold; their progress lines are relayed.
        Assert.Contains("(one process each)", inParallel.Stdout, StringComparison.Ordinal);
        Assert.Contains("fold 0 epoch 2/2:", inParallel.Stdout, StringComparison.Ordinal);
        Assert.Contains("fold 1 done: test acc", inParallel.Stdout, StringComparison.Ordinal);
        foreach (var (other, folds) in new[] { (alone, new[] { 1 }), (parallel, new[] { 0, 1 }) })
        {
            foreach (int f in folds)
            {
                Assert.Equal(Numbers(sequential, f), Numbers(other, f));
                Assert.Equal(Curves(sequential, f), Curves(other, f));
                // The child processes got the selection rule too (a default would differ only on ties).
                Assert.Contains("\"selection\":\"AccuracyThenLoss\"", Numbers(other, f), StringComparison.Ordinal);
            }
        }
        // The fold processes' command line carries --tf32 (a per-process flag) when the parent has it.
        var workerOptions = new GraphCvOptions { Dataset = "MUTAG", OutputFolder = parallel };
        Assert.Contains("--tf32", Plstm.Cli.Commands.ProcessFoldRunner.Arguments(workerOptions, 0, tf32: true));
        Assert.DoesNotContain("--tf32", Plstm.Cli.Commands.ProcessFoldRunner.Arguments(workerOptions, 0));
        // … and the compute dtype (a model setting: a worker without it would train another model).
        var bf16Arguments = Plstm.Cli.Commands.ProcessFoldRunner.Arguments(workerOptions with { ComputeDtype = ScalarType.BFloat16 }, 0);
        Assert.Equal("bfloat16", bf16Arguments[bf16Arguments.ToList().IndexOf("--compute-dtype") + 1]);
        Assert.DoesNotContain("--compute-dtype", Plstm.Cli.Commands.ProcessFoldRunner.Arguments(workerOptions, 0));
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(parallel, GraphCrossValidation.SummaryFileName)));
        Assert.Equal([0, 1], summary.RootElement.GetProperty("folds").EnumerateArray().Select(f => f.GetProperty("fold").GetInt32()));
    }

    [SkippableFact]
    public void Bad_input_gives_one_error_line_and_writes_nothing()
    {
        string? root = GraphModelTestSupport.TuRoot;
        Skip.If(root is null, "MUTAG not found under ../shared/data/tu");
        using var temp = new TempFolder();
        string output = temp.File("never");
        // A MUTAG copy whose edge file has a malformed line.
        string broken = temp.File("broken");
        Directory.CreateDirectory(Path.Combine(broken, "MUTAG"));
        foreach (var file in Directory.GetFiles(Path.Combine(root!, "MUTAG")))
            File.Copy(file, Path.Combine(broken, "MUTAG", Path.GetFileName(file)));
        var edges = File.ReadAllLines(Path.Combine(broken, "MUTAG", "MUTAG_A.txt"));
        edges[5] = "2; x";
        File.WriteAllLines(Path.Combine(broken, "MUTAG", "MUTAG_A.txt"), edges);

        string[] mutag = ["train", "graph", "--dataset", "MUTAG", "--data", root!, "--epochs", "1", "--out", output];
        string[][] cases =
        [
            ["train", "graph", "--dataset", "ENZYMES_X", "--data", root!, "--out", output],
            ["train", "graph", "--dataset", "MUTAG", "--data", temp.File("no-such-folder"), "--out", output],
            ["train", "graph", "--dataset", "MUTAG", "--data", broken, "--out", output],
            ["train", "graph", "--data", root!, "--out", output],
            [.. mutag, "--folds", "1"],
            [.. mutag, "--fold", "10"],
            [.. mutag, "--folds", "5", "--fold", "5"],
            [.. mutag, "--fold", "-1"],
            [.. mutag, "--fold", "2", "--fold", "2"],
            [.. mutag, "--parallel-folds", "0"],
            [.. mutag, "--epochs", "0"],
            [.. mutag, "--lr", "0"],
            [.. mutag, "--threads", "0"],
            [.. mutag, "--dim", "95"],
            [.. mutag, "--heads", "5"],
            [.. mutag, "--device", "tpu"],
            [.. mutag, "--transition-input", "tail"],
            [.. mutag, "--compute-dtype", "float16"],
        ];
        foreach (var args in cases)
        {
            string what = string.Join(' ', args.Select(a => a.Replace(temp.Path, "TMP", StringComparison.Ordinal)));
            var run = CliRunner.Run(args);
            CliAssert.FailedWithOneLine(run, what);
            Assert.True(run.Stdout.Length == 0, $"{what}: printed '{run.Stdout}'");
            Assert.False(Directory.Exists(output), $"{what}: created --out");
        }
        var malformed = CliRunner.Run("train", "graph", "--dataset", "MUTAG", "--data", broken, "--out", output);
        Assert.Contains("MUTAG_A.txt", malformed.Stderr, StringComparison.Ordinal);
        Assert.Contains("line 6", malformed.Stderr, StringComparison.Ordinal);
    }

    /// <summary>The fold's result without its timing and path.</summary>
    private static string Numbers(string output, int fold)
    {
        var result = JsonSerializer.Deserialize<GraphFoldResult>(
            File.ReadAllText(Path.Combine(output, FoldFolder(fold), GraphCrossValidation.FoldResultFileName)))!;
        return JsonSerializer.Serialize(result with { Seconds = 0, Checkpoint = "" });
    }

    /// <summary>Loss and accuracy of every metrics line (the rest is timing).</summary>
    private static string[] Curves(string output, int fold) =>
        File.ReadAllLines(Path.Combine(output, FoldFolder(fold), "metrics.jsonl")).Select(line =>
        {
            using var json = JsonDocument.Parse(line);
            var r = json.RootElement;
            return string.Create(CultureInfo.InvariantCulture,
                $"{r.GetProperty("split").GetString()} {r.GetProperty("epoch").GetInt32()} {r.GetProperty("loss").GetDouble():R} {r.GetProperty("acc").GetDouble():R}");
        }).ToArray();

    private static string FoldFolder(int fold) => string.Create(CultureInfo.InvariantCulture, $"fold-{fold}");
}
