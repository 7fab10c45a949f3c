using Plstm.Data.Graphs;
using Plstm.Ops.Graph;
using Plstm.Tests.Ops;

namespace Plstm.Tests.Graph;

/// <summary>Seeded random graphs and operator inputs for the graph tests.</summary>
public static class GraphTestData
{
    /// <summary>The 7-node example graph of the golden files (<c>graph_prepare.json</c>).</summary>
    public static readonly (int, int)[] GoldenExample =
        [(0, 1), (0, 2), (1, 3), (1, 4), (2, 3), (2, 5), (3, 4), (3, 6), (4, 5), (5, 6)];

    /// <summary>Undirected edges: every pair {u, w} with probability <paramref name="density"/>, listed in random order
    /// and random direction.</summary>
    public static (int, int)[] RandomUndirected(int seed, int nodes, double density)
    {
        var rng = new Random(seed);
        var edges = new List<(int, int)>();
        for (int u = 0; u < nodes; u++)
            for (int w = u + 1; w < nodes; w++)
                if (rng.NextDouble() < density)
                    edges.Add(rng.Next(2) == 0 ? (u, w) : (w, u));
        return edges.OrderBy(_ => rng.Next()).ToArray();
    }

    /// <summary>Random edge-wise inputs for <paramref name="graph"/>: q, k, v normal, gates uniform in (−0.5, 0.5).</summary>
    public static PlstmGraphInputs Inputs(long seed, PreparedGraph graph, long H, long DK, long DV,
        ScalarType dtype = ScalarType.Float64)
    {
        var g = new Generator((ulong)seed);
        long N = graph.NodeCount, E = graph.EdgeCount, L = graph.LineEdgeCount;
        return new PlstmGraphInputs(
            RandomInputs.Normal(g, dtype, H, N, DK), RandomInputs.Normal(g, dtype, H, N, DK), RandomInputs.Normal(g, dtype, H, N, DV),
            RandomInputs.Uniform(g, dtype, H, E), RandomInputs.Uniform(g, dtype, H, L) * 1.5,
            RandomInputs.Uniform(g, dtype, H, E), RandomInputs.Uniform(g, dtype, H, N));
    }

    /// <summary>Random node-wise inputs with <paramref name="slots"/> adjacency slots per node.</summary>
    public static PlstmGraphNodewiseInputs NodewiseInputs(long seed, PreparedGraph graph, long H, long DK, long DV, long slots)
    {
        var g = new Generator((ulong)seed);
        const ScalarType dtype = ScalarType.Float64;
        long N = graph.NodeCount;
        return new PlstmGraphNodewiseInputs(
            RandomInputs.Normal(g, dtype, H, N, DK), RandomInputs.Normal(g, dtype, H, N, DK), RandomInputs.Normal(g, dtype, H, N, DV),
            RandomInputs.Uniform(g, dtype, H, N, slots), RandomInputs.Uniform(g, dtype, H, N, slots, slots) * 1.5,
            RandomInputs.Uniform(g, dtype, H, N, slots), RandomInputs.Uniform(g, dtype, H, N));
    }

    public static readonly string[] InputNames = ["q", "k", "v", "s", "t", "m", "d"];

    public static Tensor?[] ToArray(PlstmGraphInputs i) => [i.Q, i.K, i.V, i.S, i.T, i.M, i.D];

    public static PlstmGraphInputs FromArray(Tensor?[] a) => new(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!);

    public static Tensor?[] ToArray(PlstmGraphNodewiseInputs i) => [i.Q, i.K, i.V, i.S, i.T, i.M, i.D];

    public static PlstmGraphNodewiseInputs NodewiseFromArray(Tensor?[] a) => new(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!);

    public static Differentiate.Result Run(PlstmGraphInputs inputs, PreparedGraph graph, PlstmGraphForm form) =>
        Differentiate.Run(ToArray(inputs), a =>
        [
            form switch
            {
                PlstmGraphForm.Levels => PlstmGraphLevels.Forward(FromArray(a), graph),
                PlstmGraphForm.PathGates => PlstmGraphPathGates.Forward(FromArray(a), graph),
                _ => PlstmGraphNaive.Forward(FromArray(a), graph),
            },
        ]);
}
