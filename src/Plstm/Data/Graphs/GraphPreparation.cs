namespace Plstm.Data.Graphs;

/// <summary>
/// Graph preparation for the graph pLSTM (operators §5.3, models §5.1, clarification 9; the statement of the rules is
/// <c>Ops/Graph/README.md</c>, "Preparation"):
/// <list type="number">
/// <item>an undirected graph becomes a DAG by orienting every edge from the lower node id to the higher one
/// (<see cref="Dagify"/>); a directed graph that is already a DAG is kept <b>as given</b> (<see cref="ToDag"/>; the
/// reference re-orients it by node order, this port does not); a cyclic one is rejected;</item>
/// <item>the line graph of the DAG (<see cref="BuildLineGraph"/>);</item>
/// <item>D-mode: the line graph pruned to a multitree (<see cref="PruneToMultitree"/>); P-mode: unchanged;</item>
/// <item>the topological order of that line graph (<see cref="TopologicalOrder"/>) is the processing order of the
/// edges.</item>
/// </list>
/// Every order follows networkx 2.8 (nodes and adjacency in insertion order, generation-wise Kahn topological sort), so
/// the golden file <c>graph_prepare.json</c> is reproduced exactly.
/// </summary>
public static class GraphPreparation
{
    /// <summary>Prepares an undirected graph with nodes <c>0 … nodeCount − 1</c> (edges in either direction; repeated
    /// edges, also reversed ones, count once).</summary>
    /// <exception cref="ArgumentException">A node id is out of range or an edge is a self-loop.</exception>
    public static PreparedGraph FromUndirected(int nodeCount, IEnumerable<(int, int)> edges, GraphMode mode) =>
        Prepare(Dagify(nodeCount, edges), mode);

    /// <summary>Prepares a DAG with nodes <c>0 … nodeCount − 1</c>, keeping the given directions (repeated edges count
    /// once).</summary>
    /// <exception cref="ArgumentException">A node id is out of range, or the graph has a cycle (a self-loop included).</exception>
    public static PreparedGraph FromDag(int nodeCount, IEnumerable<(int, int)> edges, GraphMode mode) =>
        Prepare(ToDag(nodeCount, edges), mode);

    /// <summary>Prepares a DAG built by <see cref="Dagify"/>, <see cref="ToDag"/> or <see cref="Reverse"/> (steps 2–4).
    /// Its nodes must be <c>0 … NodeCount − 1</c> (in any insertion order).</summary>
    /// <exception cref="ArgumentException">The graph has a cycle, or its node ids are not <c>0 … NodeCount − 1</c>.</exception>
    public static PreparedGraph Prepare(OrderedDigraph dag, GraphMode mode)
    {
        ArgumentNullException.ThrowIfNull(dag);
        int n = dag.NodeCount;
        if (dag.Nodes.Any(v => v < 0 || v >= n))
            throw new ArgumentException($"The DAG's node ids must be 0 … {n - 1}.", nameof(dag));
        TopologicalOrder(dag);                                                   // throws on a cycle
        var line = BuildLineGraph(dag);
        var lineGraph = mode switch
        {
            GraphMode.P => line.Graph,
            GraphMode.D => PruneToMultitree(line.Graph),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown graph mode"),
        };
        var order = TopologicalOrder(lineGraph);
        var position = new int[order.Count];
        for (int i = 0; i < order.Count; i++) position[order[i]] = i;

        var edges = new GraphEdge[order.Count];
        var dagIndex = new int[order.Count];
        var outPos = new int[order.Count];
        var inPos = new int[order.Count];
        for (int i = 0; i < order.Count; i++)
        {
            var e = line.Vertices[order[i]];
            edges[i] = e;
            dagIndex[i] = order[i];
            outPos[i] = IndexOf(dag.Successors(e.Tail), e.Head);
            inPos[i] = IndexOf(dag.Predecessors(e.Head), e.Tail);
        }
        var lineEdges = lineGraph.Edges().Select(le => new LineEdge(position[le.Tail], position[le.Head])).ToArray();
        return new PreparedGraph(n, mode, edges, lineEdges, dagIndex, outPos, inPos,
            dag.Nodes.ToArray(), line.Vertices.ToArray());
    }

    /// <summary>
    /// networkx's <c>Graph</c> + <c>dagify</c>: nodes <c>0 … nodeCount − 1</c> inserted in order, the undirected edges in
    /// the given order (a repeat, in either direction, is ignored); each edge {u, w} becomes u → w with u &lt; w. The
    /// result's edge order is networkx's: by the lower node, then by when that node first met the neighbour.
    /// </summary>
    /// <exception cref="ArgumentException">A node id is out of range or an edge is a self-loop.</exception>
    public static OrderedDigraph Dagify(int nodeCount, IEnumerable<(int, int)> undirectedEdges)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nodeCount);
        ArgumentNullException.ThrowIfNull(undirectedEdges);
        var adjacency = new List<int>[nodeCount];
        for (int i = 0; i < nodeCount; i++) adjacency[i] = new List<int>();
        var seen = new HashSet<(int, int)>();
        int index = 0;
        foreach (var (a, b) in undirectedEdges)
        {
            CheckNode(a, nodeCount, index);
            CheckNode(b, nodeCount, index);
            if (a == b)
                throw new ArgumentException($"Edge {index} ({a}, {b}) is a self-loop; a graph with a self-loop has no DAG orientation.",
                    nameof(undirectedEdges));
            if (seen.Add((Math.Min(a, b), Math.Max(a, b))))
            {
                adjacency[a].Add(b);
                adjacency[b].Add(a);
            }
            index++;
        }
        var dag = new OrderedDigraph();
        for (int v = 0; v < nodeCount; v++) dag.AddNode(v);
        for (int v = 0; v < nodeCount; v++)
            foreach (var w in adjacency[v])
                if (w > v) dag.AddEdge(v, w);
        return dag;
    }

    /// <summary>
    /// A directed graph kept as given: nodes <c>0 … nodeCount − 1</c>, edges in the given order (repeats ignored),
    /// then rebuilt in networkx edge order (<see cref="OrderedDigraph.Rebuilt"/>, as the reference's copy does).
    /// </summary>
    /// <exception cref="ArgumentException">A node id is out of range, or the graph has a cycle (a self-loop included).</exception>
    public static OrderedDigraph ToDag(int nodeCount, IEnumerable<(int, int)> directedEdges)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nodeCount);
        ArgumentNullException.ThrowIfNull(directedEdges);
        var g = new OrderedDigraph();
        for (int v = 0; v < nodeCount; v++) g.AddNode(v);
        int index = 0;
        foreach (var (a, b) in directedEdges)
        {
            CheckNode(a, nodeCount, index);
            CheckNode(b, nodeCount, index);
            if (a == b)
                throw new ArgumentException($"Edge {index} ({a} → {b}) is a self-loop: the directed graph is not a DAG.",
                    nameof(directedEdges));
            g.AddEdge(a, b);
            index++;
        }
        TopologicalOrder(g);                                                     // throws on a cycle
        return g.Rebuilt();
    }

    /// <summary>
    /// The reversed DAG (the reference's <c>revert_dag</c> followed by its copy): nodes in reversed insertion order, the
    /// edges of <see cref="OrderedDigraph.Edges"/> in reversed order, each flipped, then rebuilt in networkx edge order.
    /// </summary>
    public static OrderedDigraph Reverse(OrderedDigraph dag)
    {
        ArgumentNullException.ThrowIfNull(dag);
        var rev = new OrderedDigraph();
        for (int i = dag.NodeCount - 1; i >= 0; i--) rev.AddNode(dag.Nodes[i]);
        var edges = dag.Edges();
        for (int i = edges.Count - 1; i >= 0; i--) rev.AddEdge(edges[i].Head, edges[i].Tail);
        return rev.Rebuilt();
    }

    /// <summary>
    /// networkx's <c>line_graph</c> of a DiGraph: for each DAG edge in <see cref="OrderedDigraph.Edges"/> order, the
    /// vertex is added, then one line edge to every out-edge of its head (successor order); a vertex first met as such a
    /// target is inserted there, which fixes the line graph's node order.
    /// </summary>
    public static LineGraph BuildLineGraph(OrderedDigraph dag)
    {
        ArgumentNullException.ThrowIfNull(dag);
        var vertices = dag.Edges();
        var index = new Dictionary<GraphEdge, int>(vertices.Count);
        for (int i = 0; i < vertices.Count; i++) index[vertices[i]] = i;
        var graph = new OrderedDigraph();
        for (int i = 0; i < vertices.Count; i++)
        {
            graph.AddNode(i);
            var head = vertices[i].Head;
            foreach (var next in dag.Successors(head))
                graph.AddEdge(i, index[new GraphEdge(head, next)]);
        }
        return new LineGraph(graph, vertices);
    }

    /// <summary>
    /// networkx's <c>topological_generations</c>: generation 0 = the nodes without predecessors in
    /// <see cref="OrderedDigraph.Nodes"/> order; the next generation collects, in order, each child whose last remaining
    /// predecessor is visited while walking the current generation and each node's successors in insertion order.
    /// </summary>
    /// <exception cref="ArgumentException">The graph has a cycle.</exception>
    public static IReadOnlyList<IReadOnlyList<int>> TopologicalGenerations(OrderedDigraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var indegree = new Dictionary<int, int>();
        var zero = new List<int>();
        foreach (var v in graph.Nodes)
        {
            int d = graph.Predecessors(v).Count;
            if (d > 0) indegree[v] = d;
            else zero.Add(v);
        }
        var generations = new List<IReadOnlyList<int>>();
        while (zero.Count > 0)
        {
            var generation = zero;
            zero = new List<int>();
            foreach (var v in generation)
                foreach (var child in graph.Successors(v))
                {
                    if (--indegree[child] == 0)
                    {
                        zero.Add(child);
                        indegree.Remove(child);
                    }
                }
            generations.Add(generation);
        }
        if (indegree.Count > 0)
            throw new ArgumentException(
                $"The directed graph has a cycle (through node {indegree.Keys.First()}); only DAGs can be prepared.",
                nameof(graph));
        return generations;
    }

    /// <summary>networkx's <c>topological_sort</c>: the <see cref="TopologicalGenerations"/> concatenated.</summary>
    /// <exception cref="ArgumentException">The graph has a cycle.</exception>
    public static IReadOnlyList<int> TopologicalOrder(OrderedDigraph graph) =>
        TopologicalGenerations(graph).SelectMany(g => g).ToArray();

    /// <summary>
    /// The D-mode pruning of a line graph to a multitree (the reference's <c>prune_dag_to_multitree</c>). The vertices
    /// are visited in <paramref name="visitOrder"/> (default: <see cref="TopologicalOrder"/>); each vertex c's
    /// predecessors are taken sorted by their position in that order, and predecessor p is kept unless some recorded
    /// ancestor a of p already has c among its recorded descendants. Keeping p records p and all of p's recorded
    /// ancestors as ancestors of c (and c as their descendant). The result has the same nodes in the same order and
    /// its edges are added in the order they are kept.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="visitOrder"/> is not a topological order of the graph's nodes.</exception>
    public static OrderedDigraph PruneToMultitree(OrderedDigraph lineGraph, IReadOnlyList<int>? visitOrder = null)
    {
        ArgumentNullException.ThrowIfNull(lineGraph);
        var order = visitOrder ?? TopologicalOrder(lineGraph);
        var position = new Dictionary<int, int>(order.Count);
        for (int i = 0; i < order.Count; i++)
            if (!lineGraph.ContainsNode(order[i]) || !position.TryAdd(order[i], i))
                throw new ArgumentException($"visitOrder must list every node once (entry {i}: {order[i]}).", nameof(visitOrder));
        if (position.Count != lineGraph.NodeCount)
            throw new ArgumentException($"visitOrder lists {position.Count} of the {lineGraph.NodeCount} nodes.", nameof(visitOrder));

        var result = new OrderedDigraph();
        foreach (var v in lineGraph.Nodes) result.AddNode(v);
        var ancestors = new Dictionary<int, HashSet<int>>();
        var descendants = new Dictionary<int, HashSet<int>>();
        HashSet<int> Of(Dictionary<int, HashSet<int>> map, int v)
        {
            if (!map.TryGetValue(v, out var set)) map[v] = set = new HashSet<int>();
            return set;
        }
        foreach (var current in order)
        {
            var preds = lineGraph.Predecessors(current).OrderBy(p => position[p]).ToArray();
            foreach (var pred in preds)
            {
                if (position[pred] >= position[current])
                    throw new ArgumentException(
                        $"visitOrder is not topological: node {pred} precedes node {current} in the graph but comes after it.",
                        nameof(visitOrder));
                var prior = Of(ancestors, pred);
                if (prior.Any(a => descendants.TryGetValue(a, out var d) && d.Contains(current)))
                    continue;
                result.AddEdge(pred, current);
                var mine = Of(ancestors, current);
                mine.Add(pred);
                Of(descendants, pred).Add(current);
                foreach (var a in prior)
                {
                    mine.Add(a);
                    Of(descendants, a).Add(current);
                }
            }
        }
        return result;
    }

    private static void CheckNode(int node, int nodeCount, int edgeIndex)
    {
        if (node < 0 || node >= nodeCount)
            throw new ArgumentOutOfRangeException("edges", node,
                $"Edge {edgeIndex} names node {node}, but the graph has nodes 0 … {nodeCount - 1}.");
    }

    private static int IndexOf(IReadOnlyList<int> list, int value)
    {
        for (int i = 0; i < list.Count; i++)
            if (list[i] == value) return i;
        throw new InvalidOperationException($"Node {value} is not in the adjacency list.");
    }
}
