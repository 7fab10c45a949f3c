using System.Text.Json;
using System.Text.Json.Serialization;
using Plstm.Data.Text;
using Plstm.Models.Language;

namespace Plstm.Training.Language;

/// <summary>
/// The run configuration stored as <c>config.json</c> in every checkpoint of a language-model run
/// (<see cref="TrainerOptions.RunConfigJson"/>): the preset name, the full model configuration (so a checkpoint stays
/// loadable when presets change), the training context and the corpus. Enough to rebuild the model and to generate
/// from a checkpoint alone. Its <see cref="Format"/> tells language-model checkpoints from image-model ones
/// (<c>plstm-run</c>).
/// </summary>
public sealed record LanguageModelRunConfig
{
    /// <summary>Value of <see cref="Format"/>.</summary>
    public const string FormatName = "plstm-lm-run";

    /// <summary>The format marker of image-model run configurations (recognised to give a clear error).</summary>
    public const string ImageRunFormatName = "plstm-run";

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Format marker.</summary>
    public string Format { get; init; } = FormatName;

    /// <summary>Format version.</summary>
    public int Version { get; init; } = 1;

    /// <summary>The preset the model was built from (e.g. <c>lm_tiny</c>).</summary>
    public string Preset { get; init; } = "";

    /// <summary>The architecture (informative; the model is rebuilt from whichever configuration is set).</summary>
    public LanguageModelFamily Family { get; init; }

    /// <summary>The pLSTM configuration, or null.</summary>
    public PlstmLanguageModelConfig? Plstm { get; init; }

    /// <summary>The transformer configuration, or null.</summary>
    public CausalTransformerLanguageModelConfig? Transformer { get; init; }

    /// <summary>The training context T (sequence length).</summary>
    public int Context { get; init; }

    /// <summary>The training text (full path).</summary>
    public string Data { get; init; } = "";

    /// <summary>Its length in bytes.</summary>
    public long DataBytes { get; init; }

    /// <summary>Its sha256 (lower-case hex).</summary>
    public string DataSha256 { get; init; } = "";

    /// <summary>The configuration of a run of <paramref name="preset"/> with context <paramref name="context"/> on
    /// <paramref name="corpus"/>.</summary>
    public static LanguageModelRunConfig Create(LanguageModelPreset preset, int context, ByteCorpus corpus)
    {
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentNullException.ThrowIfNull(corpus);
        return new LanguageModelRunConfig
        {
            Preset = preset.Name,
            Family = preset.Family,
            Plstm = preset.PlstmConfig,
            Transformer = preset.TransformerConfig,
            Context = context,
            Data = corpus.Source,
            DataBytes = corpus.Length,
            DataSha256 = corpus.Sha256(),
        };
    }

    /// <summary>Builds a freshly initialised float32 model on the CPU from the stored configuration; a transformer's
    /// <see cref="CausalTransformerLanguageModel.DecodingWindow"/> is set to the training context.</summary>
    /// <exception cref="InvalidDataException">No or an invalid model configuration.</exception>
    public ByteLanguageModel CreateModel()
    {
        try
        {
            if (Plstm is not null && Transformer is null) return new PlstmLanguageModel(Plstm, Preset);
            if (Transformer is not null && Plstm is null)
                return new CausalTransformerLanguageModel(Transformer, Preset)
                {
                    DecodingWindow = Context >= 1 && Context <= Transformer.MaxContext ? Context : null,
                };
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"The stored model configuration is invalid: {ex.Message}", ex);
        }
        throw new InvalidDataException("The run configuration must hold exactly one of a pLSTM and a transformer configuration.");
    }

    /// <summary>Serialises to indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses a language-model run configuration.</summary>
    /// <exception cref="InvalidDataException">Not JSON, an image-model configuration, another format or a newer
    /// version (the message starts with <paramref name="source"/>).</exception>
    public static LanguageModelRunConfig FromJson(string json, string source = "config.json")
    {
        ArgumentNullException.ThrowIfNull(json);
        LanguageModelRunConfig? config;
        try
        {
            using (var doc = JsonDocument.Parse(json))
            {
                string? format = doc.RootElement.ValueKind == JsonValueKind.Object
                    && doc.RootElement.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String
                    ? f.GetString() : null;
                if (format == ImageRunFormatName)
                    throw new InvalidDataException(
                        $"{source} describes an image model, not a language model (written by 'plstm train', not 'plstm train lm').");
                if (format != FormatName)
                    throw new InvalidDataException($"{source} is not a language-model run configuration ({FormatName}).");
            }
            config = JsonSerializer.Deserialize<LanguageModelRunConfig>(json, Json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{source} is not a valid language-model run configuration: {ex.Message}", ex);
        }
        if (config is null) throw new InvalidDataException($"{source} is empty.");
        if (config.Version > 1)
            throw new InvalidDataException($"{source} has version {config.Version}; this build reads version 1.");
        return config;
    }
}
