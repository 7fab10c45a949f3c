using Plstm.Blocks;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Models;

/// <summary>
/// The ViT baseline (models §6.5; the reference's <c>pLSTMVisionModel</c> with <c>pooling: cls</c> and
/// <c>TransformerBlock</c>s): patch embedding, positional embedding on the patch grid, a class token prepended
/// (no positional embedding for it), <see cref="VitConfig.NumBlocks"/> transformer blocks, final RMS norm, the class
/// token's feature into a linear head. See <see cref="VisionModel"/> for the input layout and parameter names.
/// </summary>
public sealed class VisionTransformer : VisionModel
{
    /// <summary>Creates the model.</summary>
    public VisionTransformer(VitConfig config, string name = "vision_transformer")
        : base(name, LayoutOf(config), CreateBlocks(config))
    {
        Config = config;
    }

    /// <summary>The configuration the model was built from.</summary>
    public VitConfig Config { get; }

    private static VisionModelLayout LayoutOf(VitConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        return new VisionModelLayout(config.Dim, config.PatchSize, config.ImageSize, config.NumChannels,
            config.NumClasses, config.Pooling, config.UsePositionEmbedding, config.ChannelsFirst, config.NormEps,
            config.ConvStemWidth, config.ConvStemKind);
    }

    private static IEnumerable<nn.Module<Tensor, Tensor>> CreateBlocks(VitConfig config)
    {
        var blocks = new List<nn.Module<Tensor, Tensor>>(config.NumBlocks);
        for (int i = 0; i < config.NumBlocks; i++)
            blocks.Add(new TransformerBlock(i.ToString(System.Globalization.CultureInfo.InvariantCulture), config.Dim,
                config.NumHeads, config.DropPathRate, config.LayerScaleInit, config.NormEps));
        return blocks;
    }
}
