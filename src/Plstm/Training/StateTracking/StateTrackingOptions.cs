using Plstm.Data.StateTracking;
using Plstm.Models.StateTracking;

namespace Plstm.Training.StateTracking;

/// <summary>
/// Settings of one state-tracking run (<see cref="StateTrackingTrainer"/>): task, model, optimisation, training and
/// test lengths. Defaults are the configuration documented in <c>docs/state-tracking.md</c>.
/// </summary>
public sealed record StateTrackingOptions
{
    /// <summary>The task (parity or S5).</summary>
    public StateTrackingTask Task { get; init; } = StateTrackingTask.Parity;

    /// <summary>The model (its vocabulary and class counts must match the task; <see cref="ModelConfig"/> sets them).</summary>
    public StateTrackingModelConfig Model { get; init; } = new();

    /// <summary>Optimiser steps.</summary>
    public long Steps { get; init; } = 2000;

    /// <summary>Sequences per training batch.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Peak learning rate (linear warm-up, then half cosine to 1e-3 of it; <see cref="LrSchedule"/>).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Warm-up steps (null: 5 % of the steps).</summary>
    public long? WarmupSteps { get; init; }

    /// <summary>Decoupled weight decay of the weight matrices.</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>Global gradient-norm clip (0 = off).</summary>
    public double GradientClip { get; init; } = 1.0;

    /// <summary>Length of the training sequences (every position is supervised, so all prefixes up to it are trained).</summary>
    public int TrainLength { get; init; } = 64;

    /// <summary>Length curriculum: over the first this-many steps the training length grows linearly from
    /// <see cref="MinTrainLength"/> to <see cref="TrainLength"/> (0 = always <see cref="TrainLength"/>).</summary>
    public long CurriculumSteps { get; init; }

    /// <summary>Training length at step 0 of the curriculum.</summary>
    public int MinTrainLength { get; init; } = 8;

    /// <summary>Adaptive length curriculum (<see cref="AdaptiveLengthCurriculum"/>): &gt; 0 starts at
    /// <see cref="MinTrainLength"/> and lengthens the sequences whenever the mean training accuracy of
    /// <see cref="CurriculumWindow"/> steps at the current length reaches this value; 0 = off. With
    /// <see cref="CurriculumSteps"/> as well, the length is the larger of the two: the adaptive curriculum may run ahead
    /// of the schedule, never behind it (so a model that never passes a short length still trains on the full length
    /// by the schedule's end).</summary>
    public double CurriculumThreshold { get; init; }

    /// <summary>Steps per window of the adaptive curriculum.</summary>
    public int CurriculumWindow { get; init; } = 50;

    /// <summary>The adaptive curriculum of these options, or null when <see cref="CurriculumThreshold"/> is 0.</summary>
    public AdaptiveLengthCurriculum? AdaptiveCurriculum() => CurriculumThreshold > 0
        ? new AdaptiveLengthCurriculum(MinTrainLength, TrainLength, CurriculumThreshold, CurriculumWindow)
        : null;

    /// <summary>The test lengths; each has its own fixed test set.</summary>
    public IReadOnlyList<int> TestLengths { get; init; } = [64, 128, 256];

    /// <summary>Sequences per test set.</summary>
    public int TestCount { get; init; } = 512;

    /// <summary>Sequences per evaluation batch.</summary>
    public int EvalBatchSize { get; init; } = 128;

    /// <summary>Evaluate on the first test length every this-many steps (0 = only at the end). The first step at which
    /// its per-position accuracy reaches <see cref="TargetAccuracy"/> is recorded.</summary>
    public long EvalEvery { get; init; } = 250;

    /// <summary>Training loss / accuracy line every this-many steps.</summary>
    public long LogEvery { get; init; } = 50;

    /// <summary>The accuracy whose first crossing (first test length, per position) the result records.</summary>
    public double TargetAccuracy { get; init; } = 0.95;

    /// <summary>Stop training as soon as a periodic evaluation reaches <see cref="TargetAccuracy"/> (the final
    /// evaluation at every length still runs).</summary>
    public bool StopAtTarget { get; init; }

    /// <summary>Wall-clock budget of the training loop in seconds (0 = none). Training stops when it is spent, and the
    /// learning-rate schedule and the curriculum then follow the larger of the step fraction and the time fraction
    /// (<see cref="Progress"/>), so a run cut by time still ends its cosine decay. For fixed-time runs on shared
    /// machines; a run ended by time is not bit-reproducible.</summary>
    public double TimeLimitSeconds { get; init; }

    /// <summary>Run seed: initialisation, training sequences and test sets.</summary>
    public long Seed { get; init; }

    /// <summary>cpu, cuda or cuda:N.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>The model configuration with the task's vocabulary and class counts filled in.</summary>
    public StateTrackingModelConfig ModelConfig() =>
        Model with { VocabSize = Task.VocabSize(), NumClasses = Task.NumClasses() };

    /// <summary>The learning-rate schedule.</summary>
    public LrSchedule Schedule() => new(LearningRate, WarmupSteps ?? Steps / 20, Steps);

    /// <summary>The schedule position of optimiser step <paramref name="step"/> after <paramref name="seconds"/> of
    /// training: <paramref name="step"/> itself, or with a time limit the larger of it and the time fraction scaled to
    /// <see cref="Steps"/>.</summary>
    public long Progress(long step, double seconds)
    {
        if (TimeLimitSeconds <= 0) return step;
        double byTime = Math.Floor(seconds / TimeLimitSeconds * Steps);
        return Math.Max(step, (long)Math.Min(byTime, Steps));
    }

    /// <summary>The training length at schedule position <paramref name="step"/> (0-based, see <see cref="Progress"/>).</summary>
    public int TrainLengthAt(long step)
    {
        if (CurriculumSteps <= 0 || step >= CurriculumSteps) return TrainLength;
        double progress = (double)step / CurriculumSteps;
        return Math.Clamp((int)Math.Round(MinTrainLength + (TrainLength - MinTrainLength) * progress), 1, TrainLength);
    }

    /// <summary>Checks every field.</summary>
    /// <exception cref="ArgumentException">An invalid field; <see cref="ArgumentException.ParamName"/> names it.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Task)) throw Bad(nameof(Task), $"is not a known task ({(int)Task})");
        ArgumentNullException.ThrowIfNull(Model, nameof(Model));
        ModelConfig().Validate();
        if (Steps <= 0) throw Bad(nameof(Steps), $"must be positive, got {Steps}");
        if (BatchSize <= 0) throw Bad(nameof(BatchSize), $"must be positive, got {BatchSize}");
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay)) throw Bad(nameof(WeightDecay), $"must be finite and ≥ 0, got {WeightDecay}");
        if (!(GradientClip >= 0) || double.IsInfinity(GradientClip)) throw Bad(nameof(GradientClip), $"must be finite and ≥ 0, got {GradientClip}");
        try
        {
            Schedule().Validate();
        }
        catch (ArgumentException ex)
        {
            string field = ex.ParamName == nameof(LrSchedule.WarmupSteps) ? nameof(WarmupSteps) : nameof(LearningRate);
            throw Bad(field, ex.Message);
        }
        if (TrainLength <= 0) throw Bad(nameof(TrainLength), $"must be positive, got {TrainLength}");
        if (CurriculumSteps < 0) throw Bad(nameof(CurriculumSteps), $"must be ≥ 0, got {CurriculumSteps}");
        if (MinTrainLength <= 0 || MinTrainLength > TrainLength)
            throw Bad(nameof(MinTrainLength), $"must be in 1 … TrainLength = {TrainLength}, got {MinTrainLength}");
        if (!(CurriculumThreshold >= 0 && CurriculumThreshold <= 1))
            throw Bad(nameof(CurriculumThreshold), $"must be in [0, 1] (0 = off), got {CurriculumThreshold}");
        if (CurriculumWindow <= 0) throw Bad(nameof(CurriculumWindow), $"must be positive, got {CurriculumWindow}");
        if (TestLengths is null || TestLengths.Count == 0) throw Bad(nameof(TestLengths), "must name at least one length");
        if (TestLengths.Any(l => l <= 0)) throw Bad(nameof(TestLengths), $"must all be positive, got {string.Join(",", TestLengths)}");
        if (TestLengths.Distinct().Count() != TestLengths.Count)
            throw Bad(nameof(TestLengths), $"must not repeat a length, got {string.Join(",", TestLengths)}");
        if (TestCount <= 0) throw Bad(nameof(TestCount), $"must be positive, got {TestCount}");
        if (EvalBatchSize <= 0) throw Bad(nameof(EvalBatchSize), $"must be positive, got {EvalBatchSize}");
        if (EvalEvery < 0) throw Bad(nameof(EvalEvery), $"must be ≥ 0, got {EvalEvery}");
        if (LogEvery <= 0) throw Bad(nameof(LogEvery), $"must be positive, got {LogEvery}");
        if (!(TimeLimitSeconds >= 0) || double.IsInfinity(TimeLimitSeconds))
            throw Bad(nameof(TimeLimitSeconds), $"must be finite and ≥ 0, got {TimeLimitSeconds}");
        if (!(TargetAccuracy > 0 && TargetAccuracy <= 1)) throw Bad(nameof(TargetAccuracy), $"must be in (0, 1], got {TargetAccuracy}");
        TrainingDevice.Resolve(Device);
    }

    private static ArgumentException Bad(string field, string message) =>
        new($"{nameof(StateTrackingOptions)}.{field} {message}.", field);
}
