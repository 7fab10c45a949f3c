namespace Plstm.Cli;

/// <summary>
/// Thrown by a verb when the user asked for something invalid that the parser cannot detect (a missing file, an
/// unknown model name). <see cref="PlstmApp.Run(string[], TextWriter, TextWriter, bool)"/> prints only its message and exits with
/// <see cref="PlstmApp.UsageError"/>.
/// </summary>
public sealed class CliUsageException : Exception
{
    /// <summary>Creates the exception with the message shown to the user.</summary>
    public CliUsageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the message shown to the user and the underlying cause.</summary>
    public CliUsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
