using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The 2D recurrence cell by cell (README §"Recurrence"), in row-major order (x outer, y inner), which visits
/// (x−1, y) and (x, y−1) before (x, y). The oracle for <see cref="Plstm2DHierarchical"/>; O(X·Y) sequential steps.
/// </summary>
public static class Plstm2DNaive
{
    /// <summary>Runs the recurrence. <paramref name="scale"/> defaults to DK^(-1/2).</summary>
    public static Plstm2DOutput Forward(Plstm2DInputs inputs, double? scale = null)
    {
        var dims = inputs.Validate();
        using var scope = NewDisposeScope();
        double c = scale ?? OperatorMath.DefaultScale(dims["DK"]);
        long B = dims["B"], X = dims["X"], Yn = dims["Y"], DK = dims["DK"], DV = dims["DV"], JT = dims["JT"];
        var zero = zeros(new[] { B, DK, DV, JT }, dtype: inputs.Q.dtype, device: inputs.Q.device);
        var right = new Tensor[X, Yn];   // C^r(x, y)
        var down = new Tensor[X, Yn];    // C^d(x, y)
        var rows = new List<Tensor>();
        for (long x = 0; x < X; x++)
        {
            var cells = new List<Tensor>();
            for (long y = 0; y < Yn; y++)
            {
                Tensor At(Tensor t) => t.select(1, x).select(1, y);
                var left = x > 0 ? right[x - 1, y] : inputs.InitialLeft?.select(1, y) ?? zero;   // [B, DK, DV, JT]
                var up = y > 0 ? down[x, y - 1] : inputs.InitialTop?.select(1, x) ?? zero;       // [B, DK, DV, JT]
                var q = At(inputs.Q);                                                            // [B, DK, JQ]
                var kv = einsum("bdk,bvl->bdvkl", At(inputs.K), At(inputs.V));                   // [B, DK, DV, JK, JV]
                var read = einsum("boqt,bdvt->boqdv", At(inputs.M0l), left)
                         + einsum("boqt,bdvt->boqdv", At(inputs.M0u), up)
                         + einsum("boqkl,bdvkl->boqdv", At(inputs.D0), kv);                      // [B, JO, JQ, DK, DV]
                cells.Add(einsum("bdq,boqdv->bvo", q, read) * c);                                // [B, DV, JO]
                var r = Apply(At(inputs.T0rl), left) + einsum("bikl,bdvkl->bdvi", At(inputs.S0r), kv);
                var d = Apply(At(inputs.T0du), up) + einsum("bikl,bdvkl->bdvi", At(inputs.S0d), kv);
                if (inputs.T0ru is not null) r = r + Apply(At(inputs.T0ru), up);
                if (inputs.T0dl is not null) d = d + Apply(At(inputs.T0dl), left);
                right[x, y] = r;
                down[x, y] = d;
            }
            rows.Add(stack(cells, 1));                                                           // [B, Y, DV, JO]
        }
        var output = stack(rows, 1);                                                             // [B, X, Y, DV, JO]
        var finalRight = stack(Enumerable.Range(0, (int)Yn).Select(y => right[X - 1, y]), 1);   // [B, Y, DK, DV, JT]
        var finalBottom = stack(Enumerable.Range(0, (int)X).Select(x => down[x, Yn - 1]), 1);   // [B, X, DK, DV, JT]
        return new Plstm2DOutput(output.MoveToOuterDisposeScope(), finalRight.MoveToOuterDisposeScope(),
            finalBottom.MoveToOuterDisposeScope());
    }

    private static Tensor Apply(Tensor transition, Tensor state) => einsum("bij,bdvj->bdvi", transition, state);
}
