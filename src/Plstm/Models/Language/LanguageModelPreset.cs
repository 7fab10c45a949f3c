using System.Collections.Concurrent;

namespace Plstm.Models.Language;

/// <summary>Which architecture a <see cref="LanguageModelPreset"/> builds.</summary>
public enum LanguageModelFamily
{
    /// <summary><see cref="PlstmLanguageModel"/>.</summary>
    Plstm,

    /// <summary><see cref="CausalTransformerLanguageModel"/>.</summary>
    Transformer,
}

/// <summary>
/// A named byte-level language-model configuration of <see cref="LanguageModelRegistry"/>: exactly one of
/// <see cref="PlstmConfig"/> and <see cref="TransformerConfig"/> is set.
/// </summary>
public sealed record LanguageModelPreset
{
    private static readonly ConcurrentDictionary<object, long> CountCache = new();

    private LanguageModelPreset(string name, string description, PlstmLanguageModelConfig? plstm,
        CausalTransformerLanguageModelConfig? transformer)
    {
        Name = name;
        Description = description;
        PlstmConfig = plstm;
        TransformerConfig = transformer;
    }

    /// <summary>A pLSTM preset (the configuration is validated).</summary>
    public static LanguageModelPreset Plstm(string name, string description, PlstmLanguageModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        return new LanguageModelPreset(name, description, config, null);
    }

    /// <summary>A causal-transformer preset (the configuration is validated).</summary>
    public static LanguageModelPreset Transformer(string name, string description,
        CausalTransformerLanguageModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        return new LanguageModelPreset(name, description, null, config);
    }

    /// <summary>Registry name, e.g. <c>lm_tiny</c>.</summary>
    public string Name { get; }

    /// <summary>One-line description.</summary>
    public string Description { get; }

    /// <summary>The architecture.</summary>
    public LanguageModelFamily Family => PlstmConfig is not null ? LanguageModelFamily.Plstm : LanguageModelFamily.Transformer;

    /// <summary>The configuration of a pLSTM preset, else null.</summary>
    public PlstmLanguageModelConfig? PlstmConfig { get; }

    /// <summary>The configuration of a transformer preset, else null.</summary>
    public CausalTransformerLanguageModelConfig? TransformerConfig { get; }

    /// <summary>The longest context the model accepts (null = unbounded, pLSTM).</summary>
    public int? MaxContext => TransformerConfig?.MaxContext;

    /// <summary>Builds a freshly initialised float32 model on the CPU (seed torch first for reproducible weights).</summary>
    public ByteLanguageModel Create() => PlstmConfig is { } plstm
        ? new PlstmLanguageModel(plstm, Name)
        : new CausalTransformerLanguageModel(TransformerConfig!, Name);

    /// <summary>Number of parameter elements of <see cref="Create"/>'s model (built once, cached per configuration).</summary>
    public long ParameterCount() => CountCache.GetOrAdd((object?)PlstmConfig ?? TransformerConfig!, _ =>
    {
        using var model = Create();
        return model.ParameterCount();
    });
}
