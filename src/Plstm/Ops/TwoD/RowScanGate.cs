using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The whole-grid gating matrix 𝒢 of a 2D scan with scalar gates (all J = 1) and no entering border states, by a scan
/// over rows whose steps are small matrix products (README §"Row-scan form"). For a row r of P cells, every quantity that
/// crosses the row — the weights on the d-edges leaving it, for every source — is one <c>[P, sources]</c> matrix, and one
/// row step is <c>D_r = A_r·D_(r−1) + B_r</c>: the within-row recurrence along the r-edges is solved in closed form by the
/// strictly lower-triangular matrix of transition products <c>K_r[x, x′] = Π_(x′&lt;k&lt;x) T0rl(k)</c>, so the
/// sequential depth is the number of rows (a product and a concatenation per row), not the number of anti-diagonals or cells.
/// </summary>
/// <remarks>
/// Memory is a few tensors of cells² per batch entry (the gate itself and the per-row d-weights kept for backward, the
/// latter only in their nonzero columns): made for grids of up to about a thousand cells (every vision preset up to 512 px),
/// where the other exact forms are bound by the number of kernel launches or by their per-chunk storage. Must equal
/// <see cref="Plstm2DNaive"/> (tests).
/// </remarks>
internal static class RowScanGate
{
    /// <summary>
    /// 𝒢 without the D0 diagonal, <c>[N, cells (target), cells (source)]</c>, cells x-major (x · Y + y) as in
    /// <see cref="ChunkPathSums"/>. Every gate is <c>[N, X, Y]</c>; absent turns (<paramref name="tdl"/>,
    /// <paramref name="tru"/> null) are zero. The sequential axis is the shorter one (the grid is transposed when
    /// X ≤ Y, so that the rows are the x-lines: x ↔ y swaps r ↔ d, l ↔ u, so T0rl ↔ T0du, T0ru ↔ T0dl, S0r ↔ S0d and
    /// M0l ↔ M0u). <paramref name="customBackward"/>: the row loop's backward, see <see cref="RowScanRecurrence.Gate"/>
    /// (null: by device).
    /// </summary>
    public static Tensor Compute(Tensor sr, Tensor sd, Tensor trl, Tensor tdu, Tensor? tdl, Tensor? tru,
        Tensor ml, Tensor mu, bool? customBackward = null)
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
                tru is null ? null : Rows(tru), Rows(ml), Rows(mu), customBackward).permute(0, 2, 1, 4, 3);
        }
        else
        {
            // Transposed picture: the x-lines are its rows (X ≤ Y steps of Y×Y matrices), its "x" is our y; the
            // row-major result [N, X, Y, X, Y] is already x-major.
            gate = ScanRows(sd, sr, tdu, trl, tru, tdl, mu, ml, customBackward);
        }
        return gate.reshape(N, X * Y, X * Y).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The scan on row-major gates <c>[N, R, P]</c> (R rows of P cells; "r" edges run along a row, "d" edges to the next
    /// row). Returns 𝒢 as <c>[N, R, P, R, P]</c> (target row, target position, source row, source position).
    /// </summary>
    private static Tensor ScanRows(Tensor sr, Tensor sd, Tensor trl, Tensor tdu, Tensor? tdl, Tensor? tru,
        Tensor ml, Tensor mu, bool? customBackward)
    {
        using var scope = NewDisposeScope();
        long N = sr.shape[0], R = sr.shape[1], P = sr.shape[2];

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
        // Built stacked as [A ; C] and [B ; E] ([N, R, 2, P, P]): the left factors T0dl K and M0l K are shared, an absent
        // T0dl is a zero row, an absent T0ru drops the products with it.
        var left = stack(new[] { tdl ?? zeros_like(ml), ml }, 2).unsqueeze(-1) * K.unsqueeze(2);   // [N, R, 2, P, P]
        var AC = diag_embed(stack(new[] { tdu, mu }, 2));
        if (tru is not null) AC = AC + left * tru.unsqueeze(-2).unsqueeze(2);
        var BE = left * sr.unsqueeze(-2).unsqueeze(2) + diag_embed(stack(new[] { sd, zeros_like(sd) }, 2));

        // The scan, one row per step on [U_r ; δ_r]: [A_r B_r ; C_r E_r] maps U_r (only the r·P columns of the sources in
        // rows above are nonzero, so only those are kept) and the row's own sources to [U_(r+1) ; 𝒢_r], the latter
        // restricted to the sources in rows ≤ r. One batched product and one concatenation per row; 𝒢's rows are then
        // zero-padded to all source columns and stacked (no cells²-sized product, no in-place block additions). One
        // autograd node with its own backward on CUDA (RowScanRecurrence): half the kernels of autograd's.
        var rows = RowScanRecurrence.Gate(AC.view(N, R, 2 * P, P), BE.view(N, R, 2 * P, P), customBackward); // [N, R, P, R·P]
        return rows.view(N, R, P, R, P).MoveToOuterDisposeScope();
    }
}
