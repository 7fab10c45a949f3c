using Plstm.Models;
using Plstm.Ops.TwoD;
using static TorchSharp.torch;

namespace Plstm.Cli.Bench;

/// <summary>The checked settings of <c>plstm bench step</c> besides the common ones.</summary>
/// <param name="Presets">Model presets, in row order within an image size.</param>
/// <param name="Sizes">Image sides in pixels (multiples of every preset's patch size).</param>
/// <param name="BatchOverall">One batch size for every image size, or null.</param>
/// <param name="BatchPerSize">Batch sizes given per image size (<c>BATCH@SIZE</c>).</param>
/// <param name="Form">Operator form for every pLSTM layer, or null for the layer's default.</param>
/// <param name="Levels">Hierarchy depth of every pLSTM layer, or null for the preset's.</param>
/// <param name="Recompute">Recompute the path sums in backward in every pLSTM layer (chunkwise, row-scan and kernel forms).</param>
/// <param name="ComputeDtype">The dtype the models compute in, their parameters in the row's dtype
/// (<see cref="VisionModel.ComputeDtype"/>), or null for the parameters' own.</param>
public sealed record StepBenchPlan(
    IReadOnlyList<ModelPreset> Presets, IReadOnlyList<int> Sizes, int? BatchOverall,
    IReadOnlyDictionary<int, int> BatchPerSize, Plstm2DForm? Form, int? Levels, bool Recompute = false,
    ScalarType? ComputeDtype = null)
{
    /// <summary>Default batch sizes on CUDA for the default image sizes (about the largest a ViT-T step fits in a
    /// typical GPU at 224 px, shrinking with the token count).</summary>
    private static readonly Dictionary<int, int> CudaDefaults = new() { [192] = 128, [224] = 128, [384] = 64, [512] = 32, [1024] = 8 };

    /// <summary>
    /// The batch size at <paramref name="size"/>: <c>BATCH@SIZE</c>, else the overall one, else the default: on CUDA
    /// 128@192, 128@224, 64@384, 32@512, 8@1024 and otherwise 128·(224/size)² rounded down to a power of two, at most
    /// 256; on the
    /// CPU the CUDA default / 32 (at least 1), so a CPU run stays short.
    /// </summary>
    public int BatchFor(int size, bool cuda)
    {
        if (BatchPerSize.TryGetValue(size, out int batch)) return batch;
        if (BatchOverall is int all) return all;
        int gpu = CudaDefaults.TryGetValue(size, out int table) ? table : Math.Min(256, PowerOfTwoAtMost(128.0 * (224.0 / size) * (224.0 / size)));
        return cuda ? gpu : Math.Max(1, gpu / 32);
    }

    private static int PowerOfTwoAtMost(double value)
    {
        int p = 1;
        while (p * 2 <= value && p < (1 << 20)) p *= 2;
        return p;
    }
}
