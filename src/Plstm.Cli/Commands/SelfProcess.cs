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
    /// <summary>A start description for <c>plstm ARGS</c> with standard output and error redirected (and standard
    /// input when <paramref name="redirectInput"/>).</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments, bool redirectInput = false)
    {
        var (fileName, prefix) = Host();
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
        };
        foreach (string a in prefix.Concat(arguments)) start.ArgumentList.Add(a);
        return start;
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

    private static void KillTree(Process process)
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
