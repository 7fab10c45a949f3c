namespace Plstm.Training.Language;

/// <summary>Why a <see cref="LanguageModelTrainer.Fit"/> call stopped training.</summary>
public enum LanguageModelStopReason
{
    /// <summary>All steps of the run are done.</summary>
    Steps,

    /// <summary>The wall-clock budget of the training steps is used up (the schedule has reached its end).</summary>
    TimeBudget,

    /// <summary><see cref="TrainerOptions.StopAfterSteps"/> was reached; the run can be resumed.</summary>
    StopAfterSteps,

    /// <summary>Cancelled; <c>last.ckpt</c> holds the state and the run can be resumed.</summary>
    Cancelled,
}
