using Plstm.Blocks;

namespace Plstm.Models;

/// <summary>
/// Configuration of <see cref="PlstmVisionModel"/> (models §6.3–6.4). Defaults are pLSTM-ViT-T at 224 px with 1000
/// classes (<c>plstm_vis_t.yaml</c>); adjust with <c>with { … }</c>. Checked by <see cref="Validate"/>, which the model's
/// constructor calls.
/// </summary>
public sealed record PlstmVisionConfig
{
    /// <summary>Model width D (<c>dim</c>). T/S/B: 192/384/768. Must be divisible by 4·<see cref="NumHeads"/>.</summary>
    public int Dim { get; init; } = 192;

    /// <summary>Heads H of every pLSTM layer (<c>num_heads</c>); head size D/H. T/S/B: 3/6/12 (APE: 6).</summary>
    public int NumHeads { get; init; } = 3;

    /// <summary>Number of block pairs (<c>num_blocks</c>); each pair holds two pLSTM layers. Vision configs: 6 (12 layers).</summary>
    public int NumBlocks { get; init; } = 6;

    /// <summary>Side of the square patches, also the stride of the patch convolution (<c>patch_size</c>). Default 16.</summary>
    public int PatchSize { get; init; } = 16;

    /// <summary>
    /// Side of the square training images in pixels (<c>resolution</c>); sets the positional-embedding grid
    /// (ImageSize/PatchSize per side). Other sizes (multiples of the patch) are accepted at run time: the embedding is
    /// resized bicubically.
    /// </summary>
    public int ImageSize { get; init; } = 224;

    /// <summary>Input channels (<c>num_channels</c>), 3 for RGB.</summary>
    public int NumChannels { get; init; } = 3;

    /// <summary>Output classes of the head (<c>output_shape[0]</c>).</summary>
    public int NumClasses { get; init; } = 1000;

    /// <summary>Pooling before the head (<c>pooling</c>). Default <see cref="VisionPooling.Corners"/>; Cls is not allowed.</summary>
    public VisionPooling Pooling { get; init; } = VisionPooling.Corners;

    /// <summary>Whether a learnable positional embedding is added after patching (<c>use_pos_embed</c>; false in the
    /// "noposemb" ablation).</summary>
    public bool UsePositionEmbedding { get; init; } = true;

    /// <summary>Layer modes of the two blocks of each pair (<c>block_mode</c> and the P-/D-only ablations). Default PD.</summary>
    public PlstmBlockMode BlockMode { get; init; } = PlstmBlockMode.PD;

    /// <summary>True: S, T and M depend on the input (every config but "conststm"); false: bias-only S/T/M.</summary>
    public bool InputDependentGates { get; init; } = true;

    /// <summary>Requested hierarchy depth of the 2D operator (<c>levels</c>, 6); it does not change results.</summary>
    public int Levels { get; init; } = 6;

    /// <summary>D-mode chirality, "L" (the only value used) or "R".</summary>
    public string DModeChirality { get; init; } = "L";

    /// <summary>Drop-path rate of both branches inside every PostUp block (<c>aux.drop_path_rate</c>; T 0, S 0.05,
    /// B 0.1 in the ImageNet recipes). The same for every block.</summary>
    public double DropPathRate { get; init; }

    /// <summary>Outer drop-path rate on each pair's update (<c>vblock_drop_path_rate</c>, 0 in every config).</summary>
    public double PairDropPathRate { get; init; }

    /// <summary>Null (default): no LayerScale. Otherwise the init value of γ in every PostUp block ("_scale" configs: 1e-4).</summary>
    public double? LayerScaleInit { get; init; }

    /// <summary>Epsilon of every RMS norm (blocks and final norm). 1e-5.</summary>
    public double NormEps { get; init; } = 1e-5;

    /// <summary>
    /// Input layout. False (default, as the reference's <c>channels_first: false</c>): images are channels-last
    /// <c>[B, H, W, C]</c>. True: <c>[B, C, H, W]</c>.
    /// </summary>
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
        VisionConfigChecks.Common(nameof(PlstmVisionConfig), Dim, NumHeads, NumBlocks, PatchSize, ImageSize, NumChannels,
            NumClasses, DropPathRate, NormEps, ConvStemWidth, ConvStemKind);
        if (Dim % (4 * NumHeads) != 0)
            throw new ArgumentException(
                $"{nameof(PlstmVisionConfig)}.{nameof(Dim)} must be divisible by 4·{nameof(NumHeads)} = {4 * NumHeads} "
                + $"(each of the 4H gates of a pLSTM layer reads D/(4H) channels), got {Dim}.", nameof(Dim));
        if (Pooling == VisionPooling.Cls)
            throw new ArgumentException(
                $"{nameof(PlstmVisionConfig)}.{nameof(Pooling)} cannot be Cls: pLSTM layers need the 2D patch grid.",
                nameof(Pooling));
        if (!Enum.IsDefined(Pooling))
            throw new ArgumentException($"{nameof(PlstmVisionConfig)}.{nameof(Pooling)} is not a pooling mode.", nameof(Pooling));
        if (!Enum.IsDefined(BlockMode))
            throw new ArgumentException($"{nameof(PlstmVisionConfig)}.{nameof(BlockMode)} is not a block mode.", nameof(BlockMode));
        if (DModeChirality is not ("L" or "R"))
            throw new ArgumentException(
                $"{nameof(PlstmVisionConfig)}.{nameof(DModeChirality)} must be \"L\" or \"R\", got \"{DModeChirality}\".",
                nameof(DModeChirality));
        if (Levels is < 0 or > 16)
            throw new ArgumentException($"{nameof(PlstmVisionConfig)}.{nameof(Levels)} must be in 0..16, got {Levels}.",
                nameof(Levels));
        if (!(PairDropPathRate >= 0 && PairDropPathRate < 1))
            throw new ArgumentException(
                $"{nameof(PlstmVisionConfig)}.{nameof(PairDropPathRate)} must be in [0, 1), got {PairDropPathRate}.",
                nameof(PairDropPathRate));
        if (LayerScaleInit is double s && !double.IsFinite(s))
            throw new ArgumentException($"{nameof(PlstmVisionConfig)}.{nameof(LayerScaleInit)} must be finite, got {s}.",
                nameof(LayerScaleInit));
    }
}
