using Plstm.Layers.OneD;

namespace Plstm.Models.StateTracking;

/// <summary>
/// Configuration of a <see cref="StateTrackingModel"/>: token embedding (<see cref="VocabSize"/> → D),
/// <see cref="NumBlocks"/> blocks of the chosen <see cref="Kind"/>, final RMS norm, a per-position head D →
/// <see cref="NumClasses"/>. The pLSTM fields (<see cref="JT"/>, <see cref="JV"/>, <see cref="JO"/>,
/// <see cref="ConvolutionKernelSize"/>, <see cref="Levels"/>) are ignored by the transformer.
/// </summary>
/// <remarks>Build with an object initializer; <see cref="Validate"/> checks every field (the models' constructors call
/// it).</remarks>
public sealed record StateTrackingModelConfig
{
    /// <summary>pLSTM or transformer.</summary>
    public SequenceModelKind Kind { get; init; } = SequenceModelKind.Plstm;

    /// <summary>Number of distinct input tokens.</summary>
    public int VocabSize { get; init; } = 2;

    /// <summary>Number of target classes of the per-position head.</summary>
    public int NumClasses { get; init; } = 2;

    /// <summary>Read-out delay: 1 (default) appends one read token and takes the logits of position t from position
    /// t + 1 (see <see cref="StateTrackingModel"/> for why); 0 reads every position at itself.</summary>
    public int ReadoutDelay { get; init; } = 1;

    /// <summary>Whether a start token (<see cref="StartTokenId"/>, its own embedding row) is prepended to every sequence;
    /// its output is dropped. Why: without one, nothing but the causal convolution's zero padding tells position 0 from
    /// the others, so the pLSTM cannot learn to write its source only at the start, and the first target (s_0 = g_0)
    /// is read from the token itself, which teaches the transitions nothing. With a start token the source can open for
    /// it alone and every target, s_0 included, is read from a transported state <c>T(g_t) … T(g_0) C_start</c>. Default
    /// on (every model of a comparison gets it; it carries no information about the targets).</summary>
    public bool StartToken { get; init; } = true;

    /// <summary>Number of embedding rows: the task's tokens, the read token (if any) and the start token (if any).</summary>
    public int EmbeddingRows => VocabSize + ReadoutDelay + (StartToken ? 1 : 0);

    /// <summary>Embedding row of the read token (used when <see cref="ReadoutDelay"/> is 1).</summary>
    public int ReadTokenId => VocabSize;

    /// <summary>Embedding row of the start token (used when <see cref="StartToken"/> is set): after the read token's.</summary>
    public int StartTokenId => VocabSize + ReadoutDelay;

    /// <summary>Model width D (pLSTM: divisible by JV·H; transformer: by H).</summary>
    public int Dim { get; init; } = 64;

    /// <summary>Heads H (pLSTM heads or attention heads).</summary>
    public int NumHeads { get; init; } = 4;

    /// <summary>Number of blocks (one pLSTM layer or one attention layer each, with its MLP).</summary>
    public int NumBlocks { get; init; } = 2;

    /// <summary>pLSTM transition size JT: 1 = scalar (diagonal) transitions tanh(5λ) ∈ (−1, 1); &gt; 1 = input-dependent
    /// JT×JT matrices <c>U·diag(tanh 5λ)·V</c> with orthogonal U, V.</summary>
    public int JT { get; init; } = 4;

    /// <summary>pLSTM value state size JV (default 4, as models §4).</summary>
    public int JV { get; init; } = 4;

    /// <summary>pLSTM output state size JO (default 4 = JV, so that H·JO·DV = D).</summary>
    public int JO { get; init; } = 4;

    /// <summary>Kernel of the pLSTM's causal depthwise convolution; 0 = none.</summary>
    public int ConvolutionKernelSize { get; init; } = 4;

    /// <summary>Whether the pLSTM transition reads the convolution output (the reference default) rather than the
    /// block input itself. For state tracking the transition of position t should depend on token t alone; the
    /// convolution would blend in the previous K − 1 tokens, which the model then has to learn to undo.</summary>
    public bool TransitionFromConvolution { get; init; }

    /// <summary>Whether the pLSTM source and mark gate biases start from N(0, 1) draws instead of the reference's constant
    /// −5. Why: with JQ = JK = 1 the mark gate is a JO × JT matrix σ(bias) per head; a constant bias makes it rank 1 (every
    /// output reads only the sum over the JT components), so the JT-dimensional state cannot be read out until the
    /// biases have drifted apart — slowly, through a sigmoid saturated at σ'(−5) ≈ 0.0066. Random biases make the read-out
    /// (and the injected source vector) generic from the first step.</summary>
    public bool RandomGateInit { get; init; } = true;

    /// <summary>With <see cref="RandomGateInit"/> and JT &gt; 1: std of N(0, σ²) draws for the transition in/out
    /// projection weights (reference: 0, so every token starts with the same transition tanh(5)·I). Random weights give
    /// every token its own rotation from the first step, which breaks the symmetry between tokens. 0 = reference.</summary>
    public double TransitionInitStd { get; init; }

    /// <summary>Chunk depth of the pLSTM operator (chunks of 2^levels positions; outputs do not depend on it). Default 3:
    /// chunks of 8 were the fastest on the CPU for these small models (the chunk gate grows with 2^levels).</summary>
    public int Levels { get; init; } = 3;

    /// <summary>Epsilon of every RMS norm.</summary>
    public double NormEps { get; init; } = 1e-5;

    /// <summary>The pLSTM layer configuration of every block.</summary>
    public Plstm1DLayerConfig LayerConfig() =>
        Plstm1DLayerConfig.ForBlock(Dim, NumHeads, JT, JV, JO, Levels, ConvolutionKernelSize, NormEps) with
        {
            ConvolutionInputs = TransitionFromConvolution ? "STMDQKstP" : "SMDQKstP",
        };

    /// <summary>Checks every field.</summary>
    /// <exception cref="ArgumentException">An invalid field; <see cref="ArgumentException.ParamName"/> names it.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind)) throw Bad(nameof(Kind), $"is not a known model kind ({(int)Kind})");
        if (VocabSize <= 0) throw Bad(nameof(VocabSize), $"must be positive, got {VocabSize}");
        if (NumClasses <= 0) throw Bad(nameof(NumClasses), $"must be positive, got {NumClasses}");
        if (ReadoutDelay is not (0 or 1)) throw Bad(nameof(ReadoutDelay), $"must be 0 or 1, got {ReadoutDelay}");
        if (Dim <= 0) throw Bad(nameof(Dim), $"must be positive, got {Dim}");
        if (NumHeads <= 0) throw Bad(nameof(NumHeads), $"must be positive, got {NumHeads}");
        if (NumBlocks <= 0) throw Bad(nameof(NumBlocks), $"must be positive, got {NumBlocks}");
        if (JT < 1) throw Bad(nameof(JT), $"must be at least 1, got {JT}");
        if (!(TransitionInitStd >= 0) || double.IsInfinity(TransitionInitStd))
            throw Bad(nameof(TransitionInitStd), $"must be finite and ≥ 0, got {TransitionInitStd}");
        if (ConvolutionKernelSize < 0) throw Bad(nameof(ConvolutionKernelSize), $"must be ≥ 0, got {ConvolutionKernelSize}");
        if (!(NormEps > 0) || double.IsInfinity(NormEps)) throw Bad(nameof(NormEps), $"must be positive and finite, got {NormEps}");
        if (Kind == SequenceModelKind.Transformer)
        {
            if (Dim % NumHeads != 0) throw Bad(nameof(NumHeads), $"must divide Dim {Dim}, got {NumHeads}");
            if (Dim % 2 != 0) throw Bad(nameof(Dim), $"must be even for the sinusoidal positions, got {Dim}");
        }
        else
        {
            LayerConfig().Validate();
        }
    }

    private static ArgumentException Bad(string field, string message) =>
        new($"{nameof(StateTrackingModelConfig)}.{field} {message}.", field);
}
