using Plstm.Blocks;
using Plstm.Layers;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Plstm.Models;

/// <summary>
/// Non-overlapping patch embedding (the reference's <c>VitPatchEmbed</c>, models §6.3 step 1): a Conv2d with
/// kernel = stride = patch size and a bias, mapping images to a channels-last patch grid <c>[B, X, Y, D]</c>
/// with X = H/patch (image height axis) and Y = W/patch. Reference names: <c>proj.weight</c> <c>[D, C, p, p]</c>,
/// <c>proj.bias</c> <c>[D]</c>. Optionally (not in the reference) a <see cref="ConvStem"/> first reduces every patch to
/// one cell of a feature map, and <c>proj</c> is then a 1×1 convolution (<c>stem.…</c>, <c>proj.weight</c>
/// <c>[D, 2w, 1, 1]</c>).
/// </summary>
/// <remarks>
/// Init: weight SmallInit with fan = C·p·p (= 768 for RGB and p = 16, std 0.0228): the fan of a patch projection is
/// its input size, which is what "fan = in_features" means for a Linear and keeps the first activations at the
/// scale of the other layers. The torch reference uses the kernel width (fan 16, std 0.158) and JAX uses D
/// (models §6.6); neither changes names or shapes. Bias 0.
/// </remarks>
public sealed class PatchEmbedding : nn.Module<Tensor, Tensor>
{
    // Each module field carries its registered (reference) name: TorchSharp's field scan would otherwise register
    // it a second time under the C# field name and the state_dict keys would change.
    [ComponentName(Name = "proj")]
    private readonly Conv2d _proj;
    [ComponentName(Name = "stem")]
    private readonly nn.Module<Tensor, Tensor>? _stem;

    /// <summary>Creates the embedding for <paramref name="channels"/> input channels.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="channels">Input channels C.</param>
    /// <param name="dim">Output width D.</param>
    /// <param name="patchSize">Kernel side and stride p.</param>
    /// <param name="channelsFirst">False: inputs are <c>[B, H, W, C]</c>; true: <c>[B, C, H, W]</c>.</param>
    /// <param name="convStemWidth">0 (default, the reference): linear p×p projection. w &gt; 0: a <see cref="ConvStem"/>
    /// of width w reduces each patch to one cell, and <c>proj</c> is a 1×1 convolution from its channels to D.</param>
    /// <param name="convStemKind">How the stem's stages halve the resolution (ignored without a stem).</param>
    public PatchEmbedding(string name, int channels, int dim, int patchSize, bool channelsFirst, int convStemWidth = 0,
        ConvStemKind convStemKind = ConvStemKind.MaxPool)
        : base(name)
    {
        Channels = channels;
        Dim = dim;
        PatchSize = patchSize;
        ChannelsFirst = channelsFirst;
        ConvStemWidth = convStemWidth;
        ConvStemKind = convStemKind;
        if (convStemWidth > 0)
        {
            _stem = ConvStem.Create(channels, convStemWidth, patchSize, convStemKind);
            int stemChannels = ConvStem.OutputChannels(convStemWidth, patchSize);
            _proj = nn.Conv2d(stemChannels, dim, kernel_size: 1, stride: 1, bias: true);
            Initializers.SmallInit(_proj.weight!, fan: stemChannels);
        }
        else
        {
            _proj = nn.Conv2d(channels, dim, kernel_size: patchSize, stride: patchSize, bias: true);
            Initializers.SmallInit(_proj.weight!, fan: (long)channels * patchSize * patchSize);
        }
        Initializers.Zeros(_proj.bias!);
        register_module("proj", _proj);
        if (_stem is not null) register_module("stem", _stem);
    }

    /// <summary>Width of the convolutional stem, or 0 when the projection is the reference's linear one.</summary>
    public int ConvStemWidth { get; }

    /// <summary>How the stem's stages halve the resolution (meaningful only with a stem).</summary>
    public ConvStemKind ConvStemKind { get; }

    /// <summary>Input channels C.</summary>
    public int Channels { get; }

    /// <summary>Output width D.</summary>
    public int Dim { get; }

    /// <summary>Patch side p.</summary>
    public int PatchSize { get; }

    /// <summary>True when inputs are <c>[B, C, H, W]</c>.</summary>
    public bool ChannelsFirst { get; }

    /// <summary>Images (already validated; converted to the weight's dtype) → <c>[B, H/p, W/p, D]</c>.</summary>
    public override Tensor forward(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var scope = NewDisposeScope();
        // The model computes in its parameters' dtype: other float images (e.g. float64 pixels) are converted.
        var typed = Dtypes.Cast(images, _proj.weight!.dtype);
        // [B, C, H, W]. The stem gets it in channels-last memory (NHWC strides: libtorch's convolutions keep that layout
        // through the stem and run oneDNN's native NHWC kernels): ape-small's stem forward + backward takes 52 ms on two
        // threads that way against 92 ms on NCHW memory (bench --ape-step-profile). A contiguous [B, H, W, C] input is in
        // that layout already (no copy); anything else (e.g. the trainer's [B, H, W, C] view of a [B, C, H, W] batch)
        // costs one copy of the images.
        var nchw = _stem is null ? (ChannelsFirst ? typed : typed.permute(0, 3, 1, 2)) : StemInput(typed, ChannelsFirst);
        var features = _stem is null ? nchw : _stem.forward(nchw);                     // [B, C', H', W']
        // The projection's kernel equals its stride (p × p without a stem, 1 × 1 after it), so it is a linear map of
        // non-overlapping patches: computed as one matrix product of the patch rows (the conv's own weight, so names
        // and checkpoints are unchanged) instead of a convolution — same sums, no oneDNN convolution (which runs on AVX2
        // kernels on AVX-512 machines, OneDnnIsaGuard) and no final permute of the output.
        long B = features.shape[0], C = features.shape[1], k = _proj.kernel_size[0];
        long X = features.shape[2] / k, Y = features.shape[3] / k;
        var patches = features.reshape(B, C, X, k, Y, k).permute(0, 2, 4, 1, 3, 5)
            .reshape(B, X, Y, C * k * k);                                               // [B, X, Y, C·k·k]
        var weight = _proj.weight!.reshape(_proj.weight!.shape[0], C * k * k);          // [D, C·k·k]
        return Dtypes.Linear(patches, weight, _proj.bias).MoveToOuterDisposeScope();       // [B, X, Y, D]
    }

    /// <summary>
    /// <paramref name="images"/> (<c>[B, C, H, W]</c> when <paramref name="channelsFirst"/>, else <c>[B, H, W, C]</c>)
    /// as a <c>[B, C, H, W]</c> tensor in channels-last memory (NHWC strides), copying only when the memory is in
    /// another order.
    /// </summary>
    internal static Tensor StemInput(Tensor images, bool channelsFirst) =>
        (channelsFirst ? images.permute(0, 2, 3, 1) : images).contiguous().permute(0, 3, 1, 2);
}
