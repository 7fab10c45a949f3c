using Plstm.Data.Graphs;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.Graph;

/// <summary>
/// The node-wise graph operator (README "Node-wise operator"): source, mark and transition come as node tables
/// (<c>S, M [H, N, Emax]</c>, <c>T [H, N, Emax, Emax]</c>) indexed by adjacency slots; they are gathered onto edges and
/// line edges with an explicit <see cref="GraphGatherConvention"/> and the edge-wise recurrence runs on the result.
/// </summary>
public static class PlstmGraphNodewise
{
    /// <summary>Runs the node-wise operator; returns <c>[H, N, DV]</c>. No QK scale.</summary>
    /// <exception cref="ArgumentException">A tensor does not fit the graph, or a gathered slot is outside the tables'
    /// Emax (the message names the table).</exception>
    public static Tensor Forward(PlstmGraphNodewiseInputs inputs, PreparedGraph graph,
        GraphGatherConvention convention = GraphGatherConvention.NodeLocal, PlstmGraphForm form = PlstmGraphForm.Levels)
    {
        using var scope = NewDisposeScope();
        var edgewise = ToEdgewise(inputs, graph, convention);
        var y = form switch
        {
            PlstmGraphForm.Levels => PlstmGraphLevels.Forward(edgewise, graph),
            PlstmGraphForm.Naive => PlstmGraphNaive.Forward(edgewise, graph),
            PlstmGraphForm.PathGates => PlstmGraphPathGates.Forward(edgewise, graph),
            _ => throw new ArgumentOutOfRangeException(nameof(form), form, "unknown form"),
        };
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Gathers the node tables onto edges (<c>s, m [H, E]</c>) and line edges (<c>t [H, L]</c>) with
    /// <paramref name="convention"/>; Q, K, V and D pass through. Differentiable (index_select).
    /// </summary>
    /// <exception cref="ArgumentException">A tensor does not fit the graph, or a slot is outside Emax.</exception>
    public static PlstmGraphInputs ToEdgewise(PlstmGraphNodewiseInputs inputs, PreparedGraph graph,
        GraphGatherConvention convention = GraphGatherConvention.NodeLocal)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var dims = inputs.Validate(graph);
        long H = dims["H"], slots = dims["Emax"];
        bool reference = convention switch
        {
            GraphGatherConvention.Reference => true,
            GraphGatherConvention.NodeLocal => false,
            _ => throw new ArgumentOutOfRangeException(nameof(convention), convention, "unknown gather convention"),
        };
        var edges = graph.Edges;
        var outPos = graph.EdgeOutPosition;
        var inPos = graph.EdgeInPosition;

        long Slot(string table, int node, int slot, string what)
        {
            if (slot >= slots)
                throw new ArgumentException(
                    $"{table}: the {convention} gather reads {what} slot {slot} of node {node}, but {table} has Emax = {slots} slots " +
                    $"(shape {Format(table == nameof(inputs.T) ? inputs.T.shape : table == nameof(inputs.S) ? inputs.S.shape : inputs.M.shape)}; " +
                    $"the graph needs Emax ≥ {graph.MaxDegree}).", table);
            return slot;
        }

        var sIndex = new long[edges.Count];
        var mIndex = new long[edges.Count];
        for (int e = 0; e < edges.Count; e++)
        {
            var (u, w) = (edges[e].Tail, edges[e].Head);
            sIndex[e] = u * slots + Slot(nameof(inputs.S), u, reference ? inPos[e] : outPos[e], reference ? "in-position" : "out-position");
            mIndex[e] = w * slots + Slot(nameof(inputs.M), w, reference ? outPos[e] : inPos[e], reference ? "out-position" : "in-position");
        }
        var tIndex = new long[graph.LineEdgeCount];
        for (int l = 0; l < tIndex.Length; l++)
        {
            var (a, b) = (graph.LineEdges[l].Pred, graph.LineEdges[l].Succ);
            int node = edges[b].Tail;
            long first = Slot(nameof(inputs.T), node, reference ? outPos[a] : inPos[a], reference ? "out-position (pred)" : "in-position (pred)");
            long second = Slot(nameof(inputs.T), node, reference ? inPos[b] : outPos[b], reference ? "in-position (succ)" : "out-position (succ)");
            tIndex[l] = (node * slots + first) * slots + second;
        }

        var device = inputs.Q.device;
        Tensor Gather(Tensor table, long[] index) =>
            table.reshape(H, -1).index_select(1, tensor(index, dtype: ScalarType.Int64, device: device));
        return new PlstmGraphInputs(inputs.Q, inputs.K, inputs.V,
            Gather(inputs.S, sIndex), Gather(inputs.T, tIndex), Gather(inputs.M, mIndex), inputs.D);
    }

    private static string Format(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
