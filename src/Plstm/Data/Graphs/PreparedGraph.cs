namespace Plstm.Data.Graphs;

/// <summary>
/// A graph ready for the graph pLSTM operators (<c>Ops/Graph/README.md</c>): the DAG edges in processing order (a
/// topological order of the line graph), the line edges, the node count, the adjacency positions the node-wise
/// operator gathers with, and the grouping of the edges into line-graph levels for the level-synchronous parallel form.
/// Built by <see cref="GraphPreparation"/>, by <see cref="FromProcessingOrder"/> (an explicit structure, e.g. from a
/// golden file) or as the disjoint union of a <see cref="PreparedGraphBatch"/>. Immutable; the collection properties
/// are read-only views, so record equality is reference equality of those lists.
/// </summary>
public sealed record PreparedGraph
{
    // validate: false only for structures valid by construction (a disjoint union of valid graphs), whose check would
    // cost hash sets over every edge and line edge of every training batch.
    internal PreparedGraph(int nodeCount, GraphMode? mode, GraphEdge[] edges, LineEdge[] lineEdges, int[] edgeDagIndex,
        int[] outPositions, int[] inPositions, int[] dagNodeOrder, GraphEdge[] dagEdges, bool validate = true)
    {
        NodeCount = nodeCount;
        Mode = mode;
        Edges = edges;
        LineEdges = lineEdges;
        EdgeDagIndex = edgeDagIndex;
        EdgeOutPosition = outPositions;
        EdgeInPosition = inPositions;
        DagNodeOrder = dagNodeOrder;
        DagEdges = dagEdges;
        if (validate) Validate();

        var incoming = GroupBy(lineEdges.Length, edges.Length, l => lineEdges[l].Succ);
        IncomingLineEdges = incoming;

        var level = new int[edges.Length];
        for (int e = 0; e < edges.Length; e++)                                   // preds come first (validated)
            foreach (var l in incoming[e])
                level[e] = Math.Max(level[e], level[lineEdges[l].Pred] + 1);
        EdgeLevel = level;
        int levels = edges.Length == 0 ? 0 : level.Max() + 1;
        LevelEdges = GroupBy(edges.Length, levels, e => level[e]);
        LevelLineEdges = GroupBy(lineEdges.Length, levels, l => level[lineEdges[l].Succ]);

        var outDegree = new int[nodeCount];
        var inDegree = new int[nodeCount];
        foreach (var e in edges)
        {
            outDegree[e.Tail]++;
            inDegree[e.Head]++;
        }
        MaxDegree = nodeCount == 0 ? 0 : Math.Max(outDegree.Max(), inDegree.Max());
    }

    /// <summary>Number of nodes N (node ids <c>0 … N − 1</c>).</summary>
    public int NodeCount { get; }

    /// <summary>The preparation mode, or null for an explicit structure (<see cref="FromProcessingOrder"/>) or a
    /// union of graphs prepared in different modes.</summary>
    public GraphMode? Mode { get; }

    /// <summary>Number of DAG edges E.</summary>
    public int EdgeCount => Edges.Count;

    /// <summary>Number of line edges L.</summary>
    public int LineEdgeCount => LineEdges.Count;

    /// <summary>The DAG edges in processing order (the operators' edge axis: <c>s, m [H, E]</c>).</summary>
    public IReadOnlyList<GraphEdge> Edges { get; }

    /// <summary>The line edges (processing indices; the operators' transition axis <c>t [H, L]</c>), in the line
    /// graph's edge enumeration order (networkx).</summary>
    public IReadOnlyList<LineEdge> LineEdges { get; }

    /// <summary>For each edge (processing index): its index in <see cref="DagEdges"/> (the reference's
    /// <c>topo_edge_idx</c>, the original edge index).</summary>
    public IReadOnlyList<int> EdgeDagIndex { get; }

    /// <summary>For each edge: its position in the out-edge list of its tail (DAG successor order).</summary>
    public IReadOnlyList<int> EdgeOutPosition { get; }

    /// <summary>For each edge: its position in the in-edge list of its head (DAG predecessor order).</summary>
    public IReadOnlyList<int> EdgeInPosition { get; }

    /// <summary>The largest in- or out-degree of a node: the number of slots a node table <c>[H, N, Emax]</c> needs.</summary>
    public int MaxDegree { get; }

    /// <summary>The DAG's node insertion order (tie-breaking order; <c>0 … N − 1</c> unless reversed).</summary>
    public IReadOnlyList<int> DagNodeOrder { get; }

    /// <summary>The DAG edges in the DAG's own enumeration order (<see cref="OrderedDigraph.Edges"/>).</summary>
    public IReadOnlyList<GraphEdge> DagEdges { get; }

    /// <summary>For each edge: the line edges entering it (ascending line-edge index).</summary>
    public IReadOnlyList<IReadOnlyList<int>> IncomingLineEdges { get; }

    /// <summary>For each edge: its line-graph level, 0 without incoming line edges, else 1 + the largest level of its
    /// predecessors. Edges of one level do not depend on each other.</summary>
    public IReadOnlyList<int> EdgeLevel { get; }

    /// <summary>Number of levels (0 when there are no edges).</summary>
    public int LevelCount => LevelEdges.Count;

    /// <summary>For each level: its edges (ascending processing index).</summary>
    public IReadOnlyList<IReadOnlyList<int>> LevelEdges { get; }

    /// <summary>For each level: the line edges entering an edge of that level (ascending line-edge index).</summary>
    public IReadOnlyList<IReadOnlyList<int>> LevelLineEdges { get; }

    /// <summary>For the union of a <see cref="PreparedGraphBatch"/>: the graphs it joins, in batch order; null for any
    /// other graph. Operators cache index structures per graph and concatenate them for a batch instead of deriving them
    /// from every new union again (the batches of a training run are new unions every epoch).</summary>
    internal IReadOnlyList<PreparedGraph>? Parts { get; init; }

    /// <summary>
    /// An explicit structure: <paramref name="edges"/> already in processing order and <paramref name="lineEdges"/> as
    /// (pred, succ) indices into it (e.g. the arrays of a golden file). Adjacency positions default to the order of
    /// appearance in <paramref name="edges"/> (each tail's out-edges, each head's in-edges).
    /// </summary>
    /// <exception cref="ArgumentException">A node id or edge index is out of range, an edge repeats or is a self-loop, a
    /// line edge does not join consecutive edges (head(pred) = tail(succ)) or does not go forward (pred &lt; succ),
    /// or the positions are inconsistent.</exception>
    public static PreparedGraph FromProcessingOrder(int nodeCount, IReadOnlyList<GraphEdge> edges,
        IReadOnlyList<LineEdge> lineEdges, IReadOnlyList<int>? outPositions = null, IReadOnlyList<int>? inPositions = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nodeCount);
        ArgumentNullException.ThrowIfNull(edges);
        ArgumentNullException.ThrowIfNull(lineEdges);
        var e = edges.ToArray();
        int[] Positions(IReadOnlyList<int>? given, Func<GraphEdge, int> node, string name)
        {
            if (given is not null)
            {
                if (given.Count != e.Length)
                    throw new ArgumentException($"{name} has {given.Count} entries, expected one per edge ({e.Length}).", name);
                return given.ToArray();
            }
            var count = new Dictionary<int, int>();
            var result = new int[e.Length];
            for (int i = 0; i < e.Length; i++)
            {
                int key = node(e[i]);
                result[i] = count.GetValueOrDefault(key);
                count[key] = result[i] + 1;
            }
            return result;
        }
        var outPos = Positions(outPositions, x => x.Tail, nameof(outPositions));
        var inPos = Positions(inPositions, x => x.Head, nameof(inPositions));
        return new PreparedGraph(nodeCount, null, e, lineEdges.ToArray(), Enumerable.Range(0, e.Length).ToArray(),
            outPos, inPos, Enumerable.Range(0, nodeCount).ToArray(), e);
    }

    /// <summary>
    /// The graph with every edge reversed, prepared again (the reference's <c>PreparedGraph.reverse</c>): the DAG is
    /// reversed by <see cref="GraphPreparation.Reverse"/> (node order reversed, so ties break the mirrored way) and
    /// prepared in <paramref name="mode"/>, by default this graph's own mode (the reference always uses D-mode here;
    /// models §5.4 calls that a quirk).
    /// </summary>
    /// <exception cref="InvalidOperationException">No mode is given and this graph has none.</exception>
    public PreparedGraph Reverse(GraphMode? mode = null)
    {
        var m = mode ?? Mode ?? throw new InvalidOperationException(
            "This graph has no preparation mode (explicit structure or mixed union); pass the mode of the reversed graph.");
        var dag = new OrderedDigraph();
        foreach (var v in DagNodeOrder) dag.AddNode(v);
        foreach (var e in DagEdges) dag.AddEdge(e.Tail, e.Head);
        return GraphPreparation.Prepare(GraphPreparation.Reverse(dag), m);
    }

    /// <summary>Items <c>0 … count − 1</c> grouped by <paramref name="key"/> into <paramref name="groups"/> arrays, each
    /// ascending (a counting sort: one pass to size the groups, one to fill them).</summary>
    private static int[][] GroupBy(int count, int groups, Func<int, int> key)
    {
        var sizes = new int[groups];
        for (int i = 0; i < count; i++) sizes[key(i)]++;
        var result = new int[groups][];
        for (int g = 0; g < groups; g++) result[g] = new int[sizes[g]];
        Array.Clear(sizes);
        for (int i = 0; i < count; i++)
        {
            int g = key(i);
            result[g][sizes[g]++] = i;
        }
        return result;
    }

    private void Validate()
    {
        int n = NodeCount, count = Edges.Count;
        var seen = new HashSet<GraphEdge>();
        var outSlots = new HashSet<(int, int)>();
        var inSlots = new HashSet<(int, int)>();
        for (int i = 0; i < count; i++)
        {
            var e = Edges[i];
            if (e.Tail < 0 || e.Tail >= n || e.Head < 0 || e.Head >= n)
                throw new ArgumentException($"Edge {i} {e} names a node outside 0 … {n - 1}.", "edges");
            if (e.Tail == e.Head)
                throw new ArgumentException($"Edge {i} {e} is a self-loop.", "edges");
            if (!seen.Add(e))
                throw new ArgumentException($"Edge {i} {e} appears twice.", "edges");
            if (EdgeOutPosition[i] < 0 || !outSlots.Add((e.Tail, EdgeOutPosition[i])))
                throw new ArgumentException(
                    $"Edge {i} {e}: out-position {EdgeOutPosition[i]} is negative or already used by another out-edge of node {e.Tail}.",
                    "outPositions");
            if (EdgeInPosition[i] < 0 || !inSlots.Add((e.Head, EdgeInPosition[i])))
                throw new ArgumentException(
                    $"Edge {i} {e}: in-position {EdgeInPosition[i]} is negative or already used by another in-edge of node {e.Head}.",
                    "inPositions");
        }
        var seenLines = new HashSet<LineEdge>();
        for (int l = 0; l < LineEdges.Count; l++)
        {
            var le = LineEdges[l];
            if (le.Pred < 0 || le.Pred >= count || le.Succ < 0 || le.Succ >= count)
                throw new ArgumentException($"Line edge {l} {le} names an edge outside 0 … {count - 1}.", "lineEdges");
            if (Edges[le.Pred].Head != Edges[le.Succ].Tail)
                throw new ArgumentException(
                    $"Line edge {l} {le} joins {Edges[le.Pred]} and {Edges[le.Succ]}, which do not meet (head of pred ≠ tail of succ).",
                    "lineEdges");
            if (le.Pred >= le.Succ)
                throw new ArgumentException(
                    $"Line edge {l} {le} goes backwards: the edges must be in a topological order of the line graph (pred before succ).",
                    "lineEdges");
            if (!seenLines.Add(le))
                throw new ArgumentException($"Line edge {l} {le} appears twice.", "lineEdges");
        }
    }
}
