using Plstm.Data;
using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// A curriculum over the symmetries of the square, for tasks whose label is a relation between two objects that no
/// single object decides (arrow pointing: "does the arrow point at the circle?"). Stage 0 shows every training image
/// in its canonical orientation (<see cref="ICanonicalOrientation"/>: for arrows, the circle right of and below the
/// arrow, within 45° of "right"), where the arrow's own direction nearly decides the label; each later stage releases
/// one symmetry at random per image — stage 1 a transpose (the circle anywhere right-below), stage 2 also a left–right
/// mirror (anywhere below), stage 3 also a top–bottom mirror (anywhere) — and stage 4 trains on the raw images. A stage
/// ends when the mean training accuracy of a window of steps (consecutive, non-overlapping) reaches the threshold,
/// as <see cref="StateTracking.AdaptiveLengthCurriculum"/> does for sequence lengths.
/// </summary>
/// <remarks>
/// Why: on <c>ape-small</c> the label is independent of every single-object feature, and the patch models sat at
/// ln 2 loss for 20,000 steps; a model that has learnt the arrow's direction in stage 0 has a feature whose
/// conjunction with the circle's side the later stages can reward (<c>docs/experiments.md</c>). The random choices are
/// a hash of (seed, step, position in batch), so a resumed run turns the same images the same way; the stage and the
/// open window are the only state (<see cref="GetState"/>).
/// </remarks>
public sealed class SymmetryCurriculum
{
    /// <summary>The last stage: raw training images.</summary>
    public const int FinalStage = 4;

    /// <summary>Stream id of the curriculum's per-image draws (<see cref="TrainingRandom.ForStream"/>; the counter is
    /// the step).</summary>
    public const ulong TurnStream = 4;

    private readonly List<long> _stageSteps = [];
    private readonly AccuracyWindow _window;

    /// <summary>A curriculum that moves on when <paramref name="window"/> consecutive steps reach a mean training
    /// accuracy of <paramref name="threshold"/>; draws keyed by <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The threshold is not in (0, 1] or the window is not ≥ 1.</exception>
    public SymmetryCurriculum(double threshold, int window, long seed)
    {
        _window = new AccuracyWindow(threshold, window);
        Seed = seed;
    }

    /// <summary>Mean training accuracy a window must reach for the next stage.</summary>
    public double Threshold => _window.Threshold;

    /// <summary>Steps per window.</summary>
    public int Window => _window.Size;

    /// <summary>Seed of the per-image draws.</summary>
    public long Seed { get; }

    /// <summary>The current stage, 0 … <see cref="FinalStage"/>.</summary>
    public int Stage { get; private set; }

    /// <summary>The step (optimiser steps completed) at which each stage after 0 began, in order.</summary>
    public IReadOnlyList<long> StageSteps => _stageSteps;

    /// <summary>Records the training accuracy of the step that completed <paramref name="step"/> optimiser steps;
    /// returns true when it closed a window that reached the threshold, i.e. when <see cref="Stage"/> has just grown.</summary>
    public bool Observe(double accuracy, long step)
    {
        if (Stage >= FinalStage || !_window.Add(accuracy)) return false;
        Stage++;
        _stageSteps.Add(step);
        return true;
    }

    /// <summary>
    /// The training images of one step as the current stage shows them: <paramref name="images"/> <c>[B, C, S, S]</c>
    /// holds the samples <paramref name="indices"/> of <paramref name="data"/>; each is turned canonically, then by the
    /// symmetries the stage has released, drawn per image from (seed, <paramref name="step"/>, position). In the final
    /// stage the input is returned as it is.
    /// </summary>
    /// <exception cref="ArgumentException">Not a batch of square images, or not one index per image.</exception>
    public Tensor Turn(Tensor images, IReadOnlyList<int> indices, ICanonicalOrientation data, long step)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(data);
        if (images.ndim != 4 || images.shape[2] != images.shape[3])
            throw new ArgumentException(
                $"The symmetry curriculum needs square images [B, C, S, S]; got [{string.Join(", ", images.shape)}].", nameof(images));
        if (images.shape[0] != indices.Count)
            throw new ArgumentException($"{images.shape[0]} images but {indices.Count} indices.", nameof(indices));
        if (Stage >= FinalStage) return images;
        var random = TrainingRandom.ForStream(Seed, TurnStream, step);
        var turned = new Tensor[indices.Count];
        for (int i = 0; i < turned.Length; i++)
        {
            // Three draws per image whatever the stage, so an image's draws do not depend on the stage.
            bool transpose = random.NextInt(2) == 1, flipX = random.NextInt(2) == 1, flipY = random.NextInt(2) == 1;
            var image = data.CanonicalTurn(indices[i]).Apply(images[i]);
            image = new DihedralTurn(FlipX: false, FlipY: false, Transpose: Stage >= 1 && transpose).Apply(image);
            image = new DihedralTurn(FlipX: Stage >= 2 && flipX, FlipY: Stage >= 3 && flipY, Transpose: false).Apply(image);
            turned[i] = image;
        }
        return stack(turned);
    }

    /// <summary>The curriculum's state, for checkpoints.</summary>
    public SymmetryCurriculumState GetState() => new(Stage, _window.Sum, _window.Count, [.. _stageSteps]);

    /// <summary>Restores a state from <see cref="GetState"/>.</summary>
    /// <exception cref="InvalidDataException">The state is out of range.</exception>
    public void SetState(SymmetryCurriculumState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Stage is < 0 or > FinalStage || state.StageSteps is null || state.StageSteps.Count != state.Stage)
            throw new InvalidDataException(
                $"The checkpoint's symmetry-curriculum state (stage {state.Stage}, {state.StageSteps?.Count} stage steps) is inconsistent.");
        _window.Restore(state.AccuracySum, state.StepsInWindow);
        Stage = state.Stage;
        _stageSteps.Clear();
        _stageSteps.AddRange(state.StageSteps);
    }
}

/// <summary>The state of a <see cref="SymmetryCurriculum"/>: stage, the open window and the steps at which each stage
/// after 0 began.</summary>
/// <param name="Stage">The current stage.</param>
/// <param name="AccuracySum">Sum of the training accuracies of the open window.</param>
/// <param name="StepsInWindow">Steps in the open window.</param>
/// <param name="StageSteps">Step at which each stage after 0 began.</param>
public sealed record SymmetryCurriculumState(int Stage, double AccuracySum, int StepsInWindow, IReadOnlyList<long> StageSteps);
