namespace Plstm.Models.Language;

/// <summary>
/// Configuration of <see cref="CausalTransformerLanguageModel"/>: byte embedding, learnable absolute position
/// embedding over <see cref="MaxContext"/> positions, <see cref="NumBlocks"/> causal <see cref="Plstm.Blocks.TransformerBlock"/>s,
/// final RMS norm, untied head D → 256.
/// </summary>
public sealed record CausalTransformerLanguageModelConfig
{
    /// <summary>Model width D (a multiple of <see cref="NumHeads"/>).</summary>
    public int Dim { get; init; } = 128;

    /// <summary>Attention heads H.</summary>
    public int NumHeads { get; init; } = 4;

    /// <summary>Number of transformer blocks.</summary>
    public int NumBlocks { get; init; } = 4;

    /// <summary>Longest input (size of the position embedding).</summary>
    public int MaxContext { get; init; } = 256;

    /// <summary>Init of both LayerScale γ of every block (1, as <c>vit.yaml</c>).</summary>
    public double LayerScaleInit { get; init; } = 1.0;

    /// <summary>Epsilon of every RMS norm.</summary>
    public double NormEps { get; init; } = 1e-5;

    /// <summary>Drop-path rate of both branches of every block (training only).</summary>
    public double DropPathRate { get; init; }

    /// <summary>Checks every field.</summary>
    /// <exception cref="ArgumentException">An invalid field; <see cref="ArgumentException.ParamName"/> names it.</exception>
    public void Validate()
    {
        if (Dim <= 0) throw Bad(nameof(Dim), $"must be positive, got {Dim}");
        if (NumHeads <= 0 || Dim % NumHeads != 0)
            throw Bad(nameof(NumHeads), $"must be positive and divide Dim {Dim}, got {NumHeads}");
        if (NumBlocks <= 0) throw Bad(nameof(NumBlocks), $"must be positive, got {NumBlocks}");
        if (MaxContext <= 0) throw Bad(nameof(MaxContext), $"must be positive, got {MaxContext}");
        if (!double.IsFinite(LayerScaleInit)) throw Bad(nameof(LayerScaleInit), $"must be finite, got {LayerScaleInit}");
        if (!(DropPathRate >= 0 && DropPathRate < 1)) throw Bad(nameof(DropPathRate), $"must be in [0, 1), got {DropPathRate}");
        if (!(NormEps > 0) || double.IsInfinity(NormEps)) throw Bad(nameof(NormEps), $"must be positive and finite, got {NormEps}");
    }

    private static ArgumentException Bad(string field, string message) =>
        new($"{nameof(CausalTransformerLanguageModelConfig)}.{field} {message}.", field);
}
