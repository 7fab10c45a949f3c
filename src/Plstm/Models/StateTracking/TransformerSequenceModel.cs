using System.Globalization;
using Plstm.Blocks;
using static TorchSharp.torch;

namespace Plstm.Models.StateTracking;

/// <summary>
/// The transformer baseline of the state-tracking experiments: embedding + fixed sinusoidal positions →
/// <see cref="StateTrackingModelConfig.NumBlocks"/> causal <see cref="TransformerBlock"/>s (the blocks of
/// <see cref="Language.CausalTransformerLanguageModel"/>) → RMS norm → per-position head.
/// </summary>
/// <remarks>
/// Positions are the fixed sinusoids of Vaswani et al. (<see cref="SinusoidalPositions"/>), not the language model's
/// learned table: they are defined for every length, so the model accepts the test lengths (up to 256 and beyond)
/// although it trains on ≤ 64; a learned table would hold untrained rows for positions it never saw. Whether the
/// model generalises to those positions is what the experiment measures.
/// </remarks>
public sealed class TransformerSequenceModel : StateTrackingModel
{
    /// <summary>Creates a freshly initialised float32 CPU model.</summary>
    /// <exception cref="ArgumentException">An invalid configuration (the field is named), or not a transformer config.</exception>
    public TransformerSequenceModel(StateTrackingModelConfig config, string name = "transformer_sequence_model")
        : base(name, Checked(config), Blocks(config))
    {
    }

    private protected override Tensor AddPositions(Tensor embedded) =>
        embedded + SinusoidalPositions.Create(embedded.shape[1], embedded.shape[2], embedded.dtype, embedded.device);

    private static StateTrackingModelConfig Checked(StateTrackingModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Kind != SequenceModelKind.Transformer)
            throw new ArgumentException($"{nameof(TransformerSequenceModel)} needs Kind = Transformer, got {config.Kind}.", nameof(config));
        config.Validate();
        return config;
    }

    private static IEnumerable<nn.Module<Tensor, Tensor>> Blocks(StateTrackingModelConfig config)
    {
        Checked(config);
        for (int i = 0; i < config.NumBlocks; i++)
            yield return new TransformerBlock(i.ToString(CultureInfo.InvariantCulture), config.Dim, config.NumHeads,
                normEps: config.NormEps, causal: true);
    }
}
