using System.Globalization;
using BenchmarkDotNet.Running;
using TorchSharp;

namespace Plstm.Bench;

/// <summary>
/// Entry point. <c>--quick [--runs N] [--forward-only]</c> runs the Stopwatch comparison; anything else goes to BenchmarkDotNet
/// (e.g. <c>--filter '*'</c>). Both first check that the hierarchical form equals the naive one on every benchmarked
/// grid and exit with code 1 if not.
/// </summary>
public static class Program
{
    /// <summary>Grids benchmarked (side length).</summary>
    public static readonly int[] Grids = [16, 32];

    /// <summary>Intra-op threads used by libtorch (the CI machines have two cores).</summary>
    public const int Threads = 2;

    /// <summary>Applies the libtorch threading settings of every benchmark.</summary>
    public static void ConfigureTorch() => torch.set_num_threads(Threads);

    /// <summary>Runs the benchmark selected by <paramref name="args"/>.</summary>
    public static int Main(string[] args)
    {
        Workload[] workloads = [];
        try
        {
            ConfigureTorch();
            if (args.Contains("--graph")) return GraphBench.Run(args);
            workloads = Grids.Select(g => new Workload(g)).ToArray();
            foreach (var workload in workloads)
                Console.WriteLine($"parity ok, {ParityCheck.Verify(workload)}");

            if (args.Contains("--quick"))
            {
                int runs = ReadRuns(args);
                bool forwardOnly = args.Contains("--forward-only");
                Console.WriteLine($"quick mode: {(forwardOnly ? "forward only (no_grad)" : "forward + backward")}, "
                    + $"{runs} timed runs after one warm-up, torch threads = {torch.get_num_threads()}");
                Console.WriteLine();
                Console.Write(QuickBench.Run(workloads, runs, forwardOnly, Console.WriteLine));
                return 0;
            }

            BenchmarkSwitcher.FromTypes([typeof(Plstm2DBenchmarks)]).Run(args.Length == 0 ? ["--filter", "*"] : args);
            return 0;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException)
        {
            Console.Error.WriteLine($"plstm-bench: error: {ex.Message}");
            return 1;
        }
        finally
        {
            foreach (var workload in workloads)
                workload.Dispose();
        }
    }

    private static int ReadRuns(string[] args)
    {
        int at = Array.IndexOf(args, "--runs");
        if (at < 0)
            return 5;
        if (at + 1 >= args.Length || !int.TryParse(args[at + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int runs) || runs < 1)
            throw new ArgumentException("--runs needs a positive integer");
        return runs;
    }
}
