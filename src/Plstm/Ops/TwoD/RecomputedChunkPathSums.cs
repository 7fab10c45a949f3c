using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// <see cref="ChunkPathSums.Compute"/> as a custom autograd function that keeps only its small inputs (the per-cell gates,
/// <c>[N, Px, Py]</c> each) for the backward pass and recomputes the wavefront there (checkpointing), instead of keeping
/// every step's <c>[N, cells of the diagonal, 3, sources]</c> block alive from forward to backward (≈ 1.5·P⁴ values per
/// chunk). Costs one extra forward of the program in backward; same values and gradients.
/// </summary>
internal sealed class RecomputedChunkPathSums : autograd.MultiTensorFunction<RecomputedChunkPathSums>
{
    private const string WithPortsKey = "withPorts";
    private const int GateCount = 8;

    /// <inheritdoc />
    public override string Name => nameof(RecomputedChunkPathSums);

    /// <summary>As <see cref="ChunkPathSums.Compute"/>, recomputed in backward.</summary>
    public static ChunkPathSums Compute(Tensor sr, Tensor sd, Tensor trl, Tensor tdu, Tensor? tdl, Tensor? tru,
        Tensor ml, Tensor mu, bool withPorts)
    {
        // An absent turn is passed as null: not an input of the graph node, and null again in backward.
        var outputs = apply(sr, sd, trl, tdu, tdl!, tru!, ml, mu, withPorts);
        return withPorts
            ? new ChunkPathSums(outputs[0], outputs[1], outputs[2], outputs[3])
            : new ChunkPathSums(outputs[0], null, null, null);
    }

    /// <inheritdoc />
    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var gates = Gates(vars);
        bool withPorts = (bool)vars[GateCount];
        ctx.save_for_backward(gates.ToList()!);
        ctx.save_data(WithPortsKey, withPorts);
        // Unused outputs arrive in backward as undefined gradients, replaced by zeros there. (TorchSharp's own zero
        // materialisation reads per-output templates that the caller's dispose scope has already freed by then.)
        ctx.set_materialize_grads(false);
        return Outputs(Run(gates, withPorts));                                                   // runs without autograd
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grad_outputs)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var saved = ctx.get_saved_variables();
        bool withPorts = (bool)ctx.get_data(WithPortsKey);
        using var scope = NewDisposeScope();
        using var gradMode = enable_grad();                                                      // backward runs with grad off
        var leaves = saved.Select(t => t?.detach().requires_grad_(true)).ToArray();
        var outputs = Outputs(Run(leaves, withPorts));
        var present = leaves.Where(t => t is not null).Select(t => t!).ToList();
        var upstream = outputs.Select((o, i) => grad_outputs[i] is { IsInvalid: false } g ? g : zeros_like(o)).ToList();
        var grads = autograd.grad(outputs, present, upstream, allow_unused: true);

        // One entry per forward argument: the gates' gradients (null for an absent turn), then null for the flag.
        var result = new List<Tensor>(GateCount + 1);
        int next = 0;
        foreach (var leaf in leaves)
            result.Add(leaf is null ? null! : grads[next++]?.MoveToOuterDisposeScope()!);
        result.Add(null!);
        return result;
    }

    private static Tensor?[] Gates(object[] vars) => vars.Take(GateCount).Select(v => v as Tensor).ToArray();

    private static ChunkPathSums Run(Tensor?[] g, bool withPorts) =>
        ChunkPathSums.Compute(g[0]!, g[1]!, g[2]!, g[3]!, g[4], g[5], g[6]!, g[7]!, withPorts);

    private static List<Tensor> Outputs(ChunkPathSums sums) => sums.Marks is null
        ? new List<Tensor> { sums.Gate }
        : new List<Tensor> { sums.Gate, sums.Marks, sums.Sources!, sums.Transfers! };
}
