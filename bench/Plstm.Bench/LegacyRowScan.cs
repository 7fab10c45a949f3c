using Plstm.Ops.TwoD;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Bench;

/// <summary>
/// The fused row-scan path as it was before the speed work (commit afd1272), verbatim apart from names, so that the
/// bench can time old and new side by side in one process (<see cref="Plstm2DFused.RowScanOverride"/>).
/// </summary>
internal static class LegacyRowScan
{
    private static Tensor G(Tensor t) => Plstm2DChunkwise.ScalarGrid(t);

    public static Tensor RowScanOneAttention(Plstm2DFusedInputs inputs, double scale, bool recompute)
    {
        using var scope = NewDisposeScope();
        long B = inputs.Q.shape[0], X = inputs.Q.shape[1], Y = inputs.Q.shape[2], cells = X * Y;
        var present = new[] { inputs.S0r, inputs.S0d, inputs.T0rl, inputs.T0du, inputs.T0dl, inputs.T0ru, inputs.M0l, inputs.M0u }
            .Where(t => t is not null).Select(t => t!.reshape(B, 4, X, Y)).ToArray();
        var stacked = stack(present, -1);                                                    // [B, 4, X, Y, gates]
        var oriented = cat(Enumerable.Range(0, 4).Select(o => Plstm2DFused.Flip(stacked.select(1, o), o)).ToArray(), 0)
            .unbind(-1);                                                                     // gates × [4B, X, Y]
        int i = 0;
        Tensor Next() => oriented[i++];
        var (sr, sd, trl, tdu) = (Next(), Next(), Next(), Next());
        var tdl = inputs.T0dl is null ? null : Next();
        var tru = inputs.T0ru is null ? null : Next();
        var (ml, mu) = (Next(), Next());
        var gates = Compute(G(sr), G(sd), G(trl), G(tdu), tdl is null ? null : G(tdl), tru is null ? null : G(tru), G(ml), G(mu)).view(4, B, X, Y, X, Y);
        Tensor? gate = null;                                                                 // [B, X, Y, X, Y]
        for (int o = 0; o < 4; o++)
        {
            // Flipping x reverses the target's and the source's x (axes 1, 3 of [B, X, Y, X, Y]); y likewise (2, 4).
            var axes = Plstm2DFused.FlipAxes(o).SelectMany(a => a == 1 ? new long[] { 1, 3 } : new long[] { 2, 4 }).ToArray();
            var back = axes.Length == 0 ? gates[o] : gates[o].flip(axes);
            gate = gate is null ? back : gate + back;
        }
        return Plstm2DRowScan.Attend(inputs.Q, inputs.K, inputs.V, gate!.reshape(B, cells, cells), inputs.D0, scale)
            .MoveToOuterDisposeScope();                                                      // [B, X, Y, DV, 1]
    }

    public static Tensor Compute(Tensor sr, Tensor sd, Tensor trl, Tensor tdu, Tensor? tdl, Tensor? tru,
        Tensor ml, Tensor mu)
    {
        using var scope = NewDisposeScope();
        long N = sr.shape[0], X = sr.shape[1], Y = sr.shape[2];
        Tensor gate;                                                                           // [N, X, Y, X, Y]
        if (Y < X)
        {
            // Rows are the y-lines (Y steps of X×X matrices); row-major results [N, Y, X, Y, X] → x-major (one copy,
            // which the x-line scan below does not need: square grids take that one).
            static Tensor Rows(Tensor t) => t.transpose(1, 2);                                  // [N, Y, X]
            gate = ScanRows(Rows(sr), Rows(sd), Rows(trl), Rows(tdu), tdl is null ? null : Rows(tdl),
                tru is null ? null : Rows(tru), Rows(ml), Rows(mu)).permute(0, 2, 1, 4, 3);
        }
        else
        {
            // Transposed picture: the x-lines are its rows (X ≤ Y steps of Y×Y matrices), its "x" is our y; the
            // row-major result [N, X, Y, X, Y] is already x-major.
            gate = ScanRows(sd, sr, tdu, trl, tru, tdl, mu, ml);
        }
        return gate.reshape(N, X * Y, X * Y).MoveToOuterDisposeScope();
    }

    private static Tensor ScanRows(Tensor sr, Tensor sd, Tensor trl, Tensor tdu, Tensor? tdl, Tensor? tru,
        Tensor ml, Tensor mu)
    {
        using var scope = NewDisposeScope();
        long N = sr.shape[0], R = sr.shape[1], P = sr.shape[2], cells = R * P;
        var options = (sr.dtype, sr.device);

        // K[x, x′] = Π_{x′<k<x} T0rl(k) for x′ < x, else 0: the weight with which the r-edge leaving x′ arrives at x
        // (along the row). cumprod over x of W[x, x′] = T0rl(x − 1) where x − 1 > x′, else 1, then the strict mask.
        var position = arange(P, dtype: int64, device: sr.device);
        var difference = position.view(P, 1) - position.view(1, P);                           // x − x′
        var beyondNeighbour = difference.gt(1).to(sr.dtype);                                  // [P, P]
        var below = difference.gt(0).to(sr.dtype);                                             // [P, P]
        var previous = nn.functional.pad(trl, new long[] { 1, 0 }).narrow(-1, 0, P);          // T0rl(x − 1): [N, R, P]
        var steps = previous.unsqueeze(-1) * beyondNeighbour + (1 - beyondNeighbour);          // [N, R, P, P]
        var K = steps.cumprod(-2) * below;                                                     // [N, R, P, P]

        // One row: with L = weights on the row's r-edges, U = weights arriving from the row above (D_(r−1)),
        //   r-out(x) = T0rl(x) r-out(x−1) + T0ru(x) U(x) + S0r(x)[source],   left-in(x) = r-out(x − 1) = (K (T0ru U + S0r))(x)
        //   D_r(x)   = T0du(x) U(x) + T0dl(x) left-in(x) + S0d(x)[source]
        //   𝒢 row    = M0l(x) left-in(x) + M0u(x) U(x)
        // so D_r = A U + B [row sources], 𝒢_r = C U + E [row sources] with the P×P matrices below.
        Tensor Outer(Tensor rows, Tensor columns) => rows.unsqueeze(-1) * K * columns.unsqueeze(-2);
        var A = diag_embed(tdu);
        if (tdl is not null && tru is not null) A = A + Outer(tdl, tru);
        var Bm = diag_embed(sd);
        if (tdl is not null) Bm = Bm + Outer(tdl, sr);
        var C = diag_embed(mu);
        if (tru is not null) C = C + Outer(ml, tru);
        var E = Outer(ml, sr);                                                                 // all [N, R, P, P]

        // The scan: U_0 = 0, U_(r+1) = D_r = A_r U_r + B_r δ_r, where δ_r places B_r in row r's own block of source
        // columns (r·P … r·P + P − 1): added in place into that block of the fresh product, so no cells²-sized
        // placed copy of B exists. Two or three kernels per row.
        var arriving = new Tensor[R];                                                          // U_r: [N, P, cells]
        arriving[0] = zeros(new[] { N, P, cells }, dtype: options.dtype, device: options.device);
        var rowA = A.unbind(1);                                                                // R × [N, P, P]: one op,
        var rowB = Bm.unbind(1);                                                               // not one select per row
        for (long r = 1; r < R; r++)
        {
            var next = r == 1 ? zeros_like(arriving[0]) : rowA[r - 1].bmm(arriving[r - 1]);
            next.narrow(-1, (r - 1) * P, P).add_(rowB[r - 1]);
            arriving[r] = next;
        }
        var U = stack(arriving, 1);                                                            // [N, R, P, cells]
        // 𝒢_r = C_r U_r + E_r δ_r: one batched product for all rows, then E_r into each row's own block (the diagonal
        // blocks of [N, R, P, R, P], a view), in place.
        var gate = C.reshape(N * R, P, P).bmm(U.reshape(N * R, P, cells)).view(N, R, P, R, P);
        gate.diagonal(0, 1, 3).add_(E.permute(0, 2, 3, 1));                                   // [N, P, P, R] blocks
        return gate.MoveToOuterDisposeScope();
    }
}
