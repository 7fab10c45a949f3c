using System.Text.Json;
using Plstm.Data;
using Plstm.Training;

namespace Plstm.Experiments;

/// <summary>How a model's training data was read, as far as reading new images the same way needs it.</summary>
public sealed record RunDataConfig
{
    /// <summary>The source kind.</summary>
    public ExperimentDataKind Kind { get; init; }

    /// <summary>Folder (folder data; explicit Fashion-MNIST folder), else null.</summary>
    public string? Folder { get; init; }

    /// <summary>Arrows: the scale divisor.</summary>
    public double ArrowScale { get; init; } = 1;

    /// <summary>Training image side in pixels.</summary>
    public int ImageSize { get; init; }

    /// <summary>The experiment's validation count (arrows: size of <c>val</c>; Fashion-MNIST / IDX: images held out
    /// from the end of the training file), or null.</summary>
    public int? ValidationCount { get; init; }

    /// <summary>The experiment's test count (arrows: size of <c>test</c> and <c>test-ext</c>; files: a cap), or null.</summary>
    public int? TestCount { get; init; }

    /// <summary>Image channels.</summary>
    public int Channels { get; init; }

    /// <summary>Class names, indexed by label.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];

    /// <summary>Normalisation means (one value or one per channel) after pixel / 255.</summary>
    public IReadOnlyList<float> NormalizationMean { get; init; } = [0f];

    /// <summary>Normalisation standard deviations.</summary>
    public IReadOnlyList<float> NormalizationStd { get; init; } = [1f];

    /// <summary>The normalisation statistics.</summary>
    public NormalizationStats Normalization() => new(NormalizationMean, NormalizationStd);
}

/// <summary>
/// The run configuration stored as <c>config.json</c> in every checkpoint the experiment runner writes
/// (<see cref="TrainerOptions.RunConfigJson"/>): the model description, the data reading and the experiment. Enough to
/// rebuild the model and to evaluate or predict with a checkpoint alone.
/// </summary>
public sealed record RunConfig
{
    /// <summary>Value of <see cref="Format"/>.</summary>
    public const string FormatName = "plstm-run";

    /// <summary>Format marker.</summary>
    public string Format { get; init; } = FormatName;

    /// <summary>Format version.</summary>
    public int Version { get; init; } = 1;

    /// <summary>Experiment name (<c>custom</c> for a single preset run).</summary>
    public string Experiment { get; init; } = "";

    /// <summary>The model's key inside the experiment (its output subfolder).</summary>
    public string ModelKey { get; init; } = "";

    /// <summary>The model.</summary>
    public required ModelSpec Model { get; init; }

    /// <summary>The data.</summary>
    public required RunDataConfig Data { get; init; }

    /// <summary>Whether the model takes channels-last input (the trainer's <c>ChannelsLast</c>).</summary>
    public bool ChannelsLast { get; init; } = true;

    /// <summary>Serialises to indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ModelSpec.JsonOptions);

    /// <summary>Parses a run configuration.</summary>
    /// <exception cref="InvalidDataException">Not a run configuration of this format.</exception>
    public static RunConfig FromJson(string json, string source = "config.json")
    {
        RunConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<RunConfig>(json, ModelSpec.JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{source} is not a valid run configuration: {ex.Message}", ex);
        }
        if (config is null || config.Format != FormatName)
            throw new InvalidDataException($"{source} is not a {FormatName} configuration.");
        if (config.Version > 1)
            throw new InvalidDataException($"{source} has version {config.Version}; this build reads version 1.");
        if (config.Model is null || (config.Model.Plstm is null && config.Model.Vit is null))
            throw new InvalidDataException($"{source} has no model configuration.");
        return config;
    }

    /// <summary>
    /// Reads the run configuration of a training checkpoint (<c>last.ckpt</c>, <c>best.ckpt</c>).
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a checkpoint, or one without a run configuration.</exception>
    public static RunConfig FromCheckpoint(string checkpointPath)
    {
        string? json = TrainingCheckpoint.ReadConfigJson(checkpointPath)
            ?? throw new InvalidDataException(
                $"Checkpoint '{checkpointPath}' has no config.json (it was not written by 'plstm train').");
        return FromJson(json, $"Checkpoint '{checkpointPath}': config.json");
    }

    /// <summary>The configuration of one model of an experiment.</summary>
    public static RunConfig Create(string experiment, ExperimentModel model, ModelSpec spec, ExperimentData data) => new()
    {
        Experiment = experiment,
        ModelKey = model.Key,
        Model = spec,
        Data = new RunDataConfig
        {
            Kind = data.Spec.Kind,
            Folder = data.Spec.Folder is null ? null : Path.GetFullPath(data.Spec.Folder),
            ArrowScale = data.Spec.ArrowScale,
            ImageSize = data.ImageSize,
            ValidationCount = data.Spec.ValidationCount,
            TestCount = data.Spec.TestCount,
            Channels = data.Channels,
            ClassNames = data.ClassNames,
            NormalizationMean = data.Normalization.Mean,
            NormalizationStd = data.Normalization.Std,
        },
    };
}
