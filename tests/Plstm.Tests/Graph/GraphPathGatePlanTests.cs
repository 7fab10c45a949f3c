using Plstm.Data.Graphs;
using Plstm.Ops.Graph;
using static Plstm.Tests.Graph.GraphTestData;

namespace Plstm.Tests.Graph;

/// <summary>The index structure of the path-gate form (<c>GraphPathGatePlan</c>): its entries against an independent
/// reachability search, a hand-made example, and the batch plan concatenated from cached per-graph plans against the
/// plan derived from the union directly.</summary>
public class GraphPathGatePlanTests
{
    private static PreparedGraph[] SomeGraphs(GraphMode mode) =>
    [
        GraphPreparation.FromUndirected(7, GoldenExample, mode),
        GraphPreparation.FromUndirected(1, [], mode),
        GraphPreparation.FromUndirected(12, RandomUndirected(3, 12, 0.3), mode),
        GraphPreparation.FromDag(11, [(0, 1), (0, 2), (1, 3), (2, 3), (5, 3), (3, 4), (6, 7), (7, 8), (6, 8)], mode),
        GraphPreparation.FromUndirected(9, RandomUndirected(8, 9, 0.6), mode).Reverse(),
        GraphPreparation.FromUndirected(4, [], mode),
    ];

    [Fact]
    public void A_chain_gives_the_hand_computed_plan()
    {
        // Edges e0 = (0 → 1), e1 = (1 → 2), line edge e0 → e1. A(e0) = {0}, A(e1) = {0, 1}.
        var chain = GraphPreparation.FromDag(3, [(0, 1), (1, 2)], GraphMode.P);
        var plan = GraphPathGatePlan.Build(chain);
        Assert.Equal([0, 1, 3], plan.LevelEntryOffsets);                   // entries (e0, 0) | (e1, 0), (e1, 1)
        Assert.Equal([0, 1, 1], plan.EntryEdge);
        Assert.Equal([0, 2], plan.SourceEntry);                            // (e0, tail 0), (e1, tail 1)
        Assert.Equal([0, 0, 1], plan.LineEntryOffsets);
        Assert.Equal([0], plan.LinePredEntry);                             // (e0, 0) carried into (e1, 0)
        Assert.Equal([1], plan.LineSuccEntry);
        Assert.Equal([0], plan.LineEdge);
        Assert.Equal([1, 2, 2], plan.PairTarget);                          // (w, m) sorted: (1, 0) (2, 0) (2, 1)
        Assert.Equal([0, 0, 1], plan.PairSource);
        Assert.Equal([0, 1, 2], plan.EntryPair);                           // (head 1, 0), (head 2, 0), (head 2, 1)
    }

    [Theory]
    [InlineData(GraphMode.P)]
    [InlineData(GraphMode.D)]
    public void Entries_are_exactly_the_nodes_with_a_line_graph_path_to_each_edge(GraphMode mode)
    {
        foreach (var graph in SomeGraphs(mode))
        {
            var plan = GraphPathGatePlan.Build(graph);
            // Independently: m reaches e when an edge leaving m has a line-graph path to e (e itself included).
            var reaches = new HashSet<int>[graph.EdgeCount];
            for (int e = 0; e < graph.EdgeCount; e++)
            {
                var seen = new HashSet<int> { e };
                var stack = new Stack<int>([e]);
                while (stack.Count > 0)
                    foreach (var l in graph.IncomingLineEdges[stack.Pop()])
                        if (seen.Add(graph.LineEdges[l].Pred)) stack.Push(graph.LineEdges[l].Pred);
                reaches[e] = seen.Select(x => graph.Edges[x].Tail).ToHashSet();
            }
            var entries = Enumerable.Range(0, plan.EntryCount)
                .Select(i => (Edge: plan.EntryEdge[i], Node: plan.PairSource[plan.EntryPair[i]])).ToArray();
            Assert.Equal(entries.Length, entries.Distinct().Count());
            for (int e = 0; e < graph.EdgeCount; e++)
            {
                Assert.Equal(reaches[e].Order(), entries.Where(x => x.Edge == e).Select(x => x.Node).Order());
                Assert.Equal(graph.Edges[e].Tail, plan.PairSource[plan.EntryPair[plan.SourceEntry[e]]]);
                Assert.Equal(e, plan.EntryEdge[plan.SourceEntry[e]]);
            }
            for (int i = 0; i < plan.EntryCount; i++)
                Assert.Equal(graph.Edges[plan.EntryEdge[i]].Head, plan.PairTarget[plan.EntryPair[i]]);
            for (int level = 0; level < plan.LevelCount; level++)
                for (int i = plan.LevelEntryOffsets[level]; i < plan.LevelEntryOffsets[level + 1]; i++)
                    Assert.Equal(level, graph.EdgeLevel[plan.EntryEdge[i]]);
            for (int level = 0; level < plan.LevelCount; level++)
                for (int i = plan.LineEntryOffsets[level]; i < plan.LineEntryOffsets[level + 1]; i++)
                {
                    var line = graph.LineEdges[plan.LineEdge[i]];
                    Assert.Equal(line.Pred, plan.EntryEdge[plan.LinePredEntry[i]]);
                    Assert.Equal(line.Succ, plan.EntryEdge[plan.LineSuccEntry[i]]);
                    Assert.Equal(level, graph.EdgeLevel[line.Succ]);
                    Assert.Equal(plan.PairSource[plan.EntryPair[plan.LinePredEntry[i]]], plan.PairSource[plan.EntryPair[plan.LineSuccEntry[i]]]);
                }
            var pairs = plan.PairTarget.Zip(plan.PairSource).ToArray();
            Assert.Equal(pairs.Order(), pairs);                            // sorted by (target, source), no repeats
            Assert.Equal(pairs.Length, pairs.Distinct().Count());
            Assert.Equal(pairs.Length, plan.EntryPair.Distinct().Count());   // every pair is read by some entry
        }
    }

    [Theory]
    [InlineData(GraphMode.P)]
    [InlineData(GraphMode.D)]
    public void The_batch_plan_concatenated_from_cached_graph_plans_equals_the_plan_of_the_union(GraphMode mode)
    {
        var graphs = SomeGraphs(mode);
        var batch = new PreparedGraphBatch(graphs);
        var cached = GraphPathGatePlan.For(batch.Union);
        Assert.True(cached.SameAs(GraphPathGatePlan.Build(batch.Union)), "concatenated plan differs from the fresh one");
        Assert.Same(cached, GraphPathGatePlan.For(batch.Union));
        Assert.Same(GraphPathGatePlan.For(graphs[2]), GraphPathGatePlan.For(graphs[2]));
        // Another batch of the same graphs in another order: a new union, its own plan, still equal to the fresh one.
        var reordered = new PreparedGraphBatch(graphs.Reverse());
        Assert.True(GraphPathGatePlan.For(reordered.Union).SameAs(GraphPathGatePlan.Build(reordered.Union)));
        Assert.False(GraphPathGatePlan.For(reordered.Union).SameAs(cached));
    }
}
