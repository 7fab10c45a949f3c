using System.Diagnostics.CodeAnalysis;

namespace Plstm.Models.Language;

/// <summary>
/// Named byte-level language-model presets (separate from the vision <see cref="ModelRegistry"/>).
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term><c>lm_tiny</c></term><description>pLSTM, D 128, H 2, 4 blocks: 800,288 parameters (CPU scale)</description></item>
/// <item><term><c>lm_tiny_transformer</c></term><description>causal transformer, D 120, H 4, 4 blocks, context 256:
/// 820,824 parameters (+2.6 % of <c>lm_tiny</c>)</description></item>
/// <item><term><c>lm_small</c></term><description>pLSTM, D 256, H 4, 6 blocks: 4,214,752 parameters</description></item>
/// <item><term><c>lm_small_transformer</c></term><description>causal transformer, D 240, H 4, 6 blocks, context 256:
/// 4,350,736 parameters (+3.2 % of <c>lm_small</c>)</description></item>
/// </list>
/// The pLSTM presets use the §4 layer defaults (JK = JQ = 1, JV = JT = JO = 4, causal conv kernel 4, passthrough,
/// per-head RMS norm) with chunk depth 4. The transformer widths are chosen so that the parameter counts match the
/// pLSTM presets of the same size within ±5 % at the same depth.
/// </remarks>
public static class LanguageModelRegistry
{
    private static readonly LanguageModelPreset[] Presets =
    [
        LanguageModelPreset.Plstm("lm_tiny", "byte pLSTM LM: D 128, H 2, 4 blocks (CPU scale)",
            new PlstmLanguageModelConfig { Dim = 128, NumHeads = 2, NumBlocks = 4 }),
        LanguageModelPreset.Transformer("lm_tiny_transformer",
            "byte causal transformer, size of lm_tiny: D 120, H 4, 4 blocks, context 256",
            new CausalTransformerLanguageModelConfig { Dim = 120, NumHeads = 4, NumBlocks = 4, MaxContext = 256 }),
        LanguageModelPreset.Plstm("lm_small", "byte pLSTM LM: D 256, H 4, 6 blocks",
            new PlstmLanguageModelConfig { Dim = 256, NumHeads = 4, NumBlocks = 6 }),
        LanguageModelPreset.Transformer("lm_small_transformer",
            "byte causal transformer, size of lm_small: D 240, H 4, 6 blocks, context 256",
            new CausalTransformerLanguageModelConfig { Dim = 240, NumHeads = 4, NumBlocks = 6, MaxContext = 256 }),
    ];

    /// <summary>Every preset, in listing order.</summary>
    public static IReadOnlyList<LanguageModelPreset> All => Presets;

    /// <summary>Every preset name, in listing order.</summary>
    public static IReadOnlyList<string> Names => Presets.Select(p => p.Name).ToArray();

    /// <summary>Finds a preset by exact (case-insensitive) name.</summary>
    public static bool TryGet(string name, [NotNullWhen(true)] out LanguageModelPreset? preset)
    {
        preset = Presets.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
        return preset is not null;
    }

    /// <summary>The preset called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No such preset; the message lists the known names.</exception>
    public static LanguageModelPreset Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryGet(name, out var preset)
            ? preset
            : throw new ArgumentException(
                $"Unknown language model '{name}'. Known language models: {string.Join(", ", Names)}.", nameof(name));
    }

    /// <summary>Builds preset <paramref name="name"/> (float32, CPU).</summary>
    public static ByteLanguageModel Create(string name) => Get(name).Create();
}
