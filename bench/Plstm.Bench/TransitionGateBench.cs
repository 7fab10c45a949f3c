using System.Diagnostics;
using Plstm.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Bench;

/// <summary>
/// <c>--transition-gate [--rows N] [--jt J] [--runs R] [--threads T]</c>: forward + backward of the JT &gt; 1 transition's exponential
/// orthogonalisation (<see cref="TransitionGate.ExponentialOrthogonalize"/>, 6 products of J×J matrices per call) on
/// N matrices, the shape of a state-tracking or language-model step (N = batch · positions · heads), against the same
/// series summed term by term (<see cref="TransitionGate.ExponentialOrthogonalizeNaive"/>, 15 products). Prints the median milliseconds of each
/// and their largest difference (float32).
/// </summary>
internal static class TransitionGateBench
{
    public static int Run(string[] args)
    {
        int rows = Program.ReadInt(args, "--rows", 128 * 65 * 4);
        int jt = Program.ReadInt(args, "--jt", 4);
        int runs = Program.ReadInt(args, "--runs", 7);
        torch.set_num_threads(Program.ReadInt(args, "--threads", 1));
        Console.WriteLine($"transition gate: {rows} matrices {jt}×{jt}, {torch.get_num_threads()} thread(s), median of {runs}");
        var m = randn(rows, jt, jt) * 0.5;
        foreach (var (name, series) in new (string, Func<Tensor, Tensor>)[]
                 {
                     ("term by term", x => TransitionGate.ExponentialOrthogonalizeNaive(x)),
                     ("ExponentialOrthogonalize", x => TransitionGate.ExponentialOrthogonalize(x)),
                 })
        {
            var times = new List<double>();
            for (int r = 0; r < runs + 1; r++)
            {
                using var scope = NewDisposeScope();
                var leaf = m.detach().requires_grad_(true);
                var clock = Stopwatch.StartNew();
                var result = series(leaf);
                result.sum().backward();
                clock.Stop();
                if (r > 0) times.Add(clock.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            Console.WriteLine($"{name,-26} {times[times.Count / 2],8:F2} ms");
        }
        using (no_grad())
        {
            var reference = TransitionGate.ExponentialOrthogonalize(m);
            var termByTerm = TransitionGate.ExponentialOrthogonalizeNaive(m);
            Console.WriteLine($"max |difference|: {(reference - termByTerm).abs().max().item<float>():E2}");
        }
        return 0;
    }
}
