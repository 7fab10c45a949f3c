namespace Plstm.Training;

/// <summary>
/// The trigger of the adaptive curricula (<see cref="SymmetryCurriculum"/>,
/// <see cref="StateTracking.AdaptiveLengthCurriculum"/>): training accuracies collected in consecutive,
/// non-overlapping windows of a fixed number of steps; a window that closes with a mean at or above the threshold
/// says "move on".
/// </summary>
public sealed class AccuracyWindow
{
    /// <summary>Windows of <paramref name="window"/> steps that must reach a mean of <paramref name="threshold"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The threshold is not in (0, 1] or the window is not ≥ 1.</exception>
    public AccuracyWindow(double threshold, int window)
    {
        if (!(threshold > 0 && threshold <= 1))
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "Expected a threshold in (0, 1].");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(window);
        Threshold = threshold;
        Size = window;
    }

    /// <summary>Mean accuracy a window must reach.</summary>
    public double Threshold { get; }

    /// <summary>Steps per window.</summary>
    public int Size { get; }

    /// <summary>Sum of the accuracies of the open window.</summary>
    public double Sum { get; private set; }

    /// <summary>Steps in the open window (0 … <see cref="Size"/> − 1).</summary>
    public int Count { get; private set; }

    /// <summary>Adds one step's accuracy; returns true when it closed a window whose mean reached the threshold.
    /// Every closed window, reached or not, starts the next one empty.</summary>
    public bool Add(double accuracy)
    {
        Sum += accuracy;
        Count++;
        if (Count < Size) return false;
        bool reached = Sum / Count >= Threshold;
        Clear();
        return reached;
    }

    /// <summary>Empties the open window (e.g. after a move made for another reason).</summary>
    public void Clear()
    {
        Sum = 0;
        Count = 0;
    }

    /// <summary>Restores an open window saved from <see cref="Sum"/> and <see cref="Count"/>.</summary>
    /// <exception cref="InvalidDataException">The count does not fit the window.</exception>
    public void Restore(double sum, int count)
    {
        if (count < 0 || count >= Size || !double.IsFinite(sum))
            throw new InvalidDataException($"An open window of {count} steps (sum {sum}) does not fit windows of {Size}.");
        Sum = sum;
        Count = count;
    }
}
