using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.OneD;

/// <summary>
/// The sequential 1D recurrence (README §"Recurrence"), one position at a time. This is the oracle every parallel
/// form is tested against: plain loop, the paper's symbols, no tricks. O(L) sequential steps: not for training.
/// </summary>
public static class Plstm1DNaive
{
    /// <summary>Runs the recurrence. <paramref name="scale"/> defaults to DK^(-1/2).</summary>
    public static Plstm1DOutput Forward(Plstm1DInputs inputs, double? scale = null)
    {
        var dims = inputs.Validate();
        using var scope = NewDisposeScope();
        double c = scale ?? OperatorMath.DefaultScale(dims["DK"]);
        long L = dims["L"];
        var state = inputs.CInitial ?? zeros(new[] { dims["B"], dims["DK"], dims["DV"], dims["JT"] },
            dtype: inputs.Q.dtype, device: inputs.Q.device);                                   // [B, DK, DV, JT]
        var ys = new List<Tensor>();
        for (long t = 0; t < L; t++)
        {
            var q = inputs.Q.select(1, t);                                                       // [B, DK, JQ]
            var k = inputs.K.select(1, t);                                                       // [B, DK, JK]
            var v = inputs.V.select(1, t);                                                       // [B, DV, JV]
            var kv = einsum("bdk,bvl->bdvkl", k, v);                                             // [B, DK, DV, JK, JV]
            var fromState = einsum("bdq,boqt,bdvt->bvo", q, inputs.M0.select(1, t), state);      // [B, DV, JO]
            var direct = einsum("bdq,boqkl,bdvkl->bvo", q, inputs.D0.select(1, t), kv);          // [B, DV, JO]
            ys.Add((fromState + direct) * c);
            state = einsum("bij,bdvj->bdvi", inputs.T0.select(1, t), state)
                  + einsum("bikl,bdvkl->bdvi", inputs.S0.select(1, t), kv);                      // [B, DK, DV, JT]
        }
        var y = stack(ys, 1);                                                                    // [B, L, DV, JO]
        return new Plstm1DOutput(y.MoveToOuterDisposeScope(), state.MoveToOuterDisposeScope());
    }
}
