using Plstm.Ops.TwoD;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Cli.Bench;

/// <summary>
/// Forward + backward of the fused four-orientation 2D operator (<see cref="Plstm2DFused.Forward"/>) on one grid,
/// with every J = 1 and gates of the size and kind the P-mode vision layer feeds it (<c>Plstm2DLayer</c>):
/// o = σ(ε) (orientation gate), s = σ(−4 + ε) (source, bias init −4), t = tanh(5 + ε) (transition: tanh(5·z) with
/// bias 1 and input-dependent spread), m = σ(−4 + ε) (mark), D = σ(−4 + ε) (direct), ε ~ N(0, 1) per cell,
/// orientation and batch row; then S0r = o·s, S0d = 1 − o·s, T0rl = T0ru = o·t, T0du = T0dl = 1 − o·t,
/// M0l = M0u = m, so states stay bounded. Q, K, V ~ N(0, 1). Every iteration detaches fresh leaves that require grad
/// (all twelve inputs receive gradients) and runs <c>Y.sum().backward()</c>. With <c>dMode</c> the same values in a
/// D-mode layer's wiring (chirality R): T0ru absent, so one turn at most and the kernel form on CUDA forms the gate in
/// closed form (<see cref="SinglePathGateKernel"/>).
/// </summary>
public sealed class FusedOperatorCase : IBenchCase
{
    private readonly Tensor?[] _leaves;                             // T0ru null in the D-mode wiring
    private readonly Plstm2DForm _form;
    private readonly int _levels;
    private readonly bool _recompute;

    /// <summary>Creates the inputs on <paramref name="device"/> in <paramref name="dtype"/> (drawn in float32, then cast).</summary>
    public FusedOperatorCase(int batchHeads, (int X, int Y) grid, int dk, int dv, ScalarType dtype, Device device,
        Plstm2DForm form, int levels, long seed, bool recompute = false, bool dMode = false)
    {
        _form = form;
        _recompute = recompute;
        _levels = levels;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        manual_seed(seed);
        long b = batchHeads, x = grid.X, y = grid.Y;
        Tensor Normal(params long[] shape) => randn(shape, dtype: ScalarType.Float32, device: device);
        var o = sigmoid(Normal(b, 4, x, y, 1, 1));
        var s = sigmoid(Normal(b, 4, x, y, 1, 1) - 4);
        var t = tanh(Normal(b, 4, x, y, 1, 1) + 5);
        var m = sigmoid(Normal(b, 4, x, y, 1, 1, 1) - 4);
        var d = sigmoid(Normal(b, x, y, 1, 1, 1, 1) - 4);
        var os = (o * s).unsqueeze(-1);                                   // [B·H, 4, X, Y, JT, JK, JV]
        var ot = o * t;                                                   // [B·H, 4, X, Y, JT, JT]
        _leaves = new Tensor?[]
        {
            Normal(b, x, y, dk, 1), Normal(b, x, y, dk, 1), Normal(b, x, y, dv, 1),   // Q, K, V
            os, 1 - os,                                                    // S0r, S0d
            ot, 1 - ot, 1 - ot, dMode ? null : ot.clone(),                 // T0rl, T0du, T0dl, T0ru
            m, m.clone(), d,                                               // M0l, M0u, D0
        }.Select(tensor => tensor?.to_type(dtype).contiguous().MoveToOuterDisposeScope()).ToArray();
    }

    /// <inheritdoc />
    public void RunOnce()
    {
        using var scope = NewDisposeScope();
        var l = _leaves.Select(t => t?.detach().requires_grad_(true)).ToArray();
        var inputs = new Plstm2DFusedInputs(l[0]!, l[1]!, l[2]!, l[3]!, l[4]!, l[5]!, l[6]!, l[7]!, l[8], l[9]!, l[10]!, l[11]!);
        Plstm2DFused.Forward(inputs, _levels, form: _form, recomputeInBackward: _recompute).sum().backward();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var leaf in _leaves) leaf?.Dispose();
    }
}
