using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Plstm.Cli.Commands;

/// <summary>
/// Starting this same <c>plstm</c> executable as a child process (a worker for one fold or one model), and asking
/// such a child to stop the way Ctrl+C would.
/// </summary>
/// <remarks>
/// Why child processes rather than threads for concurrent training: TorchSharp 0.107 hands temporary <c>Scalar</c>s to
/// libtorch without keeping them alive, so in one process a garbage collection started by one training's allocations
/// can finalize a Scalar that another training's native call is still reading; each process has its own collector. A
/// failing worker also cannot take the others down.
/// </remarks>
internal static class SelfProcess
{
    /// <summary>Runs <c>plstm ARGS</c> to its end; returns its exit code and the last non-blank line of its standard
    /// error.</summary>
    /// <param name="arguments">ARGS.</param>
    /// <param name="input">Written to its standard input, which is then closed; null: no standard input.</param>
    /// <param name="onLine">Gets every line of its standard output (on a reader thread).</param>
    /// <param name="stop">Called with the process when <paramref name="cancellationToken"/> is cancelled.</param>
    /// <param name="what">What the child is for, in the error when it cannot be started (e.g. <c>model 'vit'</c>).</param>
    /// <param name="cancellationToken">Stops the child through <paramref name="stop"/>.</param>
    public static (int ExitCode, string? LastError) Run(IEnumerable<string> arguments, string? input,
        Action<string> onLine, Action<Process> stop, string what, CancellationToken cancellationToken)
    {
        var (fileName, prefix) = Host();
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
        };
        foreach (string a in prefix.Concat(arguments)) start.ArgumentList.Add(a);
        using var process = Process.Start(start)
            ?? throw new InvalidOperationException($"Could not start '{fileName}' for {what}.");
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }
        string? lastError = null;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null) onLine(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrWhiteSpace(e.Data)) lastError = e.Data;
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using (cancellationToken.Register(() => stop(process)))
        {
            // Without a timeout this also waits for the end of both output streams (every line handed on).
            process.WaitForExit();
        }
        return (process.ExitCode, lastError);
    }

    /// <summary>
    /// Asks <paramref name="process"/> to stop as on Ctrl+C (a training saves <c>last.ckpt</c> and exits) and kills it,
    /// with its children, if it is still running after <paramref name="grace"/>; where signals are not available
    /// (Windows) it kills at once. Returns immediately.
    /// </summary>
    /// <remarks>SIGTERM, not SIGINT: <c>plstm</c> handles both the same way, but a shell starts background jobs with
    /// SIGINT ignored, and children inherit that (measured: a parallel run started with <c>&amp;</c> from a script
    /// ignored SIGINT and stopped cleanly on SIGTERM).</remarks>
    public static void Interrupt(Process process, TimeSpan grace)
    {
        try
        {
            if (process.HasExited) return;
            if ((OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) && Kill(process.Id, SigTerm) == 0)
            {
                _ = Task.Delay(grace).ContinueWith(_ => KillTree(process), TaskScheduler.Default);
                return;
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
        {
            return;
        }
        KillTree(process);
    }

    /// <summary>Kills <paramref name="process"/> and its children unless it has exited (or been disposed).</summary>
    public static void KillTree(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
        {
            // Already exited (and perhaps disposed).
        }
    }

    // This executable: through the dotnet muxer that runs this process when there is one, else its apphost, else
    // `dotnet` from the PATH (a test host, for example).
    private static (string FileName, string[] Prefix) Host()
    {
        string dll = typeof(SelfProcess).Assembly.Location;
        string? self = Environment.ProcessPath;
        string Name(string path) => Path.GetFileNameWithoutExtension(path);
        if (self is not null && Name(self) == Name(dll)) return (self, []);
        if (self is not null && Name(self) == "dotnet") return (self, [dll]);
        string? muxer = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return (string.IsNullOrEmpty(muxer) ? "dotnet" : muxer, [dll]);
    }

    private const int SigTerm = 15;

    // DllImport rather than LibraryImport: two ints need no marshalling code.
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "kill", ExactSpelling = true, SetLastError = true)]
    private static extern int Kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
