namespace Plstm.Data.StateTracking;

/// <summary>
/// A generated state-tracking task (Merrill et al. 2024, "The illusion of state in state-space models"): a sequence of
/// group elements goes in, and the target at every position is the running product of the elements so far.
/// See <see cref="StateTrackingTasks"/> for the vocabulary and class counts and for the composition order.
/// </summary>
public enum StateTrackingTask
{
    /// <summary>Bits 0/1; the target at position t is the XOR of bits 0 … t (the group Z2).</summary>
    Parity,

    /// <summary>The 120 permutations of 5 elements; the target at position t is the running composition
    /// <c>g_t ∘ g_{t−1} ∘ … ∘ g_0</c> (the word problem of the symmetric group S5, not solvable).</summary>
    S5,
}
