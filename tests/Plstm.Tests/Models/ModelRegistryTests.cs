using System.Text.Json;
using Plstm.Models;

namespace Plstm.Tests.Models;

/// <summary>The preset registry and the listing behind <c>plstm models</c>.</summary>
public class ModelRegistryTests
{
    private static readonly string[] ExpectedNames =
    [
        "plstm_vit_t", "plstm_vit_s", "plstm_vit_b", "vit_t", "vit_s", "vit_b", "plstm_vit_ape", "vit_ape",
        "plstm_vit_tiny", "vit_tiny", "plstm_vit_mini", "vit_mini", "plstm_vit_t_ponly", "plstm_vit_t_donly", "plstm_vit_t_conststm",
        "plstm_vit_t_noposemb",
    ];

    [Fact]
    public void Registry_lists_every_required_preset_once()
    {
        Assert.Equal(ExpectedNames, ModelRegistry.Names);
        Assert.All(ModelRegistry.All, p => Assert.False(string.IsNullOrWhiteSpace(p.Description)));
    }

    [Theory]
    [InlineData("plstm_vit_t", 224, 1000, 192, 3)]
    [InlineData("plstm_vit_s", 224, 1000, 384, 6)]
    [InlineData("plstm_vit_b", 224, 1000, 768, 12)]
    [InlineData("vit_t", 224, 1000, 192, 3)]
    [InlineData("vit_s", 224, 1000, 384, 6)]
    [InlineData("vit_b", 224, 1000, 768, 12)]
    [InlineData("plstm_vit_ape", 192, 2, 192, 6)]
    [InlineData("vit_ape", 192, 2, 192, 6)]
    public void Presets_have_the_specified_defaults(string name, int imageSize, int classes, int dim, int heads)
    {
        var preset = ModelRegistry.Get(name);
        Assert.Equal(imageSize, preset.DefaultImageSize);
        Assert.Equal(classes, preset.DefaultNumClasses);
        Assert.Equal(16, preset.PatchSize);
        Assert.Equal(dim, preset.PlstmConfig?.Dim ?? preset.VitConfig!.Dim);
        Assert.Equal(heads, preset.PlstmConfig?.NumHeads ?? preset.VitConfig!.NumHeads);
    }

    [Fact]
    public void Ablation_presets_differ_from_plstm_vit_t_in_one_field()
    {
        var t = ModelRegistry.Get("plstm_vit_t").PlstmConfig!;
        Assert.Equal(t with { BlockMode = Plstm.Blocks.PlstmBlockMode.PP }, ModelRegistry.Get("plstm_vit_t_ponly").PlstmConfig);
        Assert.Equal(t with { BlockMode = Plstm.Blocks.PlstmBlockMode.DD }, ModelRegistry.Get("plstm_vit_t_donly").PlstmConfig);
        Assert.Equal(t with { InputDependentGates = false }, ModelRegistry.Get("plstm_vit_t_conststm").PlstmConfig);
        Assert.Equal(t with { UsePositionEmbedding = false }, ModelRegistry.Get("plstm_vit_t_noposemb").PlstmConfig);
    }

    [Fact]
    public void Create_applies_image_size_and_class_overrides()
    {
        using var model = ModelRegistry.Create("plstm_vit_tiny", imageSize: 48, numClasses: 4);
        Assert.Equal(48, model.ImageSize);
        Assert.Equal(4, model.NumClasses);
        Assert.Equal(new long[] { 1, 6, 6, 64 }, model.PositionEmbedding!.Embed.shape);
        Assert.Equal(new long[] { 4, 256 }, model.state_dict()["head.weight"].shape);
        Assert.IsType<VisionTransformer>(ModelRegistry.Create("vit_tiny"));
    }

    [Fact]
    public void Unknown_name_lists_the_known_ones()
    {
        var ex = Assert.Throws<ArgumentException>(() => ModelRegistry.Get("plstm_vit_xl"));
        Assert.Contains("plstm_vit_xl", ex.Message);
        Assert.Contains("vit_tiny", ex.Message);
        Assert.True(ModelRegistry.TryGet("PLSTM_VIT_T", out var preset));
        Assert.Equal("plstm_vit_t", preset!.Name);
    }

    [Fact]
    public void Listing_json_has_one_entry_per_preset_with_the_registry_counts()
    {
        var summaries = ModelRegistry.Summaries();
        var json = ModelSummary.ToJson(summaries);
        AssertListingJson(json);
        Assert.All(summaries, s => Assert.Contains(s.Name, s.ToLine()));
    }

    /// <summary>Runs <c>plstm models --json</c> (in-process, through the CLI's entry point) against the registry.</summary>
    [Fact]
    public void Cli_models_verb_prints_the_registry_counts()
    {
        var (exitCode, stdout, stderr) = Plstm.Tests.Cli.CliRunner.Run("models", "--json");
        Assert.True(exitCode == 0, $"exit code {exitCode}: {stderr}");
        using var doc = JsonDocument.Parse(stdout);
        var entries = doc.RootElement.EnumerateArray().ToList();
        Assert.All(entries.Take(ModelRegistry.Names.Count), e => Assert.Equal("vision", e.GetProperty("family").GetString()));
        AssertListingEntries(entries.Take(ModelRegistry.Names.Count).ToList());
        // Then every language-model preset, with its registry count and context limit.
        var language = entries.Skip(ModelRegistry.Names.Count).ToList();
        Assert.Equal(Plstm.Models.Language.LanguageModelRegistry.Names, language.Select(e => e.GetProperty("name").GetString()));
        foreach (var entry in language)
        {
            var preset = Plstm.Models.Language.LanguageModelRegistry.Get(entry.GetProperty("name").GetString()!);
            Assert.Equal("language", entry.GetProperty("family").GetString());
            Assert.Equal(preset.ParameterCount(), entry.GetProperty("params").GetInt64());
            Assert.Equal(preset.MaxContext, entry.GetProperty("max_context").ValueKind == JsonValueKind.Null
                ? null : entry.GetProperty("max_context").GetInt32());
        }
        Assert.Equal(800_288L, language.Single(e => e.GetProperty("name").GetString() == "lm_tiny").GetProperty("params").GetInt64());

        var (textExit, text, _) = Plstm.Tests.Cli.CliRunner.Run("models");
        Assert.Equal(0, textExit);
        Assert.All(ModelRegistry.Names.Concat(Plstm.Models.Language.LanguageModelRegistry.Names),
            name => Assert.Contains(name + " ", text, StringComparison.Ordinal));
    }

    private static void AssertListingJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        AssertListingEntries(doc.RootElement.EnumerateArray().ToList());
    }

    private static void AssertListingEntries(IReadOnlyList<JsonElement> entries)
    {
        Assert.Equal(ModelRegistry.Names, entries.Select(e => e.GetProperty("name").GetString()));
        foreach (var entry in entries)
        {
            var preset = ModelRegistry.Get(entry.GetProperty("name").GetString()!);
            Assert.Equal(preset.ParameterCount(), entry.GetProperty("params").GetInt64());
            Assert.Equal(preset.DefaultImageSize, entry.GetProperty("image_size").GetInt32());
            Assert.Equal(preset.DefaultNumClasses, entry.GetProperty("classes").GetInt32());
        }
        // Spot checks against the reference counts.
        var counts = entries.ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("params").GetInt64());
        Assert.Equal(6_314_404L, counts["plstm_vit_t"]);
        Assert.Equal(86_566_120L, counts["vit_b"]);
        Assert.Equal(5_551_610L, counts["plstm_vit_ape"]);
    }
}
