using System.Text.Json;
using Plstm.Models.Language;

namespace Plstm.Training.Language;

/// <summary>
/// The result of a language-model run, written as <c>results.json</c> (snake_case keys) — last and atomically, so its
/// presence marks a finished run. The headline numbers are <see cref="ValNatsPerByte"/> and
/// <see cref="ValBitsPerByte"/>: the final weights on the whole validation split.
/// </summary>
public sealed record LanguageModelRunResult
{
    /// <summary>File name in the output folder.</summary>
    public const string FileName = "results.json";

    /// <summary>The preset.</summary>
    public string Preset { get; init; } = "";

    /// <summary>The architecture.</summary>
    public LanguageModelFamily Family { get; init; }

    /// <summary>Parameter elements of the model.</summary>
    public long Parameters { get; init; }

    /// <summary>The training text (full path).</summary>
    public string Data { get; init; } = "";

    /// <summary>Bytes of the text, of its training split (first 90 %) and of its validation split (last 10 %).</summary>
    public long DataBytes { get; init; }

    /// <summary>Bytes of the training split.</summary>
    public long TrainBytes { get; init; }

    /// <summary>Bytes of the validation split.</summary>
    public long ValidationBytes { get; init; }

    /// <summary>Optimiser steps done.</summary>
    public long Steps { get; init; }

    /// <summary>The step limit of the run, or null when only the time budget limited it.</summary>
    public long? MaxSteps { get; init; }

    /// <summary>The wall-clock budget of the training steps in seconds, or null.</summary>
    public double? TimeBudgetSeconds { get; init; }

    /// <summary>Why training ended: <c>steps</c> or <c>time_budget</c>.</summary>
    public LanguageModelStopReason StoppedBy { get; init; }

    /// <summary>Windows per batch.</summary>
    public int BatchSize { get; init; }

    /// <summary>Context T (bytes per window, plus one for the last target).</summary>
    public int Context { get; init; }

    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; }

    /// <summary>Warm-up steps.</summary>
    public long WarmupSteps { get; init; }

    /// <summary>Decoupled weight decay.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Gradient clipping norm (0 = off).</summary>
    public double Clip { get; init; }

    /// <summary>Run seed.</summary>
    public long Seed { get; init; }

    /// <summary>Device.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>libtorch intra-op threads.</summary>
    public int Threads { get; init; }

    /// <summary>Seconds spent in training steps (all resumed parts; the time budget's clock).</summary>
    public double TrainSeconds { get; init; }

    /// <summary>Wall-clock seconds of the invocation that finished the run (training, evaluations, checkpoints).</summary>
    public double WallSeconds { get; init; }

    /// <summary>Training throughput: steps · batch · context / train seconds.</summary>
    public double BytesPerSecond { get; init; }

    /// <summary>Steps per second of training time.</summary>
    public double StepsPerSecond { get; init; }

    /// <summary>Learning rate of the last step.</summary>
    public double? LastLearningRate { get; init; }

    /// <summary>Training loss (nats/byte) of the last step of the invocation, or null.</summary>
    public double? LastTrainLoss { get; init; }

    /// <summary>Final validation loss, nats per byte (whole validation split).</summary>
    public double ValNatsPerByte { get; init; }

    /// <summary>Final validation loss, bits per byte (= nats / ln 2).</summary>
    public double ValBitsPerByte { get; init; }

    /// <summary>Predicted bytes of the final evaluation.</summary>
    public long ValBytes { get; init; }

    /// <summary>Lowest periodic validation loss (nats/byte, on the periodic evaluation windows), or null.</summary>
    public double? BestPeriodicValNatsPerByte { get; init; }

    /// <summary>Its step (the weights in <c>best.ckpt</c>).</summary>
    public long? BestStep { get; init; }

    /// <summary>Serialises to indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, LanguageModelRunConfig.Json);

    /// <summary>Parses <c>results.json</c>.</summary>
    /// <exception cref="InvalidDataException">Not a result of this format.</exception>
    public static LanguageModelRunResult FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<LanguageModelRunResult>(json, LanguageModelRunConfig.Json)
                ?? throw new InvalidDataException("results.json is empty.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"results.json is not a language-model result: {ex.Message}", ex);
        }
    }
}
