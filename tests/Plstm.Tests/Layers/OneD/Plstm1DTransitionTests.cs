using Plstm.Layers;
using Plstm.Tests.Support;

namespace Plstm.Tests.Layers.OneD;

/// <summary>The JT &gt; 1 transition of the 1D layer (models §3.2): exponential orthogonalisation and the bound on T.</summary>
public sealed class Plstm1DTransitionTests
{
    [Fact]
    public void Exponential_orthogonalisation_yields_orthogonal_matrices()
    {
        var g = new Generator(11);
        // Entries of M − Mᵀ ~ N(0, 0.57): Frobenius norms from well below to well above 1 (both branches of max(‖A‖, 1)).
        var m = eye(4, dtype: float64) + 0.4 * randn(new long[] { 64, 4, 4 }, dtype: float64, generator: g);
        var u = TransitionGate.ExponentialOrthogonalize(m);
        var identity = eye(4, dtype: float64).expand(64, 4, 4);
        TensorAssert.AssertClose(matmul(u.transpose(-2, -1), u), identity, "UᵀU", 0, 1e-6);
        TensorAssert.AssertClose(matmul(u, u.transpose(-2, -1)), identity, "UUᵀ", 0, 1e-6);
        var norms = (m - m.transpose(-2, -1)).square().sum(new long[] { -2, -1 }).sqrt();
        Assert.True(norms.min().item<double>() < 1.0 && norms.max().item<double>() > 2.0, "norm range not exercised");
        // det = +1: the exponential of a skew matrix is a rotation.
        TensorAssert.AssertClose(linalg.det(u), ones(64, dtype: float64), "det U", 0, 1e-6);
    }

    [Fact]
    public void Exponential_orthogonalisation_is_the_truncated_exponential_of_the_skew_part()
    {
        var g = new Generator(12);
        var m = 0.3 * randn(new long[] { 10, 3, 3 }, dtype: float64, generator: g);
        var a = 0.5 * (m - m.transpose(-2, -1));
        // Normalisation cancels: with ‖A‖ ≤ 2 the 16-term series equals exp(A) to ~1e-9 or better.
        TensorAssert.AssertClose(TransitionGate.ExponentialOrthogonalize(m, factor: 0.5), linalg.matrix_exp(a), "exp", 0, 1e-9);
        // Order 1 is the identity; a symmetric M (zero skew part) gives the identity for every order.
        TensorAssert.AssertClose(TransitionGate.ExponentialOrthogonalize(m, order: 1), eye(3, dtype: float64).expand(10, 3, 3), "order 1", 0, 0);
        var sym = m + m.transpose(-2, -1);
        TensorAssert.AssertClose(TransitionGate.ExponentialOrthogonalize(sym), eye(3, dtype: float64).expand(10, 3, 3), "symmetric", 0, 1e-15);
    }

    [Fact]
    public void Exponential_orthogonalisation_is_the_truncated_series_term_by_term_for_every_order_with_gradients()
    {
        // The oracle is the series as written, one product per term: Σ_{k<order} (n^k/k!)·(A/n)^k. The fast form
        // (Paterson–Stockmeyer) must equal it — outputs and gradients — also where truncation makes it differ from
        // exp(A) (large norms), and for orders that are not squares.
        var g = new Generator(14);
        var m = 1.5 * randn(new long[] { 12, 4, 4 }, dtype: float64, generator: g);   // ‖A‖_F up to ≈ 10
        var weights = randn(new long[] { 12, 4, 4 }, dtype: float64, generator: g);
        foreach (int order in new[] { 1, 2, 3, 5, 7, 10, 16, 17 })
        {
            var fastLeaf = m.detach().requires_grad_(true);
            var fast = TransitionGate.ExponentialOrthogonalize(fastLeaf, factor: 0.7, order: order, eps: 1e-3);
            var oracleLeaf = m.detach().requires_grad_(true);
            var oracle = TransitionGate.ExponentialOrthogonalizeNaive(oracleLeaf, factor: 0.7, order: order, eps: 1e-3);
            TensorAssert.AssertClose(fast, oracle, $"order {order}: value", 1e-12, 1e-12);
            if (order == 1)
            {
                Assert.False(fast.requires_grad, "order 1 is the constant identity");
                continue;
            }
            (fast * weights).sum().backward();
            (oracle * weights).sum().backward();
            TensorAssert.AssertClose(fastLeaf.grad!, oracleLeaf.grad!, $"order {order}: gradient", 1e-11, 1e-11);
        }
    }

    [Fact]
    public void Transition_matrices_have_eigenvalues_inside_the_unit_disk()
    {
        using var gate = new TransitionGate("transition", 3, 16, 1, 1.0, jt: 4);
        gate.to(float64);
        var g = new Generator(13);
        using (no_grad())
        {
            gate.EigenvaluesBias.copy_(0.3 * randn(gate.EigenvaluesBias.shape, dtype: float64, generator: g));
            gate.EigenvaluesWeight.copy_(0.3 * randn(gate.EigenvaluesWeight.shape, dtype: float64, generator: g));
            foreach (var p in new[] { gate.InprojBias!, gate.OutprojBias! })
                p.copy_(eye(4, dtype: float64) + 0.4 * randn(p.shape, dtype: float64, generator: g));
            foreach (var p in new[] { gate.InprojWeight!, gate.OutprojWeight! })
                p.copy_(0.05 * randn(p.shape, dtype: float64, generator: g));
        }
        var x = randn(new long[] { 4, 9, 16 }, dtype: float64, generator: g);
        var t = gate.forward(x).detach();                                                    // [4, 9, 3, 4, 4]
        Assert.Equal(new long[] { 4, 9, 3, 4, 4 }, t.shape);
        var radius = linalg.eigvals(t).abs().max().item<double>();
        Assert.True(radius <= 1.0 + 1e-9, $"spectral radius {radius}");
        Assert.True(radius > 0.3, "vacuous: transitions are tiny");
        // Singular values are |tanh(5λ)| (U, V orthogonal up to ~1e-7).
        var sv = linalg.svdvals(t).sort(-1).Values;
        var z = gate.EigenvaluesBias + einsum("hjc,btc->bthj", gate.EigenvaluesWeight.select(1, 0), x);
        var expected = tanh(5.0 * z).abs().sort(-1).Values;
        TensorAssert.AssertClose(sv, expected.detach(), "singular values", 0, 1e-6);
    }

    /// <summary>U and V orthogonalised by one stacked call (<c>PLSTM_STACKED_ORTHOGONALISATION=on</c>) give the
    /// transitions of two calls, and the same gradients of the input and of every parameter: each matrix is normalised on
    /// its own.</summary>
    [Fact]
    public void Stacked_orthogonalisation_equals_two_calls_with_gradients()
    {
        using var gate = new TransitionGate("transition", 3, 16, 1, 1.0, jt: 4);
        gate.to(float64);
        var g = new Generator(15);
        using (no_grad())
        {
            foreach (var p in gate.parameters())
                p.copy_(0.3 * randn(p.shape, dtype: float64, generator: g) + (p.dim() == 3 ? eye(4, dtype: float64) : zeros(1, dtype: float64)));
        }
        var x = randn(new long[] { 2, 7, 16 }, dtype: float64, generator: g);
        var weights = randn(new long[] { 2, 7, 3, 4, 4 }, dtype: float64, generator: g);
        (Tensor T, Tensor[] Grads) Run(bool stacked)
        {
            var leaf = x.clone().requires_grad_(true);
            gate.zero_grad();
            var t = gate.Transitions(leaf, stacked);
            (t * weights).sum().backward();
            return (t.detach(), gate.parameters().Select(p => p.grad!.clone()).Prepend(leaf.grad!.clone()).ToArray());
        }
        var (separate, separateGrads) = Run(stacked: false);
        var (together, togetherGrads) = Run(stacked: true);
        TensorAssert.AssertClose(together, separate, "T", 1e-13, 1e-13);
        Assert.Equal(separateGrads.Length, togetherGrads.Length);
        for (int i = 0; i < separateGrads.Length; i++)
            TensorAssert.AssertClose(togetherGrads[i], separateGrads[i], $"gradient {i}", 1e-12, 1e-12);
        Assert.True(separateGrads.All(grad => grad.abs().max().item<double>() > 0), "vacuous: a zero gradient");
    }

    [Fact]
    public void JT1_reduces_to_tanh_of_5_lambda()
    {
        using var gate = new TransitionGate("transition", 2, 8, 1, 1.0, jt: 1);
        gate.to(float64);
        var g = new Generator(14);
        using (no_grad())
        {
            gate.EigenvaluesBias.copy_(0.2 * randn(gate.EigenvaluesBias.shape, dtype: float64, generator: g));
            gate.EigenvaluesWeight.copy_(0.2 * randn(gate.EigenvaluesWeight.shape, dtype: float64, generator: g));
        }
        Assert.Null(gate.InprojBias);
        Assert.Null(gate.OutprojWeight);
        var x = randn(new long[] { 3, 5, 8 }, dtype: float64, generator: g);
        var expected = tanh(5.0 * (gate.EigenvaluesBias.squeeze(-1)
            + einsum("hc,btc->bth", gate.EigenvaluesWeight.select(1, 0).select(1, 0), x)));
        TensorAssert.AssertClose(gate.forward(x).detach(), expected.detach().reshape(3, 5, 2, 1, 1), "T", 0, 1e-15);
    }
}
