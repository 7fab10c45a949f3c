using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.OneD;

/// <summary>
/// Chunkwise-parallel 1D form (README §"Chunkwise form"): per chunk of P = 2^levels positions the meta-quantities
/// 𝒯, 𝒮, ℳ, 𝒢 are built by log-depth doubling, the chunk border states run through a short sequential loop over
/// chunks, and the output is the inter-chunk read plus the masked intra-chunk attention.
/// Must equal <see cref="Plstm1DNaive"/> (outputs, final state and every gradient, via autograd): the tests compare
/// both on random inputs and awkward lengths. Gradients come from TorchSharp autograd through this forward (the
/// reference's hand-written backward drops inter-chunk terms, operators §7.1; not copied).
/// </summary>
public static class Plstm1DChunked
{
    /// <summary>
    /// Runs the chunkwise form. Any length works: the sequence is zero-padded at the end to a multiple of the chunk
    /// (padded positions get identity transitions, so <see cref="Plstm1DOutput.CLast"/> is the state after the last
    /// real position, clarification 10) and cropped. <paramref name="levels"/> ≥ 0 sets the chunk 2^levels (capped at
    /// the padded length); the result does not depend on it.
    /// </summary>
    public static Plstm1DOutput Forward(Plstm1DInputs inputs, int levels, double? scale = null)
    {
        OperatorMath.CheckLevels(levels);
        var dims = inputs.Validate();
        using var scope = NewDisposeScope();
        double c = scale ?? OperatorMath.DefaultScale(dims["DK"]);
        long B = dims["B"], L = dims["L"], DK = dims["DK"], DV = dims["DV"];
        long JT = dims["JT"], JK = dims["JK"], JV = dims["JV"], JQ = dims["JQ"], JO = dims["JO"];
        int lv = Math.Min(levels, OperatorMath.CeilLog2(L));
        long P = 1L << lv, Lp = OperatorMath.RoundUp(L, P), NT = Lp / P, Z = JK * JV, Yd = JO * JQ;

        var Q = PadTime(inputs.Q, Lp);                                                     // [B, Lp, DK, JQ]
        var K = PadTime(inputs.K, Lp);                                                     // [B, Lp, DK, JK]
        var V = PadTime(inputs.V, Lp);                                                     // [B, Lp, DV, JV]
        var T0 = PadTime(inputs.T0, Lp, identity: true);                                   // [B, Lp, JT, JT]

        // Level 0: every position is a block of length 1.
        var Tm = T0;                                                                       // [B, n, JT, JT]
        var Sm = PadTime(inputs.S0, Lp).reshape(B, Lp, 1, JT, Z);                          // [B, n, s, JT, Z]
        var Mm = PadTime(inputs.M0, Lp).reshape(B, Lp, 1, Yd, JT);                         // [B, n, s, Y, JT]
        var Gm = PadTime(inputs.D0, Lp).reshape(B, Lp, 1, 1, Yd, Z);                       // [B, n, s, s, Y, Z]
        for (int l = 0; l < lv; l++)
        {
            long n = Tm.shape[1] / 2, s = Sm.shape[2];
            // Each block pair split by one unbind (autograd: one stack backward) rather than two selects (each of whose
            // backward passes fills a whole zero tensor for its half).
            var (TA, TB) = Halves(Tm.view(B, n, 2, JT, JT));
            var (SA, SB) = Halves(Sm.view(B, n, 2, s, JT, Z));
            var (MA, MB) = Halves(Mm.view(B, n, 2, s, Yd, JT));
            var (GA, GB) = Halves(Gm.view(B, n, 2, s, s, Yd, Z));
            Tm = einsum("bnij,bnjk->bnik", TB, TA);                                        // 𝒯 = 𝒯_B 𝒯_A
            Sm = cat(new[] { einsum("bnij,bnsjz->bnsiz", TB, SA), SB }, 2);                // 𝒮 = [𝒯_B 𝒮_A, 𝒮_B]
            Mm = cat(new[] { MA, einsum("bnsyi,bnij->bnsyj", MB, TA) }, 2);                // ℳ = [ℳ_A, ℳ_B 𝒯_A]
            var GBA = einsum("bnayi,bnciz->bnacyz", MB, SA);                               // 𝒢[B←A] = ℳ_B 𝒮_A
            Gm = cat(new[] { cat(new[] { GA, zeros_like(GA) }, 3), cat(new[] { GBA, GB }, 3) }, 2);
        }
        // Now n = NT chunks of s = P positions.
        var Qc = Q.view(B, NT, P, DK, JQ);
        var Kc = K.view(B, NT, P, DK, JK);
        var Vc = V.view(B, NT, P, DV, JV);
        var S6 = Sm.view(B, NT, P, JT, JK, JV);

        // Chunk-local source contribution: U_c = Σ_b 𝒮_c[b] (K_b ⊗ V_b). Contract the small J axes with V first
        // (per position), then (position, JK) against K in one matmul: going through 𝒮·K first would build a
        // [B, NT, P, JT, JV, DK] intermediate, ten times slower on the CPU for the language-model shapes.
        var SV = einsum("bnpikl,bnpvl->bnpkvi", S6, Vc);                                   // [B, NT, P, JK, DV, JT]
        // The chunk loop's layout: the state as JT rows of DK·DV, so that each step is one batched matrix product.
        var U = einsum("bnpdk,bnpkvi->bnidv", Kc, SV).reshape(B, NT, JT, DK * DV);        // [B, NT, JT, DK·DV]

        // Inter-chunk recurrence: Ĉ_c = 𝒯_c Ĉ_{c-1} + U_c (short sequential loop over chunks). The chunks' 𝒯 and U
        // are split by one unbind each (one stack in backward), not a select per chunk (a zero-filled gradient each).
        var state = inputs.CInitial is { } c0
            ? c0.permute(0, 3, 1, 2).reshape(B, JT, DK * DV)                                // [B, JT, DK·DV]
            : zeros(new[] { B, JT, DK * DV }, dtype: Q.dtype, device: Q.device);
        var transitions = Tm.unbind(1);                                                    // NT × [B, JT, JT]
        var sources = U.unbind(1);                                                         // NT × [B, JT, DK·DV]
        var entering = new Tensor[NT];
        for (long ch = 0; ch < NT; ch++)
        {
            entering[ch] = state;
            state = transitions[ch].matmul(state) + sources[ch];
        }
        var Cin = stack(entering, 1).view(B, NT, JT, DK, DV);                              // [B, NT, JT, DK, DV]

        // Read of the entering state: Q_a ℳ[a] Ĉ_{c-1}.
        var M6 = Mm.view(B, NT, P, JO, JQ, JT);
        var QC = einsum("bnadq,bntdv->bnaqvt", Qc, Cin);                                   // [B, NT, P, JQ, DV, JT]
        var yInter = einsum("bnaoqt,bnaqvt->bnavo", M6, QC);                               // [B, NT, P, DV, JO]

        // Intra-chunk: Σ_b Q_a 𝒢[a,b] K_b V_b as masked attention.
        var G = Gm.view(B, NT, P, P, JO, JQ, JK, JV);
        var QK = einsum("bnadq,bncdk->bnacqk", Qc, Kc);                                    // [B, NT, P, P, JQ, JK]
        // Σ_{q,k} as a broadcast product: einsum would run it as one tiny matmul per position pair.
        var W = (QK.view(B, NT, P, P, 1, JQ, JK, 1) * G).sum(new long[] { 5, 6 });       // [B, NT, P, P, JO, JV]
        var yIntra = einsum("bnacol,bncvl->bnavo", W, Vc);                                 // [B, NT, P, DV, JO]

        var y = ((yInter + yIntra) * c).reshape(B, Lp, DV, JO).narrow(1, 0, L);            // [B, L, DV, JO]
        var last = state.view(B, JT, DK, DV).permute(0, 2, 3, 1).contiguous();             // [B, DK, DV, JT]
        return new Plstm1DOutput(y.MoveToOuterDisposeScope(), last.MoveToOuterDisposeScope());
    }

    /// <summary>The two halves of axis 2 (size 2) of <paramref name="pairs"/>: the earlier and the later block.</summary>
    private static (Tensor Earlier, Tensor Later) Halves(Tensor pairs)
    {
        var halves = pairs.unbind(2);
        return (halves[0], halves[1]);
    }

    /// <summary>Zero-pads axis 1 to <paramref name="length"/>; with <paramref name="identity"/> the padded
    /// [JT, JT] entries are identity matrices instead.</summary>
    private static Tensor PadTime(Tensor t, long length, bool identity = false)
    {
        long extra = length - t.shape[1];
        if (extra == 0) return t;
        var shape = (long[])t.shape.Clone();
        shape[1] = extra;
        Tensor pad;
        if (identity)
        {
            long jt = t.shape[^1];
            pad = eye(jt, dtype: t.dtype, device: t.device).expand(shape).contiguous();
        }
        else
        {
            pad = zeros(shape, dtype: t.dtype, device: t.device);
        }
        return cat(new[] { t, pad }, 1);
    }
}
