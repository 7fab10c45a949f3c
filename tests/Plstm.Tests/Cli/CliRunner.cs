using Plstm.Cli;

namespace Plstm.Tests.Cli;

/// <summary>
/// Runs the <c>plstm</c> command line in-process, exactly as <c>Program.Main</c> does (<see cref="PlstmApp.Run"/>), and
/// captures its exit code, standard output and standard error.
/// </summary>
public static class CliRunner
{
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = PlstmApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
