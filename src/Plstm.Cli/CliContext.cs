namespace Plstm.Cli;

/// <summary>
/// Facts about the current invocation that the parser does not carry: whether the output is a terminal (progress
/// bars) or redirected (plain lines). Set by <see cref="PlstmApp.Run(string[], TextWriter, TextWriter, bool)"/> for
/// the duration of the call (flows with the async context, so concurrent in-process runs do not interfere).
/// </summary>
public static class CliContext
{
    private static readonly AsyncLocal<bool> InteractiveValue = new();

    /// <summary>True when the standard output is a terminal: verbs may draw live progress (Spectre.Console).</summary>
    public static bool Interactive
    {
        get => InteractiveValue.Value;
        internal set => InteractiveValue.Value = value;
    }
}
