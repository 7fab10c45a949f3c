using Plstm.Data.Graphs;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.Graph;

/// <summary>
/// The edge-wise graph recurrence (README "Edge-wise operator"), one edge at a time in processing order. This is the
/// oracle the parallel form is tested against: plain loop, the paper's symbols, no tricks. O(E) sequential steps.
/// </summary>
public static class PlstmGraphNaive
{
    /// <summary>Runs the recurrence on <paramref name="graph"/>; returns <c>[H, N, DV]</c>. No QK scale.</summary>
    /// <exception cref="ArgumentException">A tensor does not fit the graph (the message names it).</exception>
    public static Tensor Forward(PlstmGraphInputs inputs, PreparedGraph graph)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var dims = inputs.Validate(graph);
        using var scope = NewDisposeScope();
        long H = dims["H"], DV = dims["DV"];
        var states = new Tensor[graph.EdgeCount];                                           // C_e [H, DK, DV]
        var received = new Tensor?[graph.NodeCount];                                        // Σ_e m_e q_wᵀ C_e [H, DV]
        for (int e = 0; e < graph.EdgeCount; e++)
        {
            var (u, w) = (graph.Edges[e].Tail, graph.Edges[e].Head);
            var kv = einsum("hk,hv->hkv", inputs.K.select(1, u), inputs.V.select(1, u));
            var c = inputs.S.select(1, e).reshape(H, 1, 1) * kv;
            foreach (var l in graph.IncomingLineEdges[e])
                c = c + inputs.T.select(1, l).reshape(H, 1, 1) * states[graph.LineEdges[l].Pred];
            states[e] = c;
            var read = inputs.M.select(1, e).reshape(H, 1) * einsum("hk,hkv->hv", inputs.Q.select(1, w), c);
            received[w] = received[w] is { } r ? r + read : read;
        }
        var zero = zeros(new[] { H, DV }, dtype: inputs.Q.dtype, device: inputs.Q.device);
        var fromEdges = stack(received.Select(r => r ?? zero).ToArray(), 1);                 // [H, N, DV]
        var y = fromEdges + DirectTerm(inputs.Q, inputs.K, inputs.V, inputs.D);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary><c>d_n · (q_n·k_n) · v_n</c> for every node: <c>[H, N, DV]</c>.</summary>
    public static Tensor DirectTerm(Tensor q, Tensor k, Tensor v, Tensor d)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(d);
        using var scope = NewDisposeScope();
        return (d.unsqueeze(-1) * (q * k).sum(-1, keepdim: true) * v).MoveToOuterDisposeScope();
    }
}
