using Plstm.Layers.OneD;
using Plstm.Ops.OneD;
using Plstm.Tests.Support;

namespace Plstm.Tests.Layers.OneD;

/// <summary>
/// The layer equals an independent composition written in this test from the reference sources: the convolution as an
/// explicit loop over taps, gates and projections by einsum from the same parameter tensors, the orthogonalised
/// transition as the plain series Σ_k A^k/k! (no normalisation), each head through <see cref="Plstm1DNaive"/> separately,
/// per-head RMS norm written out, out-projection, passthrough. Outputs, final state and gradients w.r.t. x, the initial
/// state and every parameter, float64, random non-saturated parameters.
/// </summary>
public sealed class Plstm1DLayerCompositionTests
{
    private const double Tol = 1e-9;

    [Theory]
    [InlineData(4, 1, 8, "default")]
    [InlineData(4, 7, 8, "default")]
    [InlineData(4, 16, 2, "default")]
    [InlineData(4, 33, 2, "default")]
    [InlineData(1, 1, 8, "default")]
    [InlineData(1, 7, 1, "default")]
    [InlineData(1, 16, 8, "default")]
    [InlineData(1, 33, 3, "default")]
    [InlineData(4, 7, 8, "state")]
    [InlineData(1, 16, 2, "state")]
    [InlineData(3, 7, 2, "variants")]
    [InlineData(3, 33, 8, "variants")]
    public void Layer_equals_independent_composition(int jt, int length, int levels, string variant)
    {
        using var scope = NewDisposeScope();
        var config = variant == "variants"
            ? new Plstm1DLayerConfig(16, 2)
            {
                // Mixed J sizes, every optional weight, symmetric transition, dense q/k/v, V and P from the conv.
                JK = 2, JQ = 2, JV = 2, JO = 2, JT = jt, Levels = levels, SourceWeight = true, MarkWeight = true,
                DirectWeight = true, TransitionSymmetric = true, QkvSubHeads = 1, ConvolutionInputs = "STMDQKVP",
                ConvolutionKernelSize = 3,
            }
            : OneDTestSupport.Small(jt, levels);
        using var layer = new Plstm1DLayer("layer", config);
        layer.to(float64);
        OneDTestSupport.Randomize(layer, seed: 100 * jt + length + variant.Length);

        var g = new Generator((ulong)(7 + length));
        int B = 2, H = config.NumHeads;
        var x = randn(new long[] { B, length, config.InputDim }, dtype: float64, generator: g);
        var upY = randn(new long[] { B, length, config.InputDim }, dtype: float64, generator: g);
        var upC = randn(new long[] { B, H, config.DK, config.DV, config.JT }, dtype: float64, generator: g);
        Tensor? c0 = variant == "state"
            ? (0.5 * randn(new long[] { B, H, config.DK, config.DV, config.JT }, dtype: float64, generator: g)).requires_grad_(true)
            : null;

        var parameters = layer.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();
        var p = parameters.ToDictionary(e => e.name, e => e.Item2, StringComparer.Ordinal);
        if (c0 is not null) parameters.Add(("initialState", c0));

        var fromLayer = OneDTestSupport.Differentiate(xx =>
        {
            var y = layer.Forward(xx, c0, out var state);
            return (y, state.reshape(B, H, config.DK, config.DV, config.JT));
        }, x, upY, upC, parameters);
        var fromComposition = OneDTestSupport.Differentiate(xx => Compose(xx, c0, p, config), x, upY, upC, parameters);

        var failures = new List<string?>
        {
            TensorAssert.Compare(fromLayer.Y, fromComposition.Y, "y", Tol, Tol),
            TensorAssert.Compare(fromLayer.C, fromComposition.C, "final state", Tol, Tol),
            TensorAssert.Compare(fromLayer.Dx, fromComposition.Dx, "dx", Tol, Tol),
        };
        foreach (var (name, grad) in fromLayer.DParams)
            failures.Add(TensorAssert.Compare(grad, fromComposition.DParams[name], "d" + name, Tol, Tol));
        var real = failures.Where(f => f is not null).ToList();
        if (real.Count > 0) Assert.Fail(string.Join("\n", real));

        // Not a vacuous comparison: the output is O(1) and every parameter (and the state) gets a gradient.
        Assert.True(fromLayer.Y.abs().max().item<double>() > 0.1);
        foreach (var (name, grad) in fromLayer.DParams)
        {
            // With one position and no initial state nothing enters through an edge: M and T cannot matter.
            bool unreachable = length == 1 && c0 is null
                && (name.StartsWith("mark", StringComparison.Ordinal) || name.StartsWith("transition", StringComparison.Ordinal));
            if (!unreachable)
                Assert.True(grad.abs().max().item<double>() > 1e-8, $"parameter {name} got no gradient");
        }
    }

    /// <summary>The layer, written out from the reference sources. Returns y <c>[B, T, D]</c> and the final state
    /// <c>[B, H, DK, DV, JT]</c>.</summary>
    private static (Tensor Y, Tensor C) Compose(Tensor x, Tensor? c0, IReadOnlyDictionary<string, Tensor> p,
        Plstm1DLayerConfig cfg)
    {
        long B = x.shape[0], T = x.shape[1];
        int D = cfg.InputDim, H = cfg.NumHeads, DK = cfg.DK, DV = cfg.DV, JT = cfg.JT, JO = cfg.JO;
        int K = cfg.ConvolutionKernelSize;

        // Causal depthwise conv: c[t] = b + Σ_j w[:, 0, j] ⊙ x[t − (K−1) + j] (zero before the start).
        var w = p["conv._conv.weight"];
        var rows = new List<Tensor>();
        for (long t = 0; t < T; t++)
        {
            var acc = p["conv._conv.bias"].expand(B, D);
            for (int j = 0; j < K; j++)
            {
                long src = t - (K - 1) + j;
                if (src >= 0) acc = acc + w[.., 0, j] * x[.., src, ..];
            }
            rows.Add(acc);
        }
        var c = stack(rows, 1);                                                              // [B, T, D]
        Tensor In(char part) => cfg.ConvolutionInputs.Contains(part) ? c : x;

        // Gates (sub_heads 1: each head's gate reads all D channels of its input).
        Tensor Sigmoid(string name, char part, params long[] js)
        {
            var bias = p[name + ".bias"];                                                    // [H, J...]
            if (!p.TryGetValue(name + ".weight", out var wt))
                return sigmoid(bias).expand([B, T, .. bias.shape]);
            var flat = wt.reshape(H, -1, D);                                                 // [H, ΠJ, D]
            var z = einsum("hjc,btc->bthj", flat, In(part)).reshape([B, T, .. bias.shape]);
            return sigmoid(z + bias);
        }
        var S = Sigmoid("source", 'S');                                                      // [B, T, H, JT, JK, JV]
        var M = Sigmoid("mark", 'M');                                                        // [B, T, H, JO, JQ, JT]
        var Dg = Sigmoid("direct", 'D');                                                     // [B, T, H, JO, JQ, JK, JV]

        var xt = In('T');
        var lambda = tanh(5.0 * (p["transition.eigenvalues_bias"]
            + einsum("hjc,btc->bthj", p["transition.eigenvalues_weight"].select(1, 0), xt)));  // [B, T, H, JT]
        Tensor Tr;
        if (JT == 1)
        {
            Tr = lambda.unsqueeze(-1);                                                        // [B, T, H, 1, 1]
        }
        else
        {
            Tensor Orth(string which) => ExpSeries(p[$"transition.{which}_bias"]
                + einsum("hijc,btc->bthij", p[$"transition.{which}_weight"].select(1, 0), xt));
            var V = Orth("inproj");
            var U = cfg.TransitionSymmetric ? V.transpose(-2, -1) : Orth("outproj");
            Tr = einsum("bthij,bthj,bthjl->bthil", U, lambda, V);                            // [B, T, H, JT, JT]
        }

        // q/k/v: weight [H/S', DK', J, S, D/S] with S sub-heads (S = H: block-diagonal; S = 1: dense).
        Tensor Project(string name, char part, int size)
        {
            var wt = p[name + ".weight"];
            long S_ = wt.shape[3], group = D / S_;
            var grouped = In(part).reshape(B, T, S_, group);
            Tensor outT = S_ == H
                ? einsum("ijhc,bthc->bthij", wt.select(0, 0), grouped)                       // head h reads group h
                : einsum("hijc,btc->bthij", wt.select(3, 0), In(part));                     // dense (S = 1)
            return p.TryGetValue(name + ".bias", out var bias) ? outT + bias : outT;         // [B, T, H, size, J]
        }
        var q = Project("query", 'Q', DK);
        var k = Project("key", 'K', DK);
        var v = Project("value_", 'V', DV);

        // Each head separately through the sequential oracle, then the per-head RMS norm.
        var heads = new List<Tensor>();
        var states = new List<Tensor>();
        for (int h = 0; h < H; h++)
        {
            var result = Plstm1DNaive.Forward(new Plstm1DInputs(
                q.select(2, h), k.select(2, h), v.select(2, h), S.select(2, h), Tr.select(2, h), M.select(2, h),
                Dg.select(2, h), c0?.select(1, h)), 1.0 / Math.Sqrt(DK));
            var yh = result.Y.reshape(B, T, DV * JO);                                        // index dv·JO + jo
            var normed = yh / (yh.square().mean(new long[] { -1 }, keepdim: true) + cfg.NormEps).sqrt()
                         * p["mhnorm.scale"][h];
            heads.Add(normed);
            states.Add(result.CLast);
        }
        var y = matmul(cat(heads, -1), p["outprojection.weight"].t());                      // [B, T, D]
        if (p.TryGetValue("passthrough.scale", out var gamma)) y = y + gamma * In('P');
        return (y, stack(states, 1));
    }

    /// <summary>exp(M − Mᵀ) by its plain truncated series, 16 terms (the reference's default order and factor 1).</summary>
    private static Tensor ExpSeries(Tensor m)
    {
        var a = m - m.transpose(-2, -1);
        var term = eye(m.shape[^1], dtype: m.dtype).expand(m.shape);
        var sum = term;
        for (int kk = 1; kk < 16; kk++)
        {
            term = matmul(term, a) / kk;
            sum = sum + term;
        }
        return sum;
    }
}
