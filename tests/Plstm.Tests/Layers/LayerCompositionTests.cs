using Plstm.Layers;
using Plstm.Ops.TwoD;
using Plstm.Tests.Support;

namespace Plstm.Tests.Layers;

/// <summary>
/// The layer equals an independent composition written in the test from models §1–2 and the golden README's
/// "Computation": projections by einsum from the same parameter tensors, each (head, orientation) scanned separately by
/// <see cref="Plstm2DNaive"/> on an explicitly flipped grid, direct term once, per-head RMS norm, out-projection.
/// Outputs and gradients w.r.t. x and every parameter, float64, random non-saturated parameters.
/// </summary>
public sealed class LayerCompositionTests
{
    private const double Tol = 1e-9;

    [Theory]
    [InlineData("P", 3, 4, 6)]
    [InlineData("P", 5, 6, 1)]
    [InlineData("P", 1, 7, 6)]
    [InlineData("DL", 3, 4, 6)]
    [InlineData("DL", 5, 6, 1)]
    [InlineData("DL", 1, 7, 6)]
    [InlineData("DR", 3, 4, 6)]
    [InlineData("DR", 5, 6, 1)]
    [InlineData("DR", 1, 7, 6)]
    // Non-vision settings the layer also supports: q/k/v sub-heads (S = H and S > H), no q/k/v bias, bias-only S/T/M.
    [InlineData("P", 3, 4, 6, 2, false, false)]
    [InlineData("DL", 3, 4, 6, 4, true, false)]
    [InlineData("DR", 3, 4, 6, 4, false, true)]
    [InlineData("P", 2, 3, 6, 8, true, true)]
    // No q/k/v bias without sub-heads (zero bias rows in the stacked projection).
    [InlineData("DL", 3, 4, 6, 1, false, true)]
    [InlineData("P", 2, 5, 6, 1, false, true)]
    public void Layer_equals_independent_composition(string wiring, int gridX, int gridY, int levels,
        int qkvSubHeads = 1, bool qkvBias = true, bool inputDependentGates = true)
    {
        using var scope = NewDisposeScope();
        var config = wiring switch
        {
            "P" => LayerTestSupport.SmallConfig(Plstm2DMode.P, levels: levels),
            "DL" => LayerTestSupport.SmallConfig(Plstm2DMode.D, "L", levels),
            _ => LayerTestSupport.SmallConfig(Plstm2DMode.D, "R", levels),
        } with { QkvSubHeads = qkvSubHeads, QkvBias = qkvBias, InputDependentGates = inputDependentGates };
        using var layer = new Plstm2DLayer("layer", config);
        layer.to(float64);
        LayerTestSupport.Randomize(layer, seed: 1000 + 10 * gridX + gridY + wiring.Length);

        var g = new Generator(7);
        var x = randn(new long[] { 2, gridX, gridY, config.InputDim }, dtype: float64, generator: g);
        var upstream = randn(new long[] { 2, gridX, gridY, config.InputDim }, dtype: float64, generator: g);
        var parameters = layer.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();
        var p = parameters.ToDictionary(e => e.name, e => e.Item2, StringComparer.Ordinal);

        var fromLayer = LayerTestSupport.Differentiate(layer.forward, x, upstream, parameters);
        var fromComposition = LayerTestSupport.Differentiate(xx => Compose(xx, p, config), x, upstream, parameters);

        var failures = new List<string?>
        {
            TensorAssert.Compare(fromLayer.Y, fromComposition.Y, "y", Tol, Tol),
            TensorAssert.Compare(fromLayer.Dx, fromComposition.Dx, "dx", Tol, Tol),
        };
        foreach (var (name, grad) in fromLayer.DParams)
            failures.Add(TensorAssert.Compare(grad, fromComposition.DParams[name], "d" + name, Tol, Tol));
        var real = failures.Where(f => f is not null).ToList();
        if (real.Count > 0) Assert.Fail(string.Join("\n", real));
        // The random parameters must actually exercise the gates (not a vacuous comparison).
        Assert.True(fromLayer.Y.abs().max().item<double>() > 0.1);
    }

    /// <summary>The layer written out cell-rule by cell-rule, one (head, orientation) scan at a time.</summary>
    private static Tensor Compose(Tensor x, IReadOnlyDictionary<string, Tensor> p, Plstm2DLayerConfig cfg)
    {
        long B = x.shape[0], X = x.shape[1], Y = x.shape[2];
        int D = cfg.InputDim, H = cfg.NumHeads, DK = D / H, DV = D / H, N = 4 * H, G = D / N;
        double c = 1.0 / Math.Sqrt(DK);

        // q/k/v: weight [H', DK', 1, S, D/S] (H' = max(1, H/S), DK' = DK/max(1, S/H)), output channel
        // (h', s, k') = head-major h·DK + i; bias [H, DK, 1] when present.
        int S = cfg.QkvSubHeads;
        Tensor Project(string name)
        {
            var w = p[name + ".weight"].select(2, 0);                                      // [H', DK', S, D/S]
            var z = einsum("hksc,bxysc->bxyhsk", w, x.reshape(B, X, Y, S, D / S)).reshape(B, X, Y, H, DK);
            return cfg.QkvBias ? z + p[name + ".bias"].select(2, 0) : z;                   // [B, X, Y, H, DK]
        }
        var q = Project("query");
        var k = Project("key");
        var v = Project("value_");

        // Gate n reads input channels n·G … n·G+G−1.
        var xg = x.reshape(B, X, Y, N, G);
        // Bias-only gates (InputDependentGates false) ignore x; the transitions' weights then go unused.
        Tensor Raw(string name, string biasName, string weightName) => cfg.InputDependentGates
            ? (xg * p[name + "." + weightName].reshape(N, G)).sum(-1) + p[name + "." + biasName].reshape(N)  // [B, X, Y, N]
            : p[name + "." + biasName].reshape(N).expand(B, X, Y, N);
        Tensor Sig(string name) => sigmoid(Raw(name, "bias", "weight"));
        Tensor Tanh(string name) => tanh(Raw(name, "eigenvalues_bias", "eigenvalues_weight") * 5.0);

        var dHead = sigmoid(p["direct.bias"].reshape(H));                                  // [H]
        var heads = new List<Tensor>();
        for (int h = 0; h < H; h++)
        {
            var qh = q.select(3, h);                                                      // [B, X, Y, DK]
            var kh = k.select(3, h);
            var vh = v.select(3, h);                                                      // [B, X, Y, DV]
            var outH = c * dHead[h] * (qh * kh).sum(-1, keepdim: true) * vh;              // direct term, once
            for (int ori = 0; ori < 4; ori++)
            {
                int n = 4 * h + ori;
                Tensor sR, sD, tRl, tDu, mL, mU;
                Tensor? tDl = null, tRu = null;
                if (cfg.Mode == Plstm2DMode.P)
                {
                    // P gate for kernel gate n uses orientation row n / H, column n % H (orientation-major flattening).
                    int r = n / H, col = n % H;
                    var o = sigmoid(p["orientation_bias"][r, col]
                        + 0.5 * einsum("bxyc,c->bxy", x, p["orientation_weight"][r, col]) / D);
                    var oS = o * Sig("source").select(3, n);
                    var oT = o * Tanh("transition").select(3, n);
                    sR = oS; sD = 1 - oS;
                    tRl = oT; tRu = oT; tDu = 1 - oT; tDl = 1 - oT;
                    mL = Sig("mark").select(3, n); mU = mL;
                }
                else
                {
                    sR = Sig("source_r").select(3, n);
                    sD = Sig("source_d").select(3, n);
                    tRl = Tanh("transition_r").select(3, n);
                    tDu = Tanh("transition_d").select(3, n);
                    var tRd = Tanh("transition_rd").select(3, n);
                    if (cfg.DModeChirality == "L") tRu = tRd; else tDl = tRd;
                    mL = Sig("mark_l").select(3, n);
                    mU = Sig("mark_u").select(3, n);
                }
                // Flip q/k/v and this orientation's gates, scan towards +x+y, flip the result back.
                Tensor F(Tensor t) => Flip(t, ori);
                Tensor Scalar3(Tensor t) => F(t).reshape(B, X, Y, 1, 1, 1);
                Tensor Scalar2(Tensor t) => F(t).reshape(B, X, Y, 1, 1);
                var scan = Plstm2DNaive.Forward(new Plstm2DInputs(
                    F(qh).unsqueeze(-1), F(kh).unsqueeze(-1), F(vh).unsqueeze(-1),
                    Scalar3(sR), Scalar3(sD), Scalar2(tRl), Scalar2(tDu),
                    tDl is null ? null : Scalar2(tDl), tRu is null ? null : Scalar2(tRu),
                    Scalar3(mL), Scalar3(mU), zeros(new long[] { B, X, Y, 1, 1, 1, 1 }, dtype: x.dtype)), c).Y;
                outH = outH + Flip(scan.squeeze(-1), ori);                                 // sum, not mean
            }
            var rms = rsqrt(outH.square().mean(new long[] { -1 }, keepdim: true) + cfg.NormEps);
            heads.Add(outH * rms * p["mhnorm.scale"][h]);
        }
        var z = cat(heads, -1);                                                            // [B, X, Y, H·DV], head-major
        return einsum("bxym,jm->bxyj", z, p["outprojection.weight"]);                      // y = z·Wᵀ
    }

    private static Tensor Flip(Tensor t, int orientation) => orientation switch
    {
        0 => t,
        1 => t.flip(1),
        2 => t.flip(2),
        _ => t.flip(1, 2),
    };
}
