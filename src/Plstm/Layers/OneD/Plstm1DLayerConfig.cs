namespace Plstm.Layers.OneD;

/// <summary>
/// Configuration of <see cref="Plstm1DLayer"/>, the pLSTM layer for sequences (reference <c>pLSTM1DLayerConfig</c>,
/// models §4). Defaults are the reference's: JK = JQ = 1, JV = JT = JO = 4, DK = D/(JK·H), DV = D/(JV·H), levels 8,
/// a causal depthwise convolution (kernel 4) feeding S, T, M, D, Q, K and the passthrough, per-head RMS norm,
/// out-projection without bias. Only <see cref="InputDim"/> has no sensible default.
/// </summary>
/// <remarks>
/// Build it positionally, <c>new Plstm1DLayerConfig(256, 4)</c>, or with an object initializer; adjust with
/// <c>with { … }</c>. Nothing is checked until <see cref="Validate"/> (called by the layer's constructor).
/// The reference also requires the out-projection input <c>H·JO·DV</c> to equal D (the per-head norm has D/H channels),
/// hence the default JO = JV.
/// </remarks>
/// <param name="InputDim">Model width D: input and output channels of the layer.</param>
/// <param name="NumHeads">Number of heads H (reference default 1).</param>
public sealed record Plstm1DLayerConfig(int InputDim, int NumHeads = 1)
{
    private readonly int _dk;
    private readonly int _dv;

    /// <summary>
    /// The layer of a sequence model block (language model, state tracking): D and H, the J sizes, the operator's chunk
    /// depth, a causal convolution of the given kernel size (none for 0) and the norm epsilon; everything else default.
    /// </summary>
    public static Plstm1DLayerConfig ForBlock(int dim, int heads, int jt, int jv, int jo, int levels,
        int convolutionKernelSize, double normEps) => new(dim, heads)
    {
        JT = jt,
        JV = jv,
        JO = jo,
        Levels = levels,
        AdditionalConvolution = convolutionKernelSize > 0,
        ConvolutionKernelSize = Math.Max(convolutionKernelSize, 1),
        NormEps = normEps,
    };

    /// <summary>Creates an unset configuration for object-initializer use; set <see cref="InputDim"/>.</summary>
    public Plstm1DLayerConfig() : this(0, 1)
    {
    }

    /// <summary>Key state-tracking size JK (reference default 1).</summary>
    public int JK { get; init; } = 1;

    /// <summary>Query state-tracking size JQ (reference default 1).</summary>
    public int JQ { get; init; } = 1;

    /// <summary>Value state-tracking size JV (reference default 4).</summary>
    public int JV { get; init; } = 4;

    /// <summary>Transition state-tracking size JT (reference default 4; the most important one). JT &gt; 1 uses
    /// orthogonalised transition matrices, JT = 1 scalar <c>tanh(5·λ)</c> transitions.</summary>
    public int JT { get; init; } = 4;

    /// <summary>Output state-tracking size JO (reference default 4).</summary>
    public int JO { get; init; } = 4;

    /// <summary>Query/key size per head. Default (unset or ≤ 0): D/(JK·H), as the reference.</summary>
    public int DK
    {
        get => _dk > 0 ? _dk : (NumHeads > 0 && JK > 0 ? InputDim / (JK * NumHeads) : 0);
        init => _dk = value;
    }

    /// <summary>Value size per head. Default (unset or ≤ 0): D/(JV·H), as the reference. H·JO·DV must equal D.</summary>
    public int DV
    {
        get => _dv > 0 ? _dv : (NumHeads > 0 && JV > 0 ? InputDim / (JV * NumHeads) : 0);
        init => _dv = value;
    }

    /// <summary>Requested chunk depth of the operator (chunk 2^levels positions, 0..16; reference 8). The operator
    /// caps it at ⌈log2 T⌉; the result does not depend on it.</summary>
    public int Levels { get; init; } = 8;

    /// <summary>Whether the causal depthwise convolution (<c>conv._conv</c>) exists (reference default true).</summary>
    public bool AdditionalConvolution { get; init; } = true;

    /// <summary>Kernel size of the causal convolution (reference default 4): the output at t sees inputs t−K+1 … t.</summary>
    public int ConvolutionKernelSize { get; init; } = 4;

    /// <summary>Whether the convolution has a bias (reference default true).</summary>
    public bool ConvolutionBias { get; init; } = true;

    /// <summary>Which parts read the convolution output instead of x (reference <c>convolution_inputs</c>, default
    /// <c>"STMDQKstP"</c>): S source, T transition, M mark, D direct, Q query, K key, V value, P passthrough. Lower-case
    /// letters (the reference's "st") are accepted and have no effect in the 1D layer. Ignored without convolution.</summary>
    public string ConvolutionInputs { get; init; } = "STMDQKstP";

    /// <summary>Whether <c>passthrough.scale ⊙ input</c> is added to the output (reference default true); the input is
    /// the convolution output when "P" is in <see cref="ConvolutionInputs"/>.</summary>
    public bool AdditionalPassthrough { get; init; } = true;

    /// <summary>Initial value of the passthrough scale (reference: ones).</summary>
    public double PassthroughScaleInit { get; init; } = 1.0;

    /// <summary>Initial bias of the source gate S = σ(bias [+ W·x]) (reference −5, σ = 0.0066929).</summary>
    public double SourceBiasInit { get; init; } = -5.0;

    /// <summary>Initial bias of the mark gate M (reference −5).</summary>
    public double MarkBiasInit { get; init; } = -5.0;

    /// <summary>Initial bias of the direct gate D (reference −5).</summary>
    public double DirectBiasInit { get; init; } = -5.0;

    /// <summary>Whether S depends on the input (a <c>source.weight</c>, init 0). Reference default false (bias only).</summary>
    public bool SourceWeight { get; init; }

    /// <summary>Whether M depends on the input (a <c>mark.weight</c>, init 0). Reference default false.</summary>
    public bool MarkWeight { get; init; }

    /// <summary>Whether D depends on the input (a <c>direct.weight</c>, init 0). Reference default false.</summary>
    public bool DirectWeight { get; init; }

    /// <summary>Whether the transition depends on the input (eigenvalue and in/out projection weights used).
    /// Reference default true. When false the weights still exist but are unused, as in the reference.</summary>
    public bool TransitionWeight { get; init; } = true;

    /// <summary>Initial eigenvalue bias of the transition (reference 1: tanh(5) = 0.9999092).</summary>
    public double TransitionBiasInit { get; init; } = 1.0;

    /// <summary>Factor f of the eigenvalue activation tanh(f·λ) (reference 5).</summary>
    public double TransitionFactor { get; init; } = 5.0;

    /// <summary>JT &gt; 1: use <c>U = Vᵀ</c> (no out-projection parameters). Reference default false.</summary>
    public bool TransitionSymmetric { get; init; }

    /// <summary>Skew factor f of the exponential orthogonalisation, <c>A = f·(M − Mᵀ)</c> (reference 1).</summary>
    public double OrthogonalizationFactor { get; init; } = 1.0;

    /// <summary>Number of terms of the truncated exponential series (reference 16).</summary>
    public int OrthogonalizationOrder { get; init; } = 16;

    /// <summary>Epsilon added to every squared entry inside the Frobenius norm of the orthogonalisation (reference
    /// 1e-3).</summary>
    public double OrthogonalizationEps { get; init; } = 1e-3;

    /// <summary>Sub-heads S of the q/k/v projections (reference <c>sub_heads</c>; unset = H, the reference default,
    /// i.e. block-diagonal: head h reads only input channels h·D/H … (h+1)·D/H − 1). 1 = dense. S must divide D, and
    /// either divide H or be a multiple of H whose ratio divides DK and DV.</summary>
    public int? QkvSubHeads { get; init; }

    /// <summary>The effective q/k/v sub-heads: <see cref="QkvSubHeads"/>, or H when unset.</summary>
    public int EffectiveQkvSubHeads => QkvSubHeads ?? NumHeads;

    /// <summary>Whether q/k/v have a bias (reference default true).</summary>
    public bool QkvBias { get; init; } = true;

    /// <summary>Epsilon of the per-head RMS norm (reference 1e-5).</summary>
    public double NormEps { get; init; } = 1e-5;

    /// <summary>Checks every field.</summary>
    /// <exception cref="ArgumentException">A field is invalid; <see cref="ArgumentException.ParamName"/> is the field's
    /// name.</exception>
    public void Validate()
    {
        if (InputDim <= 0) throw Bad(nameof(InputDim), $"must be positive, got {InputDim}");
        if (NumHeads <= 0) throw Bad(nameof(NumHeads), $"must be positive, got {NumHeads}");
        CheckPositive(nameof(JK), JK);
        CheckPositive(nameof(JQ), JQ);
        CheckPositive(nameof(JV), JV);
        CheckPositive(nameof(JT), JT);
        CheckPositive(nameof(JO), JO);
        if (_dk <= 0 && InputDim % (JK * NumHeads) != 0)
            throw Bad(nameof(DK), $"defaults to InputDim/(JK·NumHeads), but {InputDim} is not divisible by {JK * NumHeads}; set DK explicitly");
        if (DK <= 0) throw Bad(nameof(DK), $"must be positive, got {DK}");
        if (_dv <= 0 && InputDim % (JV * NumHeads) != 0)
            throw Bad(nameof(DV), $"defaults to InputDim/(JV·NumHeads), but {InputDim} is not divisible by {JV * NumHeads}; set DV explicitly");
        if (DV <= 0) throw Bad(nameof(DV), $"must be positive, got {DV}");
        if ((long)NumHeads * JO * DV != InputDim)
            throw Bad(nameof(DV),
                $"must satisfy NumHeads·JO·DV = InputDim (the per-head norm and the out-projection read H·JO·DV channels), got {NumHeads}·{JO}·{DV} ≠ {InputDim}");
        if (Levels is < 0 or > 16) throw Bad(nameof(Levels), $"must be in 0..16, got {Levels}");
        if (ConvolutionKernelSize < 1) throw Bad(nameof(ConvolutionKernelSize), $"must be at least 1, got {ConvolutionKernelSize}");
        if (ConvolutionInputs is null) throw Bad(nameof(ConvolutionInputs), "must not be null");
        foreach (char ch in ConvolutionInputs)
            if (!"STMDQKVPst".Contains(ch))
                throw Bad(nameof(ConvolutionInputs), $"may only contain the letters S, T, M, D, Q, K, V, P (and s, t), got '{ch}' in \"{ConvolutionInputs}\"");
        CheckFinite(nameof(PassthroughScaleInit), PassthroughScaleInit);
        CheckFinite(nameof(SourceBiasInit), SourceBiasInit);
        CheckFinite(nameof(MarkBiasInit), MarkBiasInit);
        CheckFinite(nameof(DirectBiasInit), DirectBiasInit);
        CheckFinite(nameof(TransitionBiasInit), TransitionBiasInit);
        CheckFinite(nameof(TransitionFactor), TransitionFactor);
        CheckFinite(nameof(OrthogonalizationFactor), OrthogonalizationFactor);
        if (OrthogonalizationOrder < 1) throw Bad(nameof(OrthogonalizationOrder), $"must be at least 1, got {OrthogonalizationOrder}");
        if (!(OrthogonalizationEps >= 0) || double.IsInfinity(OrthogonalizationEps))
            throw Bad(nameof(OrthogonalizationEps), $"must be finite and ≥ 0, got {OrthogonalizationEps}");
        if (QueryKeyValueProjection.CheckSubHeads(InputDim, NumHeads, DK, EffectiveQkvSubHeads) is { } problemK)
            throw Bad(nameof(QkvSubHeads), problemK);
        if (QueryKeyValueProjection.CheckSubHeads(InputDim, NumHeads, DV, EffectiveQkvSubHeads) is { } problemV)
            throw Bad(nameof(QkvSubHeads), problemV + " (value size DV)");
        if (!(NormEps > 0) || double.IsInfinity(NormEps)) throw Bad(nameof(NormEps), $"must be positive and finite, got {NormEps}");
    }

    /// <summary>Whether <paramref name="part"/> (S, T, M, D, Q, K, V or P) reads the convolution output.</summary>
    public bool ReadsConvolution(char part) => AdditionalConvolution && ConvolutionInputs.Contains(part);

    private static void CheckPositive(string field, int value)
    {
        if (value <= 0) throw Bad(field, $"must be positive, got {value}");
    }

    private static void CheckFinite(string field, double value)
    {
        if (!double.IsFinite(value)) throw Bad(field, $"must be finite, got {value}");
    }

    private static ArgumentException Bad(string field, string message) =>
        new($"{nameof(Plstm1DLayerConfig)}.{field} {message}.", field);
}
