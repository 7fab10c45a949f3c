using Plstm.Data.Graphs;
using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.Graph;

/// <summary>
/// Inputs of the edge-wise graph pLSTM operator (see <c>Ops/Graph/README.md</c>). Heads lead; there is no batch axis (a
/// batch is the disjoint union of graphs, <see cref="PreparedGraphBatch"/>). All gates are scalars (J = 1).
/// </summary>
/// <param name="Q">Queries <c>[H, N, DK]</c>.</param>
/// <param name="K">Keys <c>[H, N, DK]</c>.</param>
/// <param name="V">Values <c>[H, N, DV]</c>.</param>
/// <param name="S">Source gates <c>[H, E]</c>, per edge in processing order.</param>
/// <param name="T">Transition gates <c>[H, L]</c>, per line edge.</param>
/// <param name="M">Mark gates <c>[H, E]</c>, per edge in processing order.</param>
/// <param name="D">Direct gates <c>[H, N]</c>.</param>
public sealed record PlstmGraphInputs(Tensor Q, Tensor K, Tensor V, Tensor S, Tensor T, Tensor M, Tensor D)
{
    /// <summary>Validates every tensor against <paramref name="graph"/> and returns the bound dimensions (H, N, E, L, DK, DV).</summary>
    /// <exception cref="ArgumentException">A tensor has the wrong rank, shape, dtype or device.</exception>
    public ShapeContract Validate(PreparedGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return new ShapeContract()
            .Bind("N", graph.NodeCount).Bind("E", graph.EdgeCount).Bind("L", graph.LineEdgeCount)
            .Check(nameof(Q), Q, "H", "N", "DK")
            .Check(nameof(K), K, "H", "N", "DK")
            .Check(nameof(V), V, "H", "N", "DV")
            .Check(nameof(S), S, "H", "E")
            .Check(nameof(T), T, "H", "L")
            .Check(nameof(M), M, "H", "E")
            .Check(nameof(D), D, "H", "N");
    }
}

/// <summary>
/// Inputs of the node-wise graph operator: source/mark/transition come as node tables indexed by adjacency slots and
/// are gathered onto edges and line edges (<see cref="GraphGatherConvention"/>).
/// </summary>
/// <param name="Q">Queries <c>[H, N, DK]</c>.</param>
/// <param name="K">Keys <c>[H, N, DK]</c>.</param>
/// <param name="V">Values <c>[H, N, DV]</c>.</param>
/// <param name="S">Source table <c>[H, N, Emax]</c>.</param>
/// <param name="T">Transition table <c>[H, N, Emax, Emax]</c>.</param>
/// <param name="M">Mark table <c>[H, N, Emax]</c>.</param>
/// <param name="D">Direct gates <c>[H, N]</c>.</param>
public sealed record PlstmGraphNodewiseInputs(Tensor Q, Tensor K, Tensor V, Tensor S, Tensor T, Tensor M, Tensor D)
{
    /// <summary>Validates every tensor against <paramref name="graph"/> and returns the bound dimensions (H, N, Emax, DK, DV).</summary>
    /// <exception cref="ArgumentException">A tensor has the wrong rank, shape, dtype or device.</exception>
    public ShapeContract Validate(PreparedGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return new ShapeContract()
            .Bind("N", graph.NodeCount)
            .Check(nameof(Q), Q, "H", "N", "DK")
            .Check(nameof(K), K, "H", "N", "DK")
            .Check(nameof(V), V, "H", "N", "DV")
            .Check(nameof(S), S, "H", "N", "Emax")
            .Check(nameof(T), T, "H", "N", "Emax", "Emax")
            .Check(nameof(M), M, "H", "N", "Emax")
            .Check(nameof(D), D, "H", "N");
    }
}

/// <summary>Which exact form of the edge-wise operator runs.</summary>
public enum PlstmGraphForm
{
    /// <summary>Level-synchronous parallel form (<see cref="PlstmGraphLevels"/>): one batched step per line-graph level.</summary>
    Levels,

    /// <summary>The plain loop over edges in processing order (<see cref="PlstmGraphNaive"/>), the oracle.</summary>
    Naive,

    /// <summary>Path gates per (edge, source node) instead of states (<see cref="PlstmGraphPathGates"/>).</summary>
    PathGates,
}

/// <summary>
/// How the node-wise operator reads its node tables (operators §5.2; README "Node-wise operator"). With
/// <c>outpos(e)</c> = position of e among its tail's out-edges and <c>inpos(e)</c> = position among its head's in-edges:
/// </summary>
public enum GraphGatherConvention
{
    /// <summary>The evident intent (default for layers): <c>s_e = S[tail, outpos(e)]</c>, <c>m_e = M[head, inpos(e)]</c>,
    /// <c>t(a→b) = T[n, inpos(a), outpos(b)]</c> with n the shared node.</summary>
    NodeLocal,

    /// <summary>The reference's (swapped) maps, reproduced for the golden files: <c>s_e = S[tail, inpos(e)]</c>,
    /// <c>m_e = M[head, outpos(e)]</c>, <c>t(a→b) = T[n, outpos(a), inpos(b)]</c>.</summary>
    Reference,
}
