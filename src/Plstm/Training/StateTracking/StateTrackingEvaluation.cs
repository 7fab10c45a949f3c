using Plstm.Data.StateTracking;
using Plstm.Models.StateTracking;
using static TorchSharp.torch;

namespace Plstm.Training.StateTracking;

/// <summary>Measures a state-tracking model's accuracy on a fixed test set (eval mode, no gradients).</summary>
public static class StateTrackingEvaluation
{
    /// <summary>Per-position, last-position and position-wise accuracy of <paramref name="model"/> on
    /// <paramref name="testSet"/>, run in batches of <paramref name="batchSize"/> on <paramref name="device"/>.</summary>
    /// <remarks>Leaves the model in eval mode; the caller switches it back to training.</remarks>
    /// <exception cref="ArgumentException">The test set's task does not fit the model (vocabulary or classes).</exception>
    public static LengthAccuracy Evaluate(StateTrackingModel model, StateTrackingBatch testSet, int batchSize, Device device)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(testSet);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (testSet.Task.NumClasses() != model.Config.NumClasses)
            throw new ArgumentException(
                $"The test set has {testSet.Task.NumClasses()} classes, the model {model.Config.NumClasses}.", nameof(testSet));
        model.eval();
        int length = testSet.Length;
        var correctAt = new long[length];
        using var noGrad = no_grad();
        for (int start = 0; start < testSet.BatchSize; start += batchSize)
        {
            using var scope = NewDisposeScope();
            int rows = Math.Min(batchSize, testSet.BatchSize - start);
            var tokens = Slice(testSet.Tokens, start, rows, length).to(device);
            var targets = Slice(testSet.Targets, start, rows, length).to(device);
            var logits = model.forward(tokens);                                          // [b, T, C]
            var correct = logits.argmax(-1).eq(targets).to_type(ScalarType.Int64).sum(dim: 0).cpu();                // [T]
            var counts = correct.data<long>().ToArray();
            for (int t = 0; t < length; t++) correctAt[t] += counts[t];
        }
        double n = testSet.BatchSize;
        var position = correctAt.Select(c => c / n).ToArray();
        return new LengthAccuracy(length, testSet.BatchSize, correctAt.Sum() / (n * length), position[^1], position);
    }

    private static Tensor Slice(long[] values, int startRow, int rows, int length) =>
        tensor(values.AsSpan(startRow * length, rows * length).ToArray(), new long[] { rows, length });
}
