using Plstm.Data.Graphs;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.Graph;

/// <summary>
/// The level-synchronous parallel form of the edge-wise graph operator (README "Parallel form"). Edges of one
/// line-graph level do not depend on each other, so each level is one batched step: gather the predecessor states of
/// all its line edges, scale them by their transitions, sum them into their successors (<c>index_add</c>), add the
/// sources. Sources and marks of all edges are computed at once. Many graphs run in one call as a disjoint union
/// (<see cref="PreparedGraphBatch"/>). Gradients by autograd.
/// </summary>
public static class PlstmGraphLevels
{
    /// <summary>Runs the operator on <paramref name="graph"/>; returns <c>[H, N, DV]</c>. No QK scale.</summary>
    /// <exception cref="ArgumentException">A tensor does not fit the graph (the message names it).</exception>
    public static Tensor Forward(PlstmGraphInputs inputs, PreparedGraph graph)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var dims = inputs.Validate(graph);
        using var scope = NewDisposeScope();
        long H = dims["H"], N = dims["N"], DK = dims["DK"], DV = dims["DV"];
        var device = inputs.Q.device;
        var direct = PlstmGraphNaive.DirectTerm(inputs.Q, inputs.K, inputs.V, inputs.D);   // [H, N, DV]
        if (graph.EdgeCount == 0) return direct.MoveToOuterDisposeScope();

        var tails = Index(graph.Edges.Select(e => e.Tail), device);
        var heads = Index(graph.Edges.Select(e => e.Head), device);
        var source = inputs.S.reshape(H, -1, 1, 1)
                   * einsum("hek,hev->hekv", inputs.K.index_select(1, tails), inputs.V.index_select(1, tails)); // [H, E, DK, DV]

        // C holds every edge state; level k writes its rows once (in place), later levels only gather from them.
        var states = zeros(new[] { H, graph.EdgeCount, DK, DV }, dtype: inputs.Q.dtype, device: device);
        var local = new int[graph.EdgeCount];                                               // position within its level
        for (int level = 0; level < graph.LevelCount; level++)
        {
            var levelEdges = graph.LevelEdges[level];
            for (int i = 0; i < levelEdges.Count; i++) local[levelEdges[i]] = i;
            var rows = Index(levelEdges, device);
            var c = source.index_select(1, rows);                                           // [H, |level|, DK, DV]
            var lines = graph.LevelLineEdges[level];
            if (lines.Count > 0)
            {
                var preds = Index(lines.Select(l => graph.LineEdges[l].Pred), device);
                var succs = Index(lines.Select(l => local[graph.LineEdges[l].Succ]), device);
                var carried = inputs.T.index_select(1, Index(lines, device)).reshape(H, -1, 1, 1)
                            * states.index_select(1, preds);                                // [H, |lines|, DK, DV]
                c = c.index_add(1, succs, carried, alpha: 1);
            }
            states.index_copy_(1, rows, c);
        }

        var read = inputs.M.unsqueeze(-1)
                 * einsum("hek,hekv->hev", inputs.Q.index_select(1, heads), states);        // [H, E, DV]
        var y = zeros(new[] { H, N, DV }, dtype: inputs.Q.dtype, device: device).index_add(1, heads, read, alpha: 1) + direct;
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Runs the operator on every graph of <paramref name="batch"/> at once (tensors over the union's nodes,
    /// edges and line edges, see <see cref="PreparedGraphBatch"/>).</summary>
    public static Tensor Forward(PlstmGraphInputs inputs, PreparedGraphBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return Forward(inputs, batch.Union);
    }

    internal static Tensor Index(IEnumerable<int> values, Device device) =>
        tensor(values.Select(v => (long)v).ToArray(), dtype: ScalarType.Int64, device: device);
}
