using System.Diagnostics;
using System.Globalization;
using Plstm.Experiments;
using Plstm.Ops.TwoD;
using static TorchSharp.torch;

namespace Plstm.Bench;

/// <summary>
/// Exploration: old vs new row-scan code path (<see cref="Plstm2DFused.RowScanOverride"/> set to <see cref="LegacyRowScan"/>), interleaved in one process, at the
/// <c>ape-small</c> shapes: the fused operator (B·H = 128, 8 × 8, DK = DV = 32), one P- and one D-mode layer
/// (B 64, D 64, H 2) and the stemless <c>plstm_vit_tiny</c> step, all forward + backward. <c>--layer-ab [--steps N]</c>.
/// </summary>
public static class LayerPieces
{
    /// <summary>Runs the comparison; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        int steps = args.Contains("--steps") ? int.Parse(args[Array.IndexOf(args, "--steps") + 1], CultureInfo.InvariantCulture) : 10;
        bool withModel = !args.Contains("--no-model");
        Training.HostAllocator.TuneForTraining();
        manual_seed(0);
        long BH = 128, X = 8, Y = 8, DK = 32;
        var cases = new List<(string, Action)>();
        foreach (bool pMode in new[] { true, false })
        {
            Tensor G() => rand([BH, 4, X, Y, 1, 1, 1]).requires_grad_(true);
            Tensor T() => rand([BH, 4, X, Y, 1, 1]).requires_grad_(true);
            var q = randn([BH, X, Y, DK, 1]).requires_grad_(true);
            var k = randn([BH, X, Y, DK, 1]).requires_grad_(true);
            var v = randn([BH, X, Y, DK, 1]).requires_grad_(true);
            var d0 = rand([BH, X, Y, 1, 1, 1, 1]).requires_grad_(true);
            var inputs = new Plstm2DFusedInputs(q, k, v, G(), G(), T(), T(), pMode ? T() : null, T(), G(), G(), d0);
            cases.Add(($"{(pMode ? "P" : "D")} operator fwd+bwd", () => Plstm2DFused.Forward(inputs, form: Plstm2DForm.RowScan).sum().backward()));
        }
        foreach (var mode in new[] { Layers.Plstm2DMode.P, Layers.Plstm2DMode.D })
        {
            var layer = new Layers.Plstm2DLayer("layer", new Layers.Plstm2DLayerConfig(64, 2, mode));
            var x = randn(64, 8, 8, 64, requires_grad: true);
            cases.Add(($"{mode} layer fwd+bwd", () => { layer.zero_grad(); layer.forward(x).sum().backward(); }));
        }
        if (withModel)
        {
            var model = new ExperimentModel("m", "plstm_vit_tiny", 5e-4, ConvStemWidth: 0).Spec(64, 3, 2).Create();
            var optimizer = optim.AdamW(model.parameters(), 5e-4);
            var images = randn(64, 64, 64, 3);
            var labels = randint(0, 2, [64], dtype: ScalarType.Int64);
            cases.Add(("plstm_vit_tiny stem 0 step", () =>
            {
                optimizer.zero_grad();
                nn.functional.cross_entropy(model.forward(images), labels).backward();
                optimizer.step();
            }));
        }
        foreach (var (name, action) in cases)
        {
            var times = new[] { new List<double>(), new List<double>() };
            for (int rep = 0; rep < steps + 2; rep++)
                for (int variant = 0; variant < 2; variant++)
                {
                    Plstm2DFused.RowScanOverride = variant == 0 ? LegacyRowScan.RowScanOneAttention : null;
                    using var scope = NewDisposeScope();
                    var clock = Stopwatch.StartNew();
                    action();
                    if (rep >= 2) times[variant].Add(clock.Elapsed.TotalMilliseconds);
                }
            double old = Median(times[0]), @new = Median(times[1]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-30} old {old,8:F2} ms  new {@new,8:F2} ms  new/old {@new / old:F3}"));
        }
        return 0;
    }

    /// <summary>Median of a list of timings.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(t => t).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
    }
}
