using Plstm.Blocks;
using Plstm.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Models;

/// <summary>
/// pLSTM-ViT (models §6.2–6.4, the reference's <c>pLSTMVisionModel</c> with <c>pLSTMVisionBlock1</c> blocks): patch
/// embedding, learnable positional embedding, <see cref="PlstmVisionConfig.NumBlocks"/> pairs of PostUp blocks around
/// fused 2D pLSTM layers (P then D by default), final RMS norm, corner pooling and a linear head.
/// See <see cref="VisionModel"/> for the input layout and parameter names.
/// </summary>
public sealed class PlstmVisionModel : VisionModel
{
    /// <summary>Creates the model with the library's fused 2D pLSTM layer.</summary>
    public PlstmVisionModel(PlstmVisionConfig config, string name = "plstm_vision_model")
        : this(config, DefaultLayerFactory, name)
    {
    }

    /// <summary>
    /// Creates the model with layers made by <paramref name="layerFactory"/> (given the config and the mode of the
    /// block being built); each layer must map <c>[B, X, Y, D]</c> to <c>[B, X, Y, D]</c>.
    /// </summary>
    public PlstmVisionModel(PlstmVisionConfig config,
        Func<PlstmVisionConfig, Plstm2DMode, nn.Module<Tensor, Tensor>> layerFactory, string name = "plstm_vision_model")
        : base(name, LayoutOf(config), CreateBlocks(config, layerFactory))
    {
        Config = config;
    }

    /// <summary>The configuration the model was built from.</summary>
    public PlstmVisionConfig Config { get; }

    /// <summary>Builds the library's fused layer for one block: <c>Plstm2DLayer</c> named <c>interaction_module</c>.</summary>
    public static nn.Module<Tensor, Tensor> DefaultLayerFactory(PlstmVisionConfig config, Plstm2DMode mode)
    {
        ArgumentNullException.ThrowIfNull(config);
        var layerConfig = new Plstm2DLayerConfig(config.Dim, config.NumHeads, mode)
        {
            DModeChirality = config.DModeChirality,
            Levels = config.Levels,
            InputDependentGates = config.InputDependentGates,
            NormEps = config.NormEps,
        };
        return new Plstm2DLayer("interaction_module", layerConfig);
    }

    private static VisionModelLayout LayoutOf(PlstmVisionConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        return new VisionModelLayout(config.Dim, config.PatchSize, config.ImageSize, config.NumChannels,
            config.NumClasses, config.Pooling, config.UsePositionEmbedding, config.ChannelsFirst, config.NormEps,
            config.ConvStemWidth, config.ConvStemKind);
    }

    private static IEnumerable<nn.Module<Tensor, Tensor>> CreateBlocks(PlstmVisionConfig config,
        Func<PlstmVisionConfig, Plstm2DMode, nn.Module<Tensor, Tensor>> layerFactory)
    {
        ArgumentNullException.ThrowIfNull(layerFactory);
        // Validated by LayoutOf, which the base-constructor call evaluates first.
        var blocks = new List<nn.Module<Tensor, Tensor>>(config.NumBlocks);
        for (int i = 0; i < config.NumBlocks; i++)
            blocks.Add(PlstmVisionBlockPair.Create(i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                config.Dim, config.BlockMode, mode => layerFactory(config, mode), config.DropPathRate,
                config.LayerScaleInit, config.PairDropPathRate, config.NormEps));
        return blocks;
    }
}
