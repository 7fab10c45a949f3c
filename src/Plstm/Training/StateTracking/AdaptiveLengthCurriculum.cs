namespace Plstm.Training.StateTracking;

/// <summary>
/// A length curriculum driven by the model's own progress: training starts at a short length and moves on only once
/// the training accuracy, averaged over a window of steps at the current length, reaches a threshold. Each move
/// lengthens the sequences by a quarter (at least one position), up to the final length: from 2 to 64 that is
/// 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 18, 22, 27, 33, 41, 51, 63, 64.
/// </summary>
/// <remarks>
/// Why not only the step-scheduled linear curriculum: how long a task needs at short lengths is not known in advance.
/// On S5 a model learns the composition at lengths ≤ 6 after a few thousand steps and then extends to longer lengths
/// quickly; a fixed schedule that reaches length 20 before the first composition is learned buries the learnable
/// short-prefix signal under positions at chance. Every position is supervised, so a length-L batch trains all shorter
/// prefixes too; the curriculum only decides how much of each step is spent on positions the model cannot yet reach.
/// </remarks>
public sealed class AdaptiveLengthCurriculum
{
    private readonly AccuracyWindow _window;

    /// <summary>A curriculum from <paramref name="minLength"/> to <paramref name="maxLength"/> that moves on when the
    /// mean training accuracy of <paramref name="window"/> consecutive steps at one length is at least
    /// <paramref name="threshold"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A length, the window or the threshold is out of range.</exception>
    public AdaptiveLengthCurriculum(int minLength, int maxLength, double threshold, int window)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, minLength);
        _window = new AccuracyWindow(threshold, window);
        Length = minLength;
        MaxLength = maxLength;
    }

    /// <summary>The current training length.</summary>
    public int Length { get; private set; }

    /// <summary>The final length.</summary>
    public int MaxLength { get; }

    /// <summary>Mean training accuracy a window must reach for the length to grow.</summary>
    public double Threshold => _window.Threshold;

    /// <summary>Steps per window.</summary>
    public int Window => _window.Size;

    /// <summary>Whether the final length has been reached.</summary>
    public bool Done => Length >= MaxLength;

    /// <summary>The length after <paramref name="length"/>: a quarter longer (at least one more), at most
    /// <paramref name="maxLength"/>.</summary>
    public static int Next(int length, int maxLength) => Math.Min(maxLength, length + Math.Max(1, length / 4));

    /// <summary>Raises the length to at least <paramref name="length"/> (capped at <see cref="MaxLength"/>), e.g. to follow a
    /// step-scheduled curriculum that runs ahead; a raise starts a new window. Returns true when the length changed.</summary>
    public bool RaiseTo(int length)
    {
        int raised = Math.Min(MaxLength, length);
        if (raised <= Length) return false;
        Length = raised;
        _window.Clear();
        return true;
    }

    /// <summary>Records the training accuracy of one step at the current length; returns true when this step completed
    /// a window that reached the threshold, i.e. when <see cref="Length"/> has just grown.</summary>
    public bool Observe(double accuracy)
    {
        if (Done || !_window.Add(accuracy)) return false;
        Length = Next(Length, MaxLength);
        return true;
    }
}
