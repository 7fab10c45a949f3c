using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// Checkpointing for the path-sum programs of the scalar-gate forms: runs a program of the eight per-cell gates
/// (S0r, S0d, T0rl, T0du, T0dl, T0ru, M0l, M0u; absent turns null) as a custom autograd function that keeps only those
/// small inputs for the backward pass and re-runs the program there with autograd, instead of keeping the program's
/// intermediate blocks alive from forward to backward (the anti-diagonal blocks of <see cref="ChunkPathSums"/>, ≈ 1.5·P⁴
/// values per chunk; the per-row weights of <see cref="RowScanGate"/> and their stacked copy, ≈ 2 · cells² per batch
/// entry). Costs one extra run of the program in backward; same values and gradients (tested).
/// </summary>
internal sealed class RecomputedGates : autograd.MultiTensorFunction<RecomputedGates>
{
    private const string ProgramKey = "program";
    private const int GateCount = 8;

    /// <inheritdoc />
    public override string Name => nameof(RecomputedGates);

    /// <summary>The in-chunk path sums of <see cref="ChunkPathSums.Compute"/>, recomputed in backward.</summary>
    public static ChunkPathSums ChunkPathSums(Tensor sr, Tensor sd, Tensor trl, Tensor tdu, Tensor? tdl, Tensor? tru,
        Tensor ml, Tensor mu, bool withPorts)
    {
        Func<Tensor?[], List<Tensor>> program = g =>
        {
            var sums = TwoD.ChunkPathSums.Compute(g[0]!, g[1]!, g[2]!, g[3]!, g[4], g[5], g[6]!, g[7]!, withPorts);
            return sums.Marks is null
                ? new List<Tensor> { sums.Gate }
                : new List<Tensor> { sums.Gate, sums.Marks, sums.Sources!, sums.Transfers! };
        };
        // An absent turn is passed as null: not an input of the graph node, and null again in backward.
        var outputs = apply(sr, sd, trl, tdu, tdl!, tru!, ml, mu, program);
        return withPorts
            ? new TwoD.ChunkPathSums(outputs[0], outputs[1], outputs[2], outputs[3])
            : new TwoD.ChunkPathSums(outputs[0], null, null, null);
    }

    /// <summary>The whole-grid gate of <see cref="RowScanGate.Compute"/>, recomputed in backward (its row loop's
    /// backward chosen by <paramref name="customBackward"/>, null = by device).</summary>
    public static Tensor RowScanGate(Tensor sr, Tensor sd, Tensor trl, Tensor tdu, Tensor? tdl, Tensor? tru,
        Tensor ml, Tensor mu, bool? customBackward = null)
    {
        Func<Tensor?[], List<Tensor>> program = g =>
            new List<Tensor> { TwoD.RowScanGate.Compute(g[0]!, g[1]!, g[2]!, g[3]!, g[4], g[5], g[6]!, g[7]!, customBackward) };
        return apply(sr, sd, trl, tdu, tdl!, tru!, ml, mu, program)[0];
    }

    /// <inheritdoc />
    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var gates = Gates(vars);
        var program = (Func<Tensor?[], List<Tensor>>)vars[GateCount];
        ctx.save_for_backward(gates.ToList()!);
        ctx.save_data(ProgramKey, program);
        // Unused outputs arrive in backward as undefined gradients, replaced by zeros there. (TorchSharp's own zero
        // materialisation reads per-output templates that the caller's dispose scope has already freed by then.)
        ctx.set_materialize_grads(false);
        // Without autograd: TorchSharp runs a custom function's forward in the caller's grad mode (unlike PyTorch), and
        // with grad on the program would record, and keep, exactly the intermediates this function exists to drop.
        using var noGrad = no_grad();
        return program(gates);
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grad_outputs)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var saved = ctx.get_saved_variables();
        var program = (Func<Tensor?[], List<Tensor>>)ctx.get_data(ProgramKey);
        using var scope = NewDisposeScope();
        using var gradMode = enable_grad();                                                     // backward runs with grad off
        var leaves = saved.Select(t => t?.detach().requires_grad_(true)).ToArray();
        var outputs = program(leaves);
        var present = leaves.Where(t => t is not null).Select(t => t!).ToList();
        var upstream = outputs.Select((o, i) => grad_outputs[i] is { IsInvalid: false } g ? g : zeros_like(o)).ToList();
        var grads = autograd.grad(outputs, present, upstream, retain_graph: false, allow_unused: true);

        // One entry per forward argument: the gates' gradients (null for an absent turn), then null for the program.
        var result = new List<Tensor>(GateCount + 1);
        int next = 0;
        foreach (var leaf in leaves)
            result.Add(leaf is null ? null! : grads[next++]?.MoveToOuterDisposeScope()!);
        BackwardResults.Hand(result);
        result.Add(null!);
        // The saved inputs and the incoming gradients (each as large as the gate) arrive as fresh handles outside any
        // dispose scope; left to the finaliser they kept one gate-sized buffer per layer alive until the end of the
        // backward pass (measured: peak memory above the storing run's), so they are released here.
        foreach (var t in saved) t?.Dispose();
        foreach (var g in grad_outputs) if (g is { IsInvalid: false }) g.Dispose();
        return result;
    }

    private static Tensor?[] Gates(object[] vars) => vars.Take(GateCount).Select(v => v as Tensor).ToArray();
}
