using System.Globalization;
using Plstm.Cli.Commands;
using static TorchSharp.torch;

namespace Plstm.Cli.Bench;

/// <summary>
/// <c>plstm bench op</c>: for every dtype, grid and target, forward + backward of the fused 2D pLSTM operator
/// (<see cref="FusedOperatorCase"/>) or of attention (<see cref="AttentionCase"/>) on the same tokens.
/// </summary>
public static class OpBench
{
    /// <summary>Runs the benchmark and returns the exit code.</summary>
    /// <exception cref="InvalidOperationException">Some row ended in an error (after the report was written).</exception>
    public static int Run(OpBenchPlan plan, BenchSettings settings, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Apply();
        var inv = CultureInfo.InvariantCulture;
        var report = new BenchReport("plstm bench op", settings.CommandLine, MachineInfo.Collect(settings.Device),
        [
            ("B·H", plan.BatchHeads), ("sdpa heads", plan.Heads), ("DK", plan.Dk), ("DV", plan.Dv), ("J", 1),
            ("levels", plan.Levels), ("recompute in backward", plan.Recompute ? "yes" : "no"),
            ("TF32 matrix products", settings.Tf32 ? "allowed (--tf32)" : "no"),
            ("warm-up", settings.Warmup), ("iterations", settings.Iterations), ("device synchronisation", settings.SynchronisationNote),
            ("seed", settings.Seed), ("work", "forward + backward of Y.sum(), grads into every input"),
            ("gates", plan.DMode
                ? "D-mode wiring (no T0ru) with the P-mode layer's values: o=σ(ε), s=σ(ε−4), t=tanh(ε+5), m=σ(ε−4), D=σ(ε−4)"
                : "P-mode as the vision layer: o=σ(ε), s=σ(ε−4), t=tanh(ε+5), m=σ(ε−4), D=σ(ε−4)"),
        ],
        [
            new("op", r => r.Name),
            new("grid", r => r.Grid is { } g ? $"{g.X}×{g.Y}" : ""),
            new("tokens", r => r.Tokens?.ToString(inv) ?? "", true),
            new("B·H", r => r.Batch?.ToString(inv) ?? "", true),
            new("dtype", r => r.Dtype),
        ]);
        report.Notes.Add("op rows: Plstm2DFused.Forward (four orientations in one call) of the named form; masked rows: the "
            + "kernel form's (Q Kᵀ ⊙ G) V alone with a given G (CUDA float32: the tensor-core kernels; else batched products); "
            + "walk / walk-d / single-path rows: the gate G alone (P-mode-like gates through the walk; D-mode gates through the "
            + "walk and through the closed form); "
            + $"sdpa rows: scaled_dot_product_attention on [B·H/{plan.Heads}, {plan.Heads}, X·Y, DK], libtorch's kernel choice.");
        report.Notes.Add("Times are per iteration (forward + backward), median and interquartile range over the timed "
            + (settings.SyncEvery == 1 ? "iterations, each ending with a device synchronisation."
                : $"iterations, timed in windows of {settings.SyncEvery} with one device synchronisation at each window's "
                    + "end (each iteration its window's mean)."));

        var session = new BenchSession(settings, report, writer, settings.Dtypes.Count * plan.Grids.Count * plan.Targets.Count);
        session.Start();
        foreach (var (dtype, dtypeName) in settings.Dtypes)
            foreach (var grid in plan.Grids)
                foreach (var target in plan.Targets)
                {
                    var row = new BenchRow { Name = target.Name, Dtype = dtypeName, Grid = grid, Batch = plan.BatchHeads };
                    session.Run(row, dtype, () => CaseFor(target, plan, grid, dtype, settings));
                }
        session.Finish();
        return session.ExitCode();
    }

    /// <summary>The case a row runs: the operator in the target's form, the masked attention alone, the gate alone or
    /// fused attention.</summary>
    private static IBenchCase CaseFor(OpTarget target, OpBenchPlan plan, (int X, int Y) grid, ScalarType dtype,
        BenchSettings settings)
    {
        long tokens = (long)grid.X * grid.Y;
        if (target.Form is { } form)
            return new FusedOperatorCase(plan.BatchHeads, grid, plan.Dk, plan.Dv, dtype, settings.Device, form,
                plan.Levels, settings.Seed, plan.Recompute, plan.DMode);
        if (target.Name == OpTarget.MaskedName)
            return new MaskedAttentionCase(plan.BatchHeads, tokens, plan.Dk, plan.Dv, dtype, settings.Device, settings.Seed);
        if (GateCase.Names.Contains(target.Name))
            return new GateCase(target.Name, plan.BatchHeads, grid, dtype, settings.Device, settings.Seed);
        return new AttentionCase(plan.BatchHeads / plan.Heads, plan.Heads, tokens, plan.Dk, plan.Dv, dtype, settings.Device,
            settings.Seed);
    }
}
