using System.Diagnostics.CodeAnalysis;
using Plstm.Blocks;

namespace Plstm.Models;

/// <summary>
/// The one place where named model presets are defined (models §6.4, §6.5, §7.1, §7.3). Every preset builds a
/// freshly initialised float32 model; its image size and class count can be overridden at creation.
/// </summary>
/// <remarks>
/// Presets: <c>plstm_vit_{t,s,b}</c> and <c>vit_{t,s,b}</c> (224 px, 1000 classes, H = 3/6/12); the
/// arrow-pointing pair <c>plstm_vit_ape</c> and <c>vit_ape</c> (192 px, 2 classes, D = 192, H = 6: the APE config's
/// own <c>num_heads: 6</c> overrides the model files, models §7.1/§9.1); CPU-scale <c>plstm_vit_tiny</c> and
/// <c>vit_tiny</c> (D = 64, H = 2, patch 8, 32 px, 10 classes, 2 pairs / 4 blocks: equal layer count); and the
/// ImageNet ablations of §7.3 on pLSTM-ViT-T (<c>_ponly</c>, <c>_donly</c>, <c>_conststm</c>, <c>_noposemb</c>;
/// 224 px, 1000 classes, H = 3).
/// </remarks>
public static class ModelRegistry
{
    private static readonly PlstmVisionConfig PlstmT = new() { Dim = 192, NumHeads = 3 };
    private static readonly VitConfig VitT = new() { Dim = 192, NumHeads = 3 };

    private static readonly ModelPreset[] Presets =
    [
        ModelPreset.Plstm("plstm_vit_t", "pLSTM-ViT-T: D 192, H 3, 6 P/D pairs, patch 16", PlstmT),
        ModelPreset.Plstm("plstm_vit_s", "pLSTM-ViT-S: D 384, H 6, 6 P/D pairs, patch 16",
            PlstmT with { Dim = 384, NumHeads = 6 }),
        ModelPreset.Plstm("plstm_vit_b", "pLSTM-ViT-B: D 768, H 12, 6 P/D pairs, patch 16",
            PlstmT with { Dim = 768, NumHeads = 12 }),
        ModelPreset.Vit("vit_t", "ViT-T: D 192, H 3, 12 blocks, patch 16", VitT),
        ModelPreset.Vit("vit_s", "ViT-S: D 384, H 6, 12 blocks, patch 16", VitT with { Dim = 384, NumHeads = 6 }),
        ModelPreset.Vit("vit_b", "ViT-B: D 768, H 12, 12 blocks, patch 16", VitT with { Dim = 768, NumHeads = 12 }),
        ModelPreset.Plstm("plstm_vit_ape", "arrow-pointing pLSTM-ViT: D 192, H 6, 6 P/D pairs, 192 px, 2 classes",
            PlstmT with { NumHeads = 6, ImageSize = 192, NumClasses = 2 }),
        ModelPreset.Vit("vit_ape", "arrow-pointing ViT: D 192, H 6, 12 blocks, 192 px, 2 classes",
            VitT with { NumHeads = 6, ImageSize = 192, NumClasses = 2 }),
        ModelPreset.Plstm("plstm_vit_tiny", "CPU-scale pLSTM-ViT: D 64, H 2, 2 P/D pairs, patch 8, 32 px, 10 classes",
            new PlstmVisionConfig { Dim = 64, NumHeads = 2, NumBlocks = 2, PatchSize = 8, ImageSize = 32, NumClasses = 10 }),
        ModelPreset.Vit("vit_tiny", "CPU-scale ViT: D 64, H 2, 4 blocks, patch 8, 32 px, 10 classes",
            new VitConfig { Dim = 64, NumHeads = 2, NumBlocks = 4, PatchSize = 8, ImageSize = 32, NumClasses = 10 }),
        // Between the CPU-scale tiny models and the paper's T size: the 209 k-parameter plstm_vit_tiny underfits
        // augmented Fashion-MNIST (training accuracy 0.894 after 30 epochs), the 5.4 M-parameter T converges slowly.
        ModelPreset.Plstm("plstm_vit_mini", "small-image pLSTM-ViT: D 128, H 4, 2 P/D pairs, patch 4, 28 px, 10 classes",
            new PlstmVisionConfig { Dim = 128, NumHeads = 4, NumBlocks = 2, PatchSize = 4, ImageSize = 28, NumClasses = 10 }),
        ModelPreset.Vit("vit_mini", "small-image ViT: D 128, H 4, 4 blocks, patch 4, 28 px, 10 classes",
            new VitConfig { Dim = 128, NumHeads = 4, NumBlocks = 4, PatchSize = 4, ImageSize = 28, NumClasses = 10 }),
        ModelPreset.Plstm("plstm_vit_t_ponly", "ablation: pLSTM-ViT-T with P-mode layers only",
            PlstmT with { BlockMode = PlstmBlockMode.PP }),
        ModelPreset.Plstm("plstm_vit_t_donly", "ablation: pLSTM-ViT-T with D-mode layers only",
            PlstmT with { BlockMode = PlstmBlockMode.DD }),
        ModelPreset.Plstm("plstm_vit_t_conststm", "ablation: pLSTM-ViT-T with bias-only (input-independent) S/T/M gates",
            PlstmT with { InputDependentGates = false }),
        ModelPreset.Plstm("plstm_vit_t_noposemb", "ablation: pLSTM-ViT-T without positional embedding",
            PlstmT with { UsePositionEmbedding = false }),
    ];

    /// <summary>Every preset, in listing order.</summary>
    public static IReadOnlyList<ModelPreset> All => Presets;

    /// <summary>Every preset name, in listing order.</summary>
    public static IReadOnlyList<string> Names => Presets.Select(p => p.Name).ToArray();

    /// <summary>Finds a preset by exact (case-insensitive) name.</summary>
    public static bool TryGet(string name, [NotNullWhen(true)] out ModelPreset? preset)
    {
        preset = Presets.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
        return preset is not null;
    }

    /// <summary>The preset called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No such preset; the message lists the known names.</exception>
    public static ModelPreset Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryGet(name, out var preset)
            ? preset
            : throw new ArgumentException(
                $"Unknown model '{name}'. Known models: {string.Join(", ", Presets.Select(p => p.Name))}.", nameof(name));
    }

    /// <summary>Builds preset <paramref name="name"/>, optionally at another image size or class count.</summary>
    public static VisionModel Create(string name, int? imageSize = null, int? numClasses = null) =>
        Get(name).Create(imageSize, numClasses);

    /// <summary>
    /// Every preset with its parameter count at its defaults (<see cref="ModelPreset.ParameterCount"/>: each model is
    /// built once, one at a time, and disposed; the B models take a few hundred MB while they exist).
    /// </summary>
    public static IReadOnlyList<ModelSummary> Summaries() =>
        Presets.Select(p => new ModelSummary(p.Name, p.ParameterCount(), p.DefaultImageSize, p.DefaultNumClasses,
            p.Description)).ToArray();
}
