using Plstm.Training;

namespace Plstm.Data.StateTracking;

/// <summary>
/// Deterministic generator of state-tracking sequences: every token is drawn uniformly from the task's vocabulary by a
/// seeded <see cref="TrainingRandom"/> (xoshiro256**), so the same seed gives the same sequences on every machine and
/// device; targets follow from the tokens (<see cref="StateTrackingTasks.Targets"/>).
/// </summary>
/// <remarks>
/// Training draws from one stream (<see cref="ForTraining"/>); each test length has its own fixed set
/// (<see cref="TestSet"/>), drawn from a stream that depends on the seed and the length only, so test sets never
/// overlap the training stream by construction of the seeds and do not change with the training settings.
/// </remarks>
public sealed class StateTrackingGenerator
{
    /// <summary>Stream id of the training sequences.</summary>
    public const ulong TrainStream = 0x5747_0001;

    /// <summary>Stream id of the test sets (counter = the test length).</summary>
    public const ulong TestStream = 0x5747_0002;

    private readonly TrainingRandom _random;

    /// <summary>A generator for <paramref name="task"/> drawing from <paramref name="random"/> (which it then owns).</summary>
    /// <exception cref="ArgumentException">An undefined task value.</exception>
    public StateTrackingGenerator(StateTrackingTask task, TrainingRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (!Enum.IsDefined(task)) throw new ArgumentException($"Unknown state-tracking task {(int)task}.", nameof(task));
        Task = task;
        _random = random;
    }

    /// <summary>The training generator of run seed <paramref name="seed"/>.</summary>
    public static StateTrackingGenerator ForTraining(StateTrackingTask task, long seed) =>
        new(task, TrainingRandom.ForStream(seed, TrainStream, 0));

    /// <summary>The fixed test set of <paramref name="count"/> sequences of <paramref name="length"/> for
    /// <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> or <paramref name="length"/> is not positive.</exception>
    public static StateTrackingBatch TestSet(StateTrackingTask task, long seed, int count, int length) =>
        new StateTrackingGenerator(task, TrainingRandom.ForStream(seed, TestStream, length)).Next(count, length);

    /// <summary>The task.</summary>
    public StateTrackingTask Task { get; }

    /// <summary>The next <paramref name="batchSize"/> sequences of <paramref name="length"/> tokens.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> or <paramref name="length"/> is not positive.</exception>
    public StateTrackingBatch Next(int batchSize, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        long total = (long)batchSize * length;
        if (total > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"batchSize·length = {total} is too large.");
        int vocab = Task.VocabSize();
        var tokens = new long[total];
        var targets = new long[total];
        for (long i = 0; i < total; i++) tokens[i] = _random.NextInt(vocab);
        for (int row = 0; row < batchSize; row++)
            Task.Targets(tokens.AsSpan(row * length, length), targets.AsSpan(row * length, length));
        return new StateTrackingBatch(Task, batchSize, length, tokens, targets);
    }
}
