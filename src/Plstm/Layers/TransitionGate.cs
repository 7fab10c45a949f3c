using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Layers;

/// <summary>
/// Transition gate sub-layer T (reference <c>LongRangeTransitionLayer</c>, eigenvalue representation "tanh",
/// normalisation "exponential_orthogonalization"; models §2.3 and §3.2). Input <c>[…, D]</c>, output
/// <c>[…, N, JT, JT]</c> ([out, in]: a JT×JT matrix per gate).
/// <list type="bullet">
/// <item>JT = 1 (every vision model): <c>T_n = tanh(f·z_n)</c>, f = 5, range (−1, 1) (transitions may be negative).</item>
/// <item>JT &gt; 1 (the 1D layer's default JT = 4): <c>T = U · diag(tanh(f·λ)) · V</c> per gate, with
/// <c>λ = eigenvalues_bias + eigenvalues_weight·x</c>, <c>V = orth(inproj_bias + inproj_weight·x)</c> and
/// <c>U = orth(outproj_bias + outproj_weight·x)</c> (<c>U = Vᵀ</c> when symmetric), where orth is
/// <see cref="ExponentialOrthogonalize"/>. With U, V orthogonal the singular values of T are |tanh(f·λ)| &lt; 1.</item>
/// </list>
/// Parameters (reference names, registration order): <c>inproj_bias [N, JT, JT]</c> and <c>inproj_weight
/// [N/S, S, JT, JT, D/S]</c> (JT &gt; 1), <c>eigenvalues_bias [N, JT]</c>, <c>eigenvalues_weight [N/S, S, JT, D/S]</c>,
/// <c>outproj_bias</c>/<c>outproj_weight</c> (JT &gt; 1 and not symmetric; shapes as inproj).
/// Init: eigenvalue bias constant (+1: tanh 5 = 0.9999092), in/out projection biases identity, every weight 0, so at
/// init <c>T = tanh(5)·I</c>.
/// </summary>
/// <remarks>
/// When the gate is not input-dependent (the "conststm" ablation, or the reference's <c>weight: false</c>) the weights
/// still exist but are unused, exactly as in the reference (which creates them unconditionally), so state dicts and
/// parameter counts match it. Only the reference's default orthogonalisation ("exponential_orthogonalization") is
/// implemented; its QR, eigen-/singular-value restriction and Householder modes are not.
/// </remarks>
public sealed class TransitionGate : nn.Module<Tensor, Tensor>
{
    // Reference state_dict names in the reference's registration order (TorchSharp registers fields in declaration
    // order; null fields are skipped). Not readonly because Module.to(…) swaps parameters through the fields.
    private Parameter? inproj_bias;
    private Parameter? inproj_weight;
    private Parameter eigenvalues_bias;
    private Parameter eigenvalues_weight;
    private Parameter? outproj_bias;
    private Parameter? outproj_weight;

    private readonly int _subHeads;
    private readonly int _inputDim;
    private readonly double _biasInit;
    private readonly double _factor;
    private readonly bool _inputDependent;
    private readonly int _jt;
    private readonly bool _symmetric;
    private readonly double _orthFactor;
    private readonly int _orthOrder;
    private readonly double _orthEps;

    /// <summary>Creates the gate with reference-initialised parameters (float32, CPU).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="numGates">Gate count N (4H in the fused 2D layer, H in the 1D layer).</param>
    /// <param name="inputDim">Input channels D.</param>
    /// <param name="subHeads">Input groups S (N in the fused layer, 1 in the 1D layer).</param>
    /// <param name="biasInit">Initial eigenvalue bias.</param>
    /// <param name="factor">Activation factor f of tanh(f·z).</param>
    /// <param name="inputDependent">False: bias only (the weights are kept but not used, as in the reference).</param>
    /// <param name="jt">Transition size JT (1 = scalar transitions).</param>
    /// <param name="symmetric">JT &gt; 1: <c>U = Vᵀ</c> (no out-projection parameters). Reference default false.</param>
    /// <param name="orthogonalizationFactor">Factor f of the skew part <c>f·(M − Mᵀ)</c>. Reference default 1.</param>
    /// <param name="orthogonalizationOrder">Number of terms of the exponential series. Reference default 16.</param>
    /// <param name="orthogonalizationEps">Epsilon added to every squared entry inside the Frobenius norm. Reference
    /// default 1e-3.</param>
    /// <exception cref="ArgumentException">Inconsistent sizes or a non-finite factor.</exception>
    public TransitionGate(string name, int numGates, int inputDim, int subHeads, double biasInit, double factor = 5.0,
        bool inputDependent = true, int jt = 1, bool symmetric = false, double orthogonalizationFactor = 1.0,
        int orthogonalizationOrder = 16, double orthogonalizationEps = 1e-3) : base(name)
    {
        if (SubHeadAffine.Check(numGates, subHeads, inputDim) is { } problem)
            throw new ArgumentException(problem, nameof(subHeads));
        if (!double.IsFinite(factor)) throw new ArgumentException($"must be finite, got {factor}", nameof(factor));
        if (jt <= 0) throw new ArgumentException($"must be positive, got {jt}", nameof(jt));
        if (!double.IsFinite(orthogonalizationFactor))
            throw new ArgumentException($"must be finite, got {orthogonalizationFactor}", nameof(orthogonalizationFactor));
        if (orthogonalizationOrder < 1)
            throw new ArgumentException($"must be at least 1, got {orthogonalizationOrder}", nameof(orthogonalizationOrder));
        if (!(orthogonalizationEps >= 0) || double.IsInfinity(orthogonalizationEps))
            throw new ArgumentException($"must be finite and ≥ 0, got {orthogonalizationEps}", nameof(orthogonalizationEps));
        _subHeads = subHeads;
        _inputDim = inputDim;
        _biasInit = biasInit;
        _factor = factor;
        _inputDependent = inputDependent;
        _jt = jt;
        _symmetric = symmetric;
        _orthFactor = orthogonalizationFactor;
        _orthOrder = orthogonalizationOrder;
        _orthEps = orthogonalizationEps;
        long group = inputDim / subHeads, outer = numGates / subHeads;
        if (jt > 1)
        {
            inproj_bias = new Parameter(empty(numGates, jt, jt));
            inproj_weight = new Parameter(empty(new long[] { outer, subHeads, jt, jt, group }));
        }
        eigenvalues_bias = new Parameter(empty(numGates, jt));
        eigenvalues_weight = new Parameter(empty(new long[] { outer, subHeads, jt, group }));
        if (jt > 1 && !symmetric)
        {
            outproj_bias = new Parameter(empty(numGates, jt, jt));
            outproj_weight = new Parameter(empty(new long[] { outer, subHeads, jt, jt, group }));
        }
        ResetParameters();
        RegisterComponents();
    }

    /// <summary>The eigenvalue bias <c>[N, JT]</c>.</summary>
    public Parameter EigenvaluesBias => eigenvalues_bias;

    /// <summary>The eigenvalue weight <c>[N/S, S, JT, D/S]</c> (unused when not input-dependent).</summary>
    public Parameter EigenvaluesWeight => eigenvalues_weight;

    /// <summary>The in-projection bias <c>[N, JT, JT]</c> (null for JT = 1).</summary>
    public Parameter? InprojBias => inproj_bias;

    /// <summary>The in-projection weight <c>[N/S, S, JT, JT, D/S]</c> (null for JT = 1).</summary>
    public Parameter? InprojWeight => inproj_weight;

    /// <summary>The out-projection bias <c>[N, JT, JT]</c> (null for JT = 1 or symmetric).</summary>
    public Parameter? OutprojBias => outproj_bias;

    /// <summary>The out-projection weight <c>[N/S, S, JT, JT, D/S]</c> (null for JT = 1 or symmetric).</summary>
    public Parameter? OutprojWeight => outproj_weight;

    /// <summary>Transition size JT.</summary>
    public int JT => _jt;

    /// <summary>Re-initialises: eigenvalue bias constant, projection biases identity, weights 0.</summary>
    public void ResetParameters()
    {
        using var noGrad = no_grad();
        nn.init.constant_(eigenvalues_bias, _biasInit);
        nn.init.zeros_(eigenvalues_weight);
        foreach (var bias in new[] { inproj_bias, outproj_bias })
            if (bias is not null) bias.copy_(eye(_jt, dtype: bias.dtype).expand(bias.shape));
        foreach (var weight in new[] { inproj_weight, outproj_weight })
            if (weight is not null) nn.init.zeros_(weight);
    }

    /// <summary>The eigenvalues λ = tanh(f·z) from the affine pre-activations z (any shape): the gate's activation,
    /// also applied by <see cref="Plstm2DLayer"/> to the pre-activations it computes for several gates in one product.</summary>
    internal Tensor Eigenvalues(Tensor z) => (z * _factor).tanh_();   // in place on the fresh product

    /// <summary>The factor f of the eigenvalues tanh(f·z).</summary>
    internal double Factor => _factor;

    /// <summary>U and V orthogonalised by one call on the two stacked (<c>PLSTM_STACKED_ORTHOGONALISATION=on</c>, read
    /// once; for measurements, off by default): about 35 libtorch calls fewer per layer, which a GPU step bound by the
    /// host's calls (the language models') may want, but the stacked call was 40 % slower on the CPU (thirty-fifth
    /// session) and is not yet measured on a GPU. Same values either way: each matrix is normalised on its own.</summary>
    private static readonly bool StackedOrthogonalisation = Interop.Cuda.RunTimeSwitch.Is("PLSTM_STACKED_ORTHOGONALISATION", "on");

    /// <summary><c>[…, D]</c> → the transitions <c>[…, N, JT, JT]</c> ([out, in]).</summary>
    public override Tensor forward(Tensor x) => Transitions(x, StackedOrthogonalisation);

    /// <summary>The forward, with U and V orthogonalised by one stacked call when <paramref name="stacked"/> (and the gate
    /// is not symmetric); the tests compare both.</summary>
    internal Tensor Transitions(Tensor x, bool stacked)
    {
        using var scope = NewDisposeScope();
        var z = SubHeadAffine.Apply(x, eigenvalues_bias, _inputDependent ? eigenvalues_weight : null, _subHeads, _inputDim,
            nameof(TransitionGate));                                                         // [..., N, JT]
        var lambda = Eigenvalues(z);
        if (_jt == 1)
            return lambda.unsqueeze(-1).MoveToOuterDisposeScope();                           // [..., N, 1, 1]
        var inPre = SubHeadAffine.Apply(x, inproj_bias!, _inputDependent ? inproj_weight : null, _subHeads, _inputDim,
            nameof(TransitionGate));                                                         // [..., N, JT, JT]
        Tensor inMat, outMat;
        if (_symmetric)
        {
            inMat = ExponentialOrthogonalize(inPre, _orthFactor, _orthOrder, _orthEps);       // V
            outMat = inMat.transpose(-2, -1);                                                // U = Vᵀ
        }
        else
        {
            var outPre = SubHeadAffine.Apply(x, outproj_bias!, _inputDependent ? outproj_weight : null, _subHeads,
                _inputDim, nameof(TransitionGate));
            if (stacked)
            {
                var both = ExponentialOrthogonalize(stack(new[] { inPre, outPre }, 0), _orthFactor, _orthOrder, _orthEps)
                    .unbind(0);                                                              // [2, ..., N, JT, JT]
                (inMat, outMat) = (both[0], both[1]);
            }
            else
            {
                inMat = ExponentialOrthogonalize(inPre, _orthFactor, _orthOrder, _orthEps);   // V
                outMat = ExponentialOrthogonalize(outPre, _orthFactor, _orthOrder, _orthEps); // U
            }
        }
        // T[a, c] = Σ_b U[a, b] λ_b V[b, c].
        return (outMat * lambda.unsqueeze(-2)).matmul(inMat).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The reference's "exponential orthogonalisation" of square matrices <c>[…, J, J]</c> (models §3.2): the skew part
    /// <c>A = f·(M − Mᵀ)</c>, its size <c>n = max(√(Σ_ij (A_ij² + eps)), 1)</c>, and the truncated exponential series
    /// <c>Σ_{k&lt;order} (n^k / k!)·(A/n)^k</c> (evaluated with about 2√order matrix products, see the body). The
    /// normalisation only conditions the powers: mathematically the result is
    /// <c>Σ_{k&lt;order} A^k / k!</c>, the exponential of a skew matrix (orthogonal) up to the truncation error
    /// ‖A‖^order/order!, small while ‖A‖ is a few units (≈ 6e-8 at ‖A‖_F = 2.4 for order 16); for large ‖A‖ the
    /// truncated series is not orthogonal (as in the reference). Differentiable by autograd.
    /// </summary>
    /// <param name="m">Matrices <c>[…, J, J]</c>.</param>
    /// <param name="factor">Skew factor f (reference default 1 in the transition layer).</param>
    /// <param name="order">Number of series terms (≥ 1; order 1 gives the identity).</param>
    /// <param name="eps">Added to every squared entry inside the Frobenius norm (reference 1e-3).</param>
    /// <exception cref="ArgumentException">m is not a batch of square matrices, or order &lt; 1.</exception>
    public static Tensor ExponentialOrthogonalize(Tensor m, double factor = 1.0, int order = 16, double eps = 1e-3)
    {
        CheckSeriesArguments(m, order);
        using var scope = NewDisposeScope();
        var (normed, n) = NormalisedSkew(m, factor, eps);                                   // X = A / n, n
        // The polynomial Σ_{k<order} c_k X^k with c_k = n^k/k!, evaluated by Paterson–Stockmeyer: with s ≈ √order,
        // the powers X … X^s, blocks B_j = Σ_{i<s} c_{js+i} X^i, and Horner in X^s over the blocks. The same polynomial
        // as the term-by-term sum (it differs by rounding only), with (s − 1) + (⌈order/s⌉ − 1) matrix products instead
        // of order − 1: 6 instead of 15 for order 16. The tiny batched products dominate the layer's cost on the CPU
        // and add launches on a GPU.
        // The coefficients and blocks are each formed by a few batched operations (a running product, one weighted sum
        // over the stacked powers) rather than one small operation per term: at the language models' shapes a layer's
        // two orthogonalisations made ≈ 160 libtorch calls that way, which bound a GPU step by the host issuing them.
        int blockSize = (int)Math.Ceiling(Math.Sqrt(order));
        int blocks = (order + blockSize - 1) / blockSize;
        var batch = m.shape[..^2];
        var identity = eye(m.shape[^1], dtype: m.dtype, device: m.device).expand(m.shape);
        if (order == 1) return identity.contiguous().MoveToOuterDisposeScope();          // the constant identity
        var powers = new Tensor[blockSize];                                                 // X^0 … X^(s−1)
        powers[0] = identity;
        for (int i = 1; i < blockSize; i++)
            powers[i] = i == 1 ? normed : powers[i - 1].matmul(normed);
        // c_k = n^k/k! as the running product c_k = c_{k−1}·(n/k), zero-padded to blocks·s: [..., blocks·s].
        var size = n.squeeze(-1);                                                           // [..., 1]
        var coefficients = cat(new[]
        {
            ones_like(size), (size / arange(1, order, dtype: m.dtype, device: m.device)).cumprod(-1),
            zeros([.. batch, (long)blocks * blockSize - order], dtype: m.dtype, device: m.device),
        }, -1);
        // B_j = Σ_{i<s} c_{js+i} X^i for every j at once: [..., blocks, J, J].
        var blockSums = (coefficients.view([.. batch, blocks, blockSize, 1, 1])
            * stack(powers, -3).unsqueeze(-4)).sum(-3);
        // The blocks by one unbind (its backward is one stack; a select per block would zero-fill a whole gradient each).
        var block = blockSums.unbind(-3);
        var sum = block[blocks - 1];
        if (blocks > 1)
        {
            var step = blockSize == 1 ? normed : powers[blockSize - 1].matmul(normed);       // X^s
            for (int j = blocks - 2; j >= 0; j--)
                sum = block[j] + step.matmul(sum);
        }
        return sum.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The oracle of <see cref="ExponentialOrthogonalize"/>: the same truncated series summed term by term, one matrix
    /// product per term (order − 1 in all), as the reference writes it. For tests and benchmarks.
    /// </summary>
    /// <exception cref="ArgumentException">m is not a batch of square matrices, or order &lt; 1.</exception>
    public static Tensor ExponentialOrthogonalizeNaive(Tensor m, double factor = 1.0, int order = 16, double eps = 1e-3)
    {
        CheckSeriesArguments(m, order);
        using var scope = NewDisposeScope();
        var (normed, n) = NormalisedSkew(m, factor, eps);
        var term = eye(m.shape[^1], dtype: m.dtype, device: m.device).expand(m.shape);      // k = 0
        var sum = term;
        for (int k = 1; k < order; k++)
        {
            term = term.matmul(normed) * (n / k);                                           // (n^k/k!)·(A/n)^k
            sum = sum + term;
        }
        return sum.MoveToOuterDisposeScope();
    }

    private static void CheckSeriesArguments(Tensor m, int order)
    {
        ArgumentNullException.ThrowIfNull(m);
        if (m.dim() < 2 || m.shape[^1] != m.shape[^2])
            throw new ArgumentException($"expected square matrices [..., J, J], got [{string.Join(", ", m.shape)}]", nameof(m));
        if (order < 1) throw new ArgumentException($"must be at least 1, got {order}", nameof(order));
    }

    // The skew part A = f·(M − Mᵀ) divided by its size n = max(√(Σ_ij (A_ij² + eps)), 1), and n ([..., 1, 1]).
    private static (Tensor Normed, Tensor Size) NormalisedSkew(Tensor m, double factor, double eps)
    {
        var skew = (m - m.transpose(-2, -1)) * factor;
        var size = (skew.square() + eps).sum(new long[] { -2, -1 }, keepdim: true).sqrt();
        var n = maximum(size, ones_like(size));
        return (skew / n, n);
    }
}
