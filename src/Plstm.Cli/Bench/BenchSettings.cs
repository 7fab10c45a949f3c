using TorchSharp;

namespace Plstm.Cli.Bench;

/// <summary>The checked common settings of a bench command (see <see cref="BenchCommonOptions"/>).</summary>
/// <param name="Device">Where everything runs.</param>
/// <param name="Dtypes">Compute dtypes, each a pass over every configuration.</param>
/// <param name="Warmup">Untimed iterations per row.</param>
/// <param name="Iterations">Timed iterations per row.</param>
/// <param name="MarkdownPath">Full path of the markdown report, or null.</param>
/// <param name="JsonPath">Full path of the JSON results, or null.</param>
/// <param name="MaxSeconds">Time limit of the command, or null.</param>
/// <param name="Threads">libtorch intra-op threads, or null for libtorch's default.</param>
/// <param name="Seed">Seed of inputs and initialisation.</param>
/// <param name="CommandLine">The command line, for the report.</param>
/// <param name="Tf32">Whether cuBLAS and the masked attention kernel may use TF32 tensor cores for float32 matrix products
/// (PyTorch's <c>torch.backends.cuda.matmul.allow_tf32</c>, what <c>set_float32_matmul_precision("high")</c> sets).</param>
/// <param name="SyncEvery">Timed iterations per device synchronisation (<see cref="IterationTimer.SyncEvery"/>).</param>
public sealed record BenchSettings(
    torch.Device Device, IReadOnlyList<(torch.ScalarType Type, string Name)> Dtypes, int Warmup, int Iterations,
    string? MarkdownPath, string? JsonPath, double? MaxSeconds, int? Threads, long Seed, string CommandLine,
    bool Tf32 = false, int SyncEvery = 1)
{
    /// <summary>The report's line on when the timer waits for the device (<see cref="IterationTimer.SyncEvery"/>).</summary>
    public string SynchronisationNote => SyncEvery == 1
        ? "after every timed iteration"
        : $"after every {SyncEvery} timed iterations (--sync-every; each iteration timed as its window's mean)";

    /// <summary>Applies the thread count and the TF32 setting to this process.</summary>
    public void Apply()
    {
        Commands.OptionChecks.ApplyThreads(Threads);
        Commands.OptionChecks.ApplyTf32(Tf32);
    }
}
