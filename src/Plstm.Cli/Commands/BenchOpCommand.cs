using System.CommandLine;
using Plstm.Cli.Bench;

namespace Plstm.Cli.Commands;

/// <summary>
/// <c>plstm bench op</c>: forward + backward of the fused 2D pLSTM operator in each requested form, and of
/// <c>scaled_dot_product_attention</c> on the same tokens, for every grid and dtype (<see cref="OpBench"/>).
/// </summary>
public static class BenchOpCommand
{
    /// <summary>Creates the subcommand.</summary>
    public static Command Create()
    {
        var forms = new Option<string?>("--forms")
        {
            Description = $"Comma list of operator forms, masked (the kernel form's masked attention alone) and/or sdpa "
                + $"({string.Join(", ", OpTarget.KnownNames)}); default: every form except naive, then sdpa.",
        };
        var grids = new Option<string>("--grids")
        {
            Description = "Comma list of token grids, N (N×N) or XxY (default 12,14,24,32,64).",
            DefaultValueFactory = _ => "12,14,24,32,64",
        };
        var batchHeads = new Option<int>("--bh") { Description = "B·H, batch × heads (default 384).", DefaultValueFactory = _ => 384 };
        var heads = new Option<int?>("--heads")
        {
            Description = "Heads H of the attention layout [B·H/H, H, X·Y, DK]; must divide --bh (default 3 as ViT-T "
                + "when it divides --bh, else 1).",
        };
        var dk = new Option<int>("--dk") { Description = "Query/key head dimension DK (default 64).", DefaultValueFactory = _ => 64 };
        var dv = new Option<int?>("--dv") { Description = "Value head dimension DV (default: DK)." };
        var levels = new Option<int>("--levels")
        {
            Description = "Hierarchy depth given to the operator, chunk side 2^levels capped by the grid (default 6, as the vision models).",
            DefaultValueFactory = _ => 6,
        };
        var recompute = new Option<bool>("--recompute")
        {
            Description = "Recompute the path sums in backward (chunkwise, row-scan and kernel rows: less memory, one more program per backward).",
        };
        var mode = new Option<string>("--mode")
        {
            Description = "Gates of the operator rows: p (every transition, as a P-mode layer's; default) or d (a D-mode "
                + "layer's wiring: no T0ru, one turn, so the kernel form on CUDA forms the gate in closed form).",
            DefaultValueFactory = _ => "p",
        };
        OptionChecks.Add(batchHeads, v => v >= 1, "--bh must be ≥ 1.");
        OptionChecks.Add(heads, v => v is null or >= 1, "--heads must be ≥ 1.");
        OptionChecks.Add(dk, v => v >= 1, "--dk must be ≥ 1.");
        OptionChecks.Add(dv, v => v is null or >= 1, "--dv must be ≥ 1.");
        OptionChecks.Add(levels, v => v is >= 0 and <= 16, "--levels must be in 0..16.");
        OptionChecks.Add(mode, v => v is "p" or "d", "--mode must be p or d.");
        var common = new BenchCommonOptions();

        var op = new Command("op",
            "Time forward + backward of the fused 2D pLSTM operator (each form) and of scaled_dot_product_attention on "
            + "the same tokens, per grid and dtype; median and spread, peak memory; OOM rows are reported and skipped.")
        {
            forms, grids, batchHeads, heads, dk, dv, levels, recompute, mode,
        };
        common.AddTo(op);
        op.SetAction(parseResult =>
        {
            var settings = common.Read(parseResult, "bench op");
            int bh = parseResult.GetValue(batchHeads), k = parseResult.GetValue(dk);
            int h = parseResult.GetValue(heads) ?? (bh % 3 == 0 ? 3 : 1);
            if (bh % h != 0) throw new CliUsageException($"--heads {h} does not divide --bh {bh}.");
            string? formsText = parseResult.GetValue(forms);
            var plan = new OpBenchPlan(
                formsText is null ? OpTarget.Defaults : OpTarget.Parse("--forms", formsText),
                BenchLists.Grids("--grids", parseResult.GetValue(grids)),
                bh, h, k, parseResult.GetValue(dv) ?? k, parseResult.GetValue(levels), parseResult.GetValue(recompute),
                parseResult.GetValue(mode) == "d");
            return OpBench.Run(plan, settings, parseResult.InvocationConfiguration.Output);
        });
        return op;
    }
}
