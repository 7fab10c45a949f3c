using Plstm.Data;
using Plstm.Data.Graphs;
using Plstm.Models.Graph;

namespace Plstm.Tests.GraphModels;

/// <summary>Shared helpers of the graph model tests.</summary>
internal static class GraphModelTestSupport
{
    private static readonly Lazy<TuDataset?> Mutag = new(() =>
    {
        var shared = DataPaths.SharedDataDirectory;
        var dir = shared is null ? null : Path.Combine(shared, TuDataset.RootFolder, "MUTAG");
        return dir is not null && File.Exists(Path.Combine(dir, "MUTAG_A.txt")) ? TuDataset.LoadFrom(dir, "MUTAG") : null;
    });

    private static readonly Lazy<IReadOnlyList<GraphSample>?> MutagSamples =
        new(() => Mutag.Value is { } data ? GraphSample.FromTu(data) : null);

    /// <summary>MUTAG from <c>../shared/data/tu</c>, or null when absent (tests then skip).</summary>
    public static TuDataset? MutagDataset => Mutag.Value;

    /// <summary>The prepared MUTAG graphs, or null.</summary>
    public static IReadOnlyList<GraphSample>? MutagGraphs => MutagSamples.Value;

    /// <summary>The folder holding MUTAG's folder (the data root for <c>TuDataset.Load</c>), or null.</summary>
    public static string? TuRoot => Mutag.Value is { } data ? Path.GetDirectoryName(data.Directory) : null;

    /// <summary>A random undirected graph sample with <paramref name="features"/> random node features.</summary>
    public static GraphSample RandomSample(int seed, int nodes, double density, int features = 3)
    {
        var rng = new Random(seed);
        var edges = Graph.GraphTestData.RandomUndirected(seed, nodes, density);
        var x = Enumerable.Range(0, nodes * features).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        return new GraphSample(nodes, edges, x, features, label: rng.Next(2));
    }

    /// <summary>Max |a − b| (float64).</summary>
    public static double MaxAbs(Tensor a, Tensor b) =>
        a.numel() == 0 ? 0.0 : (a.to_type(ScalarType.Float64) - b.to_type(ScalarType.Float64)).abs().max().item<double>();

    /// <summary>Asserts |a − b| ≤ atol + rtol·|b| elementwise.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, double atol, double rtol, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        if (expected.numel() == 0) return;
        var e = expected.to_type(ScalarType.Float64);
        var a = actual.to_type(ScalarType.Float64);
        var excess = ((a - e).abs() - (e.abs() * rtol + atol)).max().item<double>();
        Assert.True(excess <= 0, $"{what}: max |Δ| = {MaxAbs(a, e):E3} exceeds {atol:E1} + {rtol:E1}·|ref|");
    }

    /// <summary>The test folder's fixture file.</summary>
    public static string Fixture(string name)
    {
        var root = DataPaths.FindRepositoryRoot() ?? throw new InvalidOperationException("repository root not found");
        return Path.Combine(root, "tests", "Plstm.Tests", "GraphModels", "Data", name);
    }
}
