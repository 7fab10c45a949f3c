using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Plstm.Bench;

/// <summary>
/// The fast alternative to BenchmarkDotNet. Per grid: one untimed warm-up run of each form, then <c>runs</c> rounds,
/// each timing one naive and one parallel run with a <see cref="Stopwatch"/> (interleaved, so that background load
/// hits both forms alike). Prints a markdown table of mean, median and minimum wall-clock times and the naive / parallel
/// ratios, then one of the process CPU time per run (user + system, all threads), which other processes on the
/// machine disturb much less than wall-clock time.
/// Times forward + backward, or the forward alone (without autograd) when <c>forwardOnly</c> is set.
/// </summary>
public static class QuickBench
{
    /// <summary>Times both forms on each grid and returns the markdown table.</summary>
    public static string Run(IReadOnlyList<Workload> workloads, int runs, bool forwardOnly, Action<string> log)
    {
        var wallTable = new StringBuilder()
            .AppendLine("| grid | B·H | naive mean | naive median | naive min | parallel mean | parallel median | parallel min "
                + "| naive / parallel (median) | naive / parallel (min) |")
            .AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        var cpuTable = new StringBuilder()
            .AppendLine("| grid | naive CPU time (median) | parallel CPU time (median) | naive / parallel (CPU time) |")
            .AppendLine("|---|---:|---:|---:|");
        foreach (var workload in workloads)
        {
            (double Wall, double Cpu) Once(Form form)
            {
                var process = Process.GetCurrentProcess();
                var cpu = process.TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                _ = forwardOnly ? workload.ForwardOnly(form) : workload.ForwardBackward(form);
                double wall = watch.Elapsed.TotalMilliseconds;
                process.Refresh();
                return (wall, (process.TotalProcessorTime - cpu).TotalMilliseconds);
            }

            Once(Form.Naive);          // warm-up: JIT, libtorch kernel selection, allocator
            Once(Form.Hierarchical);
            var naive = new double[runs];
            var fast = new double[runs];
            var naiveCpu = new double[runs];
            var fastCpu = new double[runs];
            for (int i = 0; i < runs; i++)
            {
                (naive[i], naiveCpu[i]) = Once(Form.Naive);
                (fast[i], fastCpu[i]) = Once(Form.Hierarchical);
            }

            log($"{workload.Grid}x{workload.Grid} naive (ms):    {List(naive)}");
            log($"{workload.Grid}x{workload.Grid} parallel (ms): {List(fast)}");
            wallTable.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {workload.Grid}×{workload.Grid} | {Workload.Batch} | {Ms(naive.Average())} | {Ms(Median(naive))} | "
                + $"{Ms(naive.Min())} | {Ms(fast.Average())} | {Ms(Median(fast))} | {Ms(fast.Min())} | "
                + $"{Median(naive) / Median(fast):F1}× | {naive.Min() / fast.Min():F1}× |"));
            cpuTable.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {workload.Grid}×{workload.Grid} | {Ms(Median(naiveCpu))} | {Ms(Median(fastCpu))} | "
                + $"{Median(naiveCpu) / Median(fastCpu):F1}× |"));
        }
        return $"Wall-clock time per operation:{Environment.NewLine}{Environment.NewLine}{wallTable}{Environment.NewLine}"
            + $"Process CPU time per operation:{Environment.NewLine}{Environment.NewLine}{cpuTable}";
    }

    private static string Ms(double milliseconds) => milliseconds.ToString("F1", CultureInfo.InvariantCulture) + " ms";

    private static string List(double[] times) =>
        string.Join(", ", times.Select(t => t.ToString("F1", CultureInfo.InvariantCulture)));

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
