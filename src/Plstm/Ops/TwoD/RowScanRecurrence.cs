using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The row recurrence of <see cref="RowScanGate"/> as one autograd node with a hand-written backward (README §"Row-scan
/// form", "Backward of the row loop"). Forward, per row r: <c>[U_(r+1) | 𝒢_r] = [[A_r;C_r]·U_r , [B_r;E_r]]</c>, one
/// batched product and one concatenation. Left to autograd, each row's backward also zero-fills and copies the
/// gradients of the two narrowed halves and of the padding (about seven kernels per row); written out it is the reverse
/// scan, per row one concatenation and two batched products:
/// <code>
///   dBoth_r = [dU_(r+1) ; d𝒢_r]                    (row r's own columns)
///   d[B_r;E_r] = dBoth_r[:, :, r·P …]              d[A_r;C_r] = dBoth_r[:, :, … r·P] · U_rᵀ
///   dU_r = [A_r;C_r]ᵀ · dBoth_r[:, :, … r·P]
/// </code>
/// Must give the gradients autograd gives through the plain loop (tests compare with the naive form).
/// </summary>
internal sealed class RowScanRecurrence : autograd.MultiTensorFunction<RowScanRecurrence>
{
    /// <inheritdoc />
    public override string Name => nameof(RowScanRecurrence);

    /// <summary>𝒢 row by row, <c>[N, R, P, R·P]</c> (row r's sources are the columns of rows ≤ r, the rest zero), from the
    /// stacked step matrices <c>[A;C]</c> and <c>[B;E]</c>, each <c>[N, R, 2P, P]</c>.</summary>
    /// <param name="ac">[A;C] per row.</param>
    /// <param name="be">[B;E] per row.</param>
    /// <param name="customBackward">Whether autograd goes through this node's own backward (true) or through the plain
    /// loop's operations (false). Null = by device: on CUDA, where every kernel launch costs about 13 µs of host time,
    /// the own backward's fewer kernels make a training step 5–16 % faster (H200, `bench/results/
    /// gpu-h200-rowscan-backward-2026-11-30.md`; peak memory 26–41 % higher); on the CPU, where launches are cheap, it
    /// did not pay, so the plain loop stays.</param>
    public static Tensor Gate(Tensor ac, Tensor be, bool? customBackward = null)
    {
        bool custom = customBackward ?? ac.device_type == DeviceType.CUDA;
        return custom && (ac.requires_grad || be.requires_grad) && is_grad_enabled() ? apply(ac, be)[0] : Scan(ac, be, null);
    }

    /// <summary>The forward scan; with <paramref name="kept"/> it also collects U_1 … U_(R−1) (the right factors of the
    /// products, needed by the backward).</summary>
    private static Tensor Scan(Tensor ac, Tensor be, List<Tensor>? kept)
    {
        using var scope = NewDisposeScope();
        long N = ac.shape[0], R = ac.shape[1], P = ac.shape[3];
        var rowAC = ac.unbind(1);                                                              // R × [N, 2P, P]
        var rowBE = be.unbind(1);                                                              // R × [N, 2P, P]
        var rows = new Tensor[R];                                                              // 𝒢_r: [N, P, R·P]
        Tensor? above = null;                                                                  // U_r: [N, P, r·P]
        for (int r = 0; r < R; r++)
        {
            var both = above is null ? rowBE[r] : cat(new[] { rowAC[r].bmm(above), rowBE[r] }, -1); // [N, 2P, (r+1)·P]
            var own = both.narrow(1, P, P);
            rows[r] = r == R - 1 ? own : nn.functional.pad(own, new long[] { 0, (R - 1 - r) * P });
            above = both.narrow(1, 0, P);
            if (kept is not null && r < R - 1) kept.Add(above.MoveToOuterDisposeScope());
        }
        return stack(rows, 1).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var ac = (Tensor)vars[0];
        var be = (Tensor)vars[1];
        // TorchSharp runs a custom function's forward in the caller's grad mode: record nothing here.
        using var noGrad = no_grad();
        var above = new List<Tensor>();
        var gate = Scan(ac, be, above);
        ctx.save_for_backward([ac, .. above]);
        // An unused output arrives in backward as an undefined gradient (handled there): TorchSharp then keeps no
        // per-output template for zero materialisation (see RecomputedGates).
        ctx.set_materialize_grads(false);
        return [gate];
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grad_outputs)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var saved = ctx.get_saved_variables();                                                 // [A;C], U_1 … U_(R−1)
        var ac = saved[0];
        var dGate = grad_outputs[0];                                                           // [N, R, P, R·P]
        List<Tensor> result;
        if (dGate is null || dGate.IsInvalid)
        {
            result = [zeros_like(ac), zeros_like(ac)];
            foreach (var t in saved) t.Dispose();
            return BackwardResults.Hand(result);
        }
        using (var scope = NewDisposeScope())
        {
            long N = ac.shape[0], R = ac.shape[1], P = ac.shape[3];
            var rowAC = ac.unbind(1);
            var dAC = new Tensor[R];
            var dBE = new Tensor[R];
            Tensor? dNext = null;                                                              // dU_(r+1): [N, P, (r+1)·P]
            for (long r = R - 1; r >= 0; r--)
            {
                var dOwn = dGate.select(1, r).narrow(-1, 0, (r + 1) * P);                      // [N, P, (r+1)·P]
                var dBoth = cat(new[] { dNext ?? zeros_like(dOwn), dOwn }, 1);                 // [N, 2P, (r+1)·P]
                dBE[r] = dBoth.narrow(-1, r * P, P);
                if (r == 0)
                {
                    dAC[0] = zeros(new[] { N, 2 * P, P }, ac.dtype, ac.device);               // U_0 = 0: no product
                    break;
                }
                var dProduct = dBoth.narrow(-1, 0, r * P);                                     // [N, 2P, r·P]
                dAC[r] = dProduct.bmm(saved[(int)r].transpose(1, 2));                          // [N, 2P, P]
                dNext = rowAC[r].transpose(1, 2).bmm(dProduct);                                // [N, P, r·P]
            }
            result = [stack(dAC, 1).MoveToOuterDisposeScope(), stack(dBE, 1).MoveToOuterDisposeScope()];
        }
        // The saved tensors and the incoming gradient arrive as fresh handles outside any dispose scope; released here
        // rather than by the finaliser (see RecomputedGates).
        foreach (var t in saved) t.Dispose();
        dGate.Dispose();
        return BackwardResults.Hand(result);
    }
}
