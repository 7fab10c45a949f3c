using Plstm.Data.Graphs;
using Plstm.Tests.Graph;

namespace Plstm.Tests.Data.Graphs;

public class GraphPreparationTests
{
    private static GraphEdge[] E(params (int, int)[] pairs) => pairs.Select(p => new GraphEdge(p.Item1, p.Item2)).ToArray();

    private static LineEdge[] L(params (int, int)[] pairs) => pairs.Select(p => new LineEdge(p.Item1, p.Item2)).ToArray();

    [Fact]
    public void Golden_example_P_mode_reproduces_the_reference_orders()
    {
        var g = GraphPreparation.FromUndirected(7, GraphTestData.GoldenExample, GraphMode.P);
        Assert.Equal(GraphMode.P, g.Mode);
        Assert.Equal(E((0, 1), (0, 2), (1, 3), (1, 4), (2, 3), (2, 5), (3, 4), (3, 6), (4, 5), (5, 6)), g.Edges);
        Assert.Equal(L((0, 2), (0, 3), (2, 6), (2, 7), (3, 8), (1, 4), (1, 5), (4, 6), (4, 7), (5, 9), (6, 8), (8, 9)), g.LineEdges);
        // The node-wise golden file's adjacency positions.
        Assert.Equal([0, 1, 0, 1, 0, 1, 0, 1, 0, 0], g.EdgeOutPosition);
        Assert.Equal([0, 0, 0, 0, 1, 0, 1, 0, 1, 1], g.EdgeInPosition);
        Assert.Equal(2, g.MaxDegree);
    }

    [Fact]
    public void Golden_example_D_mode_prunes_one_line_edge_and_reorders()
    {
        var g = GraphPreparation.FromUndirected(7, GraphTestData.GoldenExample, GraphMode.D);
        Assert.Equal(E((0, 1), (0, 2), (1, 3), (1, 4), (2, 3), (2, 5), (4, 5), (3, 4), (3, 6), (5, 6)), g.Edges);
        Assert.Equal(L((0, 2), (0, 3), (2, 7), (2, 8), (3, 6), (1, 4), (1, 5), (4, 7), (4, 8), (5, 9), (6, 9)), g.LineEdges);
        var p = GraphPreparation.FromUndirected(7, GraphTestData.GoldenExample, GraphMode.P);
        var pairsP = p.LineEdges.Select(l => (p.Edges[l.Pred], p.Edges[l.Succ])).ToHashSet();
        var pairsD = g.LineEdges.Select(l => (g.Edges[l.Pred], g.Edges[l.Succ])).ToHashSet();
        Assert.True(pairsD.IsSubsetOf(pairsP));
        Assert.Equal([(new GraphEdge(3, 4), new GraphEdge(4, 5))], pairsP.Except(pairsD));
        Assert.True(IsMultitree(g));
        Assert.False(IsMultitree(p));
    }

    [Fact]
    public void Undirected_edges_are_oriented_from_lower_to_higher_id_and_repeats_count_once()
    {
        var dag = GraphPreparation.Dagify(4, [(3, 1), (1, 3), (2, 0), (0, 2), (1, 0), (3, 0)]);
        // networkx order: by the lower node, then by when that node first met the neighbour.
        Assert.Equal(E((0, 2), (0, 1), (0, 3), (1, 3)), dag.Edges());
        var g = GraphPreparation.FromUndirected(4, [(3, 1), (1, 3), (2, 0), (0, 2), (1, 0), (3, 0)], GraphMode.P);
        Assert.Equal(4, g.EdgeCount);
        Assert.All(g.Edges, e => Assert.True(e.Tail < e.Head));
    }

    [Fact]
    public void A_given_dag_keeps_its_directions()
    {
        var g = GraphPreparation.FromDag(4, [(3, 1), (1, 0), (3, 2), (2, 0)], GraphMode.P);
        Assert.Equal(E((3, 1), (3, 2), (1, 0), (2, 0)), g.Edges);
        Assert.Equal(L((0, 2), (1, 3)), g.LineEdges);
        Assert.Equal(2, g.LevelCount);
    }

    [Fact]
    public void Cycles_self_loops_and_bad_node_ids_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => GraphPreparation.FromDag(3, [(0, 1), (1, 2), (2, 0)], GraphMode.P));
        Assert.Throws<ArgumentException>(() => GraphPreparation.FromDag(2, [(0, 1), (1, 0)], GraphMode.D));
        Assert.Throws<ArgumentException>(() => GraphPreparation.FromDag(2, [(1, 1)], GraphMode.P));
        Assert.Throws<ArgumentException>(() => GraphPreparation.FromUndirected(2, [(0, 0)], GraphMode.P));
        Assert.ThrowsAny<ArgumentException>(() => GraphPreparation.FromUndirected(2, [(0, 2)], GraphMode.P));
        Assert.ThrowsAny<ArgumentException>(() => GraphPreparation.FromDag(2, [(-1, 0)], GraphMode.P));
    }

    [Fact]
    public void Topological_generations_follow_networkx_insertion_order()
    {
        var g = new OrderedDigraph();
        foreach (var v in new[] { 4, 2, 0, 3, 1 }) g.AddNode(v);
        g.AddEdge(2, 3);
        g.AddEdge(0, 1);
        g.AddEdge(4, 1);
        g.AddEdge(0, 3);
        var generations = GraphPreparation.TopologicalGenerations(g);
        Assert.Equal(2, generations.Count);
        Assert.Equal([4, 2, 0], generations[0]);
        Assert.Equal([1, 3], generations[1]);                  // 1 completes while visiting 0 (successors 1, 3), 3 too
        Assert.Equal([4, 2, 0, 1, 3], GraphPreparation.TopologicalOrder(g));
    }

    [Fact]
    public void Pruning_needs_a_topological_visit_order()
    {
        var line = GraphPreparation.BuildLineGraph(GraphPreparation.Dagify(7, GraphTestData.GoldenExample)).Graph;
        var order = GraphPreparation.TopologicalOrder(line).Reverse().ToArray();
        Assert.Throws<ArgumentException>(() => GraphPreparation.PruneToMultitree(line, order));
        Assert.Throws<ArgumentException>(() => GraphPreparation.PruneToMultitree(line, [0, 1]));
    }

    public static TheoryData<int, int, double> RandomGraphs() => new()
    {
        { 1, 8, 0.5 }, { 2, 12, 0.3 }, { 3, 10, 0.7 }, { 4, 15, 0.15 },
    };

    [Theory]
    [MemberData(nameof(RandomGraphs))]
    public void D_mode_gives_a_multitree_and_P_mode_the_full_line_graph(int seed, int nodes, double density)
    {
        var edges = GraphTestData.RandomUndirected(seed, nodes, density);
        var p = GraphPreparation.FromUndirected(nodes, edges, GraphMode.P);
        var d = GraphPreparation.FromUndirected(nodes, edges, GraphMode.D);
        Assert.True(IsMultitree(d));
        var full = p.Edges.SelectMany((a, i) => p.Edges.Select((b, j) => (i, j, a, b)))
            .Where(x => x.a.Head == x.b.Tail).Select(x => (x.a, x.b)).ToHashSet();
        Assert.Equal(full.Count, p.LineEdgeCount);
        Assert.True(p.LineEdges.Select(l => (p.Edges[l.Pred], p.Edges[l.Succ])).ToHashSet().SetEquals(full));
        Assert.Equal(p.Edges.ToHashSet(), d.Edges.ToHashSet());
        Assert.True(d.LineEdgeCount <= p.LineEdgeCount);
        foreach (var g in new[] { p, d }) AssertConsistent(g);
    }

    [Fact]
    public void Reverse_flips_every_edge_and_keeps_the_mode()
    {
        var edges = GraphTestData.RandomUndirected(5, 10, 0.4);
        var g = GraphPreparation.FromUndirected(10, edges, GraphMode.D);
        var r = g.Reverse();
        Assert.Equal(GraphMode.D, r.Mode);
        Assert.Equal(g.Edges.Select(e => e.Reversed).ToHashSet(), r.Edges.ToHashSet());
        Assert.All(r.Edges, e => Assert.True(e.Tail > e.Head));
        Assert.Equal([9, 8, 7, 6, 5, 4, 3, 2, 1, 0], r.DagNodeOrder);
        Assert.True(IsMultitree(r));
        AssertConsistent(r);
        var rp = g.Reverse(GraphMode.P);
        Assert.Equal(GraphMode.P, rp.Mode);
        Assert.Equal(g.Edges.ToHashSet(), r.Reverse().Edges.ToHashSet());

        // The reversed chain is the chain read backwards.
        var chain = GraphPreparation.FromDag(4, [(0, 1), (1, 2), (2, 3)], GraphMode.P).Reverse();
        Assert.Equal(E((3, 2), (2, 1), (1, 0)), chain.Edges);
        Assert.Throws<InvalidOperationException>(() => PreparedGraph.FromProcessingOrder(2, E((0, 1)), []).Reverse());
    }

    [Fact]
    public void Levels_group_independent_edges()
    {
        var g = GraphPreparation.FromUndirected(7, GraphTestData.GoldenExample, GraphMode.P);
        Assert.Equal([0, 0, 1, 1, 1, 1, 2, 2, 3, 4], g.EdgeLevel);
        Assert.Equal(5, g.LevelCount);
        Assert.Equal([0, 1], g.LevelEdges[0]);
        Assert.Equal([6, 7], g.LevelEdges[2]);
        Assert.Empty(g.LevelLineEdges[0]);
        Assert.Equal([4, 10], g.LevelLineEdges[3]);       // (1,4)⇒(4,5) and (3,4)⇒(4,5)
    }

    [Fact]
    public void Explicit_structures_are_validated()
    {
        var edges = E((0, 1), (1, 2));
        var ok = PreparedGraph.FromProcessingOrder(3, edges, L((0, 1)));
        Assert.Null(ok.Mode);
        Assert.Equal([0, 0], ok.EdgeOutPosition);
        Assert.Throws<ArgumentException>(() => PreparedGraph.FromProcessingOrder(3, E((1, 2), (0, 1)), L((1, 0))));   // backwards
        Assert.Throws<ArgumentException>(() => PreparedGraph.FromProcessingOrder(3, edges, L((1, 0))));               // do not meet
        Assert.Throws<ArgumentException>(() => PreparedGraph.FromProcessingOrder(3, edges, L((0, 2))));               // out of range
        Assert.Throws<ArgumentException>(() => PreparedGraph.FromProcessingOrder(2, edges, []));                      // node 2
        Assert.Throws<ArgumentException>(() => PreparedGraph.FromProcessingOrder(3, E((0, 1), (0, 1)), []));          // repeated
        Assert.Throws<ArgumentException>(() => PreparedGraph.FromProcessingOrder(3, E((0, 1), (0, 2)), [], [0, 0], null)); // slot clash
        Assert.Throws<ArgumentException>(() => PreparedGraph.FromProcessingOrder(3, edges, [], [0], null));          // length
    }

    [Fact]
    public void A_batch_concatenates_graphs_with_offsets()
    {
        var a = GraphPreparation.FromUndirected(7, GraphTestData.GoldenExample, GraphMode.P);
        var b = GraphPreparation.FromDag(3, [(0, 1), (1, 2)], GraphMode.P);
        var batch = new PreparedGraphBatch([a, b]);
        var u = batch.Union;
        Assert.Equal(GraphMode.P, u.Mode);
        Assert.Equal(10, u.NodeCount);
        Assert.Equal([0, 7, 10], batch.NodeOffsets);
        Assert.Equal([0, 10, 12], batch.EdgeOffsets);
        Assert.Equal([0, 12, 13], batch.LineEdgeOffsets);
        Assert.Equal(new GraphEdge(7, 8), u.Edges[10]);
        Assert.Equal(new LineEdge(10, 11), u.LineEdges[12]);
        Assert.Equal([0, 1, 10], u.LevelEdges[0]);
        Assert.Equal(Enumerable.Repeat(0, 7).Concat(Enumerable.Repeat(1, 3)), batch.NodeGraphIndex);
        AssertConsistent(u);
        Assert.Null(new PreparedGraphBatch([a, GraphPreparation.FromDag(2, [(0, 1)], GraphMode.D)]).Union.Mode);
        Assert.Throws<ArgumentException>(() => new PreparedGraphBatch([]));
        var reversed = batch.Reverse();
        Assert.Equal(batch.NodeOffsets, reversed.NodeOffsets);
    }

    [Fact]
    public void A_batch_union_passes_the_checks_it_skips_and_derives_the_same_structure()
    {
        // The union is built without validation (valid by construction); FromProcessingOrder validates the same arrays
        // and derives incoming line edges, levels and degrees again.
        var graphs = new[]
        {
            GraphPreparation.FromUndirected(7, GraphTestData.GoldenExample, GraphMode.P),
            GraphPreparation.FromUndirected(1, [], GraphMode.P),
            GraphPreparation.FromUndirected(10, GraphTestData.RandomUndirected(5, 10, 0.4), GraphMode.D),
            GraphPreparation.FromUndirected(8, GraphTestData.RandomUndirected(6, 8, 0.5), GraphMode.P).Reverse(),
        };
        var u = new PreparedGraphBatch(graphs).Union;
        var checkedUnion = PreparedGraph.FromProcessingOrder(u.NodeCount, u.Edges, u.LineEdges, u.EdgeOutPosition, u.EdgeInPosition);
        Assert.Equal(checkedUnion.IncomingLineEdges, u.IncomingLineEdges);
        Assert.Equal(checkedUnion.EdgeLevel, u.EdgeLevel);
        Assert.Equal(checkedUnion.LevelEdges, u.LevelEdges);
        Assert.Equal(checkedUnion.LevelLineEdges, u.LevelLineEdges);
        Assert.Equal(checkedUnion.MaxDegree, u.MaxDegree);
        Assert.Equal(graphs.Max(g => g.LevelCount), u.LevelCount);
        AssertConsistent(u);
    }

    /// <summary>Processing order topological, levels consistent, positions match adjacency.</summary>
    private static void AssertConsistent(PreparedGraph g)
    {
        foreach (var l in g.LineEdges)
        {
            Assert.True(l.Pred < l.Succ);
            Assert.Equal(g.Edges[l.Pred].Head, g.Edges[l.Succ].Tail);
            Assert.True(g.EdgeLevel[l.Succ] > g.EdgeLevel[l.Pred]);
        }
        for (int e = 0; e < g.EdgeCount; e++)
            Assert.Equal(g.IncomingLineEdges[e].Count == 0, g.EdgeLevel[e] == 0);
        Assert.Equal(Enumerable.Range(0, g.EdgeCount), g.LevelEdges.SelectMany(x => x).Order());
        Assert.Equal(Enumerable.Range(0, g.LineEdgeCount), g.LevelLineEdges.SelectMany(x => x).Order());
        Assert.Equal(g.EdgeCount, g.EdgeDagIndex.Distinct().Count());
        for (int e = 0; e < g.EdgeCount; e++)
            Assert.Equal(g.Edges[e], g.DagEdges[g.EdgeDagIndex[e]]);
    }

    /// <summary>At most one path between any two line-graph vertices (path counts by dynamic programming).</summary>
    private static bool IsMultitree(PreparedGraph g)
    {
        int n = g.EdgeCount;
        for (int source = 0; source < n; source++)
        {
            var paths = new long[n];
            paths[source] = 1;
            for (int e = source + 1; e < n; e++)                                   // processing order is topological
                foreach (var l in g.IncomingLineEdges[e])
                    paths[e] += paths[g.LineEdges[l].Pred];
            if (paths.Skip(source + 1).Any(p => p > 1)) return false;
        }
        return true;
    }
}
