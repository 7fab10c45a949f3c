using System.Text.Json;
using System.Text.Json.Serialization;
using Plstm.Models;

namespace Plstm.Experiments;

/// <summary>
/// A complete, serialisable description of a vision model: its family and full configuration (the registry preset
/// name is kept for display only). Stored in every checkpoint's <c>config.json</c> (<see cref="RunConfig"/>) so that
/// <c>eval</c> and <c>predict</c> rebuild exactly the trained architecture.
/// </summary>
public sealed record ModelSpec
{
    /// <summary>Registry preset the configuration came from (informational).</summary>
    public string Preset { get; init; } = "";

    /// <summary>Architecture family.</summary>
    public ModelFamily Family { get; init; }

    /// <summary>Configuration of a pLSTM-ViT (family Plstm), else null.</summary>
    public PlstmVisionConfig? Plstm { get; init; }

    /// <summary>Configuration of a ViT (family Vit), else null.</summary>
    public VitConfig? Vit { get; init; }

    /// <summary>A pLSTM-ViT description.</summary>
    public static ModelSpec ForPlstm(string preset, PlstmVisionConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        return new ModelSpec { Preset = preset, Family = ModelFamily.Plstm, Plstm = config };
    }

    /// <summary>A ViT description.</summary>
    public static ModelSpec ForVit(string preset, VitConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        return new ModelSpec { Preset = preset, Family = ModelFamily.Vit, Vit = config };
    }

    /// <summary>Training image side.</summary>
    [JsonIgnore]
    public int ImageSize => Plstm?.ImageSize ?? Vit!.ImageSize;

    /// <summary>Patch side.</summary>
    [JsonIgnore]
    public int PatchSize => Plstm?.PatchSize ?? Vit!.PatchSize;

    /// <summary>Input channels.</summary>
    [JsonIgnore]
    public int NumChannels => Plstm?.NumChannels ?? Vit!.NumChannels;

    /// <summary>Output classes.</summary>
    [JsonIgnore]
    public int NumClasses => Plstm?.NumClasses ?? Vit!.NumClasses;

    /// <summary>Builds a freshly initialised float32 model on the CPU.</summary>
    /// <exception cref="InvalidDataException">The description is incomplete (no configuration for its family).</exception>
    public VisionModel Create() => Family switch
    {
        ModelFamily.Plstm when Plstm is not null => new PlstmVisionModel(Plstm, Preset.Length > 0 ? Preset : "plstm_vision_model"),
        ModelFamily.Vit when Vit is not null => new VisionTransformer(Vit, Preset.Length > 0 ? Preset : "vision_transformer"),
        _ => throw new InvalidDataException($"The model description (family {Family}) has no configuration."),
    };

    /// <summary>Serializer settings shared by the experiment files: snake_case, enums as strings, computed properties
    /// left out.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        IgnoreReadOnlyProperties = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}
