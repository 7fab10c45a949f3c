namespace Plstm.Cli.Training;

/// <summary>The options of <c>plstm train lm</c> as given on the command line (null = not given: the default of
/// <see cref="LanguageModelTrainPlan"/> applies).</summary>
public sealed record LanguageModelTrainSettings
{
    /// <summary>The text file (default: tiny Shakespeare).</summary>
    public string? Data { get; init; }

    /// <summary>Language-model preset.</summary>
    public string? Preset { get; init; }

    /// <summary>Optimiser steps.</summary>
    public long? Steps { get; init; }

    /// <summary>Windows per batch.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Context (sequence length) in bytes.</summary>
    public int? Context { get; init; }

    /// <summary>Peak learning rate.</summary>
    public double? Lr { get; init; }

    /// <summary>Warm-up steps.</summary>
    public long? Warmup { get; init; }

    /// <summary>Decoupled weight decay.</summary>
    public double? WeightDecay { get; init; }

    /// <summary>Gradient clipping norm (0 = off).</summary>
    public double? Clip { get; init; }

    /// <summary>Run seed.</summary>
    public long? Seed { get; init; }

    /// <summary>Device.</summary>
    public string? Device { get; init; }

    /// <summary>Validation cadence in steps (0 = only the final evaluation).</summary>
    public long? EvalEvery { get; init; }

    /// <summary>Batches of each periodic validation.</summary>
    public int? EvalBatches { get; init; }

    /// <summary>Checkpoint cadence in steps (0 = only at the end).</summary>
    public long? CheckpointEvery { get; init; }

    /// <summary>Progress-line and metrics cadence in steps.</summary>
    public long? LogEvery { get; init; }

    /// <summary>Steps between reads of the training numbers from the device (default: 10 on CUDA, else 1).</summary>
    public int? SyncEvery { get; init; }

    /// <summary>Wall-clock budget of the training steps, as given (<see cref="Duration"/>).</summary>
    public string? TimeBudget { get; init; }

    /// <summary>Stop after this many steps (resumable) without changing the schedule.</summary>
    public long? StopAfter { get; init; }

    /// <summary>Output folder.</summary>
    public string? Out { get; init; }

    /// <summary>Continue the run in <see cref="Out"/>.</summary>
    public bool Resume { get; init; }

    /// <summary>libtorch intra-op threads.</summary>
    public int? Threads { get; init; }
}
