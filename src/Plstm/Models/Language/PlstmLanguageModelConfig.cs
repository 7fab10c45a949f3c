using Plstm.Layers.OneD;

namespace Plstm.Models.Language;

/// <summary>
/// Configuration of <see cref="PlstmLanguageModel"/>: byte embedding (256 → D), <see cref="NumBlocks"/> PostUp
/// blocks around <see cref="Plstm1DLayer"/> (models §4 defaults: JK = JQ = 1, JV = JT = JO = 4, causal depthwise
/// convolution of kernel 4, passthrough, per-head RMS norm), final RMS norm, untied head D → 256.
/// </summary>
/// <remarks>Build with an object initializer and adjust with <c>with { … }</c>; <see cref="Validate"/> checks every
/// field (the model's constructor calls it).</remarks>
public sealed record PlstmLanguageModelConfig
{
    /// <summary>Model width D (H·JO·DV must equal D: D divisible by JV·H).</summary>
    public int Dim { get; init; } = 128;

    /// <summary>pLSTM heads H.</summary>
    public int NumHeads { get; init; } = 2;

    /// <summary>Number of PostUp blocks (one pLSTM layer each).</summary>
    public int NumBlocks { get; init; } = 4;

    /// <summary>Transition state-tracking size JT (models §4 default 4).</summary>
    public int JT { get; init; } = 4;

    /// <summary>Value state-tracking size JV (default 4).</summary>
    public int JV { get; init; } = 4;

    /// <summary>Output state-tracking size JO (default 4; must equal JV for the default DV).</summary>
    public int JO { get; init; } = 4;

    /// <summary>Kernel of the causal depthwise convolution (default 4); 0 switches the convolution off.</summary>
    public int ConvolutionKernelSize { get; init; } = 4;

    /// <summary>Chunk depth of the parallel operator (chunk 2^levels positions). The outputs do not depend on it;
    /// it trades the memory of the per-chunk gate (∝ 2^levels per position) against the sequential loop over chunks.
    /// Default 4 (chunks of 16; the reference uses 8): measured fastest for fwd+bwd on the CPU at J = 4, batch 16 × 256
    /// (operator 0.36 s at 4, 0.42 s at 5, 0.95 s at 6, 0.47 s at 3; one thread), see the language-model README.</summary>
    public int Levels { get; init; } = 4;

    /// <summary>Epsilon of every RMS norm.</summary>
    public double NormEps { get; init; } = 1e-5;

    /// <summary>Drop-path rate of both branches of every block (training only; 0 by default).</summary>
    public double DropPathRate { get; init; }

    /// <summary>The layer configuration of every block.</summary>
    public Plstm1DLayerConfig LayerConfig() =>
        Plstm1DLayerConfig.ForBlock(Dim, NumHeads, JT, JV, JO, Levels, ConvolutionKernelSize, NormEps);

    /// <summary>Checks every field.</summary>
    /// <exception cref="ArgumentException">An invalid field; <see cref="ArgumentException.ParamName"/> names it.</exception>
    public void Validate()
    {
        if (Dim <= 0) throw Bad(nameof(Dim), $"must be positive, got {Dim}");
        if (NumHeads <= 0) throw Bad(nameof(NumHeads), $"must be positive, got {NumHeads}");
        if (NumBlocks <= 0) throw Bad(nameof(NumBlocks), $"must be positive, got {NumBlocks}");
        if (ConvolutionKernelSize < 0) throw Bad(nameof(ConvolutionKernelSize), $"must be ≥ 0, got {ConvolutionKernelSize}");
        if (!(DropPathRate >= 0 && DropPathRate < 1)) throw Bad(nameof(DropPathRate), $"must be in [0, 1), got {DropPathRate}");
        if (!(NormEps > 0) || double.IsInfinity(NormEps)) throw Bad(nameof(NormEps), $"must be positive and finite, got {NormEps}");
        LayerConfig().Validate();
    }

    private static ArgumentException Bad(string field, string message) =>
        new($"{nameof(PlstmLanguageModelConfig)}.{field} {message}.", field);
}
