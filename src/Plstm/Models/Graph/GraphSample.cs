using Plstm.Data.Graphs;

namespace Plstm.Models.Graph;

/// <summary>
/// One graph ready for <see cref="PlstmGraphModel"/>: its node features, its node in-degrees, its class and its four
/// preparations (P and D on the DAG oriented from lower to higher node id, and both on the reversed DAG). Immutable and
/// device-free, so a data set is prepared once and batched any number of times (<see cref="GraphBatch"/>).
/// </summary>
public sealed class GraphSample
{
    /// <summary>Prepares a graph from its undirected edges (either direction; repeats and self-loops are dropped, as
    /// PyTorch Geometric's TU reader does).</summary>
    /// <param name="nodeCount">Number of nodes N.</param>
    /// <param name="edges">Edges as (tail, head) pairs of node ids (TU files list both directions).</param>
    /// <param name="features">Node features, row-major <c>[N, F]</c>.</param>
    /// <param name="featureCount">Feature width F.</param>
    /// <param name="label">Class index (0-based), or −1 when unknown.</param>
    /// <exception cref="ArgumentException">The features do not have N·F entries, or a node id is out of range.</exception>
    public GraphSample(int nodeCount, IEnumerable<(int Tail, int Head)> edges, IReadOnlyList<float> features,
        int featureCount, int label = -1)
    {
        ArgumentNullException.ThrowIfNull(edges);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentOutOfRangeException.ThrowIfNegative(nodeCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(featureCount);
        if (features.Count != (long)nodeCount * featureCount)
            throw new ArgumentException(
                $"features has {features.Count} entries, expected N·F = {nodeCount}·{featureCount}.", nameof(features));
        var directed = new HashSet<(int, int)>();
        foreach (var (a, b) in edges)
        {
            if (a < 0 || a >= nodeCount || b < 0 || b >= nodeCount)
                throw new ArgumentException($"Edge ({a}, {b}) names a node outside 0 … {nodeCount - 1}.", nameof(edges));
            if (a != b) directed.Add((a, b));
        }
        // In-degree as PyG counts it on the coalesced edge_index (column = target); TU files list both directions, so
        // it is the degree of the undirected graph.
        var inDegree = new int[nodeCount];
        foreach (var (_, b) in directed) inDegree[b]++;
        NodeCount = nodeCount;
        FeatureCount = featureCount;
        Features = features.ToArray();
        InDegree = inDegree;
        Label = label;
        var undirected = directed.Select(e => (e.Item1, e.Item2)).OrderBy(e => Math.Min(e.Item1, e.Item2))
            .ThenBy(e => Math.Max(e.Item1, e.Item2)).ToArray();
        ForwardP = GraphPreparation.FromUndirected(nodeCount, undirected, GraphMode.P);
        ForwardD = GraphPreparation.FromUndirected(nodeCount, undirected, GraphMode.D);
        ReverseP = ForwardP.Reverse(GraphMode.P);
        ReverseD = ForwardD.Reverse(GraphMode.D);
    }

    /// <summary>Prepares graph <paramref name="graph"/> of <paramref name="dataset"/> with the data set's node features
    /// (<see cref="TuDataset.NodeFeatures"/>) and class index.</summary>
    public static GraphSample FromTu(TuDataset dataset, TuGraph graph)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(graph);
        return new GraphSample(graph.NodeCount, graph.Edges, dataset.NodeFeatures(graph), dataset.NodeFeatureCount,
            graph.ClassIndex);
    }

    /// <summary>Prepares every graph of <paramref name="dataset"/> (in parallel; the order is kept).</summary>
    public static IReadOnlyList<GraphSample> FromTu(TuDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var result = new GraphSample[dataset.Graphs.Count];
        Parallel.For(0, result.Length, i => result[i] = FromTu(dataset, dataset.Graphs[i]));
        return result;
    }

    /// <summary>Number of nodes.</summary>
    public int NodeCount { get; }

    /// <summary>Node feature width F.</summary>
    public int FeatureCount { get; }

    /// <summary>Node features, row-major <c>[N, F]</c>.</summary>
    public IReadOnlyList<float> Features { get; }

    /// <summary>In-degree of each node (number of distinct other nodes pointing at it; for TU data: the degree).</summary>
    public IReadOnlyList<int> InDegree { get; }

    /// <summary>Class index, or −1 when unknown.</summary>
    public int Label { get; }

    /// <summary>P-mode preparation of the DAG (edges from lower to higher node id).</summary>
    public PreparedGraph ForwardP { get; }

    /// <summary>D-mode preparation of the DAG.</summary>
    public PreparedGraph ForwardD { get; }

    /// <summary>P-mode preparation of the reversed DAG.</summary>
    public PreparedGraph ReverseP { get; }

    /// <summary>D-mode preparation of the reversed DAG.</summary>
    public PreparedGraph ReverseD { get; }
}
