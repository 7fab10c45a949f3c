using Plstm.Data.Graphs;
using static TorchSharp.torch;

namespace Plstm.Models.Graph;

/// <summary>
/// Several graphs as one input of <see cref="PlstmGraphModel"/>: their disjoint union (node features concatenated, the
/// four preparations batched with <see cref="PreparedGraphBatch"/>), the node → graph map for pooling, the in-degrees and
/// the labels. Owns its tensors.
/// </summary>
public sealed class GraphBatch : IDisposable
{
    private GraphBatch(IReadOnlyList<GraphSample> samples, Tensor features, Tensor inDegree, Tensor nodeGraph,
        Tensor nodeCounts, Tensor labels)
    {
        Samples = samples;
        NodeFeatures = features;
        InDegree = inDegree;
        NodeGraphIndex = nodeGraph;
        NodeCounts = nodeCounts;
        Labels = labels;
        ForwardP = new PreparedGraphBatch(samples.Select(s => s.ForwardP));
        ForwardD = new PreparedGraphBatch(samples.Select(s => s.ForwardD));
        ReverseP = new PreparedGraphBatch(samples.Select(s => s.ReverseP));
        ReverseD = new PreparedGraphBatch(samples.Select(s => s.ReverseD));
    }

    /// <summary>Batches <paramref name="samples"/> (at least one, all with the same feature width).</summary>
    /// <param name="samples">The graphs, in batch order.</param>
    /// <param name="device">Device of the tensors (null: CPU).</param>
    /// <param name="dtype">Floating type of the features and degrees.</param>
    /// <exception cref="ArgumentException">No graph, or feature widths differ.</exception>
    public static GraphBatch Create(IReadOnlyList<GraphSample> samples, Device? device = null,
        ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0) throw new ArgumentException("A batch needs at least one graph.", nameof(samples));
        int f = samples[0].FeatureCount;
        if (samples.Any(s => s.FeatureCount != f))
            throw new ArgumentException("All graphs of a batch must have the same feature width.", nameof(samples));
        int n = samples.Sum(s => s.NodeCount);
        var features = new float[(long)n * f];
        var degrees = new float[n];
        var graphIndex = new long[n];
        int offset = 0;
        for (int g = 0; g < samples.Count; g++)
        {
            var s = samples[g];
            for (int i = 0; i < s.Features.Count; i++) features[(long)offset * f + i] = s.Features[i];
            for (int i = 0; i < s.NodeCount; i++)
            {
                degrees[offset + i] = s.InDegree[i];
                graphIndex[offset + i] = g;
            }
            offset += s.NodeCount;
        }
        device ??= CPU;
        using var scope = NewDisposeScope();
        var x = tensor(features, new long[] { n, f }).to(dtype, device);
        var deg = tensor(degrees).to(dtype, device);
        var idx = tensor(graphIndex).to(device);
        var counts = tensor(samples.Select(s => (float)s.NodeCount).ToArray()).to(dtype, device);
        var labels = tensor(samples.Select(s => (long)s.Label).ToArray()).to(device);
        return new GraphBatch(samples, x.MoveToOuterDisposeScope(), deg.MoveToOuterDisposeScope(),
            idx.MoveToOuterDisposeScope(), counts.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>The graphs, in batch order.</summary>
    public IReadOnlyList<GraphSample> Samples { get; }

    /// <summary>Number of graphs B.</summary>
    public int Count => Samples.Count;

    /// <summary>Node features of the union, <c>[N, F]</c>.</summary>
    public Tensor NodeFeatures { get; }

    /// <summary>In-degree of every node, <c>[N]</c> (floating).</summary>
    public Tensor InDegree { get; }

    /// <summary>Graph index of every node, <c>[N]</c> (int64).</summary>
    public Tensor NodeGraphIndex { get; }

    /// <summary>Nodes per graph, <c>[B]</c> (floating).</summary>
    public Tensor NodeCounts { get; }

    /// <summary>Class index per graph, <c>[B]</c> (int64; −1 where unknown).</summary>
    public Tensor Labels { get; }

    /// <summary>P-mode preparations of the forward DAGs.</summary>
    public PreparedGraphBatch ForwardP { get; }

    /// <summary>D-mode preparations of the forward DAGs.</summary>
    public PreparedGraphBatch ForwardD { get; }

    /// <summary>P-mode preparations of the reversed DAGs.</summary>
    public PreparedGraphBatch ReverseP { get; }

    /// <summary>D-mode preparations of the reversed DAGs.</summary>
    public PreparedGraphBatch ReverseD { get; }

    /// <summary>Releases the tensors.</summary>
    public void Dispose()
    {
        NodeFeatures.Dispose();
        InDegree.Dispose();
        NodeGraphIndex.Dispose();
        NodeCounts.Dispose();
        Labels.Dispose();
    }
}
