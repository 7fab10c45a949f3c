using System.Collections.Concurrent;

namespace Plstm.Models;

/// <summary>
/// A named model configuration of <see cref="ModelRegistry"/>: exactly one of <see cref="PlstmConfig"/> and
/// <see cref="VitConfig"/> is set, holding the preset's default image size and class count.
/// </summary>
public sealed record ModelPreset
{
    private ModelPreset(string name, string description, ModelFamily family, PlstmVisionConfig? plstm, VitConfig? vit)
    {
        Name = name;
        Description = description;
        Family = family;
        PlstmConfig = plstm;
        VitConfig = vit;
    }

    /// <summary>A pLSTM-ViT preset.</summary>
    public static ModelPreset Plstm(string name, string description, PlstmVisionConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        return new ModelPreset(name, description, ModelFamily.Plstm, config, null);
    }

    /// <summary>A ViT preset.</summary>
    public static ModelPreset Vit(string name, string description, VitConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        return new ModelPreset(name, description, ModelFamily.Vit, null, config);
    }

    /// <summary>Registry name, e.g. <c>plstm_vit_t</c>.</summary>
    public string Name { get; }

    /// <summary>One-line description.</summary>
    public string Description { get; }

    /// <summary>Which architecture the preset builds.</summary>
    public ModelFamily Family { get; }

    /// <summary>The configuration of a pLSTM preset, else null.</summary>
    public PlstmVisionConfig? PlstmConfig { get; }

    /// <summary>The configuration of a ViT preset, else null.</summary>
    public VitConfig? VitConfig { get; }

    /// <summary>Default (training) image side in pixels.</summary>
    public int DefaultImageSize => PlstmConfig?.ImageSize ?? VitConfig!.ImageSize;

    /// <summary>Default number of classes.</summary>
    public int DefaultNumClasses => PlstmConfig?.NumClasses ?? VitConfig!.NumClasses;

    /// <summary>Patch side in pixels.</summary>
    public int PatchSize => PlstmConfig?.PatchSize ?? VitConfig!.PatchSize;

    /// <summary>
    /// Builds a freshly initialised float32 model on the CPU. <paramref name="imageSize"/> (a multiple of the patch
    /// size) sets the positional-embedding grid; <paramref name="numClasses"/> the head. Both default to the preset's.
    /// </summary>
    /// <exception cref="ArgumentException">The overrides make an invalid configuration.</exception>
    public VisionModel Create(int? imageSize = null, int? numClasses = null) => ConfigFor(imageSize, numClasses) switch
    {
        PlstmVisionConfig plstm => new PlstmVisionModel(plstm, Name),
        VitConfig vit => new VisionTransformer(vit, Name),
        _ => throw new InvalidOperationException($"Preset '{Name}' has no configuration."),
    };

    /// <summary>
    /// Number of parameter elements of <see cref="Create"/>'s model with the same arguments. Counted once by
    /// building the model (then disposed) and cached per configuration, so listing every preset stays cheap after the
    /// first call.
    /// </summary>
    public long ParameterCount(int? imageSize = null, int? numClasses = null)
    {
        var config = ConfigFor(imageSize, numClasses);
        return CountCache.GetOrAdd(config, _ =>
        {
            using var model = Create(imageSize, numClasses);
            return model.ParameterCount();
        });
    }

    /// <summary>The preset's configuration record with the overrides applied (a <see cref="PlstmVisionConfig"/> or a
    /// <see cref="Models.VitConfig"/>).</summary>
    public object ConfigFor(int? imageSize = null, int? numClasses = null) => Family switch
    {
        ModelFamily.Plstm => PlstmConfig! with
        {
            ImageSize = imageSize ?? PlstmConfig.ImageSize,
            NumClasses = numClasses ?? PlstmConfig.NumClasses,
        },
        _ => VitConfig! with
        {
            ImageSize = imageSize ?? VitConfig.ImageSize,
            NumClasses = numClasses ?? VitConfig.NumClasses,
        },
    };

    // Keyed by the (value-equal) configuration record, so equal configurations share one count.
    private static readonly ConcurrentDictionary<object, long> CountCache = new();
}
