using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// Log-depth parallel 2D form (README §"Meta-cells" and §"Chunks"): meta-cell quantities (port transitions 𝒯,
/// sources 𝒮, marks ℳ and the in-block gate 𝒢) of P×P chunks, P = 2^levels, are built by merging blocks pairwise,
/// first along x then along y at every level; chunk border states then travel along anti-diagonal wavefronts
/// (all chunks of one anti-diagonal in one batched step), and each cell's output is the read of its chunk's entering
/// border states plus the masked intra-chunk attention.
/// Must equal <see cref="Plstm2DNaive"/>: outputs, final border states and every gradient (autograd through this
/// forward), which the tests check on random inputs for many grid shapes and every level count.
/// </summary>
public static class Plstm2DHierarchical
{
    /// <summary>
    /// Runs the hierarchical form on any X×Y grid and returns the output and the final border states. The chunk side is
    /// 2^lv with lv = min(<paramref name="levels"/>, ⌈log2 X⌉, ⌈log2 Y⌉); each axis is zero-padded at its high end to a
    /// multiple of it (padding after the gates: padded cells are inert, clarification 3–4) and the output cropped.
    /// Absent <see cref="Plstm2DInputs.T0dl"/>/<see cref="Plstm2DInputs.T0ru"/> are zero. The result does not depend on
    /// <paramref name="levels"/>.
    /// </summary>
    public static Plstm2DOutput Forward(Plstm2DInputs inputs, int levels, double? scale = null)
    {
        var (y, right, bottom) = Run(inputs, levels, scale, finalStates: true);
        return new Plstm2DOutput(y, right!, bottom!);
    }

    /// <summary>
    /// As <see cref="Forward"/>, but returns only the output <c>[B, X, Y, DV, JO]</c>. Border work nobody reads is
    /// skipped: the exit states of the last chunk column/row and the reads of all-zero entering states (no initial
    /// state and a single chunk column/row), which for a one-chunk grid is most of the inter-chunk cost.
    /// </summary>
    public static Tensor Output(Plstm2DInputs inputs, int levels, double? scale = null) =>
        Run(inputs, levels, scale, finalStates: false).Y;

    private static (Tensor Y, Tensor? FinalRight, Tensor? FinalBottom) Run(Plstm2DInputs inputs, int levels,
        double? scale, bool finalStates)
    {
        OperatorMath.CheckLevels(levels);
        var dims = inputs.Validate();
        using var scope = NewDisposeScope();
        double c = scale ?? OperatorMath.DefaultScale(dims["DK"]);
        long B = dims["B"], X = dims["X"], Yn = dims["Y"], DK = dims["DK"], DV = dims["DV"];
        long JT = dims["JT"], JK = dims["JK"], JV = dims["JV"], JQ = dims["JQ"], JO = dims["JO"];
        long Z = JK * JV, Yd = JO * JQ;
        int lv = Math.Min(levels, Math.Min(OperatorMath.CeilLog2(X), OperatorMath.CeilLog2(Yn)));
        long P = 1L << lv, Xp = OperatorMath.RoundUp(X, P), Yp = OperatorMath.RoundUp(Yn, P);
        long NX = Xp / P, NY = Yp / P;
        var dtype = inputs.Q.dtype;
        var device = inputs.Q.device;

        Tensor Pad(Tensor t) => PadGrid(t, Xp, Yp);
        // Padded cells carry the final border states through unchanged: identity straight transitions in the
        // padded columns of real rows (rl) and the padded rows of real columns (du); zero everywhere else. Real
        // cells never see padded ones (flow is monotone in x and y), so outputs are unaffected.
        var T0rl = Pad(inputs.T0rl);
        var T0du = Pad(inputs.T0du);
        if (Xp > X) T0rl = T0rl + IdentityRegion(X, Xp, 0, Yn, Xp, Yp, JT, dtype, device);
        if (Yp > Yn) T0du = T0du + IdentityRegion(0, X, Yn, Yp, Xp, Yp, JT, dtype, device);
        var zerosT = zeros(new[] { B, Xp, Yp, JT, JT }, dtype: dtype, device: device);

        // Level 0: every cell is a 1×1 block; block prefix [B, nbx, nby].
        var block = new Block(
            Trl: T0rl.view(B, Xp, Yp, 1, 1, JT, JT),
            Tdu: T0du.view(B, Xp, Yp, 1, 1, JT, JT),
            Tdl: (inputs.T0dl is null ? zerosT : Pad(inputs.T0dl)).view(B, Xp, Yp, 1, 1, JT, JT),
            Tru: (inputs.T0ru is null ? zerosT : Pad(inputs.T0ru)).view(B, Xp, Yp, 1, 1, JT, JT),
            Sr: Pad(inputs.S0r).reshape(B, Xp, Yp, 1, 1, 1, JT, Z),
            Sd: Pad(inputs.S0d).reshape(B, Xp, Yp, 1, 1, 1, JT, Z),
            Ml: Pad(inputs.M0l).reshape(B, Xp, Yp, 1, 1, 1, Yd, JT),
            Mu: Pad(inputs.M0u).reshape(B, Xp, Yp, 1, 1, 1, Yd, JT),
            G: Pad(inputs.D0).reshape(B, Xp, Yp, 1, 1, 1, 1, Yd, Z));
        for (int l = 0; l < lv; l++)
            block = block.MergeAlongX().Transposed().MergeAlongX().Transposed();

        // Chunk-major views of q, k, v: [B, NX, NY, P(x-off), P(y-off), ...].
        var Qc = ChunkMajor(Pad(inputs.Q), NX, NY, P);                                        // [B, NX, NY, P, P, DK, JQ]
        var Kc = ChunkMajor(Pad(inputs.K), NX, NY, P);                                        // [B, NX, NY, P, P, DK, JK]
        var Vc = ChunkMajor(Pad(inputs.V), NX, NY, P);                                        // [B, NX, NY, P, P, DV, JV]

        // Chunk-local source contributions to the exit ports: Σ_cells 𝒮[cell] (K ⊗ V)[cell].
        // Exit states are consumed by the next chunk (or returned as final states); reads of entering states are
        // needed unless every entering state is zero (one chunk column/row and no initial state).
        bool needRight = finalStates || NX > 1, needDown = finalStates || NY > 1;
        bool readLeft = NX > 1 || inputs.InitialLeft is not null, readUp = NY > 1 || inputs.InitialTop is not null;
        var Ur = needRight ? SourceToPorts(block.Sr, Kc, Vc, JT, JK, JV) : null;               // [B, NX, NY, P, DK, DV, JT]
        var Ud = needDown ? SourceToPorts(block.Sd, Kc, Vc, JT, JK, JV) : null;

        // Initial border states, one chunk row (left) / chunk column (top) at a time.
        var initLeft = inputs.InitialLeft is null ? null
            : PadAxis(inputs.InitialLeft, 1, Yp).view(B, NY, P, DK, DV, JT);
        var initTop = inputs.InitialTop is null ? null
            : PadAxis(inputs.InitialTop, 1, Xp).view(B, NX, P, DK, DV, JT);
        var zeroState = zeros(new[] { B, P, DK, DV, JT }, dtype: dtype, device: device);

        // Inter-chunk wavefront: chunks with cx + cy = k depend only on anti-diagonal k − 1.
        var flat = (Tensor t) => t.flatten(1, 2);
        var (Trl, Tdu, Tdl, Tru) = (flat(block.Trl), flat(block.Tdu), flat(block.Tdl), flat(block.Tru));
        var (UrF, UdF) = (Ur is null ? null : flat(Ur), Ud is null ? null : flat(Ud));
        var right = new Tensor[NX, NY];
        var down = new Tensor[NX, NY];
        var leftIn = new Tensor[NX, NY];
        var upIn = new Tensor[NX, NY];
        for (long k = 0; k <= NX + NY - 2 && (needRight || needDown); k++)
        {
            long cx0 = Math.Max(0, k - NY + 1), cx1 = Math.Min(k, NX - 1);
            var ids = new List<long>();
            var lefts = new List<Tensor>();
            var ups = new List<Tensor>();
            for (long cx = cx0; cx <= cx1; cx++)
            {
                long cy = k - cx;
                ids.Add(cx * NY + cy);
                var left = cx > 0 ? right[cx - 1, cy] : initLeft?.select(1, cy) ?? zeroState;
                var up = cy > 0 ? down[cx, cy - 1] : initTop?.select(1, cx) ?? zeroState;
                leftIn[cx, cy] = left;
                upIn[cx, cy] = up;
                lefts.Add(left);
                ups.Add(up);
            }
            var idx = tensor(ids.ToArray(), dtype: ScalarType.Int64, device: device);
            var L = stack(lefts, 1);                                                           // [B, n, P, DK, DV, JT]
            var U = stack(ups, 1);
            if (UrF is not null)
            {
                var r = ApplyPorts(Trl.index_select(1, idx), L) + ApplyPorts(Tru.index_select(1, idx), U)
                        + UrF.index_select(1, idx);
                var rs = r.unbind(1);
                for (long cx = cx0; cx <= cx1; cx++) right[cx, k - cx] = rs[cx - cx0];
            }
            if (UdF is not null)
            {
                var d = ApplyPorts(Tdu.index_select(1, idx), U) + ApplyPorts(Tdl.index_select(1, idx), L)
                        + UdF.index_select(1, idx);
                var ds = d.unbind(1);
                for (long cx = cx0; cx <= cx1; cx++) down[cx, k - cx] = ds[cx - cx0];
            }
        }

        for (long cx = 0; cx < NX; cx++)
            for (long cy = 0; cy < NY; cy++)
            {
                leftIn[cx, cy] ??= cx > 0 ? right[cx - 1, cy] : initLeft?.select(1, cy) ?? zeroState;
                upIn[cx, cy] ??= cy > 0 ? down[cx, cy - 1] : initTop?.select(1, cx) ?? zeroState;
            }

        var y = IntraChunk(block.G, Qc, Kc, Vc, dims);                                          // [B, NX, NY, P, P, DV, JO]
        if (readLeft)
            y = y + ReadPorts(block.Ml.view(B, NX, NY, P, P, P, JO, JQ, JT), Qc, StackChunks(leftIn, NX, NY));
        if (readUp)
            y = y + ReadPorts(block.Mu.view(B, NX, NY, P, P, P, JO, JQ, JT), Qc, StackChunks(upIn, NX, NY));

        y = (y * c).permute(0, 1, 3, 2, 4, 5, 6).reshape(B, Xp, Yp, DV, JO)
            .narrow(1, 0, X).narrow(2, 0, Yn);                                                 // [B, X, Y, DV, JO]
        if (!finalStates)
            return (y.MoveToOuterDisposeScope(), null, null);
        var finalRight = cat(Enumerable.Range(0, (int)NY).Select(cy => right[NX - 1, cy]).ToArray(), 1)
            .narrow(1, 0, Yn);                                                                 // [B, Y, DK, DV, JT]
        var finalBottom = cat(Enumerable.Range(0, (int)NX).Select(cx => down[cx, NY - 1]).ToArray(), 1)
            .narrow(1, 0, X);                                                                  // [B, X, DK, DV, JT]
        return (y.MoveToOuterDisposeScope(), finalRight.MoveToOuterDisposeScope(), finalBottom.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Σ_cell′ Q[cell] 𝒢[cell ← cell′] K[cell′] V[cell′] within each chunk (𝒢 includes D0): masked linear attention.
    /// With all J = 1 (every vision model) it is two batched matmuls around an elementwise mask.
    /// </summary>
    private static Tensor IntraChunk(Tensor gate, Tensor Qc, Tensor Kc, Tensor Vc, ShapeContract dims)
    {
        long B = dims["B"], DK = dims["DK"], DV = dims["DV"];
        long JK = dims["JK"], JV = dims["JV"], JQ = dims["JQ"], JO = dims["JO"];
        long NX = Qc.shape[1], NY = Qc.shape[2], P = Qc.shape[3], cells = P * P;
        if (JK == 1 && JV == 1 && JQ == 1 && JO == 1)
        {
            var q = Qc.reshape(B * NX * NY, cells, DK);                                        // [N, P², DK]
            var k = Kc.reshape(B * NX * NY, cells, DK);
            var v = Vc.reshape(B * NX * NY, cells, DV);                                        // [N, P², DV]
            var mask = gate.reshape(B * NX * NY, cells, cells);                                // [N, P²(target), P²(source)]
            var att = q.matmul(k.transpose(1, 2)) * mask;                                      // [N, P², P²]
            return att.matmul(v).view(B, NX, NY, P, P, DV, 1);                                 // [B, NX, NY, P, P, DV, 1]
        }
        var G = gate.view(B, NX, NY, P, P, P, P, JO, JQ, JK, JV);
        var QK = einsum("...abdq,...cedk->...abceqk", Qc, Kc);                                 // [B, NX, NY, P, P, P, P, JQ, JK]
        var W = einsum("...abceqk,...abceoqkl->...abceol", QK, G);                             // [..., P, P, P, P, JO, JV]
        return einsum("...abceol,...cevl->...abvo", W, Vc);                                    // [B, NX, NY, P, P, DV, JO]
    }

    /// <summary>
    /// Meta-quantities of a grid of equal blocks (sx × sy cells each), prefix <c>[B, nbx, nby]</c>:
    /// Trl <c>[.., sy(r-port), sy(l-port), JT, JT]</c>, Tdu <c>[.., sx(d), sx(u), JT, JT]</c>,
    /// Tdl <c>[.., sx(d), sy(l), JT, JT]</c>, Tru <c>[.., sy(r), sx(u), JT, JT]</c>;
    /// Sr <c>[.., sx, sy (cell), sy(r-port), JT, JK·JV]</c>, Sd <c>[.., sx, sy, sx(d-port), JT, JK·JV]</c>;
    /// Ml <c>[.., sx, sy, sy(l-port), JO·JQ, JT]</c>, Mu <c>[.., sx, sy, sx(u-port), JO·JQ, JT]</c>;
    /// G <c>[.., sx, sy (target), sx, sy (source), JO·JQ, JK·JV]</c>. l/r ports are indexed by y-offset, u/d ports by
    /// x-offset.
    /// </summary>
    private sealed record Block(Tensor Trl, Tensor Tdu, Tensor Tdl, Tensor Tru, Tensor Sr, Tensor Sd, Tensor Ml,
        Tensor Mu, Tensor G)
    {
        /// <summary>Merges horizontally adjacent pairs: A = west (even nbx), B = east; A's r-ports feed B's l-ports.</summary>
        public Block MergeAlongX()
        {
            var (a, b) = Halves();
            var trl = PP(b.Trl, a.Trl);
            var tdl = cat(new[] { a.Tdl, PP(b.Tdl, a.Trl) }, 3);
            var tru = cat(new[] { PP(b.Trl, a.Tru), b.Tru }, 4);
            var tdu = cat(new[]
            {
                cat(new[] { a.Tdu, zeros_like(a.Tdu) }, 4),
                cat(new[] { PP(b.Tdl, a.Tru), b.Tdu }, 4),
            }, 3);
            var sr = cat(new[] { PS(b.Trl, a.Sr), b.Sr }, 3);
            var sd = cat(new[]
            {
                cat(new[] { a.Sd, PS(b.Tdl, a.Sr) }, 5),
                cat(new[] { zeros_like(b.Sd), b.Sd }, 5),
            }, 3);
            var ml = cat(new[] { a.Ml, MP(b.Ml, a.Trl) }, 3);
            var mu = cat(new[]
            {
                cat(new[] { a.Mu, zeros_like(a.Mu) }, 5),
                cat(new[] { MP(b.Ml, a.Tru), b.Mu }, 5),
            }, 3);
            var gBA = MS(b.Ml, a.Sr);                                  // 𝒢[B ← A]: through the shared A.r = B.l ports
            var g = cat(new[]
            {
                cat(new[] { a.G, zeros_like(a.G) }, 5),
                cat(new[] { gBA, b.G }, 5),
            }, 3);
            return new Block(trl, tdu, tdl, tru, sr, sd, ml, mu, g);
        }

        /// <summary>
        /// The same quantities seen with x and y swapped (r↔d, l↔u): merging along y is Transposed ∘ MergeAlongX ∘
        /// Transposed, so the y-merge needs no formulas of its own.
        /// </summary>
        public Block Transposed() => new(
            Trl: Tdu.transpose(1, 2), Tdu: Trl.transpose(1, 2),
            Tdl: Tru.transpose(1, 2), Tru: Tdl.transpose(1, 2),
            Sr: Sd.transpose(1, 2).transpose(3, 4), Sd: Sr.transpose(1, 2).transpose(3, 4),
            Ml: Mu.transpose(1, 2).transpose(3, 4), Mu: Ml.transpose(1, 2).transpose(3, 4),
            G: G.transpose(1, 2).transpose(3, 4).transpose(5, 6));

        /// <summary>Even (west) and odd (east) blocks along axis 1, as views.</summary>
        private (Block West, Block East) Halves()
        {
            static (Tensor, Tensor) Split(Tensor t)
            {
                var halves = t.unflatten(1, new[] { t.shape[1] / 2, 2L }).unbind(2);
                return (halves[0], halves[1]);
            }
            var (trl0, trl1) = Split(Trl); var (tdu0, tdu1) = Split(Tdu); var (tdl0, tdl1) = Split(Tdl);
            var (tru0, tru1) = Split(Tru); var (sr0, sr1) = Split(Sr); var (sd0, sd1) = Split(Sd);
            var (ml0, ml1) = Split(Ml); var (mu0, mu1) = Split(Mu); var (g0, g1) = Split(G);
            return (new Block(trl0, tdu0, tdl0, tru0, sr0, sd0, ml0, mu0, g0),
                new Block(trl1, tdu1, tdl1, tru1, sr1, sd1, ml1, mu1, g1));
        }

        // Port-matrix products; each contracts the shared port index and the JT index. With all J = 1 (every vision
        // model) the two trailing J axes are singletons and the products are plain (broadcast) matmuls, which cost a
        // fraction of einsum's per-call overhead: the merge is dominated by per-op cost, not by arithmetic.
        private static Tensor PP(Tensor t1, Tensor t2) => Scalar(t1, t2)
            ? Unsqueeze2(Squeeze2(t1).matmul(Squeeze2(t2)))
            : einsum("...omij,...mnjk->...onik", t1, t2);

        private static Tensor PS(Tensor t, Tensor s) => Scalar(t, s)
            ? Unsqueeze2(Squeeze2(s).matmul(Squeeze2(t).transpose(-1, -2).unsqueeze(-3)))       // [.., a, b, o]
            : einsum("...omij,...abmjz->...aboiz", t, s);

        private static Tensor MP(Tensor m, Tensor t) => Scalar(m, t)
            ? Unsqueeze2(Squeeze2(m).matmul(Squeeze2(t).unsqueeze(-3)))                          // [.., a, b, n]
            : einsum("...abmyi,...mnij->...abnyj", m, t);

        private static Tensor MS(Tensor m, Tensor s)
        {
            if (!Scalar(m, s)) return einsum("...abmyi,...cdmiz->...abcdyz", m, s);
            var m3 = Squeeze2(m);                                                                // [.., a, b, p]
            var s3 = Squeeze2(s);                                                                // [.., c, d, p]
            long a = m3.shape[^3], b = m3.shape[^2], c = s3.shape[^3], d = s3.shape[^2], p = m3.shape[^1];
            var prefix = m3.shape[..^3];
            var g = m3.reshape([.. prefix, a * b, p]).matmul(s3.reshape([.. prefix, c * d, p]).transpose(-1, -2));
            return g.reshape([.. prefix, a, b, c, d, 1, 1]);
        }

        private static bool Scalar(Tensor x, Tensor y) =>
            x.shape[^1] == 1 && x.shape[^2] == 1 && y.shape[^1] == 1 && y.shape[^2] == 1;

        private static Tensor Squeeze2(Tensor t) => t.reshape(t.shape[..^2]);

        private static Tensor Unsqueeze2(Tensor t) => t.reshape([.. t.shape, 1, 1]);
    }

    private static Tensor ApplyPorts(Tensor t, Tensor states) => einsum("...omij,...mdvj->...odvi", t, states);

    private static Tensor SourceToPorts(Tensor s, Tensor Kc, Tensor Vc, long JT, long JK, long JV)
    {
        var s9 = s.unflatten(s.dim() - 1, new[] { JK, JV });                                             // [.., P, P, P, JT, JK, JV]
        var sk = einsum("...abpikl,...abdk->...abpild", s9, Kc);                                // [.., P, P, P, JT, JV, DK]
        return einsum("...abpild,...abvl->...pdvi", sk, Vc);                                    // [.., P, DK, DV, JT]
    }

    private static Tensor ReadPorts(Tensor m, Tensor Qc, Tensor states)
    {
        var qc = einsum("...abdq,...pdvt->...abpqvt", Qc, states);                              // [.., P, P, P, JQ, DV, JT]
        return einsum("...abpoqt,...abpqvt->...abvo", m, qc);                                   // [.., P, P, DV, JO]
    }

    private static Tensor ChunkMajor(Tensor t, long NX, long NY, long P)
    {
        var shape = new List<long> { t.shape[0], NX, P, NY, P };
        shape.AddRange(t.shape.Skip(3));
        return t.reshape(shape.ToArray()).transpose(2, 3);                                      // [B, NX, NY, P, P, ...]
    }

    private static Tensor StackChunks(Tensor[,] chunks, long NX, long NY) =>
        stack(Enumerable.Range(0, (int)NX)
            .Select(cx => stack(Enumerable.Range(0, (int)NY).Select(cy => chunks[cx, cy]).ToArray(), 1))
            .ToArray(), 1);

    internal static Tensor PadGrid(Tensor t, long xp, long yp) => PadAxis(PadAxis(t, 1, xp), 2, yp);

    internal static Tensor PadAxis(Tensor t, int axis, long size)
    {
        long extra = size - t.shape[axis];
        if (extra == 0) return t;
        var shape = (long[])t.shape.Clone();
        shape[axis] = extra;
        return cat(new[] { t, zeros(shape, dtype: t.dtype, device: t.device) }, axis);
    }

    private static Tensor IdentityRegion(long x0, long x1, long y0, long y1, long xp, long yp, long jt,
        ScalarType dtype, Device device)
    {
        var mask = zeros(new[] { 1, xp, yp, 1, 1 }, dtype: dtype, device: device);
        mask.narrow(1, x0, x1 - x0).narrow(2, y0, y1 - y0).fill_(1.0);
        return mask * eye(jt, dtype: dtype, device: device);                                    // [1, Xp, Yp, JT, JT]
    }
}
