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
    /// Runs the hierarchical form on any X×Y grid. The chunk side is 2^lv with
    /// lv = min(<paramref name="levels"/>, ⌈log2 X⌉, ⌈log2 Y⌉); each axis is zero-padded at its high end to a multiple
    /// of it (padding after the gates: padded cells are inert, clarification 3–4) and the output cropped. Absent
    /// <see cref="Plstm2DInputs.T0dl"/>/<see cref="Plstm2DInputs.T0ru"/> are zero. The result does not depend on
    /// <paramref name="levels"/>.
    /// </summary>
    public static Plstm2DOutput Forward(Plstm2DInputs inputs, int levels, double? scale = null)
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
        var Ur = SourceToPorts(block.Sr, Kc, Vc, JT, JK, JV);                                  // [B, NX, NY, P, DK, DV, JT]
        var Ud = SourceToPorts(block.Sd, Kc, Vc, JT, JK, JV);

        // Initial border states, one chunk row (left) / chunk column (top) at a time.
        var initLeft = inputs.InitialLeft is null ? null
            : PadAxis(inputs.InitialLeft, 1, Yp).view(B, NY, P, DK, DV, JT);
        var initTop = inputs.InitialTop is null ? null
            : PadAxis(inputs.InitialTop, 1, Xp).view(B, NX, P, DK, DV, JT);
        var zeroState = zeros(new[] { B, P, DK, DV, JT }, dtype: dtype, device: device);

        // Inter-chunk wavefront: chunks with cx + cy = k depend only on anti-diagonal k − 1.
        var flat = (Tensor t) => t.flatten(1, 2);
        var (Trl, Tdu, Tdl, Tru) = (flat(block.Trl), flat(block.Tdu), flat(block.Tdl), flat(block.Tru));
        var (UrF, UdF) = (flat(Ur), flat(Ud));
        var right = new Tensor[NX, NY];
        var down = new Tensor[NX, NY];
        var leftIn = new Tensor[NX, NY];
        var upIn = new Tensor[NX, NY];
        for (long k = 0; k <= NX + NY - 2; k++)
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
            var r = ApplyPorts(Trl.index_select(1, idx), L) + ApplyPorts(Tru.index_select(1, idx), U)
                    + UrF.index_select(1, idx);
            var d = ApplyPorts(Tdu.index_select(1, idx), U) + ApplyPorts(Tdl.index_select(1, idx), L)
                    + UdF.index_select(1, idx);
            var rs = r.unbind(1);
            var ds = d.unbind(1);
            for (long cx = cx0; cx <= cx1; cx++)
            {
                right[cx, k - cx] = rs[cx - cx0];
                down[cx, k - cx] = ds[cx - cx0];
            }
        }

        var Lin = StackChunks(leftIn, NX, NY);                                                 // [B, NX, NY, P, DK, DV, JT]
        var Uin = StackChunks(upIn, NX, NY);
        var Ml = block.Ml.view(B, NX, NY, P, P, P, JO, JQ, JT);
        var Mu = block.Mu.view(B, NX, NY, P, P, P, JO, JQ, JT);
        var yInter = ReadPorts(Ml, Qc, Lin) + ReadPorts(Mu, Qc, Uin);                          // [B, NX, NY, P, P, DV, JO]

        var G = block.G.view(B, NX, NY, P, P, P, P, JO, JQ, JK, JV);
        var QK = einsum("...abdq,...cedk->...abceqk", Qc, Kc);                                 // [B, NX, NY, P, P, P, P, JQ, JK]
        var W = einsum("...abceqk,...abceoqkl->...abceol", QK, G);                             // [..., P, P, P, P, JO, JV]
        var yIntra = einsum("...abceol,...cevl->...abvo", W, Vc);                              // [B, NX, NY, P, P, DV, JO]

        var y = ((yInter + yIntra) * c).permute(0, 1, 3, 2, 4, 5, 6).reshape(B, Xp, Yp, DV, JO)
            .narrow(1, 0, X).narrow(2, 0, Yn);                                                 // [B, X, Y, DV, JO]
        var finalRight = cat(Enumerable.Range(0, (int)NY).Select(cy => right[NX - 1, cy]).ToArray(), 1)
            .narrow(1, 0, Yn);                                                                 // [B, Y, DK, DV, JT]
        var finalBottom = cat(Enumerable.Range(0, (int)NX).Select(cx => down[cx, NY - 1]).ToArray(), 1)
            .narrow(1, 0, X);                                                                  // [B, X, DK, DV, JT]
        return new Plstm2DOutput(y.MoveToOuterDisposeScope(), finalRight.MoveToOuterDisposeScope(),
            finalBottom.MoveToOuterDisposeScope());
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
            var a = Map(t => Half(t, 0));
            var b = Map(t => Half(t, 1));
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

        private Block Map(Func<Tensor, Tensor> f) => new(f(Trl), f(Tdu), f(Tdl), f(Tru), f(Sr), f(Sd), f(Ml), f(Mu), f(G));

        private static Tensor Half(Tensor t, int i) => t.unflatten(1, new[] { t.shape[1] / 2, 2L }).select(2, i);

        // Port-matrix products; each contracts the shared port index and the JT index.
        private static Tensor PP(Tensor t1, Tensor t2) => einsum("...omij,...mnjk->...onik", t1, t2);
        private static Tensor PS(Tensor t, Tensor s) => einsum("...omij,...abmjz->...aboiz", t, s);
        private static Tensor MP(Tensor m, Tensor t) => einsum("...abmyi,...mnij->...abnyj", m, t);
        private static Tensor MS(Tensor m, Tensor s) => einsum("...abmyi,...cdmiz->...abcdyz", m, s);
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
