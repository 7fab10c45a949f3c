using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Plstm.Bench;

/// <summary>
/// The fast alternative to BenchmarkDotNet. Per grid: one untimed warm-up run of each form, then <c>runs</c> rounds,
/// each timing one run of every form with a <see cref="Stopwatch"/> (interleaved, so that background load hits all forms
/// alike). Prints a markdown table of median and minimum wall-clock times per form and the ratios of every form to the
/// last one (the chunkwise form by default), then one of the process CPU time per run (user + system, all threads),
/// which other processes on the machine disturb much less than wall-clock time.
/// Times forward + backward, or the forward alone (without autograd) when <c>forwardOnly</c> is set.
/// </summary>
public static class QuickBench
{
    /// <summary>Times every form in <paramref name="forms"/> on each grid and returns the markdown tables; ratios are
    /// relative to the last form.</summary>
    public static string Run(IReadOnlyList<Workload> workloads, IReadOnlyList<Form> forms, int runs, bool forwardOnly,
        Action<string> log)
    {
        var baseline = forms[^1];
        var others = forms.Take(forms.Count - 1).ToList();
        var wallTable = new StringBuilder()
            .Append("| grid | B·H | ").Append(string.Join(" | ", forms.Select(f => $"{f} median | {f} min")))
            .Append(others.Count > 0 ? " | " + string.Join(" | ", others.Select(f => $"{f} / {baseline} (median)")) : "")
            .AppendLine(" |")
            .Append("|---|---|").Append(string.Concat(Enumerable.Repeat("---:|", 2 * forms.Count + others.Count)))
            .AppendLine();
        var cpuTable = new StringBuilder()
            .Append("| grid | ").Append(string.Join(" | ", forms.Select(f => $"{f} CPU time (median)")))
            .Append(others.Count > 0 ? " | " + string.Join(" | ", others.Select(f => $"{f} / {baseline} (CPU time)")) : "")
            .AppendLine(" |")
            .Append("|---|").Append(string.Concat(Enumerable.Repeat("---:|", forms.Count + others.Count)))
            .AppendLine();
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

            foreach (var form in forms)
                Once(form);                // warm-up: JIT, libtorch kernel selection, allocator
            var wall = forms.ToDictionary(f => f, _ => new double[runs]);
            var cpuTime = forms.ToDictionary(f => f, _ => new double[runs]);
            for (int i = 0; i < runs; i++)
                foreach (var form in forms)
                    (wall[form][i], cpuTime[form][i]) = Once(form);

            string grid = $"{workload.Grid}×{workload.Grid}";
            foreach (var form in forms)
                log($"{grid} {form} (ms): {List(wall[form])}");
            wallTable.Append(CultureInfo.InvariantCulture, $"| {grid} | {Workload.Batch} | ")
                .Append(string.Join(" | ", forms.Select(f => $"{Ms(Median(wall[f]))} | {Ms(wall[f].Min())}")))
                .Append(string.Concat(others.Select(f => " | " + Ratio(Median(wall[f]), Median(wall[baseline])))))
                .AppendLine(" |");
            cpuTable.Append(CultureInfo.InvariantCulture, $"| {grid} | ")
                .Append(string.Join(" | ", forms.Select(f => Ms(Median(cpuTime[f])))))
                .Append(string.Concat(others.Select(f => " | " + Ratio(Median(cpuTime[f]), Median(cpuTime[baseline])))))
                .AppendLine(" |");
        }
        return $"Wall-clock time per operation:{Environment.NewLine}{Environment.NewLine}{wallTable}{Environment.NewLine}"
            + $"Process CPU time per operation:{Environment.NewLine}{Environment.NewLine}{cpuTable}";
    }

    private static string Ms(double milliseconds) => milliseconds.ToString("F1", CultureInfo.InvariantCulture) + " ms";

    private static string Ratio(double a, double b) => (a / b).ToString("F1", CultureInfo.InvariantCulture) + "×";

    private static string List(double[] times) =>
        string.Join(", ", times.Select(t => t.ToString("F1", CultureInfo.InvariantCulture)));

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
