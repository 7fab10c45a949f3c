using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Plstm.Cli.Commands;

namespace Plstm.Cli;

/// <summary>
/// Builds the <c>plstm</c> command tree and runs it. Every failure ends as a single line on the error writer and a
/// non-zero exit code; no stack trace ever reaches the user.
/// </summary>
public static class PlstmApp
{
    /// <summary>Exit code of a successful run.</summary>
    public const int Success = 0;

    /// <summary>Exit code when a command fails while running.</summary>
    public const int Failure = 1;

    /// <summary>Exit code when the command line itself is invalid (unknown verb or option, bad value).</summary>
    public const int UsageError = 2;

    /// <summary>The executable's name, used as the prefix of error lines.</summary>
    public const string Name = "plstm";

    /// <summary>How every error line of the command starts (<c>plstm: error: </c>).</summary>
    public const string ErrorPrefix = Name + ": error: ";

    /// <summary>
    /// Creates the root command with <c>--help</c> and <c>--version</c> options and every verb listed in
    /// <see cref="Verbs.All"/>.
    /// </summary>
    public static Command BuildRootCommand()
    {
        // A plain Command named "plstm" rather than RootCommand, whose name would be the assembly's (Plstm.Cli).
        var root = new Command(Name,
            "pLSTM (parallelizable Linear Source Transition Mark networks) on TorchSharp.");
        root.Options.Add(new HelpOption());
        root.Options.Add(new VersionOption());
        foreach (var verb in Verbs.All)
            root.Subcommands.Add(verb.Create());
        // Without a verb there is nothing to do: show the help rather than exiting silently.
        root.SetAction(parseResult => new HelpAction().Invoke(parseResult));
        return root;
    }

    /// <summary>Parses <paramref name="args"/>, runs the selected action and returns the process exit code.</summary>
    /// <param name="args">The command-line arguments, without the executable name.</param>
    /// <param name="output">Where help, version and normal output go.</param>
    /// <param name="error">Where the one-line error message goes.</param>
    public static int Run(string[] args, TextWriter output, TextWriter error) => Run(args, output, error, interactive: false);

    /// <summary>
    /// Parses <paramref name="args"/>, runs the selected action and returns the process exit code.
    /// </summary>
    /// <param name="args">The command-line arguments, without the executable name.</param>
    /// <param name="output">Where help, version and normal output go.</param>
    /// <param name="error">Where the one-line error message goes.</param>
    /// <param name="interactive">True when <paramref name="output"/> is a terminal: long-running verbs then draw live
    /// progress bars instead of plain lines (<see cref="CliContext.Interactive"/>).</param>
    public static int Run(string[] args, TextWriter output, TextWriter error, bool interactive)
    {
        bool previous = CliContext.Interactive;
        CliContext.Interactive = interactive;
        using var gcTrace = string.IsNullOrEmpty(Environment.GetEnvironmentVariable("PLSTM_TRACE")) ? null : new Diagnostics.GcTrace();
        try
        {
            var parseResult = BuildRootCommand().Parse(args);
            if (parseResult.Action is ParseErrorAction)
            {
                var messages = string.Join("; ", parseResult.Errors.Select(e => e.Message.TrimEnd('.')));
                WriteError(error, $"{messages} (see '{Name} --help')");
                return UsageError;
            }

            var configuration = new InvocationConfiguration
            {
                Output = output,
                Error = error,
                // Exceptions propagate to the catch below, which prints one line instead of a stack trace.
                EnableDefaultExceptionHandler = false,
                // Ctrl+C cancels the running verb (training saves last.ckpt and stops); give it time to do so.
                ProcessTerminationTimeout = TimeSpan.FromSeconds(60),
            };
            return parseResult.Invoke(configuration);
        }
        catch (Exception ex)
        {
            WriteError(error, Describe(ex));
            // For bug reports: the full exception (managed stack included) only when asked for.
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("PLSTM_TRACE"))) error.WriteLine(ex.ToString());
            return ex is CliUsageException ? UsageError : Failure;
        }
        finally
        {
            CliContext.Interactive = previous;
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("PLSTM_TRACE")))
            {
                error.WriteLine($"{Name}: garbage collections gen0 {GC.CollectionCount(0)}, gen1 {GC.CollectionCount(1)}, gen2 {GC.CollectionCount(2)}");
                gcTrace?.Report(error);
            }
        }
    }

    private static string Describe(Exception ex)
    {
        // Wrappers such as TargetInvocationException or TypeInitializationException hide the useful message.
        var root = ex is CliUsageException ? ex : ex.GetBaseException();
        var message = string.IsNullOrWhiteSpace(root.Message) ? root.GetType().Name : OptionChecks.MessageOf(root);
        return root is CliUsageException or IOException or UnauthorizedAccessException or ArgumentException
            or InvalidOperationException or NotSupportedException or FormatException
            ? message
            : $"{root.GetType().Name}: {message}";
    }

    private static void WriteError(TextWriter error, string message)
    {
        var oneLine = string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        error.WriteLine(ErrorPrefix + oneLine);
        error.Flush();
    }
}
