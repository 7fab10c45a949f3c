using Plstm.Models.Language;

namespace Plstm.Training.Language;

/// <summary>
/// A language model restored from a checkpoint of a language-model run (<c>last.ckpt</c> or <c>best.ckpt</c>): its
/// <see cref="LanguageModelRunConfig"/> rebuilds the architecture, the weights are loaded strictly.
/// </summary>
public sealed class TrainedLanguageModel : IDisposable
{
    private TrainedLanguageModel(string path, LanguageModelRunConfig config, ByteLanguageModel model, long step)
    {
        Path = path;
        Config = config;
        Model = model;
        Step = step;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <summary>The run configuration stored in the checkpoint.</summary>
    public LanguageModelRunConfig Config { get; }

    /// <summary>The model (float32, CPU until moved). A transformer decodes over a window of the training context.</summary>
    public ByteLanguageModel Model { get; }

    /// <summary>Training step of the checkpoint.</summary>
    public long Step { get; }

    /// <summary>Loads a checkpoint.</summary>
    /// <exception cref="FileNotFoundException">No such file (or a folder).</exception>
    /// <exception cref="InvalidDataException">Not a checkpoint, not a language-model checkpoint, or weights that do not
    /// fit the stored configuration.</exception>
    public static TrainedLanguageModel Load(string checkpointPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointPath);
        if (Directory.Exists(checkpointPath))
            throw new FileNotFoundException(
                $"Checkpoint '{checkpointPath}' is a folder; give its last.ckpt or best.ckpt.", checkpointPath);
        string json = TrainingCheckpoint.ReadConfigJson(checkpointPath)
            ?? throw new InvalidDataException(
                $"Checkpoint '{checkpointPath}' has no config.json: it was not written by 'plstm train lm'.");
        var config = LanguageModelRunConfig.FromJson(json, $"Checkpoint '{checkpointPath}': config.json");
        ByteLanguageModel model;
        try
        {
            model = config.CreateModel();
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"Checkpoint '{checkpointPath}': {ex.Message}", ex);
        }
        try
        {
            var state = TrainingCheckpoint.Load(checkpointPath, model);
            return new TrainedLanguageModel(checkpointPath, config, model, state.Step);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => Model.Dispose();
}
