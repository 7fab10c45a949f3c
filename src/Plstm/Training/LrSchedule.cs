namespace Plstm.Training;

/// <summary>
/// The learning-rate schedule of models.md §7 as a pure function of the optimiser step: linear warm-up from 0 to the
/// peak over <see cref="WarmupSteps"/> steps, then a half cosine from the peak down to
/// <c><see cref="EndFactor"/> · peak</c> at <see cref="TotalSteps"/> (end = 1e-3·peak unless set). Because it depends on
/// the step only, a resumed run needs nothing but the step count to continue it.
/// </summary>
/// <param name="PeakLearningRate">The peak learning rate (reached at the end of the warm-up).</param>
/// <param name="WarmupSteps">Warm-up steps (0: start at the peak).</param>
/// <param name="TotalSteps">Total optimiser steps; the cosine ends here.</param>
/// <param name="EndFactor">Final learning rate as a fraction of the peak.</param>
public sealed record LrSchedule(double PeakLearningRate, long WarmupSteps, long TotalSteps, double EndFactor = 1e-3)
{
    /// <summary>The learning rate used by optimiser step <paramref name="step"/> (0-based: the first update uses
    /// <c>At(0)</c>, which is 0 when there is a warm-up, as in optax's warm-up-cosine schedule).</summary>
    public double At(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        double end = EndFactor * PeakLearningRate;
        if (step >= TotalSteps) return end;
        if (step < WarmupSteps) return PeakLearningRate * step / WarmupSteps;
        // Here WarmupSteps <= step < TotalSteps, so the decay length is positive.
        double progress = (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps);
        return end + (PeakLearningRate - end) * 0.5 * (1.0 + Math.Cos(Math.PI * progress));
    }

    /// <summary>
    /// The learning rate of step <paramref name="step"/> when the cosine may also be driven by another clock, e.g. the
    /// fraction of a wall-clock budget used: the cosine's progress is the larger of the step progress
    /// <c>(step − warmup) / (total − warmup)</c> and <paramref name="progress"/> (clamped to [0, 1]), so the rate
    /// reaches <c>EndFactor · peak</c> when either clock runs out; during the warm-up the rate is the smaller of the
    /// warm-up ramp and that cosine (a budget that ends within the warm-up still ends at the end value). With
    /// <paramref name="progress"/> ≤ the step progress (e.g. 0) it is exactly <see cref="At(long)"/>.
    /// </summary>
    public double At(long step, double progress)
    {
        double plain = At(step);
        if (step >= TotalSteps || !(progress > 0)) return plain;
        double stepProgress = step < WarmupSteps ? 0 : (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps);
        if (progress <= stepProgress) return plain;
        double end = EndFactor * PeakLearningRate;
        double q = Math.Min(progress, 1.0);
        double cosine = end + (PeakLearningRate - end) * 0.5 * (1.0 + Math.Cos(Math.PI * q));
        return step < WarmupSteps ? Math.Min(plain, cosine) : cosine;
    }

    /// <summary>Checks the fields; throws an <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (!(PeakLearningRate > 0) || double.IsInfinity(PeakLearningRate))
            throw new ArgumentException($"PeakLearningRate must be positive and finite (got {PeakLearningRate}).",
                nameof(PeakLearningRate));
        if (TotalSteps <= 0)
            throw new ArgumentException($"TotalSteps must be positive (got {TotalSteps}).", nameof(TotalSteps));
        if (WarmupSteps < 0 || WarmupSteps > TotalSteps)
            throw new ArgumentException($"WarmupSteps must be in [0, TotalSteps = {TotalSteps}] (got {WarmupSteps}).",
                nameof(WarmupSteps));
        if (!(EndFactor >= 0 && EndFactor <= 1))
            throw new ArgumentException($"EndFactor must be in [0, 1] (got {EndFactor}).", nameof(EndFactor));
    }
}
