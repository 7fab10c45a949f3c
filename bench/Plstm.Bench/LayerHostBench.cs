using System.Diagnostics;
using System.Reflection;
using Plstm.Blocks;
using Plstm.Layers;
using Plstm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Bench;

/// <summary>
/// <c>--layer-host [--runs R] [--steps S] [--warmup W] [--dim D] [--heads H] [--grid N]</c>: per-call host cost of the
/// pLSTM-ViT-T block pieces at a size where the arithmetic is negligible (batch 1, a 2 × 2 grid, D 192, 3 heads; CPU,
/// one thread), so the times are the per-operation overheads — TorchSharp calls, libtorch dispatch, autograd nodes —
/// that the host pays to issue the same pieces on a GPU. Rows: forward + backward (sum of the output, backward, gradients
/// set to none) of the ViT's transformer block, a pLSTM block with a P-mode and a D-mode layer, each 2D layer alone, the
/// P layer's walked attention function, a block's RMS norm, and the layer's stacked input-projection weight alone. Prints median / min milliseconds per call over R runs of S calls.
/// </summary>
internal static class LayerHostBench
{
    public static int Run(string[] args)
    {
        int runs = Program.ReadInt(args, "--runs", 7);
        int steps = Program.ReadInt(args, "--steps", 200);
        int warmup = Program.ReadInt(args, "--warmup", 200);
        int dim = Program.ReadInt(args, "--dim", 192);
        int heads = Program.ReadInt(args, "--heads", 3);
        int grid = Program.ReadInt(args, "--grid", 2);
        torch.set_num_threads(1);
        HostAllocator.TuneForTraining();
        torch.manual_seed(0);
        var x = randn(1, grid, grid, dim).requires_grad_(true);
        var tokens = randn(1, grid * grid, dim).requires_grad_(true);
        var transformer = new TransformerBlock("block", dim, heads);
        var norm = new RmsNorm("norm", dim);
        Plstm2DLayer Layer(Plstm2DMode mode) =>
            new("interaction_module", new Plstm2DLayerConfig(dim, heads, mode));
        var pLayer = Layer(Plstm2DMode.P);
        var dLayer = Layer(Plstm2DMode.D);
        var pBlock = new PostUpProjectionBlock("block0", dim, Layer(Plstm2DMode.P), layerScaleInit: 1.0);
        var dBlock = new PostUpProjectionBlock("block1", dim, Layer(Plstm2DMode.D), layerScaleInit: 1.0);
        // The block around an identity layer: what the block costs beside its 2D layer (norms, MLP, residuals).
        var bareBlock = new PostUpProjectionBlock("block2", dim, nn.Identity(), layerScaleInit: 1.0);
        var stacked = typeof(Plstm2DLayer).GetMethod("StackedProjection", BindingFlags.NonPublic | BindingFlags.Instance)
            ?? throw new InvalidOperationException("Plstm2DLayer.StackedProjection not found");
        T Field<T>(string name) => (T)(typeof(Plstm2DLayer).GetField(name, BindingFlags.NonPublic | BindingFlags.Instance)
            ?.GetValue(pLayer) ?? throw new InvalidOperationException($"Plstm2DLayer.{name} not found"));
        var stackedArgs = new object[]
        {
            new[] { Field<SigmoidGate>("source"), Field<SigmoidGate>("mark") },
            new[] { Field<TransitionGate>("transition") }, ScalarType.Float32,
        };

        long gateColumns = 4L * 4 * heads;
        var projected = randn(1, grid, grid, 3L * dim + gateColumns).requires_grad_(true);
        var direct = rand(heads, grid * grid).requires_grad_(true);
        // Internal to the library: reached by reflection, as StackedProjection above.
        var attend = typeof(Plstm2DLayer).Assembly.GetType("Plstm.Ops.TwoD.ProjectedGateAttention")?.GetMethod("Attend")
            ?? throw new InvalidOperationException("ProjectedGateAttention.Attend not found");
        void FwdBwd(nn.Module module, Func<Tensor> forward)
        {
            using var scope = NewDisposeScope();
            forward().sum().backward();
            module.zero_grad(true);
            x.grad?.Dispose(); x.grad = null;
            tokens.grad?.Dispose(); tokens.grad = null;
            projected.grad?.Dispose(); projected.grad = null;
            direct.grad?.Dispose(); direct.grad = null;
        }

        Console.WriteLine($"layer host costs: batch 1, grid {grid}×{grid}, D {dim}, {heads} heads, float32, CPU, 1 thread; "
            + $"{warmup} warm-up calls, then {runs} runs × {steps} calls; ms per forward + backward");
        foreach (var (name, action) in new (string, Action)[]
                 {
                     ("transformer block", () => FwdBwd(transformer, () => transformer.forward(tokens))),
                     ("pLSTM block, P layer", () => FwdBwd(pBlock, () => pBlock.forward(x))),
                     ("pLSTM block, D layer", () => FwdBwd(dBlock, () => dBlock.forward(x))),
                     ("pLSTM block around an identity layer", () => FwdBwd(bareBlock, () => bareBlock.forward(x))),
                     ("P layer", () => FwdBwd(pLayer, () => pLayer.forward(x))),
                     ("D layer", () => FwdBwd(dLayer, () => dLayer.forward(x))),
                     ("P layer's walked attention (one function)", () => FwdBwd(pLayer, () =>
                         (Tensor)attend.Invoke(null, new object?[] { projected, heads, (long)(dim / heads),
                             Plstm.Ops.TwoD.GateActivationMode.P, 1.0, direct, 0.1, false, 1e-5, null })!)),
                     ("RMS norm", () => FwdBwd(norm, () => norm.forward(x))),
                     ("P layer's stacked projection weight", () => FwdBwd(pLayer, () =>
                     {
                         var (w, b) = ((Tensor, Tensor))stacked.Invoke(pLayer, stackedArgs)!;
                         return w.sum() + b.sum();
                     })),
                 })
        {
            for (int s = 0; s < warmup; s++) action();
            var perCall = new List<double>();
            for (int r = 0; r < runs; r++)
            {
                var clock = Stopwatch.StartNew();
                for (int s = 0; s < steps; s++) action();
                perCall.Add(clock.Elapsed.TotalMilliseconds / steps);
            }
            perCall.Sort();
            Console.WriteLine($"{name,-40} median {perCall[perCall.Count / 2]:F3} ms, min {perCall[0]:F3} ms");
        }
        return 0;
    }
}
