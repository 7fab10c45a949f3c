using Plstm.Layers.Graph;

namespace Plstm.Models.Graph;

/// <summary>
/// Settings of <see cref="PlstmGraphModel"/> (models §5.4, the reference's <c>plstm_graph/src/models/plstm.py</c> with
/// <c>num_layers 2, hidden_dim 96, num_heads 4</c>, mean pooling).
/// </summary>
/// <param name="InputFeatures">Node feature width F (TU: attributes + one-hot node labels; 1 without either).</param>
/// <param name="NumClasses">Number of graph classes C.</param>
public sealed record PlstmGraphModelConfig(int InputFeatures, int NumClasses)
{
    /// <summary>Width D of every hidden layer (96).</summary>
    public int HiddenDim { get; init; } = 96;

    /// <summary>Heads H of every graph layer (4).</summary>
    public int NumHeads { get; init; } = 4;

    /// <summary>Number of graph blocks (each a P-layer and a D-layer PostUp block; 2).</summary>
    public int NumBlocks { get; init; } = 2;

    /// <summary>Base of the sinusoidal in-degree encoding (10000).</summary>
    public double DegreeEncodingBase { get; init; } = 10000.0;

    /// <summary>Transition node input of every graph layer (default: the shared node).</summary>
    public GraphTransitionInput TransitionInput { get; init; } = GraphTransitionInput.SharedNode;

    /// <summary>P-mode normalisation of the P layers (default: per incoming edge, the paper's).</summary>
    public GraphPNormalization PNormalization { get; init; } = GraphPNormalization.PerIncomingEdge;

    /// <summary>Compute dtype of every graph layer (null: the input's; see
    /// <see cref="PlstmGraphEdgeLayerConfig.ComputeDtype"/>).</summary>
    public TorchSharp.torch.ScalarType? ComputeDtype { get; init; }

    /// <summary>Operator form of every graph layer.</summary>
    public GraphOperatorForm Form { get; init; } = GraphOperatorForm.PathGates;

    /// <summary>Checks the fields; throws an <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (InputFeatures <= 0)
            throw new ArgumentException($"InputFeatures must be positive (got {InputFeatures}).", nameof(InputFeatures));
        if (NumClasses < 2) throw new ArgumentException($"NumClasses must be at least 2 (got {NumClasses}).", nameof(NumClasses));
        if (HiddenDim <= 0 || HiddenDim % 2 != 0)
            throw new ArgumentException($"HiddenDim must be positive and even (got {HiddenDim}).", nameof(HiddenDim));
        if (NumHeads <= 0 || HiddenDim % NumHeads != 0)
            throw new ArgumentException($"NumHeads ({NumHeads}) must be positive and divide HiddenDim ({HiddenDim}).",
                nameof(NumHeads));
        if (NumBlocks < 0) throw new ArgumentException($"NumBlocks must be ≥ 0 (got {NumBlocks}).", nameof(NumBlocks));
        if (!(DegreeEncodingBase > 1) || double.IsInfinity(DegreeEncodingBase))
            throw new ArgumentException($"DegreeEncodingBase must be > 1 and finite (got {DegreeEncodingBase}).",
                nameof(DegreeEncodingBase));
    }
}
