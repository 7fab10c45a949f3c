namespace Plstm.Data.Graphs;

/// <summary>
/// A small directed graph over integer node ids that remembers insertion order the way networkx's <c>DiGraph</c> does:
/// <see cref="Nodes"/> in the order nodes were first added, each node's successors and predecessors in the order their
/// edges were added, <see cref="Edges"/> enumerated node by node (in <see cref="Nodes"/> order), each node's successors in
/// insertion order. Parallel edges are ignored (an edge added twice is kept once, at its first position). These orders
/// decide the tie-breaking of the graph preparation (see <see cref="GraphPreparation"/>), so they are part of the
/// contract.
/// </summary>
public sealed class OrderedDigraph
{
    private readonly List<int> _nodes = new();
    private readonly Dictionary<int, List<int>> _succ = new();
    private readonly Dictionary<int, List<int>> _pred = new();
    private readonly HashSet<(int, int)> _edges = new();

    /// <summary>The nodes in insertion order.</summary>
    public IReadOnlyList<int> Nodes => _nodes;

    /// <summary>Number of nodes.</summary>
    public int NodeCount => _nodes.Count;

    /// <summary>Number of (distinct) edges.</summary>
    public int EdgeCount => _edges.Count;

    /// <summary>True when node <paramref name="node"/> has been added.</summary>
    public bool ContainsNode(int node) => _succ.ContainsKey(node);

    /// <summary>True when the edge <paramref name="tail"/> → <paramref name="head"/> exists.</summary>
    public bool ContainsEdge(int tail, int head) => _edges.Contains((tail, head));

    /// <summary>Adds a node (no effect when it exists).</summary>
    public void AddNode(int node)
    {
        if (_succ.ContainsKey(node)) return;
        _nodes.Add(node);
        _succ[node] = new List<int>();
        _pred[node] = new List<int>();
    }

    /// <summary>Adds the edge <paramref name="tail"/> → <paramref name="head"/>, adding missing nodes (tail first).
    /// Returns false (and changes nothing) when the edge exists.</summary>
    public bool AddEdge(int tail, int head)
    {
        AddNode(tail);
        AddNode(head);
        if (!_edges.Add((tail, head))) return false;
        _succ[tail].Add(head);
        _pred[head].Add(tail);
        return true;
    }

    /// <summary>The successors of <paramref name="node"/> in edge insertion order.</summary>
    /// <exception cref="ArgumentException">The node does not exist.</exception>
    public IReadOnlyList<int> Successors(int node) => _succ.TryGetValue(node, out var s)
        ? s
        : throw new ArgumentException($"Node {node} is not in the graph.", nameof(node));

    /// <summary>The predecessors of <paramref name="node"/> in edge insertion order.</summary>
    /// <exception cref="ArgumentException">The node does not exist.</exception>
    public IReadOnlyList<int> Predecessors(int node) => _pred.TryGetValue(node, out var p)
        ? p
        : throw new ArgumentException($"Node {node} is not in the graph.", nameof(node));

    /// <summary>The edges, node by node in <see cref="Nodes"/> order, each node's out-edges in insertion order
    /// (networkx's <c>DiGraph.edges</c> order).</summary>
    public IReadOnlyList<GraphEdge> Edges()
    {
        var list = new List<GraphEdge>(_edges.Count);
        foreach (var n in _nodes)
            foreach (var s in _succ[n])
                list.Add(new GraphEdge(n, s));
        return list;
    }

    /// <summary>A copy with the same node order whose edges are re-added in <see cref="Edges"/> order (what networkx
    /// does when it copies a graph edge by edge): successor lists are unchanged, predecessor lists become ordered by the
    /// tails' position in <see cref="Nodes"/>.</summary>
    public OrderedDigraph Rebuilt()
    {
        var g = new OrderedDigraph();
        foreach (var n in _nodes) g.AddNode(n);
        foreach (var e in Edges()) g.AddEdge(e.Tail, e.Head);
        return g;
    }
}
