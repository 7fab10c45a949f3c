namespace Plstm.Data.StateTracking;

/// <summary>
/// Facts about each <see cref="StateTrackingTask"/>: its name on the command line, vocabulary size, number of target
/// classes, and the running-product targets of a token sequence.
/// </summary>
/// <remarks>
/// Composition order (S5): the target at position t is <c>s_t = g_t ∘ s_{t−1}</c> with <c>s_0 = g_0</c>, i.e.
/// <c>g_t ∘ … ∘ g_1 ∘ g_0</c> (<see cref="Permutation5.Compose"/>: the earliest element acts first). This is the order
/// of a left-acting recurrence <c>C_t = T(g_t) C_{t−1}</c>, the pLSTM's, so the permutation matrices of the tokens
/// multiply the state in the order the layer applies its transitions. Parity is commutative, so it has no order.
/// </remarks>
public static class StateTrackingTasks
{
    /// <summary>Every task, in the order help lists them.</summary>
    public static IReadOnlyList<StateTrackingTask> All { get; } = [StateTrackingTask.Parity, StateTrackingTask.S5];

    /// <summary>The command-line name: <c>parity</c> or <c>s5</c>.</summary>
    public static string Name(this StateTrackingTask task) => task switch
    {
        StateTrackingTask.Parity => "parity",
        StateTrackingTask.S5 => "s5",
        _ => throw new ArgumentOutOfRangeException(nameof(task), task, "Unknown state-tracking task."),
    };

    /// <summary>The task called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No task has that name (the message lists the known ones).</exception>
    public static StateTrackingTask Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var task in All)
            if (string.Equals(task.Name(), name.Trim(), StringComparison.OrdinalIgnoreCase))
                return task;
        throw new ArgumentException(
            $"Unknown state-tracking task '{name}'; known: {string.Join(", ", All.Select(t => t.Name()))}.", nameof(name));
    }

    /// <summary>Number of distinct input tokens: 2 (bits) or 120 (permutations).</summary>
    public static int VocabSize(this StateTrackingTask task) => task switch
    {
        StateTrackingTask.Parity => 2,
        StateTrackingTask.S5 => Permutation5.Count,
        _ => throw new ArgumentOutOfRangeException(nameof(task), task, "Unknown state-tracking task."),
    };

    /// <summary>Number of target classes: 2 (parity) or 120 (the running permutation).</summary>
    public static int NumClasses(this StateTrackingTask task) => task.VocabSize();

    /// <summary>The running-product target of every position of <paramref name="tokens"/> (one sequence).</summary>
    /// <param name="task">The task.</param>
    /// <param name="tokens">Tokens of one sequence, each in 0 … VocabSize − 1.</param>
    /// <param name="targets">Receives one target per token; must be as long as <paramref name="tokens"/>.</param>
    /// <exception cref="ArgumentException">A token out of range, or spans of different lengths.</exception>
    public static void Targets(this StateTrackingTask task, ReadOnlySpan<long> tokens, Span<long> targets)
    {
        if (targets.Length != tokens.Length)
            throw new ArgumentException($"targets has {targets.Length} entries, tokens {tokens.Length}.", nameof(targets));
        int vocab = task.VocabSize();
        long state = task == StateTrackingTask.Parity ? 0 : Permutation5.Identity;
        for (int t = 0; t < tokens.Length; t++)
        {
            long g = tokens[t];
            if (g < 0 || g >= vocab)
                throw new ArgumentException($"Token {g} at position {t} is outside 0 … {vocab - 1} ({task.Name()}).", nameof(tokens));
            state = task == StateTrackingTask.Parity ? state ^ g : Permutation5.Compose((int)g, (int)state);
            targets[t] = state;
        }
    }
}
