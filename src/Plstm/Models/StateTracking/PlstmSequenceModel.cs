using System.Globalization;
using Plstm.Blocks;
using Plstm.Layers.OneD;
using static TorchSharp.torch;

namespace Plstm.Models.StateTracking;

/// <summary>
/// The pLSTM state-tracking model: embedding → <see cref="StateTrackingModelConfig.NumBlocks"/>
/// <see cref="PostUpProjectionBlock"/>s around <see cref="Plstm1DLayer"/> (the blocks of
/// <see cref="Language.PlstmLanguageModel"/>) → RMS norm → per-position head. No position embedding: the recurrence
/// is order-aware and accepts any length.
/// </summary>
public sealed class PlstmSequenceModel : StateTrackingModel
{
    /// <summary>Creates a freshly initialised float32 CPU model.</summary>
    /// <exception cref="ArgumentException">An invalid configuration (the field is named), or not a pLSTM config.</exception>
    public PlstmSequenceModel(StateTrackingModelConfig config, string name = "plstm_sequence_model")
        : base(name, Checked(config), Blocks(config))
    {
        if (config.RandomGateInit) RandomiseGateBiases();
    }

    /// <summary>The blocks' pLSTM layers, in order.</summary>
    public IReadOnlyList<Plstm1DLayer> Layers =>
        named_modules().Select(m => m.module).OfType<Plstm1DLayer>().ToArray();

    /// <summary>Draws the source and mark gate biases of every layer from N(0, 1) (torch's generator), see
    /// <see cref="StateTrackingModelConfig.RandomGateInit"/>.</summary>
    private void RandomiseGateBiases()
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in named_parameters())
        {
            if (name.EndsWith(".interaction_module.source.bias", StringComparison.Ordinal)
                || name.EndsWith(".interaction_module.mark.bias", StringComparison.Ordinal))
                parameter.normal_(0.0, 1.0);
            else if (Config.TransitionInitStd > 0
                && (name.EndsWith(".interaction_module.transition.inproj_weight", StringComparison.Ordinal)
                    || name.EndsWith(".interaction_module.transition.outproj_weight", StringComparison.Ordinal)))
                parameter.normal_(0.0, Config.TransitionInitStd);
        }
    }

    private static StateTrackingModelConfig Checked(StateTrackingModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Kind != SequenceModelKind.Plstm)
            throw new ArgumentException($"{nameof(PlstmSequenceModel)} needs Kind = Plstm, got {config.Kind}.", nameof(config));
        config.Validate();
        return config;
    }

    private static IEnumerable<nn.Module<Tensor, Tensor>> Blocks(StateTrackingModelConfig config)
    {
        var layerConfig = Checked(config).LayerConfig();
        for (int i = 0; i < config.NumBlocks; i++)
            yield return new PostUpProjectionBlock(i.ToString(CultureInfo.InvariantCulture), config.Dim,
                new Plstm1DLayer("interaction_module", layerConfig), normEps: config.NormEps);
    }
}
