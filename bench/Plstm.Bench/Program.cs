using System.Globalization;
using BenchmarkDotNet.Running;
using TorchSharp;

namespace Plstm.Bench;

/// <summary>
/// Entry point. <c>--quick [--runs N] [--forward-only] [--grids 8,16,32] [--chunk P] [--no-naive]</c> runs the Stopwatch
/// comparison of the naive, hierarchical and chunkwise forms (<c>--no-naive</c> leaves the slow naive form out of the
/// timing); anything else goes to BenchmarkDotNet (e.g. <c>--filter '*'</c>). Both first check that the parallel forms
/// equal the naive one on every benchmarked grid and exit with code 1 if not.
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
            if (args.Contains("--ape-probe")) return ApeProbe.Run(args);
            if (args.Contains("--ape-step-profile")) return ApeStepProfile.Run(args);
            if (args.Contains("--ape-ambiguity")) return ApeAmbiguity.Run(args);
            if (args.Contains("--graph-views")) return GraphViewProbe.Run(args);
            if (args.Contains("--transition-gate")) return TransitionGateBench.Run(args);
            if (args.Contains("--adamw-step")) return AdamWStepBench.Run(args);
            if (args.Contains("--layer-host")) return LayerHostBench.Run(args);
            if (args.Contains("--data-loader")) return DataLoaderBench.Run(args);
            if (args.Contains("--lm-host")) return LanguageModelHostBench.Run(args);
            int chunkSide = ReadInt(args, "--chunk", 0);                // 0: the automatic choice per grid
            var grids = ReadGrids(args);
            workloads = grids.Select(g => chunkSide > 0 ? new Workload(g) { ChunkSide = chunkSide } : new Workload(g)).ToArray();
            foreach (var workload in workloads)
                foreach (var parallel in new[] { Form.Hierarchical, Form.Chunkwise })
                    Console.WriteLine($"parity ok, {ParityCheck.Verify(workload, parallel)}");

            if (args.Contains("--quick"))
            {
                int runs = ReadInt(args, "--runs", 5);
                bool forwardOnly = args.Contains("--forward-only");
                Form[] forms = args.Contains("--no-naive")
                    ? [Form.Hierarchical, Form.Chunkwise]
                    : [Form.Naive, Form.Hierarchical, Form.Chunkwise];
                Console.WriteLine($"quick mode: {(forwardOnly ? "forward only (no_grad)" : "forward + backward")}, "
                    + $"{runs} timed runs after one warm-up, torch threads = {torch.get_num_threads()}, "
                    + $"chunk sides {string.Join(", ", workloads.Select(w => $"{w.Grid}: {w.ChunkSide}"))}");
                Console.WriteLine();
                Console.Write(QuickBench.Run(workloads, forms, runs, forwardOnly, Console.WriteLine));
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

    internal static int ReadInt(string[] args, string name, int fallback)
    {
        int at = Array.IndexOf(args, name);
        if (at < 0)
            return fallback;
        if (at + 1 >= args.Length || !int.TryParse(args[at + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < 1)
            throw new ArgumentException($"{name} needs a positive integer");
        return value;
    }

    private static int[] ReadGrids(string[] args)
    {
        int at = Array.IndexOf(args, "--grids");
        if (at < 0)
            return Grids;
        if (at + 1 >= args.Length)
            throw new ArgumentException("--grids needs a comma-separated list of grid sides, e.g. 8,16,32");
        var grids = new List<int>();
        foreach (var part in args[at + 1].Split(','))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int side) || side < 1)
                throw new ArgumentException($"--grids: '{part}' is not a positive integer");
            grids.Add(side);
        }
        return grids.ToArray();
    }
}
