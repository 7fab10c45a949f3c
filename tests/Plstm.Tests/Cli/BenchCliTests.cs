using System.Text.Json;
using Plstm.Tests.Support;
using Plstm.Tests.Training;

namespace Plstm.Tests.Cli;

/// <summary>
/// <c>plstm bench op|step</c> on the CPU with tiny settings: the table on stdout, the markdown and JSON files, the
/// out-of-memory and time-limit paths (rows reported, run continues, files still written), and bad input (one error
/// line, exit code 2, no files).
/// </summary>
/// <remarks>Serial: the benchmarks seed torch's process-wide generator.</remarks>
[Collection(TrainingSerialCollection.Name)]
public sealed class BenchCliTests : IDisposable
{
    // The runs pass --threads 1 (on a busy machine two waiting threads make them ten times slower), which sets
    // libtorch's process-wide thread count: restore it for the tests that follow.
    private readonly int _threads = TorchSharp.torch.get_num_threads();

    public void Dispose() => TorchSharp.torch.set_num_threads(_threads);

    [Fact]
    public void Bench_op_times_each_form_and_attention_and_writes_markdown_and_json()
    {
        using var temp = new TempFolder();
        string markdown = temp.File("results/op.md"), json = temp.File("results/op.json");

        var run = CliRunner.Run("bench", "op", "--forms", "hierarchical,sdpa", "--grids", "3,4x2", "--bh", "2",
            "--dk", "4", "--dv", "3", "--warmup", "1", "--iters", "2", "--dtype", "float32,bf16", "--out", markdown,
            "--json", json, "--threads", "1");

        CliAssert.Succeeded(run, "bench op");
        Assert.Contains("| op | grid | tokens | B·H | dtype | median ms |", run.Stdout);
        Assert.Contains("[8/8]", run.Stdout);
        string text = File.ReadAllText(markdown);
        Assert.Contains("- command: `plstm bench op --forms hierarchical,sdpa", text);
        Assert.Contains("| hierarchical | 3×3 | 9 | 2 | float32 |", text);
        Assert.Contains("| sdpa | 4×2 | 8 | 2 | bfloat16 |", text);
        Assert.Contains("- memory: CPU:", text);

        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var rows = document.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(8, rows.Length);
        Assert.Equal(["hierarchical", "sdpa", "hierarchical", "sdpa"], rows.Take(4).Select(r => r.GetProperty("name").GetString()));
        foreach (var row in rows)
        {
            Assert.Equal("ok", row.GetProperty("status").GetString());
            var timing = row.GetProperty("timing");
            Assert.Equal(2, timing.GetProperty("iterations").GetInt32());
            Assert.Equal(1, timing.GetProperty("warmup").GetInt32());
            Assert.True(timing.GetProperty("median_ms").GetDouble() > 0);
            Assert.Equal(2, timing.GetProperty("iteration_ms").GetArrayLength());
        }
        Assert.Equal("cpu", document.RootElement.GetProperty("machine").GetProperty("device").GetString());
        Assert.Equal(3, document.RootElement.GetProperty("settings").GetProperty("DV").GetInt32());
    }

    [Fact]
    public void Bench_step_times_training_steps_of_presets_at_a_given_size()
    {
        using var temp = new TempFolder();
        string json = temp.File("step.json");

        var run = CliRunner.Run("bench", "step", "--presets", "vit_tiny,plstm_vit_tiny", "--sizes", "16",
            "--batch-sizes", "3@16", "--warmup", "1", "--iters", "2", "--sync-every", "2", "--json", json, "--threads", "1",
            "--tf32");

        CliAssert.Succeeded(run, "bench step");
        Assert.Contains("| model | image | grid | batch | params M | dtype | img/s |", run.Stdout);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        // --tf32 is a CUDA setting (no effect on this CPU run); the report says it was asked for.
        Assert.Equal("allowed (--tf32)", document.RootElement.GetProperty("settings").GetProperty("TF32 matrix products").GetString());
        Assert.StartsWith("after every 2 timed iterations (--sync-every",
            document.RootElement.GetProperty("settings").GetProperty("device synchronisation").GetString());
        var rows = document.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(["vit_tiny", "plstm_vit_tiny"], rows.Select(r => r.GetProperty("name").GetString()));
        foreach (var row in rows)
        {
            Assert.Equal("ok", row.GetProperty("status").GetString());
            Assert.Equal(16, row.GetProperty("image_size").GetInt32());
            Assert.Equal(2, row.GetProperty("grid_x").GetInt32());   // patch 8
            Assert.Equal(3, row.GetProperty("batch").GetInt32());
            Assert.True(row.GetProperty("parameters").GetInt64() > 100_000);
            Assert.True(row.GetProperty("images_per_second").GetDouble() > 0);
            // The host's issue times of forward and backward: on the CPU they are the work itself, so with one timed
            // iteration they are positive and add up to less than the whole step (which also holds the AdamW update).
            double forward = row.GetProperty("host_forward_median_ms").GetDouble();
            double backward = row.GetProperty("host_backward_median_ms").GetDouble();
            Assert.True(forward > 0 && backward > 0, $"host times {forward} + {backward}");
            Assert.True(forward + backward < row.GetProperty("timing").GetProperty("median_ms").GetDouble());
        }
        Assert.Contains("| host fwd + bwd ms |", run.Stdout);
    }

    [Fact]
    public void Bench_step_with_a_compute_dtype_runs_mixed_precision_rows()
    {
        using var temp = new TempFolder();
        string json = temp.File("step.json");

        var run = CliRunner.Run("bench", "step", "--presets", "plstm_vit_tiny,vit_tiny", "--sizes", "16",
            "--batch-sizes", "2@16", "--warmup", "0", "--iters", "1", "--json", json, "--threads", "1",
            "--compute-dtype", "bfloat16");

        CliAssert.Succeeded(run, "bench step --compute-dtype bfloat16");
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var rows = document.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(2, rows.Length);
        foreach (var row in rows)
        {
            Assert.Equal("ok", row.GetProperty("status").GetString());
            Assert.Equal("float32, bfloat16 compute", row.GetProperty("dtype").GetString());
        }
        var bad = CliRunner.Run("bench", "step", "--presets", "vit_tiny", "--compute-dtype", "int8");
        Assert.NotEqual(0, bad.ExitCode);
    }

    [Fact]
    public void Bench_reports_out_of_memory_for_a_row_and_continues()
    {
        using var temp = new TempFolder();
        string json = temp.File("oom.json");

        // 10¹⁰ tokens × 8 × 4 bytes = 320 GB per tensor: the CPU allocator refuses at once, nothing is touched.
        var run = CliRunner.Run("bench", "op", "--forms", "sdpa", "--grids", "100000,2", "--bh", "1", "--dk", "8",
            "--warmup", "0", "--iters", "1", "--json", json);

        CliAssert.Succeeded(run, "bench op with an oversized grid");
        Assert.Contains("| OOM |", run.Stdout);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var statuses = document.RootElement.GetProperty("rows").EnumerateArray()
            .Select(r => r.GetProperty("status").GetString()!).ToArray();
        Assert.Equal(["oom", "ok"], statuses);
    }

    /// <summary><c>masked</c> times the kernel form's masked attention alone (on the CPU its batched products) beside the
    /// whole operator and sdpa, and says what it is in the report's notes.</summary>
    [Fact]
    public void Bench_op_times_the_masked_attention_alone()
    {
        using var temp = new TempFolder();
        string markdown = temp.File("masked.md");

        var run = CliRunner.Run("bench", "op", "--forms", "masked,sdpa", "--grids", "3x5", "--bh", "2", "--dk", "8",
            "--warmup", "0", "--iters", "1", "--out", markdown, "--threads", "1");

        CliAssert.Succeeded(run, "bench op --forms masked,sdpa");
        string text = File.ReadAllText(markdown);
        Assert.Contains("| masked | 3×5 | 15 | 2 | float32 |", text);
        Assert.Contains("| sdpa | 3×5 | 15 | 2 | float32 |", text);
        Assert.Contains("masked rows: the kernel form's (Q Kᵀ ⊙ G) V alone", text);
        var rows = text.Split('\n').Where(line => line.StartsWith("| masked |", StringComparison.Ordinal)
            || line.StartsWith("| sdpa |", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, rows.Length);
        Assert.All(rows, row => Assert.EndsWith("| ok |", row.TrimEnd(), StringComparison.Ordinal));
    }

    /// <summary><c>--mode d</c> gives the operator rows a D-mode layer's wiring (no T0ru; on CUDA the kernel form then
    /// forms its gate in closed form) and says so in the report; other values are refused.</summary>
    [Fact]
    public void Bench_op_mode_d_runs_the_operator_with_one_turn()
    {
        using var temp = new TempFolder();
        string markdown = temp.File("d.md");

        var run = CliRunner.Run("bench", "op", "--forms", "kernel,rowscan", "--grids", "3x5", "--bh", "2", "--dk", "8",
            "--mode", "d", "--warmup", "0", "--iters", "1", "--out", markdown, "--threads", "1");

        CliAssert.Succeeded(run, "bench op --mode d");
        string text = File.ReadAllText(markdown);
        Assert.Contains("gates D-mode wiring (no T0ru)", text);
        Assert.Contains("| kernel | 3×5 | 15 | 2 | float32 |", text);
        Assert.Contains("| rowscan | 3×5 | 15 | 2 | float32 |", text);

        var refused = CliRunner.Run("bench", "op", "--forms", "sdpa", "--grids", "2", "--mode", "x");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("--mode", refused.Stderr, StringComparison.Ordinal);
    }

    /// <summary>The gate targets (<c>walk</c>, <c>walk-d</c>, <c>single-path</c>) are CUDA kernels: on the CPU each row
    /// ends in an error that says so, the report is still written, and the exit code says a row failed.</summary>
    [Fact]
    public void Bench_op_gate_targets_say_they_need_cuda()
    {
        using var temp = new TempFolder();
        string markdown = temp.File("gate.md");

        var run = CliRunner.Run("bench", "op", "--forms", "walk-d,Single-Path", "--grids", "3x5", "--bh", "2",
            "--warmup", "0", "--iters", "1", "--out", markdown, "--threads", "1");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("the gate targets run on CUDA only", run.Stderr, StringComparison.Ordinal);
        string text = File.ReadAllText(markdown);
        Assert.Contains("| walk-d | 3×5 | 15 | 2 | float32 |", text);
        Assert.Contains("| single-path | 3×5 | 15 | 2 | float32 |", text);
        Assert.Contains("walk / walk-d / single-path rows: the gate G alone", text);
    }

    [Fact]
    public void Bench_time_limit_skips_rows_and_still_writes_the_report()
    {
        using var temp = new TempFolder();
        string markdown = temp.File("limited.md"), json = temp.File("limited.json");

        var run = CliRunner.Run("bench", "op", "--forms", "sdpa", "--grids", "2,3", "--bh", "1", "--dk", "2",
            "--max-seconds", "0.000001", "--out", markdown, "--json", json);

        CliAssert.Succeeded(run, "bench op with an expired time limit");
        Assert.Contains("skipped (time limit)", File.ReadAllText(markdown));
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        Assert.All(document.RootElement.GetProperty("rows").EnumerateArray(),
            r => Assert.Equal("skipped", r.GetProperty("status").GetString()));
        Assert.Equal(0.000001, document.RootElement.GetProperty("time_limit_seconds").GetDouble());
    }

    [Fact]
    public void Bench_rejects_bad_input_with_one_error_line_and_no_files()
    {
        using var temp = new TempFolder();
        string output = temp.File("never/out.md");
        string[][] cases =
        [
            ["bench", "op", "--forms", "hierarchical,wavefront", "--out", output],
            ["bench", "op", "--forms", "1", "--out", output],
            ["bench", "op", "--forms", "", "--out", output],
            ["bench", "op", "--grids", "12,x", "--out", output],
            ["bench", "op", "--grids", "12,,14", "--out", output],
            ["bench", "op", "--grids", "0", "--out", output],
            ["bench", "op", "--grids", "2x3x4", "--out", output],
            ["bench", "op", "--dtype", "float64", "--out", output],
            ["bench", "op", "--dtype", "fp32,half", "--out", output],
            ["bench", "op", "--bh", "4", "--heads", "3", "--out", output],
            ["bench", "op", "--bh", "0", "--out", output],
            ["bench", "op", "--iters", "0", "--out", output],
            ["bench", "op", "--sync-every", "0", "--out", output],
            ["bench", "op", "--warmup", "-1", "--out", output],
            ["bench", "op", "--max-seconds", "0", "--out", output],
            ["bench", "op", "--levels", "17", "--out", output],
            ["bench", "op", "--device", "gpu", "--out", output],
            ["bench", "op", "--out", output, "--json", output],
            ["bench", "op", "--out", temp.Path],
            ["bench", "step", "--presets", "vit_tiny,vit_huge", "--out", output],
            ["bench", "step", "--presets", "vit_tiny", "--sizes", "36", "--out", output],
            ["bench", "step", "--presets", "vit_tiny", "--sizes", "32,-8", "--out", output],
            ["bench", "step", "--presets", "vit_tiny", "--batch-sizes", "4@", "--out", output],
            ["bench", "step", "--presets", "vit_tiny", "--batch-sizes", "4@32,8@32", "--out", output],
            ["bench", "step", "--presets", "vit_tiny", "--batch-sizes", "0", "--out", output],
            ["bench", "step", "--presets", "plstm_vit_tiny", "--form", "sdpa", "--out", output],
            ["bench", "step", "--presets", "plstm_vit_tiny", "--form", "diagonal", "--out", output],
            ["bench", "step", "--dtype", "int8", "--out", output],
            ["bench", "nothing"],
        ];
        foreach (string[] args in cases)
        {
            string what = string.Join(' ', args);
            var run = CliRunner.Run(args);
            CliAssert.FailedWithOneLine(run, what);
            Assert.Equal(2, run.ExitCode);
            Assert.True(run.Stdout.Length == 0, $"{what}: wrote to stdout: {run.Stdout}");
            Assert.False(Directory.Exists(Path.GetDirectoryName(output)), $"{what}: created the output folder");
        }
    }

    /// <summary><c>plstm selfcheck</c> checks the CUDA kernel: without a CUDA device (this machine), or asked for the CPU,
    /// it refuses with one line and the usage exit code instead of passing vacuously.</summary>
    [Fact]
    public void Selfcheck_without_a_gpu_refuses_with_one_line()
    {
        foreach (string[] args in new[] { new[] { "selfcheck" }, new[] { "selfcheck", "--device", "tpu" } })
        {
            string what = string.Join(' ', args);
            var run = CliRunner.Run(args);
            CliAssert.FailedWithOneLine(run, what);
            Assert.Equal(2, run.ExitCode);
            Assert.Contains("--device", run.Stderr, StringComparison.Ordinal);
        }
    }

    /// <summary>On the CPU the selfcheck compares the kernel form (the C# walk, at this processor's SIMD width) with the
    /// row-scan form on every grid and wiring, float64 and float32; then the layer's gate activation with its definition
    /// and the whole layer's kernel form with its hierarchical form (float64, and float32 against the float64 result,
    /// storing and recomputing the gate).</summary>
    /// <summary><c>--parts</c> runs only the named parts of the check; an unknown part or an empty entry is one error line.</summary>
    [Fact]
    public void Selfcheck_parts_choose_what_runs()
    {
        var run = CliRunner.Run("selfcheck", "--device", "cpu", "--parts", "single-path,activation");
        CliAssert.Succeeded(run, "selfcheck --device cpu --parts single-path,activation");
        Assert.Contains("single-path kernels not run: not a CUDA device", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("36 of 36 gate activation cases agree", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("cases agree (CPU walk", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("layer cases agree", run.Stdout, StringComparison.Ordinal);

        var bad = CliRunner.Run("selfcheck", "--device", "cpu", "--parts", "walk,nope");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--parts: unknown part 'nope'", bad.Stderr, StringComparison.Ordinal);

        // An empty entry is a typo, refused as by the bench verbs' lists (it was silently skipped before).
        var empty = CliRunner.Run("selfcheck", "--device", "cpu", "--parts", "activation,,single-path");
        Assert.NotEqual(0, empty.ExitCode);
        Assert.Contains("--parts 'activation,,single-path': expected a comma-separated list without empty entries", empty.Stderr,
            StringComparison.Ordinal);
        Assert.DoesNotContain("cases agree", empty.Stdout, StringComparison.Ordinal);
    }

    /// <summary>The library entry point refuses an unknown part by the same rule and message as the CLI, naming the
    /// argument, before it checks anything.</summary>
    [Fact]
    public void Selfcheck_run_refuses_an_unknown_part()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Plstm.Cli.Diagnostics.KernelSelfCheck.Run(TorchSharp.torch.CPU, TextWriter.Null, parts: ["walk", "nope"]));
        Assert.Equal("parts", error.ParamName);
        Assert.StartsWith("unknown part 'nope'; known: walk, single-path, activation, attention, layer", error.Message,
            StringComparison.Ordinal);
        Assert.Null(Plstm.Cli.Diagnostics.KernelSelfCheck.UnknownPart(["walk", "layer"]));
        Assert.Null(Plstm.Cli.Diagnostics.KernelSelfCheck.UnknownPart(null));
    }

    [Fact]
    public void Selfcheck_on_the_cpu_checks_the_walk_on_every_case()
    {
        var run = CliRunner.Run("selfcheck", "--device", "cpu");
        CliAssert.Succeeded(run, "selfcheck --device cpu");
        int cases = 2 * Plstm.Cli.Diagnostics.KernelSelfCheck.GridsFor(TorchSharp.DeviceType.CPU).Count * Plstm.Cli.Diagnostics.KernelSelfCheck.Wirings.Length;
        Assert.Contains($"{cases} of {cases} cases agree (CPU walk, ", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("36 of 36 gate activation cases agree (tensor operations vs autograd", run.Stdout, StringComparison.Ordinal);
        // Nine layer cases in float64, the same nine in float32 against the float64 result, storing and recomputing, and in
        // bfloat16 (the walk in float32 on the CPU) under the bfloat16 rule.
        Assert.Contains("36 of 36 layer cases agree (kernel form vs hierarchical form", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("ok   bfloat16 layer DR 14x14", run.Stdout, StringComparison.Ordinal);
        // The masked attention and single-path kernels run on CUDA only: said, not counted as passed.
        Assert.Contains("masked attention kernels do not run here", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("single-path kernels not run: not a CUDA device", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", run.Stdout, StringComparison.Ordinal);
    }
}
