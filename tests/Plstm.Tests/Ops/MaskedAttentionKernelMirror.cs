namespace Plstm.Tests.Ops;

/// <summary>
/// The CUDA kernels of <c>src/Plstm/Ops/TwoD/Kernels/masked_attention.cu</c> written again in C# over plain arrays,
/// block by block and warp by warp, with the kernels' tiles, padded shared-memory rows, index expressions and register
/// fragments: every lane's values are kept in arrays indexed by lane, and <see cref="Mma"/> assembles the 16 × 8 · 8 × 8
/// tensor-core product from the lanes' fragments by the PTX layouts the kernels rely on (A: a0 (g, t), a1 (g + 8, t), a2
/// (g, t + 4), a3 (g + 8, t + 4); B: b0 (t, g), b1 (t + 4, g); C: c0 (g, 2t), c1 (g, 2t + 1), c2 (g + 8, 2t), c3 (g + 8,
/// 2t + 1); g = lane / 4, t = lane % 4). The GPU cannot run in the test suite, so this mirror is what checks the kernels'
/// layout on the CPU — the accumulator reused as the next product's A operand with its reduction slots relabelled, the
/// partial last tiles, the transposed gate reads, the rows past T — against plain products (MaskedAttentionKernelTests);
/// `plstm selfcheck` checks the compiled kernels on a GPU. Keep the two in step.
/// <para>With <c>tf32</c> false every split is exact (big = x, small = 0) and the mirror computes in float64, so any
/// index error shows at full size; with <c>tf32</c> true the splits are the kernels' (big rounded to TF32 by two integer
/// operations, small = x − big in float32, read by the "tensor core" truncated to TF32), which checks the 3xTF32
/// arithmetic's accuracy claim (accumulation here stays float64).</para>
/// </summary>
public static class MaskedAttentionKernelMirror
{
    private const int Warps = 4, Rows = 16 * Warps, ForwardTile = 64, BackwardTile = 32, Lanes = 32;

    private readonly record struct Shape(int T, int DK, int DV)
    {
        public int LDK => DK + 4;
        public int LDV => DV + 4;
        public int KS => DK / 8;
        public int VS => DV / 8;
    }

    /// <summary>x rounded to TF32 as the kernels' split rounds it (two integer operations on the float32 bits): the big
    /// part of 3xTF32, and the whole operand of the one-product form.</summary>
    public static float RoundToTf32(float x) =>
        BitConverter.Int32BitsToSingle((int)((uint)(BitConverter.SingleToInt32Bits(x) + 0x1000) & 0xffffe000u));

    /// <summary>The TF32 split of x: (big, small) as the tensor core reads them.</summary>
    private static (double Big, double Small) Split(double x, bool tf32)
    {
        if (!tf32) return (x, 0.0);
        float f = (float)x;
        float big = RoundToTf32(f);
        float small = f - big;
        float read = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(small) & unchecked((int)0xffffe000u));
        return (big, read);
    }

    /// <summary>mma.m16n8k8: c += A·B over the warp, from the lanes' fragments.</summary>
    private static void Mma(double[,] c, double[,] a, double[,] b)
    {
        var A = new double[16, 8];
        var B = new double[8, 8];
        for (int lane = 0; lane < Lanes; lane++)
        {
            int g = lane >> 2, t = lane & 3;
            A[g, t] = a[lane, 0];
            A[g + 8, t] = a[lane, 1];
            A[g, t + 4] = a[lane, 2];
            A[g + 8, t + 4] = a[lane, 3];
            B[t, g] = b[lane, 0];
            B[t + 4, g] = b[lane, 1];
        }
        for (int lane = 0; lane < Lanes; lane++)
        {
            int g = lane >> 2, t = lane & 3;
            for (int e = 0; e < 4; e++)
            {
                int row = g + (e >= 2 ? 8 : 0), col = 2 * t + (e & 1);
                double sum = 0;
                for (int kk = 0; kk < 8; kk++) sum += A[row, kk] * B[kk, col];
                c[lane, e] += sum;
            }
        }
    }

    /// <summary>The three products of 3xTF32 on one accumulator: small·big, big·small, big·big.</summary>
    private static void Mma3(double[,] c, double[,] ab, double[,] asm, double[,] bb, double[,] bsm)
    {
        Mma(c, asm, bb);
        Mma(c, ab, bsm);
        Mma(c, ab, bb);
    }

    /// <summary>The kernels' <c>RowLayout</c>: entry n = (n / Heads, n % Heads) starts Batch·(n / Heads) + Head·(n % Heads)
    /// values from the array's start plus <c>Offset</c> (the kernels' pointer arithmetic on the operand's base), its rows
    /// Row values apart.</summary>
    public readonly record struct Layout(long Batch, long Head, int Row, int Heads, long Offset = 0)
    {
        /// <summary>A contiguous [N, T, W] operand.</summary>
        public static Layout Contiguous(int tokens, int width) => new((long)tokens * width, 0, width, 1);

        /// <summary>entry(): where entry n starts.</summary>
        public long Entry(int n) => Offset + n / Heads * Batch + n % Heads * Head;
    }

    /// <summary>load_tile: rows [row0, row0 + rows) of a [T, W] matrix (at offset, rows ld apart) with row stride W + 4,
    /// zeros past T.</summary>
    private static double[] LoadTile(double[] source, long offset, int ld, int width, int row0, int rows, int tokens)
    {
        var tile = new double[rows * (width + 4)];
        for (int r = 0; r < rows; r++)
            if (row0 + r < tokens)
                for (int c = 0; c < width; c++) tile[r * (width + 4) + c] = source[offset + (long)(row0 + r) * ld + c];
        return tile;
    }

    /// <summary>shared_a: the warp's A operand of 16 shared rows (from offset own) at reduction slice s, split.</summary>
    private static (double[,] Big, double[,] Small) SharedA(double[] shared, int own, int ld, int s, bool tf32)
    {
        var big = new double[Lanes, 4];
        var small = new double[Lanes, 4];
        for (int lane = 0; lane < Lanes; lane++)
        {
            int g = lane >> 2, t = lane & 3, p = own + g * ld + 8 * s + t;
            double[] raw = { shared[p], shared[p + 8 * ld], shared[p + 4], shared[p + 8 * ld + 4] };
            for (int e = 0; e < 4; e++) (big[lane, e], small[lane, e]) = Split(raw[e], tf32);
        }
        return (big, small);
    }

    /// <summary>tile_b: each lane's B values tile[p(lane)] and tile[p(lane) + second], split.</summary>
    private static (double[,] Big, double[,] Small) TileB(double[] tile, Func<int, int, int> position, int second, bool tf32)
    {
        var big = new double[Lanes, 2];
        var small = new double[Lanes, 2];
        for (int lane = 0; lane < Lanes; lane++)
        {
            int p = position(lane >> 2, lane & 3);
            (big[lane, 0], small[lane, 0]) = Split(tile[p], tf32);
            (big[lane, 1], small[lane, 1]) = Split(tile[p + second], tf32);
        }
        return (big, small);
    }

    /// <summary>rows_times_tile: acc[sj] += the warp's rows (slice s) times tile rows 8 sj + g, for the first slices.</summary>
    private static void RowsTimesTile(double[][,] acc, double[] own, int ownOffset, int lda, double[] tile, int ldb, int s,
        int slices, bool tf32)
    {
        var (ab, asm) = SharedA(own, ownOffset, lda, s, tf32);
        for (int sj = 0; sj < slices; sj++)
        {
            int slice = sj;
            var (bb, bsm) = TileB(tile, (g, t) => (8 * slice + g) * ldb + 8 * s + t, 4, tf32);
            Mma3(acc[sj], ab, asm, bb, bsm);
        }
    }

    /// <summary>product_times_tile: acc[s] += accumulator p (slots relabelled) times tile rows 8 sj + 2t, 8 sj + 2t + 1.</summary>
    private static void ProductTimesTile(double[][,] acc, double[,] p, double[] tile, int ld, int sj, int outSlices, bool tf32)
    {
        var ab = new double[Lanes, 4];
        var asm = new double[Lanes, 4];
        int[] order = { 0, 2, 1, 3 };                                     // accumulator_as_a
        for (int lane = 0; lane < Lanes; lane++)
            for (int e = 0; e < 4; e++) (ab[lane, e], asm[lane, e]) = Split(p[lane, order[e]], tf32);
        for (int s = 0; s < outSlices; s++)
        {
            int slice = s;
            var (bb, bsm) = TileB(tile, (g, t) => (8 * sj + 2 * t) * ld + 8 * slice + g, ld, tf32);
            Mma3(acc[s], ab, asm, bb, bsm);
        }
    }

    /// <summary>load_gate: the lanes' gate values of a tile (rows r0 = row0 + g, r1 = r0 + 8; columns c0 + 8 sj + 2t (+1)),
    /// zero outside T × T or past the tile's slices; transposed reads gate[column, row].</summary>
    private static double[][,] LoadGate(double[] gate, long offset, int row0, int c0, int slices, int allSlices, int tokens,
        bool transposed)
    {
        var gv = NewAccumulators(allSlices);
        for (int sj = 0; sj < allSlices; sj++)
            for (int lane = 0; lane < Lanes; lane++)
            {
                int g = lane >> 2, t = lane & 3;
                for (int e = 0; e < 4; e++)
                {
                    int r = row0 + g + (e >= 2 ? 8 : 0), c = c0 + 8 * sj + 2 * t + (e & 1);
                    bool inside = sj < slices && r < tokens && c < tokens;
                    gv[sj][lane, e] = !inside ? 0 : transposed ? gate[offset + (long)c * tokens + r] : gate[offset + (long)r * tokens + c];
                }
            }
        return gv;
    }

    /// <summary>two_products: the warp's a = A Xᵀ over DK (own rows A, tile X) and b = B Yᵀ over DV, each of
    /// <paramref name="allSlices"/> accumulators of which the first <paramref name="slices"/> are formed.</summary>
    private static (double[][,] A, double[][,] B) TwoProducts(Shape sh, double[] ownA, double[] tileA, double[] ownB,
        double[] tileB, int warp, int allSlices, int slices, bool tf32)
    {
        var a = NewAccumulators(allSlices);
        var b = NewAccumulators(allSlices);
        for (int s = 0; s < Math.Max(sh.KS, sh.VS); s++)
        {
            if (s < sh.KS) RowsTimesTile(a, ownA, warp * 16 * sh.LDK, sh.LDK, tileA, sh.LDK, s, slices, tf32);
            if (s < sh.VS) RowsTimesTile(b, ownB, warp * 16 * sh.LDV, sh.LDV, tileB, sh.LDV, s, slices, tf32);
        }
        return (a, b);
    }

    private static double[][,] NewAccumulators(int count) => Enumerable.Range(0, count).Select(_ => new double[Lanes, 4]).ToArray();

    /// <summary>store_rows: an accumulator [16, W] of rows row0 + g, row0 + g + 8 into a [T, W] matrix (at offset, rows ld
    /// apart), rows past T left out.</summary>
    private static void StoreRows(double[] target, long offset, int ld, double[][,] acc, int width, int row0, int tokens)
    {
        for (int s = 0; s < width / 8; s++)
            for (int lane = 0; lane < Lanes; lane++)
            {
                int g = lane >> 2, t = lane & 3;
                for (int e = 0; e < 4; e++)
                {
                    int r = row0 + g + (e >= 2 ? 8 : 0), col = 8 * s + 2 * t + (e & 1);
                    if (r < tokens) target[offset + (long)r * ld + col] = acc[s][lane, e];
                }
            }
    }

    private static int Slices(int tile, int tokens, int start) => (Math.Min(tile, tokens - start) + 7) / 8;

    /// <summary>plstm_masked_attention_forward: Y = (Q Kᵀ ⊙ G) V, [N, T, DV], for Q, K [N, T, DK], V [N, T, DV], G [N, T, T]
    /// (row-major arrays).</summary>
    public static double[] Forward(double[] q, double[] k, double[] v, double[] gate, int n, int tokens, int dk, int dv,
        bool tf32 = false)
    {
        var y = new double[(long)n * tokens * dv];
        Layout qk = Layout.Contiguous(tokens, dk), vy = Layout.Contiguous(tokens, dv);
        ForwardInto(q, qk, k, qk, v, vy, gate, y, vy, n, tokens, dk, dv, tf32);
        return y;
    }

    /// <summary><see cref="Forward"/> on operands placed by layouts, y written into <paramref name="y"/> where
    /// <paramref name="ly"/> says.</summary>
    public static void ForwardInto(double[] q, Layout lq, double[] k, Layout lk, double[] v, Layout lv, double[] gate,
        double[] y, Layout ly, int n, int tokens, int dk, int dv, bool tf32 = false) =>
        Attend(q, lq, k, lk, v, lv, gate, n, tokens, dk, dv, tf32,
            (b, row0, acc) => StoreRows(y, ly.Entry(b), ly.Row, acc, dv, row0, tokens));

    /// <summary>plstm_masked_attention_forward_normalized: <see cref="ForwardInto"/>, then per row r = (Σ y² / DV +
    /// eps)^−½ from the four lanes holding it (partial sums per lane, then the shuffles xor 1 and xor 2), ŷ = y · r into
    /// <paramref name="yhat"/> (y's layout) and r into <paramref name="inverse"/> at (b · T + row) · H + h for entry
    /// n = (b, h), H = <paramref name="ly"/>'s heads.</summary>
    public static void ForwardNormalizedInto(double[] q, Layout lq, double[] k, Layout lk, double[] v, Layout lv,
        double[] gate, double[] y, double[] yhat, double[] inverse, Layout ly, double eps, int n, int tokens, int dk,
        int dv, bool tf32 = false) =>
        Attend(q, lq, k, lk, v, lv, gate, n, tokens, dk, dv, tf32, (b, row0, acc) =>
        {
            StoreRows(y, ly.Entry(b), ly.Row, acc, dv, row0, tokens);
            var sums = new double[Lanes, 2];                                                 // rows g and g + 8
            for (int lane = 0; lane < Lanes; lane++)
                for (int s = 0; s < dv / 8; s++)
                {
                    sums[lane, 0] += acc[s][lane, 0] * acc[s][lane, 0] + acc[s][lane, 1] * acc[s][lane, 1];
                    sums[lane, 1] += acc[s][lane, 2] * acc[s][lane, 2] + acc[s][lane, 3] * acc[s][lane, 3];
                }
            foreach (int mask in new[] { 1, 2 })                                             // __shfl_xor_sync
            {
                var before = (double[,])sums.Clone();
                for (int lane = 0; lane < Lanes; lane++)
                    for (int row = 0; row < 2; row++) sums[lane, row] = before[lane, row] + before[lane ^ mask, row];
            }
            for (int lane = 0; lane < Lanes; lane++)
            {
                double i0 = 1 / Math.Sqrt(sums[lane, 0] / dv + eps), i1 = 1 / Math.Sqrt(sums[lane, 1] / dv + eps);
                for (int s = 0; s < dv / 8; s++)
                {
                    acc[s][lane, 0] *= i0; acc[s][lane, 1] *= i0;
                    acc[s][lane, 2] *= i1; acc[s][lane, 3] *= i1;
                }
                int g = lane >> 2, t = lane & 3;
                if (t != 0) continue;
                long heads = ly.Heads, at = (b / heads) * tokens, h = b % heads;
                int r0 = row0 + g, r1 = r0 + 8;
                if (r0 < tokens) inverse[(at + r0) * heads + h] = i0;
                if (r1 < tokens) inverse[(at + r1) * heads + h] = i1;
            }
            StoreRows(yhat, ly.Entry(b), ly.Row, acc, dv, row0, tokens);
        });

    /// <summary>The forward kernels' common part (attend): each warp's accumulator of (Q Kᵀ ⊙ G) V for its 16 rows, handed
    /// to <paramref name="store"/> with the entry and the warp's first row.</summary>
    private static void Attend(double[] q, Layout lq, double[] k, Layout lk, double[] v, Layout lv, double[] gate, int n,
        int tokens, int dk, int dv, bool tf32, Action<int, int, double[][,]> store)
    {
        var sh = new Shape(tokens, dk, dv);
        for (int b = 0; b < n; b++)
            for (int block = 0; block * Rows < tokens; block++)
            {
                var ownQ = LoadTile(q, lq.Entry(b), lq.Row, dk, block * Rows, Rows, tokens);
                var acc = Enumerable.Range(0, Warps).Select(_ => NewAccumulators(sh.VS)).ToArray();
                for (int j0 = 0; j0 < tokens; j0 += ForwardTile)
                {
                    var ks = LoadTile(k, lk.Entry(b), lk.Row, dk, j0, ForwardTile, tokens);
                    var vs = LoadTile(v, lv.Entry(b), lv.Row, dv, j0, ForwardTile, tokens);
                    for (int warp = 0; warp < Warps; warp++)
                    {
                        int row0 = block * Rows + warp * 16;
                        if (row0 >= tokens) continue;
                        int slices = Slices(ForwardTile, tokens, j0);
                        var gv = LoadGate(gate, (long)b * tokens * tokens, row0, j0, slices, ForwardTile / 8, tokens, false);
                        var sc = NewAccumulators(ForwardTile / 8);
                        for (int s = 0; s < sh.KS; s++)
                            RowsTimesTile(sc, ownQ, warp * 16 * sh.LDK, sh.LDK, ks, sh.LDK, s, slices, tf32);
                        for (int sj = 0; sj < slices; sj++)
                        {
                            Scale(sc[sj], gv[sj]);
                            ProductTimesTile(acc[warp], sc[sj], vs, sh.LDV, sj, sh.VS, tf32);
                        }
                    }
                }
                for (int warp = 0; warp < Warps; warp++)
                    store(b, block * Rows + warp * 16, acc[warp]);
            }
    }

    /// <summary>plstm_masked_attention_backward_query: dQ [N, T, DK] and dG = (dY Vᵀ) ⊙ (Q Kᵀ) [N, T, T].</summary>
    public static (double[] DQ, double[] DGate) BackwardQuery(double[] q, double[] k, double[] v, double[] gate, double[] dy,
        int n, int tokens, int dk, int dv, bool tf32 = false)
    {
        var dq = new double[(long)n * tokens * dk];
        var dgate = new double[(long)n * tokens * tokens];
        Layout qk = Layout.Contiguous(tokens, dk), vy = Layout.Contiguous(tokens, dv);
        BackwardQueryInto(q, qk, k, qk, v, vy, gate, dy, vy, dq, qk, dgate, n, tokens, dk, dv, tf32);
        return (dq, dgate);
    }

    /// <summary><see cref="BackwardQuery"/> on operands placed by layouts, dQ written where <paramref name="ldq"/> says,
    /// the gate's gradient into the contiguous <paramref name="dgate"/>.</summary>
    public static void BackwardQueryInto(double[] q, Layout lq, double[] k, Layout lk, double[] v, Layout lv,
        double[] gate, double[] dy, Layout ldy, double[] dq, Layout ldq, double[] dgate, int n, int tokens, int dk, int dv,
        bool tf32 = false)
    {
        var sh = new Shape(tokens, dk, dv);
        for (int b = 0; b < n; b++)
            for (int block = 0; block * Rows < tokens; block++)
            {
                var ownQ = LoadTile(q, lq.Entry(b), lq.Row, dk, block * Rows, Rows, tokens);
                var ownDy = LoadTile(dy, ldy.Entry(b), ldy.Row, dv, block * Rows, Rows, tokens);
                var acc = Enumerable.Range(0, Warps).Select(_ => NewAccumulators(sh.KS)).ToArray();
                for (int j0 = 0; j0 < tokens; j0 += BackwardTile)
                {
                    var ks = LoadTile(k, lk.Entry(b), lk.Row, dk, j0, BackwardTile, tokens);
                    var vs = LoadTile(v, lv.Entry(b), lv.Row, dv, j0, BackwardTile, tokens);
                    for (int warp = 0; warp < Warps; warp++)
                    {
                        int row0 = block * Rows + warp * 16;
                        if (row0 >= tokens) continue;
                        int slices = Slices(BackwardTile, tokens, j0);
                        var gv = LoadGate(gate, (long)b * tokens * tokens, row0, j0, slices, BackwardTile / 8, tokens, false);
                        var (sc, da) = TwoProducts(sh, ownQ, ks, ownDy, vs, warp, BackwardTile / 8, slices, tf32);
                        for (int sj = 0; sj < slices; sj++)
                        {
                            for (int lane = 0; lane < Lanes; lane++)
                                for (int e = 0; e < 4; e++)
                                {
                                    int r = row0 + (lane >> 2) + (e >= 2 ? 8 : 0), c = j0 + 8 * sj + 2 * (lane & 3) + (e & 1);
                                    if (r < tokens && c < tokens)
                                        dgate[(long)b * tokens * tokens + (long)r * tokens + c] = da[sj][lane, e] * sc[sj][lane, e];
                                }
                            Scale(da[sj], gv[sj]);
                            ProductTimesTile(acc[warp], da[sj], ks, sh.LDK, sj, sh.KS, tf32);
                        }
                    }
                }
                for (int warp = 0; warp < Warps; warp++)
                    StoreRows(dq, ldq.Entry(b), ldq.Row, acc[warp], dk, block * Rows + warp * 16, tokens);
            }
    }

    /// <summary>plstm_masked_attention_backward_key: dK [N, T, DK] and dV [N, T, DV], per 16 keys, products transposed.</summary>
    public static (double[] DK, double[] DV) BackwardKey(double[] q, double[] k, double[] v, double[] gate, double[] dy,
        int n, int tokens, int dk, int dv, bool tf32 = false)
    {
        var dK = new double[(long)n * tokens * dk];
        var dV = new double[(long)n * tokens * dv];
        Layout qk = Layout.Contiguous(tokens, dk), vy = Layout.Contiguous(tokens, dv);
        BackwardKeyInto(q, qk, k, qk, v, vy, gate, dy, vy, dK, qk, dV, vy, n, tokens, dk, dv, tf32);
        return (dK, dV);
    }

    /// <summary><see cref="BackwardKey"/> on operands placed by layouts, dK and dV written where <paramref name="ldk"/> and
    /// <paramref name="ldv"/> say.</summary>
    public static void BackwardKeyInto(double[] q, Layout lq, double[] k, Layout lk, double[] v, Layout lv, double[] gate,
        double[] dy, Layout ldy, double[] dK, Layout ldk, double[] dV, Layout ldv, int n, int tokens, int dk, int dv,
        bool tf32 = false)
    {
        var sh = new Shape(tokens, dk, dv);
        for (int b = 0; b < n; b++)
            for (int block = 0; block * Rows < tokens; block++)
            {
                var ownK = LoadTile(k, lk.Entry(b), lk.Row, dk, block * Rows, Rows, tokens);
                var ownV = LoadTile(v, lv.Entry(b), lv.Row, dv, block * Rows, Rows, tokens);
                var dka = Enumerable.Range(0, Warps).Select(_ => NewAccumulators(sh.KS)).ToArray();
                var dva = Enumerable.Range(0, Warps).Select(_ => NewAccumulators(sh.VS)).ToArray();
                for (int i0 = 0; i0 < tokens; i0 += BackwardTile)
                {
                    var qs = LoadTile(q, lq.Entry(b), lq.Row, dk, i0, BackwardTile, tokens);
                    var dys = LoadTile(dy, ldy.Entry(b), ldy.Row, dv, i0, BackwardTile, tokens);
                    for (int warp = 0; warp < Warps; warp++)
                    {
                        int row0 = block * Rows + warp * 16;
                        if (row0 >= tokens) continue;
                        int slices = Slices(BackwardTile, tokens, i0);
                        var gv = LoadGate(gate, (long)b * tokens * tokens, row0, i0, slices, BackwardTile / 8, tokens, true);
                        var (st, dat) = TwoProducts(sh, ownK, qs, ownV, dys, warp, BackwardTile / 8, slices, tf32);
                        for (int si = 0; si < slices; si++)
                        {
                            Scale(st[si], gv[si]);
                            Scale(dat[si], gv[si]);
                            ProductTimesTile(dva[warp], st[si], dys, sh.LDV, si, sh.VS, tf32);
                            ProductTimesTile(dka[warp], dat[si], qs, sh.LDK, si, sh.KS, tf32);
                        }
                    }
                }
                for (int warp = 0; warp < Warps; warp++)
                {
                    StoreRows(dK, ldk.Entry(b), ldk.Row, dka[warp], dk, block * Rows + warp * 16, tokens);
                    StoreRows(dV, ldv.Entry(b), ldv.Row, dva[warp], dv, block * Rows + warp * 16, tokens);
                }
            }
    }

    /// <summary>plstm_masked_attention_backward_fused: dQ, dK, dV and dG in one pass per 64 keys.</summary>
    public static (double[] DQ, double[] DK, double[] DV, double[] DGate) BackwardFused(double[] q, double[] k, double[] v,
        double[] gate, double[] dy, int n, int tokens, int dk, int dv, bool tf32 = false, int tile = BackwardTile)
    {
        var dq = new double[(long)n * tokens * dk];
        var dK = new double[(long)n * tokens * dk];
        var dV = new double[(long)n * tokens * dv];
        var dgate = new double[(long)n * tokens * tokens];
        Layout qk = Layout.Contiguous(tokens, dk), vy = Layout.Contiguous(tokens, dv);
        BackwardFusedInto(q, qk, k, qk, v, vy, gate, dy, vy, dq, qk, dK, qk, dV, vy, dgate, n, tokens, dk, dv, tf32, tile);
        return (dq, dK, dV, dgate);
    }

    /// <summary><see cref="BackwardFused"/> on operands placed by layouts: dK, dV written where their layouts say, dQ ADDED
    /// where <paramref name="ldq"/> says (each block of keys adds its share, as the kernel's L2 reductions do: the caller
    /// zeroes it), the gate's gradient into the contiguous <paramref name="dgate"/>; <paramref name="tile"/> queries per
    /// tile (the kernel's BWD_TILE: 16 or 32 as the host picks it, or 64).</summary>
    public static void BackwardFusedInto(double[] q, Layout lq, double[] k, Layout lk, double[] v, Layout lv, double[] gate,
        double[] dy, Layout ldy, double[] dq, Layout ldq, double[] dK, Layout ldk, double[] dV, Layout ldv, double[] dgate,
        int n, int tokens, int dk, int dv, bool tf32 = false, int tile = BackwardTile)
    {
        var sh = new Shape(tokens, dk, dv);
        int lds = tile + 4, queryTiles = tile / 16, warpsPerTile = Warps / queryTiles;
        int perWarp = (sh.KS + warpsPerTile - 1) / warpsPerTile;
        for (int b = 0; b < n; b++)
            for (int block = 0; block * Rows < tokens; block++)
            {
                var ownK = LoadTile(k, lk.Entry(b), lk.Row, dk, block * Rows, Rows, tokens);
                var ownV = LoadTile(v, lv.Entry(b), lv.Row, dv, block * Rows, Rows, tokens);
                var ds = new double[Rows * lds];                                  // dSᵀ: the block's keys × the tile's queries
                var dka = Enumerable.Range(0, Warps).Select(_ => NewAccumulators(sh.KS)).ToArray();
                var dva = Enumerable.Range(0, Warps).Select(_ => NewAccumulators(sh.VS)).ToArray();
                for (int i0 = 0; i0 < tokens; i0 += tile)
                {
                    var qs = LoadTile(q, lq.Entry(b), lq.Row, dk, i0, tile, tokens);
                    var dys = LoadTile(dy, ldy.Entry(b), ldy.Row, dv, i0, tile, tokens);
                    for (int warp = 0; warp < Warps; warp++)
                    {
                        int row0 = block * Rows + warp * 16;
                        if (row0 >= tokens) continue;
                        int slices = Slices(tile, tokens, i0);
                        var gv = LoadGate(gate, (long)b * tokens * tokens, row0, i0, slices, tile / 8, tokens, true);
                        var (st, dat) = TwoProducts(sh, ownK, qs, ownV, dys, warp, tile / 8, slices, tf32);
                        for (int si = 0; si < tile / 8; si++)
                        {
                            if (si < slices)
                            {
                                for (int lane = 0; lane < Lanes; lane++)
                                    for (int e = 0; e < 4; e++)
                                    {
                                        int key = row0 + (lane >> 2) + (e >= 2 ? 8 : 0), query = i0 + 8 * si + 2 * (lane & 3) + (e & 1);
                                        if (key < tokens && query < tokens)
                                            dgate[(long)b * tokens * tokens + (long)query * tokens + key] = dat[si][lane, e] * st[si][lane, e];
                                    }
                                Scale(st[si], gv[si]);
                                Scale(dat[si], gv[si]);
                                ProductTimesTile(dva[warp], st[si], dys, sh.LDV, si, sh.VS, tf32);
                                ProductTimesTile(dka[warp], dat[si], qs, sh.LDK, si, sh.KS, tf32);
                            }
                            for (int lane = 0; lane < Lanes; lane++)                  // staged, zero past the tile's slices
                                for (int e = 0; e < 4; e++)
                                    ds[(warp * 16 + (lane >> 2) + (e >= 2 ? 8 : 0)) * lds + 8 * si + 2 * (lane & 3) + (e & 1)] =
                                        si < slices ? dat[si][lane, e] : 0;
                        }
                    }
                    // dQ of the tile's queries: dS (queries × the block's keys) times the block's K, per warp one 16-row
                    // query tile and every warpsPerTile-th n-slice, added.
                    for (int warp = 0; warp < Warps; warp++)
                    {
                        int qrow = 16 * (warp % queryTiles), wsub = warp / queryTiles;
                        if (i0 + qrow >= tokens) continue;
                        var acc = NewAccumulators(perWarp);
                        for (int ks = 0; ks < Rows / 8; ks++)
                        {
                            var ab = new double[Lanes, 4];
                            var asm = new double[Lanes, 4];
                            for (int lane = 0; lane < Lanes; lane++)
                            {
                                int p = (8 * ks + (lane & 3)) * lds + qrow + (lane >> 2);
                                double[] raw = { ds[p], ds[p + 8], ds[p + 4 * lds], ds[p + 4 * lds + 8] };
                                for (int e = 0; e < 4; e++) (ab[lane, e], asm[lane, e]) = Split(raw[e], tf32);
                            }
                            for (int u = 0; u < perWarp; u++)
                            {
                                int slice = wsub + u * warpsPerTile, keySlice = ks;
                                if (slice >= sh.KS) continue;
                                var (bb, bsm) = TileB(ownK, (g, t) => (8 * keySlice + t) * sh.LDK + 8 * slice + g, 4 * sh.LDK, tf32);
                                Mma3(acc[u], ab, asm, bb, bsm);
                            }
                        }
                        for (int u = 0; u < perWarp; u++)
                        {
                            int slice = wsub + u * warpsPerTile;
                            if (slice >= sh.KS) continue;
                            for (int lane = 0; lane < Lanes; lane++)
                                for (int e = 0; e < 4; e++)
                                {
                                    int row = i0 + qrow + (lane >> 2) + (e >= 2 ? 8 : 0), col = 8 * slice + 2 * (lane & 3) + (e & 1);
                                    if (row < tokens) dq[ldq.Entry(b) + (long)row * ldq.Row + col] += acc[u][lane, e];
                                }
                        }
                    }
                }
                for (int warp = 0; warp < Warps; warp++)
                {
                    StoreRows(dK, ldk.Entry(b), ldk.Row, dka[warp], dk, block * Rows + warp * 16, tokens);
                    StoreRows(dV, ldv.Entry(b), ldv.Row, dva[warp], dv, block * Rows + warp * 16, tokens);
                }
            }
    }

    private static void Scale(double[,] values, double[,] by)
    {
        for (int lane = 0; lane < Lanes; lane++)
            for (int e = 0; e < 4; e++) values[lane, e] *= by[lane, e];
    }
}
