using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// Row-scan 2D form for scalar gates (README §"Row-scan form"): the whole grid's gating matrix 𝒢 from a scan over the
/// rows of the shorter axis (<see cref="RowScanGate"/>: a batched matrix product and an in-place addition per row), then
/// one masked linear attention (Q Kᵀ ⊙ 𝒢) V plus the direct term D0 (q·k) v. A few dozen kernels for a 14 × 14 grid
/// instead of the anti-diagonal wavefront's hundreds; memory grows as cells², so it is meant for grids of up to about a
/// thousand cells.
/// Must equal <see cref="Plstm2DNaive"/>: outputs and every gradient (autograd through this forward), tested.
/// </summary>
/// <remarks>
/// Inputs with any J &gt; 1 or with entering border states (InitialLeft/InitialTop) take <see cref="Plstm2DChunkwise"/>
/// with one chunk per grid instead (same result), since 𝒢 alone cannot express them.
/// </remarks>
public static class Plstm2DRowScan
{
    /// <summary>Returns only the output <c>[B, X, Y, DV, JO]</c>. <paramref name="scale"/> defaults to DK^(-1/2).
    /// <paramref name="recomputeInBackward"/> keeps only the gates for backward and re-runs the row scan there
    /// (<see cref="RecomputedGates"/>: less memory, one more scan; same result and gradients).</summary>
    /// <exception cref="ArgumentException">Malformed inputs.</exception>
    public static Tensor Output(Plstm2DInputs inputs, double? scale = null, bool recomputeInBackward = false)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var dims = inputs.Validate();
        double c = scale ?? OperatorMath.DefaultScale(dims["DK"]);
        long X = dims["X"], Y = dims["Y"];
        if (!Supports(dims, inputs))
            return Plstm2DChunkwise.Output(inputs, (int)Math.Min(int.MaxValue, Math.Max(X, Y)), c, recomputeInBackward);
        using var scope = NewDisposeScope();
        var gate = Gate(inputs.S0r, inputs.S0d, inputs.T0rl, inputs.T0du, inputs.T0dl, inputs.T0ru, inputs.M0l, inputs.M0u,
            recomputeInBackward);
        return Attend(inputs.Q, inputs.K, inputs.V, gate, inputs.D0, c).MoveToOuterDisposeScope();
    }

    /// <summary>Whether validated inputs are what this form computes itself: every J = 1 and no entering states.</summary>
    public static bool Supports(ShapeContract dims, Plstm2DInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return Plstm2DChunkwise.HasScalarGates(dims) && inputs.InitialLeft is null && inputs.InitialTop is null;
    }

    /// <summary>𝒢 without D0, <c>[B, cells, cells]</c> (x-major cells), from scalar gates shaped as the operator's
    /// (<c>[B, X, Y, 1, …]</c> or <c>[B, X, Y]</c>); absent turns are zero. <paramref name="recompute"/>: through
    /// <see cref="RecomputedGates"/>.</summary>
    internal static Tensor Gate(Tensor sr, Tensor sd, Tensor trl, Tensor tdu, Tensor? tdl, Tensor? tru, Tensor ml, Tensor mu,
        bool recompute)
    {
        static Tensor G(Tensor t) => Plstm2DChunkwise.ScalarGrid(t);
        var (a, b, c, d, e, f, g, h) = (G(sr), G(sd), G(trl), G(tdu), tdl is null ? null : G(tdl), tru is null ? null : G(tru),
            G(ml), G(mu));
        return recompute ? RecomputedGates.RowScanGate(a, b, c, d, e, f, g, h) : RowScanGate.Compute(a, b, c, d, e, f, g, h);
    }

    /// <summary>scale · ((Q Kᵀ ⊙ 𝒢) V + D0 (q·k) v) back on the grid: <c>[B, X, Y, DV, 1]</c>. The direct term is added
    /// per cell rather than as a diagonal of the cells × cells mask (one cells²-sized tensor less, forward and
    /// backward). Used by this form and by the fused four-orientation row scan.</summary>
    internal static Tensor Attend(Tensor Q, Tensor K, Tensor V, Tensor gate, Tensor D0, double scale)
    {
        using var scope = NewDisposeScope();
        long B = Q.shape[0], X = Q.shape[1], Y = Q.shape[2], DK = Q.shape[3], DV = V.shape[3], cells = X * Y;
        var own = (Q.reshape(B, cells, DK) * K.reshape(B, cells, DK)).sum(-1, keepdim: true)
            * D0.reshape(B, cells, 1);                                                           // [B, cells, 1]
        var y = AttendWithGate(Q, K, V, gate).view(B, cells, DV) + own * V.reshape(B, cells, DV); // [B, cells, DV]
        return (y * scale).view(B, X, Y, DV, 1).MoveToOuterDisposeScope();
    }

    /// <summary>(Q Kᵀ ⊙ gate) V back on the grid, <c>[B, X, Y, DV, 1]</c>, for a gate that already holds the scale and D0
    /// on its diagonal (the gate walks' <c>Gate(gates, direct, scale)</c>): the same output as <see cref="Attend"/>, in
    /// three kernels forward.</summary>
    internal static Tensor AttendWithGate(Tensor Q, Tensor K, Tensor V, Tensor gate)
    {
        using var scope = NewDisposeScope();
        long B = Q.shape[0], X = Q.shape[1], Y = Q.shape[2], DK = Q.shape[3], DV = V.shape[3], cells = X * Y;
        var q = Q.reshape(B, cells, DK);
        var k = K.reshape(B, cells, DK);
        var v = V.reshape(B, cells, DV);
        var y = (q.matmul(k.transpose(1, 2)) * gate).matmul(v);                                 // [B, cells, DV]
        return y.view(B, X, Y, DV, 1).MoveToOuterDisposeScope();
    }
}
