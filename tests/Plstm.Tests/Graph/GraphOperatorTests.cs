using Plstm.Data.Graphs;
using Plstm.Ops.Graph;
using Plstm.Ops.OneD;
using Plstm.Tests.Ops;
using Plstm.Tests.Support;
using static Plstm.Tests.Graph.GraphTestData;

namespace Plstm.Tests.Graph;

public class GraphOperatorTests
{
    private static readonly string[] OutputNames = ["out"];

    private static readonly PlstmGraphForm[] ParallelForms = [PlstmGraphForm.Levels, PlstmGraphForm.PathGates];

    /// <summary>Both parallel forms (levels, path gates) against the naive oracle: outputs and all seven gradients.</summary>
    private static void AssertParallelFormsEqualNaive(PreparedGraph graph, long seed, long H = 2, long DK = 3, long DV = 2)
    {
        var inputs = Inputs(seed, graph, H, DK, DV);
        var naive = Run(inputs, graph, PlstmGraphForm.Naive);
        foreach (var form in ParallelForms)
            FormComparison.AssertSame(Run(inputs, graph, form), naive, OutputNames, InputNames);
    }

    public static TheoryData<int, int, double, GraphMode> RandomCases()
    {
        var data = new TheoryData<int, int, double, GraphMode>();
        foreach (var mode in new[] { GraphMode.P, GraphMode.D })
        {
            data.Add(1, 6, 0.6, mode);
            data.Add(2, 9, 0.35, mode);
            data.Add(3, 12, 0.2, mode);
            data.Add(4, 10, 0.8, mode);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(RandomCases))]
    public void Parallel_forms_equal_naive_on_random_dags_outputs_and_all_gradients(int seed, int nodes, double density, GraphMode mode)
    {
        using var scope = NewDisposeScope();
        var graph = GraphPreparation.FromUndirected(nodes, RandomUndirected(seed, nodes, density), mode);
        Assert.True(graph.LevelCount < graph.EdgeCount || graph.EdgeCount <= 1, "the levels form should batch edges");
        AssertParallelFormsEqualNaive(graph, seed: 100 + seed);
    }

    [Theory]
    [InlineData(GraphMode.P)]
    [InlineData(GraphMode.D)]
    public void Parallel_forms_equal_naive_with_several_parents_disconnected_parts_and_isolated_nodes(GraphMode mode)
    {
        using var scope = NewDisposeScope();
        // Diamond 0→{1,2}→3→4 with an extra parent 5→3, a separate component 6→7→8, 6→8, and isolated nodes 9, 10.
        (int, int)[] edges = [(0, 1), (0, 2), (1, 3), (2, 3), (5, 3), (3, 4), (6, 7), (7, 8), (6, 8)];
        var graph = GraphPreparation.FromDag(11, edges, mode);
        Assert.Contains(graph.LineEdges, l => graph.IncomingLineEdges[l.Succ].Count >= 2);
        AssertParallelFormsEqualNaive(graph, seed: 5, H: 3, DK: 2, DV: 4);
    }

    [Fact]
    public void Single_node_without_edges_gives_the_direct_term_only()
    {
        using var scope = NewDisposeScope();
        var graph = GraphPreparation.FromUndirected(1, [], GraphMode.P);
        Assert.Equal(0, graph.EdgeCount);
        Assert.Equal(0, graph.LevelCount);
        var inputs = Inputs(3, graph, H: 2, DK: 3, DV: 2);
        var expected = inputs.D.unsqueeze(-1) * (inputs.Q * inputs.K).sum(-1, keepdim: true) * inputs.V;
        TensorAssert.AssertClose(PlstmGraphLevels.Forward(inputs, graph), expected, "levels", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(PlstmGraphPathGates.Forward(inputs, graph), expected, "path gates", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(PlstmGraphNaive.Forward(inputs, graph), expected, "naive", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        AssertParallelFormsEqualNaive(graph, seed: 3);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    public void Chain_equals_the_1D_operator_with_J1_and_scale_1(int length)
    {
        using var scope = NewDisposeScope();
        const long H = 2, DK = 3, DV = 2;
        var chain = GraphPreparation.FromDag(length, Enumerable.Range(0, length - 1).Select(i => (i, i + 1)), GraphMode.P);
        Assert.Equal(Enumerable.Range(0, length - 1).Select(i => new GraphEdge(i, i + 1)), chain.Edges);
        Assert.Equal(Enumerable.Range(0, Math.Max(0, length - 2)).Select(i => new LineEdge(i, i + 1)), chain.LineEdges);
        var inputs = Inputs(11, chain, H, DK, DV);

        // 1D with batch = heads: edge i → i+1 carries C_i, so S0_i = s_i, T0_i = t_(i−1 → i) (line edge i − 1),
        // M0_i = m_(i−1) (position i reads the edge entering it), D0_i = d_i. Entries that no output can see
        // (S0 of the last position, T0_0, M0_0) are set to values that would show if they leaked.
        var g = new Generator(12);
        Tensor Junk(int count) => RandomInputs.Uniform(g, ScalarType.Float64, H, count) + 3.0;
        var oneD = new Plstm1DInputs(
            inputs.Q.unsqueeze(-1), inputs.K.unsqueeze(-1), inputs.V.unsqueeze(-1),
            cat([inputs.S, Junk(1)], 1).reshape(H, length, 1, 1, 1),
            cat([Junk(1), inputs.T, Junk(length >= 2 ? 1 : 0)], 1).reshape(H, length, 1, 1),
            cat([Junk(1), inputs.M], 1).reshape(H, length, 1, 1, 1),
            inputs.D.reshape(H, length, 1, 1, 1, 1));
        var expected = Plstm1DNaive.Forward(oneD, scale: 1.0).Y.squeeze(-1);
        TensorAssert.AssertClose(PlstmGraphNaive.Forward(inputs, chain), expected, "naive vs 1D", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(PlstmGraphLevels.Forward(inputs, chain), expected, "levels vs 1D", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(PlstmGraphPathGates.Forward(inputs, chain), expected, "path gates vs 1D", Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    [Fact]
    public void A_batch_equals_the_graphs_run_one_by_one_outputs_and_gradients()
    {
        using var scope = NewDisposeScope();
        const long H = 2, DK = 2, DV = 3;
        var graphs = new[]
        {
            GraphPreparation.FromUndirected(7, GoldenExample, GraphMode.D),
            GraphPreparation.FromUndirected(1, [], GraphMode.P),
            GraphPreparation.FromUndirected(9, RandomUndirected(8, 9, 0.4), GraphMode.P),
            GraphPreparation.FromDag(5, [(4, 3), (3, 2), (2, 1), (1, 0)], GraphMode.D),
        };
        var batch = new PreparedGraphBatch(graphs);
        Assert.Equal([0, 7, 8, 17, 22], batch.NodeOffsets);
        Assert.Equal(graphs.Max(x => x.LevelCount), batch.Union.LevelCount);
        Assert.Equal(2, batch.NodeGraphIndex[8]);
        Assert.Equal(3, batch.NodeGraphIndex[17]);
        var parts = graphs.Select((x, i) => Inputs(20 + i, x, H, DK, DV)).ToArray();
        Tensor Cat(Func<PlstmGraphInputs, Tensor> f) => cat(parts.Select(f).ToArray(), 1);
        var all = new PlstmGraphInputs(Cat(p => p.Q), Cat(p => p.K), Cat(p => p.V), Cat(p => p.S), Cat(p => p.T), Cat(p => p.M), Cat(p => p.D));

        var batched = Differentiate.Run(ToArray(all), a => [PlstmGraphLevels.Forward(FromArray(a), batch)]);
        // The path-gate form runs on the plan concatenated from the graphs' own (cached) plans.
        var batchedPathGates = Differentiate.Run(ToArray(all), a => [PlstmGraphPathGates.Forward(FromArray(a), batch)]);
        var oneByOne = Differentiate.Run(ToArray(all), a =>
        {
            var x = FromArray(a);
            var outs = new List<Tensor>();
            for (int i = 0; i < graphs.Length; i++)
            {
                Tensor Slice(Tensor t, IReadOnlyList<int> offsets) => t.narrow(1, offsets[i], offsets[i + 1] - offsets[i]);
                var part = new PlstmGraphInputs(Slice(x.Q, batch.NodeOffsets), Slice(x.K, batch.NodeOffsets), Slice(x.V, batch.NodeOffsets),
                    Slice(x.S, batch.EdgeOffsets), Slice(x.T, batch.LineEdgeOffsets), Slice(x.M, batch.EdgeOffsets), Slice(x.D, batch.NodeOffsets));
                outs.Add(PlstmGraphNaive.Forward(part, graphs[i]));
            }
            return [cat(outs.ToArray(), 1)];
        });
        FormComparison.AssertSame(batched, oneByOne, OutputNames, InputNames);
        FormComparison.AssertSame(batchedPathGates, oneByOne, OutputNames, InputNames);
    }

    [Fact]
    public void Float32_parallel_forms_match_float64_naive()
    {
        using var scope = NewDisposeScope();
        var graph = GraphPreparation.FromUndirected(10, RandomUndirected(21, 10, 0.5), GraphMode.P);
        var inputs64 = Inputs(21, graph, H: 2, DK: 4, DV: 3);
        var inputs32 = FromArray(ToArray(inputs64).Select(t => t!.to(ScalarType.Float32)).ToArray());
        foreach (var form in ParallelForms)
            FormComparison.AssertSame(Run(inputs32, graph, form), Run(inputs64, graph, PlstmGraphForm.Naive),
                OutputNames, InputNames, float32: true);
    }

    [Theory]
    [InlineData(GraphGatherConvention.NodeLocal)]
    [InlineData(GraphGatherConvention.Reference)]
    public void Nodewise_parallel_forms_equal_naive_outputs_and_gradients(GraphGatherConvention convention)
    {
        using var scope = NewDisposeScope();
        var graph = GraphPreparation.FromUndirected(9, RandomUndirected(31, 9, 0.5), GraphMode.P);
        var inputs = NodewiseInputs(31, graph, H: 2, DK: 3, DV: 2, slots: graph.MaxDegree);
        Differentiate.Result RunForm(PlstmGraphForm form) => Differentiate.Run(ToArray(inputs),
            a => [PlstmGraphNodewise.Forward(NodewiseFromArray(a), graph, convention, form)]);
        var naive = RunForm(PlstmGraphForm.Naive);
        foreach (var form in ParallelForms) FormComparison.AssertSame(RunForm(form), naive, OutputNames, InputNames);
    }

    [Theory]
    [InlineData(GraphGatherConvention.NodeLocal)]
    [InlineData(GraphGatherConvention.Reference)]
    public void Nodewise_gather_reads_the_documented_slots(GraphGatherConvention convention)
    {
        using var scope = NewDisposeScope();
        var graph = GraphPreparation.FromUndirected(7, GoldenExample, GraphMode.P);
        long slots = graph.MaxDegree, N = graph.NodeCount;
        // Tables whose entries encode their own index, so the gathered value tells which slot was read.
        var S = arange(N * slots, dtype: ScalarType.Float64).reshape(1, N, slots);
        var M = S + 1000;
        var T = arange(N * slots * slots, dtype: ScalarType.Float64).reshape(1, N, slots, slots);
        var inputs = new PlstmGraphNodewiseInputs(zeros(1, N, 2, dtype: ScalarType.Float64), zeros(1, N, 2, dtype: ScalarType.Float64),
            zeros(1, N, 2, dtype: ScalarType.Float64), S, T, M, zeros(1, N, dtype: ScalarType.Float64));
        var edgewise = PlstmGraphNodewise.ToEdgewise(inputs, graph, convention);
        bool reference = convention == GraphGatherConvention.Reference;
        var outPos = graph.EdgeOutPosition;
        var inPos = graph.EdgeInPosition;
        for (int e = 0; e < graph.EdgeCount; e++)
        {
            var (u, w) = (graph.Edges[e].Tail, graph.Edges[e].Head);
            Assert.Equal(u * slots + (reference ? inPos[e] : outPos[e]), edgewise.S[0, e].item<double>());
            Assert.Equal(1000 + w * slots + (reference ? outPos[e] : inPos[e]), edgewise.M[0, e].item<double>());
        }
        for (int l = 0; l < graph.LineEdgeCount; l++)
        {
            var (a, b) = (graph.LineEdges[l].Pred, graph.LineEdges[l].Succ);
            long n = graph.Edges[b].Tail;
            long expected = reference
                ? (n * slots + outPos[a]) * slots + inPos[b]
                : (n * slots + inPos[a]) * slots + outPos[b];
            Assert.Equal(expected, edgewise.T[0, l].item<double>());
        }
    }

    [Fact]
    public void The_two_gather_conventions_give_different_outputs()
    {
        using var scope = NewDisposeScope();
        var graph = GraphPreparation.FromUndirected(7, GoldenExample, GraphMode.P);
        var inputs = NodewiseInputs(41, graph, H: 2, DK: 3, DV: 2, slots: graph.MaxDegree);
        var local = PlstmGraphNodewise.Forward(inputs, graph, GraphGatherConvention.NodeLocal);
        var reference = PlstmGraphNodewise.Forward(inputs, graph, GraphGatherConvention.Reference);
        Assert.True((local - reference).abs().max().item<double>() > 1e-3);
    }

    [Fact]
    public void Validation_names_the_tensor_and_the_expected_shape()
    {
        using var scope = NewDisposeScope();
        var graph = GraphPreparation.FromUndirected(7, GoldenExample, GraphMode.P);
        var ok = Inputs(1, graph, H: 2, DK: 3, DV: 2);
        var badS = ok with { S = zeros(2, graph.EdgeCount + 1, dtype: ScalarType.Float64) };
        var ex = Assert.ThrowsAny<ArgumentException>(() => PlstmGraphLevels.Forward(badS, graph));
        Assert.Contains("S", ex.Message);
        Assert.Contains($"[H=2, E={graph.EdgeCount}]", ex.Message);
        var badT = ok with { T = zeros(2, 3, dtype: ScalarType.Float64) };
        ex = Assert.ThrowsAny<ArgumentException>(() => PlstmGraphNaive.Forward(badT, graph));
        Assert.Contains($"T: expected shape [H=2, L={graph.LineEdgeCount}]", ex.Message);
        var badV = ok with { V = zeros(2, 6, 2, dtype: ScalarType.Float64) };
        ex = Assert.ThrowsAny<ArgumentException>(() => PlstmGraphLevels.Forward(badV, graph));
        Assert.Contains("V: expected shape [H=2, N=7, DV]", ex.Message);
        var badDtype = ok with { D = zeros(2, 7, dtype: ScalarType.Float32) };
        Assert.ThrowsAny<ArgumentException>(() => PlstmGraphLevels.Forward(badDtype, graph));
        ex = Assert.ThrowsAny<ArgumentException>(() => PlstmGraphPathGates.Forward(badS, graph));
        Assert.Contains($"[H=2, E={graph.EdgeCount}]", ex.Message);

        var small = NodewiseInputs(1, graph, H: 2, DK: 3, DV: 2, slots: 1);
        ex = Assert.ThrowsAny<ArgumentException>(() => PlstmGraphNodewise.Forward(small, graph));
        Assert.Contains("Emax = 1", ex.Message);
        Assert.Contains("S", ex.Message);
        var wrongT = NodewiseInputs(1, graph, H: 2, DK: 3, DV: 2, slots: 2) with { T = zeros(2, 7, 2, 3, dtype: ScalarType.Float64) };
        ex = Assert.ThrowsAny<ArgumentException>(() => PlstmGraphNodewise.Forward(wrongT, graph));
        Assert.Contains("T: expected shape [H=2, N=7, Emax=2, Emax=2]", ex.Message);
    }
}
