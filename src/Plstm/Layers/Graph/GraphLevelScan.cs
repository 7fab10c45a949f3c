using Plstm.Data.Graphs;
using Plstm.Ops.Graph;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Layers.Graph;

/// <summary>
/// A level-synchronous form of the edge-wise graph operator (same recurrence and result as
/// <see cref="PlstmGraphNaive"/> and <see cref="PlstmGraphLevels"/>) whose cost, forward and backward, is linear in the
/// number of edges. <see cref="PlstmGraphLevels"/> writes every level into one state buffer <c>[H, E, DK, DV]</c> with
/// <c>index_copy_</c> and gathers predecessors from it; autograd then touches the whole buffer once per level (the
/// backward of an in-place copy clones it, the backward of a gather allocates it), i.e. O(levels · E · DK · DV) work,
/// which dominated training time on batched TU graphs. Here each level's states are a separate tensor, and the
/// predecessors of a level are gathered level by level from the levels they live in, so no operation spans more than
/// the levels it reads.
/// </summary>
public static class GraphLevelScan
{
    /// <summary>Runs the operator on <paramref name="graph"/>; returns <c>[H, N, DV]</c>. No QK scale.</summary>
    /// <exception cref="ArgumentException">A tensor does not fit the graph (the message names it).</exception>
    public static Tensor Forward(PlstmGraphInputs inputs, PreparedGraph graph)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(graph);
        inputs.Validate(graph);
        using var scope = NewDisposeScope();
        var device = inputs.Q.device;
        var y = PlstmGraphNaive.DirectTerm(inputs.Q, inputs.K, inputs.V, inputs.D);       // [H, N, DV]
        if (graph.EdgeCount == 0) return y.MoveToOuterDisposeScope();

        var plan = LevelPlan.For(graph);
        var levelStates = new Tensor[graph.LevelCount];
        var reads = new Tensor[graph.LevelCount];
        for (int level = 0; level < graph.LevelCount; level++)
        {
            var p = plan.Levels[level];
            var edges = Index(p.Edges, device);
            var tails = Index(p.Tails, device);
            var k = inputs.K.index_select(1, tails);                                       // [H, n, DK]
            var v = inputs.V.index_select(1, tails);                                       // [H, n, DV]
            var c = inputs.S.index_select(1, edges).unsqueeze(-1).unsqueeze(-1)
                  * k.unsqueeze(-1) * v.unsqueeze(-2);                                     // [H, n, DK, DV]
            foreach (var group in p.Groups)
            {
                var carried = inputs.T.index_select(1, Index(group.LineEdges, device)).unsqueeze(-1).unsqueeze(-1)
                            * levelStates[group.PredLevel].index_select(1, Index(group.PredLocal, device));
                c = c.index_add(1, Index(group.SuccLocal, device), carried, alpha: 1);
            }
            levelStates[level] = c;
            var q = inputs.Q.index_select(1, Index(p.Heads, device));                       // [H, n, DK]
            reads[level] = inputs.M.index_select(1, edges).unsqueeze(-1)
                         * matmul(q.unsqueeze(-2), c).squeeze(-2);                          // [H, n, DV]
        }
        var allReads = cat(reads, 1);                                                       // [H, E, DV], level order
        y = y.index_add(1, Index(plan.HeadsInLevelOrder, device), allReads, alpha: 1);
        return y.MoveToOuterDisposeScope();
    }

    private static Tensor Index(int[] values, Device device) =>
        tensor(values.Select(v => (long)v).ToArray(), dtype: ScalarType.Int64, device: device);

    /// <summary>Per level: its edges and, grouped by the level of their predecessor, its line edges (cached per graph
    /// object; a <see cref="PreparedGraph"/> is immutable).</summary>
    private sealed class LevelPlan
    {
        private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<PreparedGraph, LevelPlan> Cache = new();

        public required LevelInfo[] Levels { get; init; }

        public required int[] HeadsInLevelOrder { get; init; }

        public static LevelPlan For(PreparedGraph graph) => Cache.GetValue(graph, Build);

        private static LevelPlan Build(PreparedGraph graph)
        {
            var local = new int[graph.EdgeCount];
            var levels = new LevelInfo[graph.LevelCount];
            var headsInOrder = new List<int>(graph.EdgeCount);
            for (int level = 0; level < graph.LevelCount; level++)
            {
                var edges = graph.LevelEdges[level].ToArray();
                for (int i = 0; i < edges.Length; i++) local[edges[i]] = i;
                var groups = graph.LevelLineEdges[level]
                    .GroupBy(l => graph.EdgeLevel[graph.LineEdges[l].Pred])
                    .OrderBy(g => g.Key)
                    .Select(g => new LineGroup(g.Key, g.ToArray(),
                        g.Select(l => local[graph.LineEdges[l].Pred]).ToArray(),
                        g.Select(l => local[graph.LineEdges[l].Succ]).ToArray()))
                    .ToArray();
                levels[level] = new LevelInfo(edges, edges.Select(e => graph.Edges[e].Tail).ToArray(),
                    edges.Select(e => graph.Edges[e].Head).ToArray(), groups);
                headsInOrder.AddRange(levels[level].Heads);
            }
            return new LevelPlan { Levels = levels, HeadsInLevelOrder = headsInOrder.ToArray() };
        }
    }

    private sealed record LevelInfo(int[] Edges, int[] Tails, int[] Heads, LineGroup[] Groups);

    private sealed record LineGroup(int PredLevel, int[] LineEdges, int[] PredLocal, int[] SuccLocal);
}
