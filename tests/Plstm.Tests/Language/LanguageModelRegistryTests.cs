using Plstm.Models.Language;

namespace Plstm.Tests.Language;

/// <summary>Presets and their parameter counts.</summary>
public sealed class LanguageModelRegistryTests
{
    /// <summary>pLSTM LM count: blocks·(layer + PostUp wrapper) + embedding + final norm + head.</summary>
    private static long PlstmCount(long d, long h, long blocks)
    {
        long layer = d * d + 3 * d * d / h + 36 * h * d + 10 * d + 84 * h;               // Layers/README formula
        long wrapper = 8 * d * d + 7 * d;                                                // models §6.1
        return blocks * (layer + wrapper) + 256 * d + d + d * 256 + 256;
    }

    [Fact]
    public void Presets_exist_and_build_their_families()
    {
        Assert.Equal(new[] { "lm_tiny", "lm_tiny_transformer", "lm_small", "lm_small_transformer" }, LanguageModelRegistry.Names);
        Assert.Equal(LanguageModelFamily.Plstm, LanguageModelRegistry.Get("LM_TINY").Family);
        Assert.Equal(LanguageModelFamily.Transformer, LanguageModelRegistry.Get("lm_tiny_transformer").Family);
        var ex = Assert.Throws<ArgumentException>(() => LanguageModelRegistry.Get("lm_huge"));
        Assert.Contains("lm_tiny", ex.Message);
        using var model = LanguageModelRegistry.Create("lm_tiny");
        Assert.IsType<PlstmLanguageModel>(model);
        Assert.Null(model.MaxContext);
    }

    [Fact]
    public void Parameter_counts_match_the_formula_and_the_transformers_are_within_5_percent()
    {
        long tiny = LanguageModelRegistry.Get("lm_tiny").ParameterCount();
        long small = LanguageModelRegistry.Get("lm_small").ParameterCount();
        Assert.Equal(PlstmCount(128, 2, 4), tiny);
        Assert.Equal(800_288, tiny);
        Assert.Equal(PlstmCount(256, 4, 6), small);
        Assert.Equal(4_214_752, small);

        long tinyTransformer = LanguageModelRegistry.Get("lm_tiny_transformer").ParameterCount();
        long smallTransformer = LanguageModelRegistry.Get("lm_small_transformer").ParameterCount();
        Assert.Equal(820_824, tinyTransformer);
        Assert.Equal(4_350_736, smallTransformer);
        Assert.InRange(tinyTransformer / (double)tiny, 0.95, 1.05);
        Assert.InRange(smallTransformer / (double)small, 0.95, 1.05);
    }
}
