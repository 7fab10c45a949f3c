using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Models;

/// <summary>
/// An optional convolutional stem in front of the patch projection (a "hybrid" ViT, Dosovitskiy et al. 2021 §3.1; not
/// in the pLSTM reference): log₂(p) stages that each halve the resolution, with w channels in the first stage and 2w
/// after, so that a p-pixel patch becomes one cell of a <c>[B, 2w, H/p, W/p]</c> feature map. The patch projection is
/// then a 1×1 convolution to D. Two kinds of stage (<see cref="ConvStemKind"/>): <see cref="ConvStemKind.MaxPool"/>,
/// 3×3 convolution (padding 1) → ReLU → 2×2 max-pool (computed as max-pool → ReLU, the same function), and
/// <see cref="ConvStemKind.Strided"/>, 3×3 convolution with stride 2 (padding 1) → ReLU (Xiao et al. 2021).
/// </summary>
/// <remarks>
/// Why: a linear p×p patch projection sees a thin stroke only as a few pixels of one patch. On <c>ape-small</c>
/// (arrows 5–9 px long and 1 px wide in 8 px patches) both models levelled off near 0.8 with it and passed 0.93 with a
/// stem of width 16 (bench/results/ape-small-stem-h200-2026-11-30.md). The stem is translation-equivariant, so the
/// models still take any image size that is a multiple of p. Parameter names: <c>stem.{0,3,6,…}.{weight,bias}</c>
/// for the max-pool kind, <c>stem.{0,2,4,…}</c> for the strided one (the convolutions of the Sequential). Init:
/// TorchSharp's Conv2d default (Kaiming uniform).
/// </remarks>
public static class ConvStem
{
    /// <summary>Number of stages for patch side <paramref name="patchSize"/> (a power of two ≥ 2): log₂(p).</summary>
    public static int Stages(int patchSize) => System.Numerics.BitOperations.Log2((uint)patchSize);

    /// <summary>Channels of the stem's output for width <paramref name="width"/> and patch <paramref name="patchSize"/>.</summary>
    public static int OutputChannels(int width, int patchSize) => Stages(patchSize) == 1 ? width : 2 * width;

    /// <summary>True when <paramref name="patchSize"/> is a power of two ≥ 2 (what the stem's max-pools can reach).</summary>
    public static bool Supports(int patchSize) => patchSize >= 2 && (patchSize & (patchSize - 1)) == 0;

    /// <summary>Builds the stem: <c>[B, C, H, W]</c> → <c>[B, OutputChannels, H/p, W/p]</c>.</summary>
    /// <param name="channels">Input channels C.</param>
    /// <param name="width">Channels w of the first stage (2w after).</param>
    /// <param name="patchSize">Total stride p, a power of two ≥ 2.</param>
    /// <param name="kind">How each stage halves the resolution.</param>
    public static nn.Module<Tensor, Tensor> Create(int channels, int width, int patchSize,
        ConvStemKind kind = ConvStemKind.MaxPool)
    {
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown stem kind.");
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "Expected ≥ 1 input channel.");
        if (width < 1) throw new ArgumentOutOfRangeException(nameof(width), width, "Expected a stem width ≥ 1.");
        if (!Supports(patchSize))
            throw new ArgumentOutOfRangeException(nameof(patchSize), patchSize,
                "A convolutional stem needs a patch size that is a power of two ≥ 2 (one 2×2 max-pool per stage).");
        var layers = new List<nn.Module<Tensor, Tensor>>();
        int input = channels;
        for (int stage = 0; stage < Stages(patchSize); stage++)
        {
            int output = stage == 0 ? width : 2 * width;
            if (kind == ConvStemKind.Strided)
            {
                // Padding 1 and stride 2: output side ⌈H/2⌉ = H/2 for the even sides a power-of-two patch implies.
                layers.Add(nn.Conv2d(input, output, kernel_size: 3, stride: 2, padding: 1));
            }
            else
            {
                // Pool before ReLU: the same function (ReLU is monotone, so it commutes with max) on a quarter of the
                // elements.
                layers.Add(nn.Conv2d(input, output, kernel_size: 3, padding: 1));
                layers.Add(nn.MaxPool2d(2));
            }
            // In place: the convolution's or the pool's output is fresh.
            layers.Add(nn.ReLU(inplace: true));
            input = output;
        }
        return nn.Sequential(layers);
    }
}
