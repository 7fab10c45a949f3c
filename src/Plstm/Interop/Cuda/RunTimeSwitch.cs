using System.Globalization;

namespace Plstm.Interop.Cuda;

/// <summary>
/// The environment variables that switch the runtime-compiled kernels' variants for side-by-side measurements
/// (<c>PLSTM_OVERLAP</c>, <c>PLSTM_SINGLE_PATH_TARGETS</c>, …; each kernel class reads its own once). One reading rule for
/// all: a word compares without case, an integer is plain decimal digits in an accepted range; anything else leaves the
/// measured default, so a typo in a measurement switch never changes what a training run computes.
/// </summary>
internal static class RunTimeSwitch
{
    /// <summary>Whether the variable <paramref name="name"/> holds <paramref name="word"/> (case ignored).</summary>
    public static bool Is(string name, string word) =>
        string.Equals(Environment.GetEnvironmentVariable(name), word, StringComparison.OrdinalIgnoreCase);

    /// <summary>The variable <paramref name="name"/> as plain decimal digits that <paramref name="accept"/> takes, or null
    /// (unset, not such a number, or refused).</summary>
    public static int? Integer(string name, Func<int, bool> accept) =>
        TryInteger(Environment.GetEnvironmentVariable(name), out int value) && accept(value) ? value : null;

    /// <summary>Whether <paramref name="text"/> is plain decimal digits (the rule for a switch's integers, also for those
    /// inside a list such as <c>PLSTM_WALK_TILES=4x8</c>).</summary>
    public static bool TryInteger(string? text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
