namespace Plstm.Models;

/// <summary>
/// Configuration of <see cref="VisionTransformer"/>, the ViT baseline (models §6.5, <c>vit.yaml</c>). Defaults are
/// ViT-T at 224 px with 1000 classes; adjust with <c>with { … }</c>. Checked by <see cref="Validate"/>, which the
/// model's constructor calls.
/// </summary>
public sealed record VitConfig
{
    /// <summary>Model width D. T/S/B: 192/384/768. Must be divisible by <see cref="NumHeads"/>.</summary>
    public int Dim { get; init; } = 192;

    /// <summary>Attention heads H; head size D/H. T/S/B: 3/6/12 (APE: 6).</summary>
    public int NumHeads { get; init; } = 3;

    /// <summary>Number of transformer blocks. 12.</summary>
    public int NumBlocks { get; init; } = 12;

    /// <summary>Side of the square patches and stride of the patch convolution. 16.</summary>
    public int PatchSize { get; init; } = 16;

    /// <summary>Side of the square training images; sets the positional-embedding grid. Other multiples of the patch
    /// size are accepted at run time (bicubic resize of the embedding).</summary>
    public int ImageSize { get; init; } = 224;

    /// <summary>Input channels, 3 for RGB.</summary>
    public int NumChannels { get; init; } = 3;

    /// <summary>Output classes of the head.</summary>
    public int NumClasses { get; init; } = 1000;

    /// <summary>Pooling before the head. Default <see cref="VisionPooling.Cls"/> (class token, which then exists as the
    /// parameter <c>cls_token</c>); any other mode keeps the grid and needs no class token.</summary>
    public VisionPooling Pooling { get; init; } = VisionPooling.Cls;

    /// <summary>Whether the learnable positional embedding (patch grid only, never the class token) is added.</summary>
    public bool UsePositionEmbedding { get; init; } = true;

    /// <summary>Drop-path rate of both branches of every block.</summary>
    public double DropPathRate { get; init; }

    /// <summary>Init value of the two LayerScale γ of every block: 1 in <c>vit.yaml</c> (present as parameters),
    /// 1e-4 in <c>vit_scale</c>.</summary>
    public double LayerScaleInit { get; init; } = 1.0;

    /// <summary>Epsilon of every RMS norm. 1e-5.</summary>
    public double NormEps { get; init; } = 1e-5;

    /// <summary>Input layout: false (default, as the reference) <c>[B, H, W, C]</c>; true <c>[B, C, H, W]</c>.</summary>
    public bool ChannelsFirst { get; init; }

    /// <summary>
    /// Width w of an optional convolutional stem before the patch projection (<see cref="ConvStem"/>; not in the
    /// reference). 0 (default): the reference's linear p×p patch projection. With w &gt; 0 the patch size must be a power
    /// of two ≥ 2.
    /// </summary>
    public int ConvStemWidth { get; init; }

    /// <summary>How the stages of the convolutional stem halve the resolution (<see cref="Models.ConvStemKind"/>);
    /// ignored without a stem. Default <see cref="ConvStemKind.MaxPool"/>.</summary>
    public ConvStemKind ConvStemKind { get; init; }

    /// <summary>Patches per side at <see cref="ImageSize"/>.</summary>
    public int GridSize => PatchSize > 0 ? ImageSize / PatchSize : 0;

    /// <summary>Checks every field.</summary>
    /// <exception cref="ArgumentException">A field is invalid; the message names it.</exception>
    public void Validate()
    {
        VisionConfigChecks.Common(nameof(VitConfig), Dim, NumHeads, NumBlocks, PatchSize, ImageSize, NumChannels,
            NumClasses, DropPathRate, NormEps, ConvStemWidth, ConvStemKind);
        if (Dim % NumHeads != 0)
            throw new ArgumentException(
                $"{nameof(VitConfig)}.{nameof(Dim)} must be divisible by {nameof(NumHeads)} = {NumHeads}, got {Dim}.",
                nameof(Dim));
        if (!Enum.IsDefined(Pooling))
            throw new ArgumentException($"{nameof(VitConfig)}.{nameof(Pooling)} is not a pooling mode.", nameof(Pooling));
        if (!double.IsFinite(LayerScaleInit))
            throw new ArgumentException($"{nameof(VitConfig)}.{nameof(LayerScaleInit)} must be finite, got {LayerScaleInit}.",
                nameof(LayerScaleInit));
    }
}
