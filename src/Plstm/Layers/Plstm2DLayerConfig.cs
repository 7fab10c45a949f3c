using Plstm.Ops.TwoD;

namespace Plstm.Layers;

/// <summary>
/// Configuration of <see cref="Plstm2DLayer"/>, the fused four-orientation 2D pLSTM layer (models §2). Defaults are the
/// values of the vision configs (<c>plstm_vision.yaml</c>); only <see cref="InputDim"/> and <see cref="NumHeads"/> have
/// no sensible default. All "J" state-tracking sizes are 1 (the only value any vision model uses).
/// </summary>
/// <remarks>
/// Build it positionally, <c>new Plstm2DLayerConfig(192, 3, Plstm2DMode.D)</c>, or with an object initializer,
/// <c>new Plstm2DLayerConfig { InputDim = 192, NumHeads = 3 }</c>; adjust with <c>with { … }</c>. Nothing is checked
/// until <see cref="Validate"/> (called by the layer's constructor).
/// </remarks>
/// <param name="InputDim">Model width D: input and output channels of the layer. Must be divisible by 4·<see cref="NumHeads"/>
/// (the gate sub-layers read D/(4H) channels per gate).</param>
/// <param name="NumHeads">Number of heads H. Each head has DK = DV = D/H and its own 4 orientations.</param>
/// <param name="Mode">Gate wiring, P (propagation, default) or D (directional).</param>
public sealed record Plstm2DLayerConfig(int InputDim, int NumHeads, Plstm2DMode Mode = Plstm2DMode.P)
{
    /// <summary>Creates an unset configuration for object-initializer use; set <see cref="InputDim"/> and
    /// <see cref="NumHeads"/>.</summary>
    public Plstm2DLayerConfig() : this(0, 0)
    {
    }

    /// <summary>D-mode chirality: "L" (default, the only value used: the turn up → right exists, <c>t_ru = T_rd</c>,
    /// <c>t_dl = 0</c>) or "R" (<c>t_dl = T_rd</c>, <c>t_ru = 0</c>). Ignored in P-mode.</summary>
    public string DModeChirality { get; init; } = "L";

    /// <summary>Requested hierarchy depth of the operator (chunk side 2^levels; 0..16). The operator caps it at
    /// ⌈log2⌉ of the grid sides; the result does not depend on it. Reference default 6.</summary>
    public int Levels { get; init; } = 6;

    /// <summary>Which exact form of the 2D operator runs the scans (<see cref="Plstm2DForm"/>). Default
    /// <see cref="Plstm2DForm.Auto"/>: <see cref="Plstm2DAutoForm.Choose"/> picks per grid and device. Every form gives the
    /// same result up to rounding; <see cref="Plstm2DForm.Naive"/> is the slow oracle.</summary>
    public Plstm2DForm Form { get; init; } = Plstm2DForm.Auto;

    /// <summary>Chunk side of the chunkwise form (at least 1), or null (default) for
    /// <see cref="Plstm2DAutoForm.ChunkSide"/> of the device. The result does not depend on it.</summary>
    public int? ChunkSide { get; init; }

    /// <summary>Keep just the gates for backward and recompute the path sums there (checkpointing: less activation
    /// memory, one more path-sum program per backward; same result). Chunkwise and row-scan forms, and the kernel form
    /// (the gate walk and Q Kᵀ again: nothing cells²-sized kept; e.g. 9.3 instead of 17.6 GiB for a pLSTM-ViT-T step at
    /// 512 px on the H200 for 11 % of the speed). Default false.</summary>
    public bool RecomputeChunkGates { get; init; }

    /// <summary>True (default): S, T and M are affine in the input (bias plus grouped weight). False: the
    /// "conststm" ablation, bias-only S/T/M (the source/mark sub-layers then have no <c>weight</c>; the transition keeps
    /// an unused <c>eigenvalues_weight</c>, as the reference does). The P-mode orientation gate and q/k/v stay
    /// input-dependent either way.</summary>
    public bool InputDependentGates { get; init; } = true;

    /// <summary>Initial bias of the source gates S (σ(−4) = 0.017986). Vision configs: −4.</summary>
    public double SourceBiasInit { get; init; } = -4.0;

    /// <summary>Initial bias of the mark gates M (σ(−4) = 0.017986). Vision configs: −4.</summary>
    public double MarkBiasInit { get; init; } = -4.0;

    /// <summary>Initial eigenvalue bias of the transition gates T (tanh(5·1) = 0.9999092). Vision configs: +1.</summary>
    public double TransitionBiasInit { get; init; } = 1.0;

    /// <summary>Factor f of the transition activation <c>T = tanh(f·z)</c>. Vision configs: 5.</summary>
    public double TransitionFactor { get; init; } = 5.0;

    /// <summary>Initial bias of the per-head direct gate d (σ(−6) = 0.0024726). Vision configs: −6.</summary>
    public double DirectBiasInit { get; init; } = -6.0;

    /// <summary>Low end of the P-mode orientation bias init, <c>linspace(low, high, H)</c> along the head axis,
    /// the same for the 4 orientation rows (H = 1 gives [low]). Reference: −2.</summary>
    public double OrientationBiasLow { get; init; } = -2.0;

    /// <summary>High end of the P-mode orientation bias init (see <see cref="OrientationBiasLow"/>). Reference: +2.</summary>
    public double OrientationBiasHigh { get; init; } = 2.0;

    /// <summary>Scale of the P-mode orientation gate's input term:
    /// <c>o = σ(bias + scale·(weight·x)/D)</c>. Reference: 0.5.</summary>
    public double OrientationScale { get; init; } = 0.5;

    /// <summary>Epsilon of the per-head RMS norm. Reference: 1e-5.</summary>
    public double NormEps { get; init; } = 1e-5;

    /// <summary>Sub-heads S of the q/k/v projections: the input is split into S groups of D/S channels and the map is
    /// block-diagonal over them (reference <c>sub_heads</c>). Vision configs: 1 (dense). S must divide D, and either divide
    /// H, or be a multiple of H with S/H dividing DK.</summary>
    public int QkvSubHeads { get; init; } = 1;

    /// <summary>Whether q/k/v have a bias (vision configs: true).</summary>
    public bool QkvBias { get; init; } = true;

    /// <summary>Query/key size per head, D/H.</summary>
    public int DK => NumHeads > 0 ? InputDim / NumHeads : 0;

    /// <summary>Value size per head, D/H.</summary>
    public int DV => NumHeads > 0 ? InputDim / NumHeads : 0;

    /// <summary>Number of S/T/M gates per cell, 4·H (one per head and orientation, index n = 4h + orientation).</summary>
    public int GateHeads => 4 * NumHeads;

    /// <summary>Input channels read by one S/T/M gate, D/(4H).</summary>
    public int GateGroup => NumHeads > 0 ? InputDim / (4 * NumHeads) : 0;

    /// <summary>Checks every field.</summary>
    /// <exception cref="ArgumentException">A field is invalid; <see cref="ArgumentException.ParamName"/> is the field's
    /// name.</exception>
    public void Validate()
    {
        if (InputDim <= 0)
            throw Bad(nameof(InputDim), $"must be positive, got {InputDim}");
        if (NumHeads <= 0)
            throw Bad(nameof(NumHeads), $"must be positive, got {NumHeads}");
        if (InputDim % (4 * NumHeads) != 0)
            throw Bad(nameof(InputDim),
                $"must be divisible by 4·{nameof(NumHeads)} = {4 * NumHeads} (each of the 4H gates reads D/(4H) channels), got {InputDim}");
        if (!Enum.IsDefined(Mode))
            throw Bad(nameof(Mode), $"must be P or D, got {(int)Mode}");
        if (DModeChirality is not ("L" or "R"))
            throw Bad(nameof(DModeChirality), $"must be \"L\" or \"R\", got \"{DModeChirality}\"");
        if (Levels is < 0 or > 16)
            throw Bad(nameof(Levels), $"must be in 0..16, got {Levels}");
        if (!Enum.IsDefined(Form))
            throw Bad(nameof(Form), $"must be a {nameof(Plstm2DForm)} value, got {(int)Form}");
        if (ChunkSide is < 1)
            throw Bad(nameof(ChunkSide), $"must be at least 1 (or null for the automatic choice), got {ChunkSide}");
        CheckFinite(nameof(SourceBiasInit), SourceBiasInit);
        CheckFinite(nameof(MarkBiasInit), MarkBiasInit);
        CheckFinite(nameof(TransitionBiasInit), TransitionBiasInit);
        CheckFinite(nameof(TransitionFactor), TransitionFactor);
        CheckFinite(nameof(DirectBiasInit), DirectBiasInit);
        CheckFinite(nameof(OrientationBiasLow), OrientationBiasLow);
        CheckFinite(nameof(OrientationBiasHigh), OrientationBiasHigh);
        CheckFinite(nameof(OrientationScale), OrientationScale);
        if (!(NormEps > 0) || double.IsInfinity(NormEps))
            throw Bad(nameof(NormEps), $"must be positive and finite, got {NormEps}");
        if (QueryKeyValueProjection.CheckSubHeads(InputDim, NumHeads, DK, QkvSubHeads) is { } problem)
            throw Bad(nameof(QkvSubHeads), problem);
    }

    private static void CheckFinite(string field, double value)
    {
        if (!double.IsFinite(value))
            throw Bad(field, $"must be finite, got {value}");
    }

    private static ArgumentException Bad(string field, string message) =>
        new($"{nameof(Plstm2DLayerConfig)}.{field} {message}.", field);
}
