using System.Text.Json.Serialization;

namespace Plstm.Training;

/// <summary>
/// Everything besides tensors that a training checkpoint stores (<c>state.json</c>): the step, the data position,
/// the random-generator states, the best validation result and the options of the run.
/// </summary>
public sealed record CheckpointState
{
    /// <summary>Format tag of <c>state.json</c>.</summary>
    public const string FormatName = "plstm-training-checkpoint";

    /// <summary>Current format version.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Format tag; always <see cref="FormatName"/>.</summary>
    [JsonPropertyName("format")]
    public string Format { get; init; } = FormatName;

    /// <summary>Format version.</summary>
    [JsonPropertyName("version")]
    public int Version { get; init; } = CurrentVersion;

    /// <summary>Optimiser steps completed (also the schedule position: the next step uses <c>lr(Step)</c>).</summary>
    [JsonPropertyName("step")]
    public long Step { get; init; }

    /// <summary>Total steps of the run.</summary>
    [JsonPropertyName("total_steps")]
    public long TotalSteps { get; init; }

    /// <summary>Epoch of the next batch.</summary>
    [JsonPropertyName("epoch")]
    public int Epoch { get; init; }

    /// <summary>Index of the next batch within <see cref="Epoch"/>.</summary>
    [JsonPropertyName("batch_index")]
    public int BatchIndex { get; init; }

    /// <summary>The data position of the next batch.</summary>
    [JsonIgnore]
    public DataPosition Position => new(Epoch, BatchIndex);

    /// <summary>torch's CPU generator state (<c>torch.random.get_rng_state()</c>), or null.</summary>
    [JsonPropertyName("torch_rng_state")]
    public byte[]? TorchRngState { get; init; }

    /// <summary>State of the Mixup/CutMix generator, or null when mixing is off.</summary>
    [JsonPropertyName("mix_rng_state")]
    public ulong[]? MixRngState { get; init; }

    /// <summary>Best validation accuracy so far, or null before the first evaluation.</summary>
    [JsonPropertyName("best_val_acc")]
    public double? BestValidationAccuracy { get; init; }

    /// <summary>Step of <see cref="BestValidationAccuracy"/>.</summary>
    [JsonPropertyName("best_step")]
    public long? BestStep { get; init; }

    /// <summary>Validation accuracy at this step, if evaluated here.</summary>
    [JsonPropertyName("val_acc")]
    public double? ValidationAccuracy { get; init; }

    /// <summary>Samples in the training set (checked on resume).</summary>
    [JsonPropertyName("train_count")]
    public int TrainCount { get; init; }

    /// <summary>Number of classes (checked on resume).</summary>
    [JsonPropertyName("num_classes")]
    public int NumClasses { get; init; }

    /// <summary>Best validation loss so far (language models: nats per byte), or null before the first evaluation or
    /// for trainers that track accuracy instead.</summary>
    [JsonPropertyName("best_val_loss")]
    public double? BestValidationLoss { get; init; }

    /// <summary>Seconds spent in training steps so far (language models: the clock of a wall-clock budget), or null.</summary>
    [JsonPropertyName("train_seconds")]
    public double? TrainSeconds { get; init; }

    /// <summary>sha256 of the training data (language models: the corpus; checked on resume), or null.</summary>
    [JsonPropertyName("data_sha256")]
    public string? DataSha256 { get; init; }

    /// <summary>Further options of a specialised trainer that shape the trajectory (name → invariant text, e.g. the
    /// language-model context), compared on resume like <see cref="Options"/>; null for none.</summary>
    [JsonPropertyName("trajectory")]
    public IReadOnlyDictionary<string, string>? Trajectory { get; init; }

    /// <summary>The symmetry curriculum's stage and open window (<see cref="Training.SymmetryCurriculum"/>); null when
    /// the run has none.</summary>
    [JsonPropertyName("symmetry_curriculum")]
    public SymmetryCurriculumState? SymmetryCurriculum { get; init; }

    /// <summary>The trainer options of the run.</summary>
    [JsonPropertyName("options")]
    public TrainerOptions? Options { get; init; }

    /// <summary>When the checkpoint was written (UTC).</summary>
    [JsonPropertyName("saved_at")]
    public DateTimeOffset SavedAt { get; init; }
}
