namespace Plstm.Tests.Ops;

/// <summary>
/// The loops of the CUDA kernel <c>src/Plstm/Ops/TwoD/Kernels/fused_gate.cu</c> written again in C# over plain arrays,
/// thread by thread (one source cell at a time), with the same layout ([N, O, 8, cells] gates, [N, cells, cells] gate)
/// and the same order of operations; the per-warp sums are plain sums here. The forward and the backward start each
/// source's walks at its warp's first scan line (with source tiles, TILE_X × TILE_Y, also at the tile's first column),
/// and the forward writes 𝒢 in the first pass, as the kernel (whose loads of a line's earlier sums before walking it
/// change no value). The backward's segments (the kernel's
/// SEG: L and U kept for a few lines at a time, walked again from saved weights) are mirrored as they are counted in the
/// kernel, from the first line walked; where the kernel parks the adjoint weights in local memory during a segment's
/// second walk (PARK, to free registers) the values are the same and the mirror keeps them in place. The GPU cannot run in the test suite, so
/// this mirror is what checks the kernel's algorithm — above all its hand-derived adjoint walk — against autograd on
/// the CPU (FusedGateKernelTests); `plstm selfcheck` checks the compiled kernel on a GPU. Keep the two in step.
/// </summary>
public static class FusedGateKernelMirror
{
    private static int CellOf(int o, int xi, int yi, int gx, int gy)
    {
        int x = (o & 1) != 0 ? gx - 1 - xi : xi;
        int y = (o & 2) != 0 ? gy - 1 - yi : yi;
        return x * gy + y;
    }

    /// <summary>advance: one cell of the forward walk (the weights leaving on its r- and d-edge).</summary>
    private static (double Wr, double Wd) Advance(double[] gates, int g, int cells, int c, int m, double L, double U)
    {
        double src = c == m ? 1 : 0;
        return (gates[g + 2 * cells + c] * L + gates[g + 5 * cells + c] * U + src * gates[g + c],
            gates[g + 4 * cells + c] * L + gates[g + 3 * cells + c] * U + src * gates[g + cells + c]);
    }

    /// <summary>advance_staged (SMEM_PAIRS): the same from the pair's copy t (slot j at t[(j − 2)·cells]) and the
    /// sources in global memory, added only at the source's own cell.</summary>
    private static (double Wr, double Wd) AdvanceStaged(double[] t, int tb, double[] gates, int g, int cells, int c, int m,
        double L, double U)
    {
        double wr = t[tb + c] * L + t[tb + 3 * cells + c] * U, wd = t[tb + 2 * cells + c] * L + t[tb + cells + c] * U;
        if (c == m)
        {
            wr += gates[g + c];
            wd += gates[g + cells + c];
        }
        return (wr, wd);
    }

    /// <summary>marked_staged (SMEM_PAIRS).</summary>
    private static double MarkedStaged(double[] t, int tb, int cells, int c, double L, double U, double scale) =>
        scale * (t[tb + 4 * cells + c] * L + t[tb + 5 * cells + c] * U);

    /// <summary>The kernel's copy of a pair's slots 2-7 (SMEM_PAIRS): element i of 12·cells from orientation d (i &lt;
    /// 6·cells) or its twin d | 2, zeros for an absent twin.</summary>
    private static double[] PairCopy(double[] gates, int b, int d, int orientations, int cells)
    {
        var copy = new double[12 * cells];
        for (int i = 0; i < copy.Length; i++)
        {
            int o = i < 6 * cells ? d : (d | 2), r = i < 6 * cells ? i : i - 6 * cells;
            copy[i] = o < orientations ? gates[(b * orientations + o) * 8 * cells + 2 * cells + r] : 0;
        }
        return copy;
    }

    /// <summary>marked: the cell's entry of 𝒢 for the source, scale · (M0l L + M0u U).</summary>
    private static double Marked(double[] gates, int g, int cells, int c, double L, double U, double scale) =>
        scale * (gates[g + 6 * cells + c] * L + gates[g + 7 * cells + c] * U);

    /// <summary>The lines X0..X1 and columns Y0..Y1 (original coordinates) of the sources of source
    /// <paramref name="m"/>'s warp: 32 consecutive cells (first_line), or with <paramref name="tiles"/> (the kernel's
    /// TILE_X × TILE_Y, source_tile) the tile of lines × columns holding m, clipped to the grid.</summary>
    private static (int X0, int X1, int Y0, int Y1) WarpSources(int m, int gx, int gy, (int Lines, int Columns) tiles)
    {
        if (tiles.Lines <= 0)
        {
            int m0 = m & ~31;                                       // blocks are whole warps
            return (m0 / gy, Math.Min(m0 + 31, gx * gy - 1) / gy, 0, gy - 1);
        }
        int x0 = m / gy / tiles.Lines * tiles.Lines, y0 = m % gy / tiles.Columns * tiles.Columns;
        return (x0, Math.Min(x0 + tiles.Lines, gx) - 1, y0, Math.Min(y0 + tiles.Columns, gy) - 1);
    }

    /// <summary>first_line / tile_first_line: the first scan line of orientation <paramref name="o"/> holding one of the
    /// warp's sources (the lines before carry none of their weight).</summary>
    private static int FirstLine(int o, (int X0, int X1, int Y0, int Y1) warp, int gx) =>
        (o & 1) != 0 ? gx - 1 - warp.X1 : warp.X0;

    /// <summary>tile_first_column: the first position on a line of orientation <paramref name="o"/> holding one of the
    /// warp's sources (0 without tiles).</summary>
    private static int FirstColumn(int o, (int X0, int X1, int Y0, int Y1) warp, int gy) =>
        (o & 2) != 0 ? gy - 1 - warp.Y1 : warp.Y0;

    /// <summary>plstm_fused_gate_forward for every (batch entry, source): scale · Σ_o 𝒢_o. The output starts as NaN (the
    /// kernel's is uninitialised), so an entry the first pass fails to write shows. <paramref name="pairs"/> is the
    /// kernel's PAIRS (its default for lines of up to 32 cells): the two orientations of one x-direction walked together
    /// line by line, their sums added to the line's earlier ones once; without it one orientation at a time.
    /// <paramref name="stagedPairs"/> is SMEM_PAIRS: the walked pair's transitions and marks read from the kernel's copy.
    /// <paramref name="tiles"/> is TILE_X × TILE_Y (default none): each warp's walks start at its tile's first line and,
    /// in the paired walk, each orientation of a pair at the tile's first column in its frame.</summary>
    public static double[] Forward(double[] gates, int n, int orientations, int gx, int gy, double scale = 1.0,
        bool pairs = true, bool stagedPairs = false, (int Lines, int Columns) tiles = default)
    {
        int cells = gx * gy;
        var output = new double[(long)n * cells * cells];
        Array.Fill(output, double.NaN);
        for (int b = 0; b < n; b++)
            for (int m = 0; m < cells; m++)
            {
                long column = (long)b * cells * cells + m;
                var warp = WarpSources(m, gx, gy, tiles);
                if (pairs)
                {
                    for (int d = 0; d < 2 && d < orientations; d++)
                    {
                        bool twin = (d | 2) < orientations;
                        int ga = (b * orientations + d) * 8 * cells, gb = (b * orientations + (d | 2)) * 8 * cells;
                        var copy = stagedPairs ? PairCopy(gates, b, d, orientations, cells) : null;
                        int start = FirstLine(d, warp, gx);
                        int firstA = FirstColumn(d, warp, gy), firstB = FirstColumn(d | 2, warp, gy);
                        // The x-reversed pair writes the lines before the warp's first source line without reading
                        // them; only with one orientation does the x-forward pair zero them.
                        if (d == 0 && orientations < 2)
                            for (int c = 0; c < start * gy; c++) output[column + (long)c * cells] = 0;
                        var wa = new double[gy];
                        var wb = new double[gy];
                        var sum = new double[gy];
                        for (int xi = start; xi < gx; xi++)
                        {
                            int line = (d != 0 ? gx - 1 - xi : xi) * gy;
                            bool add = d != 0 && line >= warp.X0 * gy;     // the x-forward pair wrote this line too
                            for (int y = 0; y < gy; y++) sum[y] = add ? output[column + (long)(line + y) * cells] : 0;
                            double da = 0, db = 0;
                            for (int yi = 0; yi < gy; yi++)
                            {
                                if (yi >= firstA)
                                {
                                    int c = line + yi;
                                    double L = wa[yi], U = da;
                                    sum[yi] += copy is null ? Marked(gates, ga, cells, c, L, U, scale)
                                        : MarkedStaged(copy, 0, cells, c, L, U, scale);
                                    (wa[yi], da) = copy is null ? Advance(gates, ga, cells, c, m, L, U)
                                        : AdvanceStaged(copy, 0, gates, ga, cells, c, m, L, U);
                                }
                                if (!twin || yi < firstB) continue;
                                int y = gy - 1 - yi;
                                int cb = line + y;
                                double Lb = wb[yi], Ub = db;
                                sum[y] += copy is null ? Marked(gates, gb, cells, cb, Lb, Ub, scale)
                                    : MarkedStaged(copy, 6 * cells, cells, cb, Lb, Ub, scale);
                                (wb[yi], db) = copy is null ? Advance(gates, gb, cells, cb, m, Lb, Ub)
                                    : AdvanceStaged(copy, 6 * cells, gates, gb, cells, cb, m, Lb, Ub);
                            }
                            for (int y = 0; y < gy; y++) output[column + (long)(line + y) * cells] = sum[y];
                        }
                    }
                    continue;
                }
                for (int o = 0; o < orientations; o++)
                {
                    int g = (b * orientations + o) * 8 * cells;
                    int start = FirstLine(o, warp, gx);
                    if (o == 0)
                        for (int c = 0; c < start * gy; c++) output[column + (long)c * cells] = 0;
                    var wr = new double[gy];
                    for (int xi = start; xi < gx; xi++)
                    {
                        double wd = 0;
                        for (int yi = 0; yi < gy; yi++)
                        {
                            int c = CellOf(o, xi, yi, gx, gy);
                            double L = wr[yi], U = wd;
                            double before = o == 0 ? 0 : output[column + (long)c * cells];
                            output[column + (long)c * cells] = before + Marked(gates, g, cells, c, L, U, scale);
                            (wr[yi], wd) = Advance(gates, g, cells, c, m, L, U);
                        }
                    }
                }
            }
        return output;
    }

    /// <summary>plstm_fused_gate_backward: the gradient of Σ dOut ⊙ gate (gate = scale · Σ_o 𝒢_o) with respect to the
    /// stacked gates. <paramref name="segment"/> is the kernel's SEG (scan lines whose L and U are kept at a time; 0 or
    /// ≥ gx: the whole walk). <paramref name="tiles"/> is TILE_X × TILE_Y (default none): the walks start at the tile's
    /// first line and skip the positions before its first column. <paramref name="lean"/> is the kernel's WALK2_LEAN (with
    /// segments of one line: the second walk recomputes only U, the adjoint reads L from the saved line weights).</summary>
    public static double[] Backward(double[] gates, double[] dOut, int n, int orientations, int gx, int gy, double scale = 1.0,
        int segment = 0, (int Lines, int Columns) tiles = default, bool lean = false)
    {
        int cells = gx * gy;
        int seg = segment <= 0 || segment > gx ? gx : segment;
        if (lean && seg != 1) throw new ArgumentException("the lean second walk needs segments of one line", nameof(lean));
        var dGates = new double[gates.Length];
        for (int b = 0; b < n; b++)
            for (int o = 0; o < orientations; o++)
            {
                int g = (b * orientations + o) * 8 * cells;
                var acc = new double[6 * cells];                       // the sums over sources, slots 2..7 (the kernel: L2 reductions)
                for (int m = 0; m < cells; m++)
                {
                    // The walks start at the warp's first scan line (the lines before carry no weight of its sources),
                    // so the segments are counted from there, as in the kernel; with tiles they also skip the positions
                    // before the tile's first column (col0; 0 without tiles).
                    var warp = WarpSources(m, gx, gy, tiles);
                    int start = FirstLine(o, warp, gx), col0 = FirstColumn(o, warp, gy);
                    int segments = (gx - start + seg - 1) / seg;
                    // Walk 1: up to the last segment's first line, keeping wr at every later segment's first line in
                    // slot s, as the kernel (its slot 0, unused here, holds the parked adjoint weights of segment 0).
                    var saved = new double[segments * gy];
                    var wr = new double[gy];
                    for (int xi = start; xi < start + (segments - 1) * seg; xi++)
                    {
                        double wd = 0;
                        for (int yi = col0; yi < gy; yi++)
                        {
                            int c = CellOf(o, xi, yi, gx, gy);
                            (wr[yi], wd) = Advance(gates, g, cells, c, m, wr[yi], wd);
                        }
                        if ((xi + 1 - start) % seg == 0)
                            Array.Copy(wr, 0, saved, (xi + 1 - start) / seg * gy, gy);
                    }
                    var ar = new double[gy];
                    var Ls = new double[seg * gy];
                    var Us = new double[seg * gy];
                    for (int s = segments - 1; s >= 0; s--)
                    {
                        int x0 = start + s * seg, x1 = Math.Min(x0 + seg, gx);
                        if (lean)
                        {
                            // Walk 2, lean: L of the line is the saved weights; only the chain from above is walked.
                            double wd = 0;
                            for (int yi = col0; yi < gy; yi++)
                            {
                                int c = CellOf(o, x0, yi, gx, gy);
                                double L = s == 0 ? 0 : saved[s * gy + yi], U = wd;
                                Ls[yi] = double.NaN;                   // not kept: the adjoint reads saved
                                Us[yi] = U;
                                wd = gates[g + 4 * cells + c] * L + gates[g + 3 * cells + c] * U
                                    + (c == m ? gates[g + cells + c] : 0);
                            }
                        }
                        // Walk 2: the segment again from its saved weights, keeping L and U.
                        for (int i = 0; i < gy; i++) wr[i] = s == 0 ? 0 : saved[s * gy + i];
                        for (int xi = x0; xi < x1 && !lean; xi++)
                        {
                            double wd = 0;
                            for (int yi = col0; yi < gy; yi++)
                            {
                                int c = CellOf(o, xi, yi, gx, gy);
                                double L = wr[yi], U = wd;
                                Ls[(xi - x0) * gy + yi] = L;
                                Us[(xi - x0) * gy + yi] = U;
                                (wr[yi], wd) = Advance(gates, g, cells, c, m, L, U);
                            }
                        }
                        // The adjoint walk over the segment, in reverse scan order.
                        for (int xi = x1 - 1; xi >= x0; xi--)
                        {
                            double ad = 0;
                            for (int yi = gy - 1; yi >= col0; yi--)
                            {
                                int c = CellOf(o, xi, yi, gx, gy);
                                double L = lean ? (s == 0 ? 0 : saved[s * gy + yi]) : Ls[(xi - x0) * gy + yi];
                                double U = Us[(xi - x0) * gy + yi];
                                double d = scale * dOut[((long)b * cells + c) * cells + m];
                                double aR = ar[yi], aD = ad;
                                acc[0 * cells + c] += aR * L;
                                acc[1 * cells + c] += aD * U;
                                acc[2 * cells + c] += aD * L;
                                acc[3 * cells + c] += aR * U;
                                acc[4 * cells + c] += d * L;
                                acc[5 * cells + c] += d * U;
                                if (c == m)
                                {
                                    dGates[g + c] = aR;
                                    dGates[g + cells + c] = aD;
                                }
                                ar[yi] = d * gates[g + 6 * cells + c] + aR * gates[g + 2 * cells + c] + aD * gates[g + 4 * cells + c];
                                ad = d * gates[g + 7 * cells + c] + aR * gates[g + 5 * cells + c] + aD * gates[g + 3 * cells + c];
                            }
                        }
                    }
                }
                for (int i = 0; i < 6 * cells; i++)
                    dGates[g + 2 * cells + i] += acc[i];
            }
        return dGates;
    }
}
