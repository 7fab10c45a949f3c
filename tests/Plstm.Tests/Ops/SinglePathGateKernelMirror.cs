namespace Plstm.Tests.Ops;

/// <summary>
/// The loops of the CUDA kernels <c>src/Plstm/Ops/TwoD/Kernels/single_path_gate.cu</c> (the D-mode gate in closed form)
/// written again in C# over plain arrays, thread by thread, with the same layouts (gates [N, O, 8, cells], gate
/// [N, cells, cells], the four scratch tables per batch entry and orientation) and index expressions. The GPU cannot run
/// in the test suite, so this mirror is what checks the kernels' algorithm — the hand-derived gradients above all —
/// against the row-scan gate and autograd (SinglePathGateKernelTests); `plstm selfcheck` checks the compiled kernels
/// against the gate walk on a GPU. Keep the two in step.
/// </summary>
public static class SinglePathGateKernelMirror
{
    /// <summary>The kernels' compile-time frame: grid sides, the chirality's axes (p first, q second) and gate slots.</summary>
    private sealed class Frame
    {
        public Frame(int gx, int gy, bool left)
        {
            (GX, GY, Transpose) = (gx, gy, left);
            (GP, GQ) = left ? (gy, gx) : (gx, gy);
            (SA, SB, TA, TB, TT, MA, MB) = left ? (1, 0, 3, 2, 5, 7, 6) : (0, 1, 2, 3, 4, 6, 7);
            PaSize = GQ * GP * GP;
            PbSize = GP * GQ * GQ;
            Tables = 2 * PaSize + 2 * PbSize;
        }

        public int GX { get; }
        public int GY { get; }
        public bool Transpose { get; }
        public int GP { get; }
        public int GQ { get; }
        public int Cells => GX * GY;
        public int SA { get; }
        public int SB { get; }
        public int TA { get; }
        public int TB { get; }
        public int TT { get; }
        public int MA { get; }
        public int MB { get; }
        public int PaSize { get; }
        public int PbSize { get; }
        public int Tables { get; }

        /// <summary>PA_AT, PB_AT, F_AT, AB_AT: the tables' layouts.</summary>
        public long PaAt(int q, int a, int e) => Transpose ? ((long)e * GQ + q) * GP + a : ((long)e * GP + a) * GQ + q;

        public long PbAt(int p, int a, int e) => ((long)p * GQ + e) * GQ + a;

        public long FAt(int p, int a, int q) => Transpose ? ((long)a * GQ + q) * GP + p : ((long)p * GQ + q) * GQ + a;

        /// <summary>W_AT, U_AT, UP_AT: the forward's tables, W by target line and source cell, U and U' by target cell
        /// and the source's original second-axis coordinate.</summary>
        public long WAt(int p, int m) => (long)p * Cells + m;

        public long UAt(int n, int s) => PaSize + (long)n * GQ + s;

        public long UpAt(int n, int s) => PaSize + PbSize + (long)n * GQ + s;

        /// <summary>FA_BIT, SA_BIT: the orientation bits that reverse the first and the second axis.</summary>
        public int FaBit => Transpose ? 2 : 1;

        public int SaBit => Transpose ? 1 : 2;

        /// <summary>ORIGINAL_Q: a generic second-axis coordinate of orientation o on the original grid.</summary>
        public int OriginalQ(int o, int a) => (o & SaBit) != 0 ? GQ - 1 - a : a;

        public long AbAt(int a, int p, int i) => Transpose ? ((long)a * GP + p) * GP + i : ((long)p * GP + i) * GQ + a;

        /// <summary>cell_at: the cell of generic coordinates (p, q) in orientation o.</summary>
        public int CellAt(int o, int p, int q)
        {
            var (xi, yi) = Transpose ? (q, p) : (p, q);
            int x = (o & 1) != 0 ? GX - 1 - xi : xi;
            int y = (o & 2) != 0 ? GY - 1 - yi : yi;
            return x * GY + y;
        }

        /// <summary>coords_of: the generic coordinates of cell n in orientation o.</summary>
        public (int P, int Q) CoordsOf(int o, int n)
        {
            int x = n / GY, y = n % GY;
            int xi = (o & 1) != 0 ? GX - 1 - x : x;
            int yi = (o & 2) != 0 ? GY - 1 - y : y;
            return Transpose ? (yi, xi) : (xi, yi);
        }
    }

    /// <summary>single_path_tables for every (batch entry · orientation, chain, start): the forward's W, U, U'
    /// (<paramref name="backward"/> false) or the chain products PA, PB.</summary>
    private static double[] Tables(double[] gates, int n, int orientations, Frame f, bool backward)
    {
        var tables = new double[(long)n * orientations * f.Tables];
        // The kernels' scratch is uninitialised: NaN here, so that reading an entry no thread wrote fails the tests.
        Array.Fill(tables, double.NaN);
        int cells = f.Cells, GP = f.GP, GQ = f.GQ;
        for (int bo = 0; bo < n * orientations; bo++)
        {
            int o = bo % orientations, g = bo * 8 * cells;
            long pa = (long)bo * f.Tables, pb = pa + f.PaSize, w = pa;
            for (int t = 0; t < 2 * GQ * GP; t++)
            {
                if (t < GQ * GP)
                {
                    var (q, a) = f.Transpose ? (t / GP, t % GP) : (t % GQ, t / GQ);
                    int m = f.CellAt(o, a, q);
                    double source = gates[g + f.SA * cells + m];
                    double product = 1;
                    if (backward) tables[pa + f.PaAt(q, a, a)] = product;
                    for (int e = a + 1; e < GP; e++)
                    {
                        int c = f.CellAt(o, e, q);
                        if (!backward) tables[w + f.WAt(e, m)] = product * source;
                        product *= gates[g + f.TA * cells + c];
                        if (backward) tables[pa + f.PaAt(q, a, e)] = product;
                    }
                }
                else
                {
                    int v = t - GQ * GP;
                    int p = v / GQ, a = v % GQ;
                    double product = 1;
                    if (backward)
                    {
                        tables[pb + f.PbAt(p, a, a)] = product;
                        for (int e = a + 1; e < GQ; e++)
                        {
                            product *= gates[g + f.TB * cells + f.CellAt(o, p, e)];
                            tables[pb + f.PbAt(p, a, e)] = product;
                        }
                        continue;
                    }
                    int c = f.CellAt(o, p, a);
                    int sq = f.OriginalQ(o, a);
                    double turn = gates[g + f.TT * cells + c];
                    tables[w + f.UAt(c, sq)] = gates[g + f.MA * cells + c];
                    for (int e = 1; e < GQ; e++)
                    {
                        if (e <= a) continue;
                        int target = f.CellAt(o, p, e);
                        double side = gates[g + f.MB * cells + target] * product;
                        tables[w + f.UpAt(target, sq)] = side;
                        tables[w + f.UAt(target, sq)] = side * turn;
                        product *= gates[g + f.TB * cells + target];
                    }
                }
            }
        }
        return tables;
    }

    /// <summary>single_path_tables then single_path_forward: scale · Σ_o 𝒢_o of a D-mode layer's gates (chirality L when
    /// <paramref name="left"/>), one target per block, each pair's orientations found from its coordinates, the tables
    /// read by the source's cell and original coordinate, each thread's sources at the block's (constant) width apart,
    /// advanced without division as the kernel does. <paramref name="targets"/> is the kernel's TARGETS (targets per
    /// block, walked one after another; the last block's beyond the grid skipped).</summary>
    public static double[] Forward(double[] gates, int n, int orientations, int gx, int gy, bool left, double scale = 1.0,
        int targets = 1)
    {
        var f = new Frame(gx, gy, left);
        int cells = f.Cells, GP = f.GP;
        var tables = Tables(gates, n, orientations, f, backward: false);
        var output = new double[(long)n * cells * cells];
        Array.Fill(output, double.NaN);                      // an entry no thread writes fails the tests
        int threads = Math.Min(256, (cells + 31) / 32 * 32);  // FORWARD_THREADS
        int blocks = (cells + targets - 1) / targets;
        for (int b = 0; b < n; b++)
            for (int block = 0; block < blocks; block++)
            for (int t = 0; t < targets; t++)
            {
                int target = block * targets + t;
                if (target >= cells) break;
                int x = target / gy, y = target - target / gy * gy;
                var (t1, t2) = f.Transpose ? (y, x) : (x, y);
                long tb = (long)b * orientations * f.Tables;
                long sb = ((long)b * orientations * 8 + f.SB) * cells;
                long row0 = (long)t1 * cells, row1 = (long)(GP - 1 - t1) * cells, urow = (long)target * f.GQ;
                for (int thread = 0; thread < threads; thread++)
                {
                    long entry = ((long)b * cells + target) * cells + thread;
                    int xm = thread / gy, ym = thread - thread / gy * gy;
                    for (int k = 0; k < (cells + threads - 1) / threads; k++)
                    {
                        int m = thread + k * threads;
                        if (m >= cells) break;
                        var (s1, s2) = f.Transpose ? (ym, xm) : (xm, ym);
                        double sum = 0;
                        if (s1 != t1)
                        {
                            int fa = s1 > t1 ? f.FaBit : 0;
                            long wOff = (fa != 0 ? row1 : row0) + m, uOff = urow + f.PaSize + s2;
                            int o = fa | (s2 > t2 ? f.SaBit : 0);
                            if (o < orientations) sum = tables[tb + (long)o * f.Tables + uOff] * tables[tb + (long)o * f.Tables + wOff];
                            int o2 = o | f.SaBit;
                            if (s2 == t2 && o2 < orientations)
                                sum += tables[tb + (long)o2 * f.Tables + uOff] * tables[tb + (long)o2 * f.Tables + wOff];
                        }
                        else if (s2 != t2)
                        {
                            int o = s2 > t2 ? f.SaBit : 0;
                            long uOff = urow + f.PaSize + f.PbSize + s2;
                            if (o < orientations) sum = tables[tb + (long)o * f.Tables + uOff] * gates[sb + (long)o * 8 * cells + m];
                            int o2 = o | f.FaBit;
                            if (o2 < orientations) sum += tables[tb + (long)o2 * f.Tables + uOff] * gates[sb + (long)o2 * 8 * cells + m];
                        }
                        output[entry + (long)k * threads] = scale * sum;
                        ym += threads % gy;
                        xm += threads / gy;
                        if (ym >= gy) { ym -= gy; ++xm; }
                    }
                }
            }
        return output;
    }

    /// <summary>triangle_row: the row r of packed index k (r (r − 1) / 2 ≤ k &lt; r (r + 1) / 2), from the float estimate
    /// corrected as the kernel corrects it.</summary>
    private static int TriangleRow(int k)
    {
        int r = (int)((1.0f + MathF.Sqrt(8.0f * k + 1.0f)) * 0.5f);
        while (r * (r - 1) / 2 > k) --r;
        while (r * (r + 1) / 2 <= k) ++r;
        return r;
    }

    /// <summary>single_path_tables, single_path_turns, single_path_chains: the gradient of Σ dOut ⊙ gate with respect to
    /// the stacked gates (the absent turn's slot zero).</summary>
    public static double[] Backward(double[] gates, double[] dOut, int n, int orientations, int gx, int gy, bool left,
        double scale = 1.0)
    {
        var f = new Frame(gx, gy, left);
        int cells = f.Cells, GP = f.GP, GQ = f.GQ;
        var tables = Tables(gates, n, orientations, f, backward: true);
        var dGates = new double[gates.Length];
        for (int bo = 0; bo < n * orientations; bo++)
        {
            int o = bo % orientations, b = bo / orientations, g = bo * 8 * cells;
            long pa = (long)bo * f.Tables, pb = pa + f.PaSize, ab = pb + f.PbSize, ft = ab + f.PaSize;
            long d = (long)b * cells * cells;

            // single_path_turns: one thread per entry of F that exists (lines p ≥ 1, pairs a < q), then per entry of Ā
            // (pairs i < p, every a), decoded from the packed thread index as the kernel does.
            int fPairs = GQ * (GQ - 1) / 2, fThreads = (GP - 1) * fPairs, turnThreads = fThreads + GP * (GP - 1) / 2 * GQ;
            for (int t = 0; t < turnThreads; t++)
            {
                if (t < fThreads)
                {
                    int p = 1 + t / fPairs, k = t - (p - 1) * fPairs;
                    int q = TriangleRow(k), a = k - q * (q - 1) / 2;
                    long row = d + (long)f.CellAt(o, p, q) * cells;
                    double sum = 0;
                    for (int i = 0; i < p; i++)
                    {
                        int m = f.CellAt(o, i, a);
                        sum += scale * dOut[row + m] * tables[pa + f.PaAt(a, i, p - 1)] * gates[g + f.SA * cells + m];
                    }
                    tables[ft + f.FAt(p, a, q)] = sum;
                }
                else
                {
                    int u = t - fThreads, p, i, a;
                    if (f.Transpose)
                    {
                        p = TriangleRow(u / GQ);
                        int v = u - GQ * (p * (p - 1) / 2);
                        (i, a) = (v % p, v / p);
                    }
                    else
                    {
                        a = u % GQ;
                        int k = u / GQ;
                        p = TriangleRow(k);
                        i = k - p * (p - 1) / 2;
                    }
                    if (a == GQ - 1) continue;
                    int m = f.CellAt(o, i, a);
                    double sum = 0;
                    for (int q = a + 1; q < GQ; q++)
                    {
                        int target = f.CellAt(o, p, q);
                        sum += scale * dOut[d + (long)target * cells + m] * gates[g + f.MB * cells + target]
                            * tables[pb + f.PbAt(p, a, q - 1)];
                    }
                    tables[ab + f.AbAt(a, p, i)] = sum;
                }
            }

            // single_path_chains: lines (second axis), then columns (first axis).
            for (int t = 0; t < 2 * cells; t++)
            {
                if (t < cells)
                {
                    int c = t;
                    var (p, a) = f.CoordsOf(o, c);
                    double dsb = 0, dtt = 0, dmb = 0;
                    for (int a2 = 0; a2 < a; a2++)
                    {
                        int m = f.CellAt(o, p, a2);
                        double input = gates[g + f.SB * cells + m] * scale * dOut[d + (long)c * cells + m];
                        if (p > 0) input += gates[g + f.TT * cells + m] * tables[ft + f.FAt(p, a2, a)];
                        dmb += tables[pb + f.PbAt(p, a2, a - 1)] * input;
                    }
                    double sb = gates[g + f.SB * cells + c], tt = p > 0 ? gates[g + f.TT * cells + c] : 0;
                    double r = 0;
                    for (int q = GQ - 1; q > a; q--)
                    {
                        int target = f.CellAt(o, p, q);
                        double dd = scale * dOut[d + (long)target * cells + c];
                        double fq = p > 0 ? tables[ft + f.FAt(p, a, q)] : 0;
                        double mb = gates[g + f.MB * cells + target];
                        double gb = mb * tables[pb + f.PbAt(p, a, q - 1)];
                        dsb += dd * gb;
                        dtt += fq * gb;
                        if (q > a + 1)
                        {
                            r = mb * (sb * dd + tt * fq) + gates[g + f.TB * cells + target] * r;
                            dGates[g + f.TB * cells + f.CellAt(o, p, q - 1)] += tables[pb + f.PbAt(p, a, q - 2)] * r;
                        }
                    }
                    dGates[g + f.SB * cells + c] = dsb;
                    dGates[g + f.TT * cells + c] = p > 0 ? dtt : 0;
                    dGates[g + f.MB * cells + c] = dmb;
                }
                else
                {
                    int c = t - cells;
                    var (a, q) = f.CoordsOf(o, c);
                    bool turns = q < GQ - 1;
                    double dsa = 0, dma = 0;
                    for (int a2 = 0; a2 < a; a2++)
                    {
                        int m = f.CellAt(o, a2, q);
                        dma += scale * dOut[d + (long)c * cells + m] * tables[pa + f.PaAt(q, a2, a - 1)] * gates[g + f.SA * cells + m];
                    }
                    double sa = gates[g + f.SA * cells + c];
                    double r = 0;
                    for (int p = GP - 1; p > a; p--)
                    {
                        int target = f.CellAt(o, p, q);
                        double e = gates[g + f.MA * cells + target] * scale * dOut[d + (long)target * cells + c];
                        if (turns) e += gates[g + f.TT * cells + target] * tables[ab + f.AbAt(q, p, a)];
                        dsa += tables[pa + f.PaAt(q, a, p - 1)] * e;
                        if (p > a + 1)
                        {
                            r = sa * e + gates[g + f.TA * cells + target] * r;
                            dGates[g + f.TA * cells + f.CellAt(o, p - 1, q)] += tables[pa + f.PaAt(q, a, p - 2)] * r;
                        }
                    }
                    dGates[g + f.SA * cells + c] = dsa;
                    dGates[g + f.MA * cells + c] = dma;
                }
            }
        }
        return dGates;
    }
}
