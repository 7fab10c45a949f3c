namespace Plstm.Training.Language;

/// <summary>
/// Settings of a <see cref="LanguageModelTrainer"/> run: the shared <see cref="TrainerOptions"/> (steps, batch size,
/// schedule, AdamW, clipping, seed, device, output, evaluation / checkpoint / logging cadence, resume) plus what is
/// particular to byte-level language modelling. <see cref="Validate"/> throws an <see cref="ArgumentException"/> whose
/// <see cref="ArgumentException.ParamName"/> names the offending property.
/// </summary>
public sealed record LanguageModelTrainingOptions
{
    /// <summary>A step count for runs limited by <see cref="TimeBudgetSeconds"/> only: the step clock never ends them
    /// (and so never advances their cosine).</summary>
    public const long UnboundedSteps = long.MaxValue / 4;

    /// <summary>
    /// The shared trainer settings. <see cref="TrainerOptions.Steps"/> must be set (language-model runs count steps,
    /// not epochs: every batch is drawn afresh from the training split); the image-only options (label smoothing,
    /// Mixup/CutMix, channels-last) must keep their defaults. <see cref="TrainerOptions.EvalBatchSize"/> defaults to the
    /// batch size.
    /// </summary>
    public required TrainerOptions Trainer { get; init; }

    /// <summary>Context (sequence length) T of training and evaluation windows: each window holds T + 1 bytes.</summary>
    public int SequenceLength { get; init; } = 256;

    /// <summary>Periodic evaluations use the first this-many batches of the sequential validation windows (the same
    /// windows every time); null = the whole validation split. The final evaluation of a run always uses the whole
    /// split.</summary>
    public int? EvalBatches { get; init; } = 16;

    /// <summary>
    /// Wall-clock budget in seconds of the training steps (evaluations and checkpoint writing do not count), or null.
    /// With a budget the run stops at the first step boundary at or after it, and the learning-rate cosine runs over
    /// whichever clock ends first, steps or budget (<see cref="LrSchedule.At(long, double)"/>): the rate reaches its end
    /// value at the budget. The time spent is stored in checkpoints, so a resumed run continues the same budget.
    /// Timing makes such runs non-reproducible; runs without a budget are exact.
    /// </summary>
    public double? TimeBudgetSeconds { get; init; }

    /// <summary>The evaluation batch size in windows.</summary>
    public int EvalBatchSize => Trainer.EvalBatchSize ?? Trainer.BatchSize;

    /// <summary>Checks every option; throws an <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (Trainer is null) throw new ArgumentException("Trainer options are required.", nameof(Trainer));
        Trainer.Validate();
        if (Trainer.Steps is null)
            throw Bad(nameof(TrainerOptions.Steps), "must be set: language-model runs count steps, not epochs");
        if (Trainer.LabelSmoothing != 0 || Trainer.UsesMixing)
            throw Bad(nameof(TrainerOptions.LabelSmoothing), "and Mixup/CutMix do not apply to language models");
        if (Trainer.ChannelsLast == true) throw Bad(nameof(TrainerOptions.ChannelsLast), "does not apply to language models");
        if (SequenceLength < 1) throw Bad(nameof(SequenceLength), $"must be ≥ 1 (got {SequenceLength})");
        if (EvalBatches is < 1) throw Bad(nameof(EvalBatches), $"must be ≥ 1 or null for all (got {EvalBatches})");
        if (TimeBudgetSeconds is double budget && !(budget > 0 && double.IsFinite(budget)))
            throw Bad(nameof(TimeBudgetSeconds), $"must be positive and finite (got {budget})");
    }

    private static ArgumentException Bad(string option, string problem) =>
        new($"Language-model option {option} {problem}.", option);
}
