using System.Diagnostics;
using Plstm.Models.Language;
using Plstm.Ops.OneD;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Bench;

/// <summary>
/// <c>--lm-host [--runs R] [--context T]</c>: how many operations a language model's training step issues — what bounds
/// a GPU step when each costs the host ≈ 13 µs — as the tensors its forward pass creates (each libtorch call made from
/// C# creates one), with the CPU time of forward and forward + backward at batch 1 and one thread beside them, for
/// <c>lm_small</c> (pLSTM) and <c>lm_small_transformer</c>, and for the 1D operator alone at the shapes of one
/// <c>lm_small</c> layer (B·H 4, DK 64, DV 16, JT = JV = JO 4, chunk depth 4). Prints the last of R runs.
/// </summary>
internal static class LanguageModelHostBench
{
    public static int Run(string[] args)
    {
        int runs = Program.ReadInt(args, "--runs", 3);
        int context = Program.ReadInt(args, "--context", 256);
        torch.set_num_threads(1);
        torch.manual_seed(0);
        Console.WriteLine($"language-model step, batch 1, context {context}, one libtorch thread; last of {runs} runs");
        Console.WriteLine("| what | tensors created in forward | forward ms | forward + backward ms |");
        Console.WriteLine("|---|---:|---:|---:|");
        {
            long B = 4, L = context, DK = 64, DV = 16, JT = 4, JV = 4, JO = 4;
            var inputs = new Plstm1DInputs(randn(new[] { B, L, DK, 1L }).requires_grad_(), randn(new[] { B, L, DK, 1L }),
                randn(new[] { B, L, DV, JV }), rand(new[] { B, L, JT, 1L, JV }), rand(new[] { B, L, JT, JT }) * 0.25,
                rand(new[] { B, L, JO, 1L, JT }), rand(new[] { B, L, JO, 1L, 1L, JV }), null);
            Measure("1D operator, one lm_small layer", runs, () => Plstm1DChunked.Forward(inputs, 4).Y.sum());
        }
        foreach (var name in new[] { "lm_small", "lm_small_transformer" })
        {
            using var model = LanguageModelRegistry.Create(name);
            var windows = randint(0, 256, new long[] { 1, context + 1L });
            Measure(name, runs, () => LanguageModelLoss.Compute(model, windows));
        }
        return 0;
    }

    private static void Measure(string what, int runs, Func<Tensor> loss)
    {
        long created = 0;
        double forward = 0, total = 0;
        for (int run = 0; run < runs; run++)
        {
            using var scope = NewDisposeScope();
            long before = DisposeScopeManager.Statistics.CreatedInScopeCount;
            var clock = Stopwatch.StartNew();
            var value = loss();
            created = DisposeScopeManager.Statistics.CreatedInScopeCount - before;
            forward = clock.Elapsed.TotalMilliseconds;
            value.backward();
            total = clock.Elapsed.TotalMilliseconds;
        }
        Console.WriteLine($"| {what} | {created} | {forward:F1} | {total:F1} |");
    }
}
