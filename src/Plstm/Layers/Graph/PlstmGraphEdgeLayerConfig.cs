using Plstm.Data.Graphs;
using TorchSharp;
using static TorchSharp.torch;
using Plstm.Ops.Graph;

namespace Plstm.Layers.Graph;

/// <summary>Which node's features the transition of a line edge reads (clarification 8; <c>docs/graphs.md</c>).</summary>
public enum GraphTransitionInput
{
    /// <summary>The shared node u of e′ = (p → u), e = (u → w): operators §5.1's "shared-node features", the evident
    /// intent (default).</summary>
    SharedNode,

    /// <summary>The tail p of the predecessor edge e′ = (p → u), as the reference implements it.</summary>
    Reference,
}

/// <summary>Which exact form of the edge-wise operator a graph layer runs (all give the same result).</summary>
public enum GraphOperatorForm
{
    /// <summary><see cref="GraphLevelScan"/>: level-synchronous, per-level state tensors, cost linear in the edges.</summary>
    Scan,

    /// <summary><see cref="PlstmGraphLevels"/>: level-synchronous over one state buffer (autograd cost grows with levels ·
    /// edges).</summary>
    Levels,

    /// <summary><see cref="PlstmGraphNaive"/>: the plain loop over edges, the oracle.</summary>
    Naive,

    /// <summary><see cref="PlstmGraphPathGates"/>: level-synchronous over scalar path gates per (edge, source node)
    /// instead of DK×DV states, then a sparse read over the (target, source) pairs (default; on TU batches the fastest
    /// by far).</summary>
    PathGates,
}

/// <summary>
/// How a P-mode graph layer bounds its transitions (<c>docs/graphs.md</c>, "P-mode normalisation"). Both divide the raw
/// transition by <c>0.5 + Σ|raw|</c> over a group of line edges, so the group's absolute sum is below 1.
/// </summary>
public enum GraphPNormalization
{
    /// <summary>The paper's rule (default): per incoming edge e′ = (p → u), over all its successors e = (u → w), so the
    /// state carried out of e′ is split with total absolute weight &lt; 1 (column bound).</summary>
    PerIncomingEdge,

    /// <summary>The reference's rule (<c>pLSTMGraphEdgeLayer._pmode_transition_normalization</c>): per target edge e,
    /// over all its predecessors e′ (row bound).</summary>
    PerTargetEdge,
}

/// <summary>
/// Settings of <see cref="PlstmGraphEdgeLayer"/> (models §5.3; the reference's <c>pLSTMGraphEdgeLayerConfig</c>). Head
/// dims are <c>InputDim / NumHeads</c> for q, k and v.
/// </summary>
/// <param name="InputDim">Node feature width D (also the output width).</param>
/// <param name="NumHeads">Heads H (must divide D).</param>
/// <param name="Mode">P-mode (normalised transitions, full line graph) or D-mode (tanh transitions, multitree).</param>
public sealed record PlstmGraphEdgeLayerConfig(int InputDim, int NumHeads, GraphMode Mode)
{
    /// <summary>Edge feature width (null: = <see cref="InputDim"/>, as in the TU model).</summary>
    public int? EdgeInputDim { get; init; }

    /// <summary>Which node the transition reads (default: the shared node).</summary>
    public GraphTransitionInput TransitionInput { get; init; } = GraphTransitionInput.SharedNode;

    /// <summary>P-mode normalisation group (default: per incoming edge, the paper's).</summary>
    public GraphPNormalization PNormalization { get; init; } = GraphPNormalization.PerIncomingEdge;

    /// <summary>Epsilon of the per-head RMS norm.</summary>
    public double NormEps { get; init; } = 1e-5;

    /// <summary>Which exact form of the operator runs.</summary>
    public GraphOperatorForm Form { get; init; } = GraphOperatorForm.PathGates;

    /// <summary>Bias of the source, mark and direct gates at initialisation (their weights start at 0).</summary>
    public double GateBiasInit { get; init; } = -5.0;

    /// <summary>Standard deviation of the transition bias at initialisation (its weight starts at 0).</summary>
    public double TransitionBiasStd { get; init; } = 10.0;

    /// <summary>The dtype the layer computes in; null (default): its input's. The reference runs its graph layers under
    /// <c>torch.autocast(dtype=bfloat16)</c> (its layer config's <c>dtype</c>), so its projections return bfloat16 and
    /// everything after them — gates, transitions, the operator, the out-projection — runs in bfloat16; with
    /// <see cref="ScalarType.BFloat16"/> this layer does the same on float32 input (input, edge features and weights
    /// cast; the per-head norm computes in float32, as <see cref="MultiHeadRmsNorm"/> does for half types) and returns
    /// its input's dtype.</summary>
    public ScalarType? ComputeDtype { get; init; }

    /// <summary>The edge feature width in effect.</summary>
    public int EffectiveEdgeInputDim => EdgeInputDim ?? InputDim;

    /// <summary>Head dimension D / H (q, k and v).</summary>
    public int HeadDim => InputDim / NumHeads;

    /// <summary>Checks the fields; throws an <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (InputDim <= 0) throw new ArgumentException($"InputDim must be positive (got {InputDim}).", nameof(InputDim));
        if (NumHeads <= 0) throw new ArgumentException($"NumHeads must be positive (got {NumHeads}).", nameof(NumHeads));
        if (InputDim % NumHeads != 0)
            throw new ArgumentException($"NumHeads ({NumHeads}) must divide InputDim ({InputDim}).", nameof(NumHeads));
        if (EffectiveEdgeInputDim <= 0)
            throw new ArgumentException($"EdgeInputDim must be positive (got {EdgeInputDim}).", nameof(EdgeInputDim));
        if (!Enum.IsDefined(Mode)) throw new ArgumentException($"Unknown mode {Mode}.", nameof(Mode));
        if (!Enum.IsDefined(TransitionInput))
            throw new ArgumentException($"Unknown transition input {TransitionInput}.", nameof(TransitionInput));
        if (!Enum.IsDefined(Form)) throw new ArgumentException($"Unknown operator form {Form}.", nameof(Form));
        if (!Enum.IsDefined(PNormalization))
            throw new ArgumentException($"Unknown P-mode normalisation {PNormalization}.", nameof(PNormalization));
        if (!(NormEps > 0) || double.IsInfinity(NormEps))
            throw new ArgumentException($"NormEps must be positive and finite (got {NormEps}).", nameof(NormEps));
        if (!(TransitionBiasStd >= 0) || double.IsInfinity(TransitionBiasStd))
            throw new ArgumentException($"TransitionBiasStd must be ≥ 0 and finite (got {TransitionBiasStd}).",
                nameof(TransitionBiasStd));
        if (ComputeDtype is { } compute
            && compute is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.BFloat16 or ScalarType.Float16))
            throw new ArgumentException($"ComputeDtype must be a floating-point dtype (got {compute}).", nameof(ComputeDtype));
        if (!double.IsFinite(GateBiasInit))
            throw new ArgumentException($"GateBiasInit must be finite (got {GateBiasInit}).", nameof(GateBiasInit));
    }
}
