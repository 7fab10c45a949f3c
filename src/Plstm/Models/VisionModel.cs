using Plstm.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Plstm.Models;

/// <summary>
/// The image classifier shared by <see cref="PlstmVisionModel"/> and <see cref="VisionTransformer"/> (the reference
/// uses one class, <c>pLSTMVisionModel</c>, for both): patch embedding → positional embedding → (class token) →
/// block stack → final RMS norm → pooling → linear head.
/// </summary>
/// <remarks>
/// <para>Input: float images, channels-last <c>[B, H, W, C]</c> by default as in the reference
/// (<c>channels_first: false</c>), or <c>[B, C, H, W]</c> when the config says <c>ChannelsFirst</c>. H and W must be
/// positive multiples of the patch size; they need not equal the configured image size (the positional embedding is
/// resized). Any float dtype is accepted and converted to the parameters' dtype, in which the model computes.
/// Normalisation of pixel values (ImageNet mean/std) is the data pipeline's job. Output: logits <c>[B, classes]</c>.
/// </para>
/// <para>Reference parameter names (plus <c>patch_embed.stem.…</c> with the optional <see cref="ConvStem"/>, which the
/// reference does not have): <c>patch_embed.proj.{weight,bias}</c>, <c>pos_embed.embed</c>,
/// <c>cls_token</c> (Cls pooling only, shape <c>[D, 1]</c>), <c>block_stack.blocks.{i}.…</c>, <c>norm.scale</c>,
/// <c>head.{weight,bias}</c>.</para>
/// <para>Head init: truncated normal with std 2e-5 and bias 0 (torch reference, following MAE).</para>
/// </remarks>
public abstract class VisionModel : nn.Module<Tensor, Tensor>
{
    // Each module field carries its registered (reference) name: TorchSharp's field scan would otherwise register
    // it a second time under the C# field name and the state_dict keys would change.
    [ComponentName(Name = "patch_embed")]
    private readonly PatchEmbedding _patchEmbed;
    [ComponentName(Name = "pos_embed")]
    private readonly PositionEmbedding2D? _posEmbed;
    [ComponentName(Name = "block_stack")]
    private readonly BlockStack _blockStack;
    [ComponentName(Name = "norm")]
    private readonly RmsNorm _norm;
    [ComponentName(Name = "head")]
    private readonly Linear _head;

    /// <summary>Builds the shared parts around <paramref name="blocks"/> (which the model then owns).</summary>
    private protected VisionModel(string name, VisionModelLayout layout, IEnumerable<nn.Module<Tensor, Tensor>> blocks)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(layout);
        Layout = layout;
        if (layout.Pooling == VisionPooling.Cls)
        {
            // Shape [D, 1] and SmallInit with fan = last axis = 1 (std 0.632), exactly as the reference stores it.
            var cls = new Parameter(empty(layout.Dim, 1, dtype: ScalarType.Float32));
            Initializers.SmallInit(cls, fan: 1);
            register_parameter("cls_token", cls);
        }
        _patchEmbed = new PatchEmbedding("patch_embed", layout.NumChannels, layout.Dim, layout.PatchSize,
            layout.ChannelsFirst, layout.ConvStemWidth, layout.ConvStemKind);
        register_module("patch_embed", _patchEmbed);
        if (layout.UsePositionEmbedding)
        {
            _posEmbed = new PositionEmbedding2D("pos_embed", layout.GridSize, layout.GridSize, layout.Dim);
            register_module("pos_embed", _posEmbed);
        }
        _blockStack = new BlockStack("block_stack", blocks);
        register_module("block_stack", _blockStack);
        _norm = new RmsNorm("norm", layout.Dim, layout.NormEps);
        register_module("norm", _norm);
        _head = nn.Linear(PooledDim, layout.NumClasses, hasBias: true);
        Initializers.TruncatedNormal(_head.weight!, std: 2e-5);
        Initializers.Zeros(_head.bias!);
        register_module("head", _head);
    }

    /// <summary>The settings every vision model has.</summary>
    public VisionModelLayout Layout { get; }

    /// <summary>Model width D.</summary>
    public int Dim => Layout.Dim;

    /// <summary>Patch side in pixels.</summary>
    public int PatchSize => Layout.PatchSize;

    /// <summary>Configured (training) image side in pixels.</summary>
    public int ImageSize => Layout.ImageSize;

    /// <summary>Input channels.</summary>
    public int NumChannels => Layout.NumChannels;

    /// <summary>Output classes.</summary>
    public int NumClasses => Layout.NumClasses;

    /// <summary>Pooling mode.</summary>
    public VisionPooling Pooling => Layout.Pooling;

    /// <summary>Width of the pooled vector fed to the head: 4D for corners pooling, else D.</summary>
    public int PooledDim => Layout.Pooling == VisionPooling.Corners ? 4 * Layout.Dim : Layout.Dim;

    /// <summary>The blocks, in order.</summary>
    public BlockStack BlockStack => _blockStack;

    /// <summary>The positional embedding, or null when it is switched off.</summary>
    public PositionEmbedding2D? PositionEmbedding => _posEmbed;

    /// <summary>The patch embedding.</summary>
    public PatchEmbedding PatchEmbedding => _patchEmbed;

    /// <summary>
    /// The dtype the blocks compute in while the parameters keep theirs — mixed precision, as PyTorch's autocast:
    /// float32 parameters (and AdamW state), activations and products in bfloat16 or float16. Null (the default)
    /// computes in the parameters' dtype. The patch embedding runs in the parameters' dtype and its output is cast to
    /// this one; every block casts the parameters it uses to the activations' dtype (their gradients come back through
    /// the casts in the parameters' dtype); RMS norms and the 2D layers' token mixing compute in float32 inside; the
    /// logits come back in the parameters' dtype.
    /// </summary>
    /// <exception cref="ArgumentException">A dtype that is not floating point.</exception>
    public ScalarType? ComputeDtype
    {
        get => _computeDtype;
        set
        {
            if (value is { } dtype && dtype is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.BFloat16
                or ScalarType.Float16))
                throw new ArgumentException($"ComputeDtype must be a floating-point dtype, got {dtype}.", nameof(value));
            _computeDtype = value;
        }
    }

    private ScalarType? _computeDtype;

    /// <summary>Total number of parameter elements.</summary>
    public long ParameterCount() => parameters().Sum(p => p.numel());

    /// <summary>
    /// Human-readable expected input shape, e.g. <c>[B, H, W, 3] (channels-last; H and W positive multiples of 16)</c>.
    /// </summary>
    public string ExpectedInputShape => Layout.ChannelsFirst
        ? $"[B, {NumChannels}, H, W] (channels-first; H and W positive multiples of the patch size {PatchSize})"
        : $"[B, H, W, {NumChannels}] (channels-last; H and W positive multiples of the patch size {PatchSize})";

    /// <summary>
    /// Checks that <paramref name="images"/> is a float batch of the expected layout and size.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong rank, dtype or channel count, or a side that is not a positive multiple of
    /// the patch size; the message states the expected shape and the one received.</exception>
    public void ValidateImages(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        string got = "[" + string.Join(", ", images.shape) + "]";
        if (images.ndim != 4)
            throw new ArgumentException($"Expected images {ExpectedInputShape}, got a tensor of rank {images.ndim} {got}.",
                nameof(images));
        if (!images.is_floating_point())
            throw new ArgumentException(
                $"Expected float images {ExpectedInputShape}, got dtype {images.dtype} {got}.", nameof(images));
        long channels = Layout.ChannelsFirst ? images.shape[1] : images.shape[3];
        long height = Layout.ChannelsFirst ? images.shape[2] : images.shape[1];
        long width = Layout.ChannelsFirst ? images.shape[3] : images.shape[2];
        if (channels != NumChannels)
            throw new ArgumentException(
                $"Expected images {ExpectedInputShape}, got {got}: {channels} channels instead of {NumChannels}.",
                nameof(images));
        if (height < PatchSize || width < PatchSize)
            throw new ArgumentException(
                $"Expected images {ExpectedInputShape}, got {got}: the image ({height}×{width}) is smaller than one "
                + $"{PatchSize}×{PatchSize} patch.", nameof(images));
        if (height % PatchSize != 0 || width % PatchSize != 0)
            throw new ArgumentException(
                $"Expected images {ExpectedInputShape}, got {got}: {height}×{width} is not divisible by the patch size "
                + $"{PatchSize}.", nameof(images));
    }

    /// <summary>Images → pooled features <c>[B, PooledDim]</c> (everything but the head).</summary>
    public Tensor Features(Tensor images)
    {
        ValidateImages(images);
        using var scope = NewDisposeScope();
        var patches = _patchEmbed.forward(images);                                      // [B, X, Y, D]
        if (_computeDtype is { } compute) patches = Layers.Dtypes.Cast(patches, compute); // mixed precision from here
        if (_posEmbed is not null) patches = _posEmbed.forward(patches);
        Tensor pooled;
        if (Layout.Pooling == VisionPooling.Cls)
        {
            long batch = patches.shape[0];
            var tokens = patches.reshape(batch, -1, Dim);                               // [B, X·Y, D]
            var cls = get_parameter("cls_token")!.reshape(1, 1, Dim)
                .expand(batch, 1, Dim).to_type(tokens.dtype);                           // [B, 1, D]
            var h = _norm.forward(_blockStack.forward(cat(new[] { cls, tokens }, 1)));  // [B, 1 + X·Y, D]
            pooled = h.select(1, 0);                                                    // [B, D]
        }
        else
        {
            var h = _norm.forward(_blockStack.forward(patches));                        // [B, X, Y, D]
            pooled = Pool(h, Layout.Pooling);
        }
        return pooled.MoveToOuterDisposeScope();
    }

    /// <summary>Images (see the class remarks for the layout) → logits <c>[B, classes]</c>.</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var logits = Layers.Dtypes.LinearIn(Features(images), _head);                   // [B, classes]
        return Layers.Dtypes.Cast(logits, _head.weight!.dtype).MoveToOuterDisposeScope(); // the parameters' dtype
    }

    /// <summary>Pools a <c>[B, X, Y, D]</c> feature map (any mode but Cls).</summary>
    public static Tensor Pool(Tensor features, VisionPooling pooling)
    {
        ArgumentNullException.ThrowIfNull(features);
        long x = features.shape[1], y = features.shape[2];
        return pooling switch
        {
            VisionPooling.Corners => cat(new[]
            {
                features[.., 0, 0], features[.., (int)(x - 1), 0],
                features[.., 0, (int)(y - 1)], features[.., (int)(x - 1), (int)(y - 1)],
            }, -1),                                                                      // [B, 4D]
            VisionPooling.Center => features[.., (int)(x / 2), (int)(y / 2)],              // [B, D]
            VisionPooling.Mean => features.mean(new long[] { 1, 2 }),                      // [B, D]
            VisionPooling.Sum => features.sum(new long[] { 1, 2 }),                        // [B, D]
            _ => throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Cls pooling needs the class token path"),
        };
    }
}

/// <summary>The settings shared by every vision model (taken from its config).</summary>
/// <param name="Dim">Model width D.</param>
/// <param name="PatchSize">Patch side p.</param>
/// <param name="ImageSize">Configured image side; the positional-embedding grid is ImageSize/p per side.</param>
/// <param name="NumChannels">Input channels C.</param>
/// <param name="NumClasses">Head outputs.</param>
/// <param name="Pooling">Pooling before the head.</param>
/// <param name="UsePositionEmbedding">Whether the positional embedding exists.</param>
/// <param name="ChannelsFirst">Input layout: false <c>[B, H, W, C]</c>, true <c>[B, C, H, W]</c>.</param>
/// <param name="NormEps">Epsilon of the final RMS norm.</param>
/// <param name="ConvStemWidth">Width of the <see cref="ConvStem"/> before the patch projection, 0 for none.</param>
/// <param name="ConvStemKind">How the stem's stages halve the resolution.</param>
public sealed record VisionModelLayout(int Dim, int PatchSize, int ImageSize, int NumChannels, int NumClasses,
    VisionPooling Pooling, bool UsePositionEmbedding, bool ChannelsFirst, double NormEps, int ConvStemWidth = 0,
    ConvStemKind ConvStemKind = ConvStemKind.MaxPool)
{
    /// <summary>Patches per side at <see cref="ImageSize"/>.</summary>
    public int GridSize => ImageSize / PatchSize;
}
