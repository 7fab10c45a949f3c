namespace Plstm.Data.Graphs;

/// <summary>
/// Several prepared graphs processed in one operator call: their disjoint union (<see cref="Union"/>), with graph g's
/// nodes at <c>NodeOffsets[g] …</c>, its edges at <c>EdgeOffsets[g] …</c> and its line edges at
/// <c>LineEdgeOffsets[g] …</c> of the union's axes. The union keeps each graph's processing order (graph by graph), and
/// its levels are the per-graph levels merged (level k of the union = level k of every graph), so the level-synchronous
/// operator advances all graphs together.
/// </summary>
public sealed class PreparedGraphBatch
{
    /// <summary>Batches <paramref name="graphs"/> (at least one).</summary>
    /// <exception cref="ArgumentException">No graph is given.</exception>
    public PreparedGraphBatch(IEnumerable<PreparedGraph> graphs)
    {
        ArgumentNullException.ThrowIfNull(graphs);
        var list = graphs.ToArray();
        if (list.Length == 0) throw new ArgumentException("A batch needs at least one graph.", nameof(graphs));
        if (list.Any(g => g is null)) throw new ArgumentException("A batch cannot hold a null graph.", nameof(graphs));
        Graphs = list;

        var nodeOffsets = new int[list.Length + 1];
        var edgeOffsets = new int[list.Length + 1];
        var lineOffsets = new int[list.Length + 1];
        for (int g = 0; g < list.Length; g++)
        {
            nodeOffsets[g + 1] = checked(nodeOffsets[g] + list[g].NodeCount);
            edgeOffsets[g + 1] = checked(edgeOffsets[g] + list[g].EdgeCount);
            lineOffsets[g + 1] = checked(lineOffsets[g] + list[g].LineEdgeCount);
        }
        NodeOffsets = nodeOffsets;
        EdgeOffsets = edgeOffsets;
        LineEdgeOffsets = lineOffsets;

        var nodeGraph = new int[nodeOffsets[^1]];
        var edges = new List<GraphEdge>(edgeOffsets[^1]);
        var lineEdges = new List<LineEdge>(lineOffsets[^1]);
        var dagIndex = new List<int>(edgeOffsets[^1]);
        var outPos = new List<int>(edgeOffsets[^1]);
        var inPos = new List<int>(edgeOffsets[^1]);
        var nodeOrder = new List<int>(nodeOffsets[^1]);
        var dagEdges = new List<GraphEdge>(edgeOffsets[^1]);
        for (int g = 0; g < list.Length; g++)
        {
            var graph = list[g];
            int no = nodeOffsets[g], eo = edgeOffsets[g];
            Array.Fill(nodeGraph, g, no, graph.NodeCount);
            edges.AddRange(graph.Edges.Select(e => new GraphEdge(e.Tail + no, e.Head + no)));
            lineEdges.AddRange(graph.LineEdges.Select(l => new LineEdge(l.Pred + eo, l.Succ + eo)));
            dagIndex.AddRange(graph.EdgeDagIndex.Select(i => i + eo));
            outPos.AddRange(graph.EdgeOutPosition);
            inPos.AddRange(graph.EdgeInPosition);
            nodeOrder.AddRange(graph.DagNodeOrder.Select(v => v + no));
            dagEdges.AddRange(graph.DagEdges.Select(e => new GraphEdge(e.Tail + no, e.Head + no)));
        }
        NodeGraphIndex = nodeGraph;
        var modes = list.Select(g => g.Mode).Distinct().ToArray();
        // Valid by construction: every graph was validated, and shifting each graph's nodes and edges by its own offsets
        // keeps ids in range, edges and slots distinct, and line edges joining consecutive, forward edges.
        Union = new PreparedGraph(nodeOffsets[^1], modes.Length == 1 ? modes[0] : null, edges.ToArray(),
            lineEdges.ToArray(), dagIndex.ToArray(), outPos.ToArray(), inPos.ToArray(), nodeOrder.ToArray(),
            dagEdges.ToArray(), validate: false) { Parts = list };
    }

    /// <summary>The graphs, in batch order.</summary>
    public IReadOnlyList<PreparedGraph> Graphs { get; }

    /// <summary>Number of graphs.</summary>
    public int Count => Graphs.Count;

    /// <summary>The disjoint union of all graphs (what the operators run on).</summary>
    public PreparedGraph Union { get; }

    /// <summary>Start of each graph's nodes in the union (Count + 1 entries; the last is the total).</summary>
    public IReadOnlyList<int> NodeOffsets { get; }

    /// <summary>Start of each graph's edges in the union (Count + 1 entries).</summary>
    public IReadOnlyList<int> EdgeOffsets { get; }

    /// <summary>Start of each graph's line edges in the union (Count + 1 entries).</summary>
    public IReadOnlyList<int> LineEdgeOffsets { get; }

    /// <summary>For each node of the union: the index of its graph (e.g. for pooling).</summary>
    public IReadOnlyList<int> NodeGraphIndex { get; }

    /// <summary>A batch of the reversed graphs (<see cref="PreparedGraph.Reverse"/>), in the same order.</summary>
    public PreparedGraphBatch Reverse(GraphMode? mode = null) => new(Graphs.Select(g => g.Reverse(mode)));
}
