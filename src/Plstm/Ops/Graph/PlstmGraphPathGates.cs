using Plstm.Data.Graphs;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.Graph;

/// <summary>
/// The path-gate form of the edge-wise graph operator (README "Path-gate form"): the same recurrence and result as
/// <see cref="PlstmGraphNaive"/>, but instead of the DK×DV states C_e it carries, level by level, the scalar gate
/// g_{e,m} with which each node m's key and value are in C_e (<c>C_e = Σ_m g_{e,m} k_m v_mᵀ</c>), and then reads
/// <c>out_w = Σ_m G_{wm} (q_w·k_m) v_m</c> over the (w, m) pairs that have a path. On TU graphs an edge is reached from
/// a handful of nodes, so this moves about a hundredth of the data of the state forms (<see cref="PlstmGraphLevels"/>,
/// <c>GraphLevelScan</c>), forward and backward. Gradients by autograd.
/// </summary>
public static class PlstmGraphPathGates
{
    /// <summary>Runs the operator on <paramref name="graph"/>; returns <c>[H, N, DV]</c>. No QK scale.</summary>
    /// <exception cref="ArgumentException">A tensor does not fit the graph (the message names it).</exception>
    public static Tensor Forward(PlstmGraphInputs inputs, PreparedGraph graph)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var dims = inputs.Validate(graph);
        long H = dims["H"], N = dims["N"], DV = dims["DV"];
        var plan = GraphPathGatePlan.For(graph);
        using var scope = NewDisposeScope();
        var device = inputs.Q.device;
        var dtype = inputs.Q.dtype;
        // TorchSharp's index ops take int64; widening in libtorch is several times faster than a managed long[] copy.
        Tensor Index(int[] values) => tensor(values, device: device).to_type(ScalarType.Int64);

        // Entry gates [P, H] (heads last, so that every gather moves whole rows): the sources first, then level by level
        // the gates the line edges carry from earlier levels, which are final by then. The out-of-place index_add copies
        // all P rows per level; P is small, and autograd then passes the gradient of the sum straight through.
        var gates = zeros(new long[] { plan.EntryCount, H }, dtype: dtype, device: device)
            .index_add(0, Index(plan.SourceEntry), inputs.S.t(), alpha: 1);
        if (plan.LineEntryCount > 0)
        {
            var transitions = inputs.T.t().index_select(0, Index(plan.LineEdge));            // [X, H]
            var preds = Index(plan.LinePredEntry);
            var succs = Index(plan.LineSuccEntry);
            for (int level = 1; level < plan.LevelCount; level++)
            {
                int from = plan.LineEntryOffsets[level], count = plan.LineEntryOffsets[level + 1] - from;
                if (count == 0) continue;
                var carried = transitions.narrow(0, from, count) * gates.index_select(0, preds.narrow(0, from, count));
                gates = gates.index_add(0, succs.narrow(0, from, count), carried, alpha: 1);
            }
        }

        // G_{wm} = Σ_{e → w} m_e g_{e,m}, one row per (w, m) pair with a path: [R, H].
        var pairGates = zeros(new long[] { plan.PairCount, H }, dtype: dtype, device: device)
            .index_add(0, Index(plan.EntryPair), inputs.M.t().index_select(0, Index(plan.EntryEdge)) * gates, alpha: 1);
        var targets = Index(plan.PairTarget);
        var sources = Index(plan.PairSource);
        // Node-major views [N, H, D*]: the layers' q, k, v are head-split views of node-major tensors, so these are free.
        var q = inputs.Q.permute(1, 0, 2);
        var k = inputs.K.permute(1, 0, 2);
        var v = inputs.V.permute(1, 0, 2);
        // out_w = d_w (q_w·k_w) v_w + Σ_m G_{wm} (q_w·k_m) v_m: the direct term needs no gather (a DAG has no w → w path).
        var direct = inputs.D.t().unsqueeze(-1) * (q * k).sum(-1, keepdim: true) * v;        // [N, H, DV]
        var scores = (q.index_select(0, targets) * k.index_select(0, sources)).sum(-1);      // [R, H]
        var weighted = (pairGates * scores).unsqueeze(-1) * v.index_select(0, sources);     // [R, H, DV]
        var y = direct.index_add(0, targets, weighted, alpha: 1);
        return y.permute(1, 0, 2).MoveToOuterDisposeScope();
    }

    /// <summary>Runs the operator on every graph of <paramref name="batch"/> at once (tensors over the union's nodes,
    /// edges and line edges, see <see cref="PreparedGraphBatch"/>).</summary>
    public static Tensor Forward(PlstmGraphInputs inputs, PreparedGraphBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return Forward(inputs, batch.Union);
    }
}
