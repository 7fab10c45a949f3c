using System.Diagnostics;
using System.Globalization;
using Plstm.Data.ArrowPointing;
using Plstm.Experiments;
using Plstm.Models;
using static TorchSharp.torch;

namespace Plstm.Bench;

/// <summary>
/// Where an <c>ape-small</c> CPU training step spends its time: rendering a batch of 64 arrows, the convolutional stem
/// alone (forward + backward), one P- and one D-mode pLSTM layer at the model's shapes, and whole steps (forward, cross-entropy, backward, AdamW) of both models with and without
/// the stem. <c>--ape-step-profile [--steps N] [--stem W] [--layers [--no-step]]</c>; medians over N timed repetitions
/// after two warm-ups. <c>--layers</c>: only the two layers, the kernel form's two parts (gate walk, masked attention)
/// and the stemless <c>plstm_vit_tiny</c> step; <c>--no-step</c> leaves out the step (for profiling the layers alone).
/// </summary>
public static class ApeStepProfile
{
    /// <summary>Runs the profile; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        int steps = args.Contains("--steps") ? int.Parse(args[Array.IndexOf(args, "--steps") + 1], CultureInfo.InvariantCulture) : 10;
        int width = args.Contains("--stem") ? int.Parse(args[Array.IndexOf(args, "--stem") + 1], CultureInfo.InvariantCulture) : 32;
        Training.HostAllocator.TuneForTraining();
        if (args.Contains("--threads")) set_num_threads(int.Parse(args[Array.IndexOf(args, "--threads") + 1], CultureInfo.InvariantCulture));
        Console.WriteLine($"torch threads {get_num_threads()}");
        if (args.Contains("--checkpoint"))
        {
            foreach (string path in args.Where((a, i) => i > 0 && args[i - 1] == "--checkpoint"))
                TimeCheckpoint(path, steps);
            return 0;
        }
        if (args.Contains("--layers"))
        {
            TimeLayers(steps);
            if (args.Contains("--no-step")) return 0;   // layers only (e.g. under perf)
            using var model = new ExperimentModel("m", "plstm_vit_tiny", 5e-4, ConvStemWidth: 0).Spec(64, 3, 2).Create();
            ReportSteps("plstm_vit_tiny stem 0: step", steps, model);
            return 0;
        }
        var settings = ArrowPointingSettings.Paper(192, 43).Scaled(ExperimentRegistry.ApeSmallScale);
        var data = new ArrowPointingDataset(settings, 100_000);
        int next = 0;
        Report("render 64 images (GetBatch)", steps, () =>
        {
            var (x, y) = data.GetBatch(Enumerable.Range(next, 64).ToArray());
            next += 64;
            x.Dispose(); y.Dispose();
        });
        manual_seed(0);
        using (var stem = ConvStem.Create(3, width, 8))
        {
            var x = randn(64, 3, 64, 64);
            Report($"stem w {width} forward + backward", steps, () =>
            {
                using var scope = NewDisposeScope();
                stem.zero_grad();
                stem.forward(x).sum().backward();
            });
        }
        using (var stem = ConvStem.Create(3, width, 8))
        {
            // What the models feed it: [B, H, W, C] images viewed as [B, C, H, W], i.e. channels-last strides, which
            // libtorch's convolutions carry through the stem.
            var x = randn(64, 64, 64, 3).permute(0, 3, 1, 2);
            Report($"stem w {width}, channels-last input, fwd + bwd", steps, () =>
            {
                using var scope = NewDisposeScope();
                stem.zero_grad();
                stem.forward(x).sum().backward();
            });
        }
        using (var strided = ConvStem.Create(3, width, 8, ConvStemKind.Strided))
        {
            var x = randn(64, 3, 64, 64);
            Report($"stem w {width}, strided, forward + backward", steps, () =>
            {
                using var scope = NewDisposeScope();
                strided.zero_grad();
                strided.forward(x).sum().backward();
            });
        }
        using (var reluFirst = nn.Sequential(
            nn.Conv2d(3, width, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * width, 2 * width, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2)))
        {
            var x = randn(64, 3, 64, 64);
            Report($"stem w {width}, ReLU before pool", steps, () =>
            {
                using var scope = NewDisposeScope();
                reluFirst.zero_grad();
                reluFirst.forward(x).sum().backward();
            });
        }
        TimeLayers(steps);
        {
            // Seven D-mode gate projections (sub-head block-diagonal, 8 sub-heads of 8 channels each) one by one
            // against one einsum over all seven: the cost of a fused gate projection.
            var x = randn(64, 8, 8, 64, requires_grad: true);
            var weights = Enumerable.Range(0, 7).Select(_ => randn(1, 8, 1, 8, requires_grad: true)).ToArray();
            var all = randn(7, 8, 1, 8, requires_grad: true);
            Report("7 gate projections one by one fwd+bwd", steps, () =>
            {
                using var scope = NewDisposeScope();
                var grouped = x.reshape(64, 8, 8, 8, 8);
                var sum = weights.Select(w => sigmoid(einsum("asjc,...sc->...asj", w, grouped))).Aggregate((a, b) => a + b);
                sum.sum().backward();
            });
            Report("7 gate projections as one einsum fwd+bwd", steps, () =>
            {
                using var scope = NewDisposeScope();
                var grouped = x.reshape(64, 8, 8, 8, 8);
                sigmoid(einsum("asjc,...sc->...asj", all, grouped)).sum().backward();
            });
        }
        foreach (var form in new[] { Ops.TwoD.Plstm2DForm.RowScan, Ops.TwoD.Plstm2DForm.Chunkwise, Ops.TwoD.Plstm2DForm.Hierarchical })
        {
            using var model = new ExperimentModel("m", "plstm_vit_tiny", 5e-4, ConvStemWidth: 0).Spec(64, 3, 2).Create();
            foreach (var layer in model.modules().OfType<Layers.Plstm2DLayer>()) layer.Form = form;
            ReportSteps($"plstm_vit_tiny stem 0, {form}: step", steps, model);
        }
        foreach (string preset in new[] { "plstm_vit_tiny", "vit_tiny" })
            foreach (int w in new[] { 0, width })
            {
                using var model = new ExperimentModel("m", preset, 5e-4, ConvStemWidth: w).Spec(64, 3, 2).Create();
                ReportSteps($"{preset} stem {w}: step", steps, model);
                // The trainer's input: a [B, H, W, C] view of the loader's [B, C, H, W] batch.
                ReportSteps($"{preset} stem {w}, trainer's layout: step", steps, model, nchwBatch: true);
            }
        return 0;
    }

    /// <summary>
    /// Times training steps of a <c>plstm train</c> checkpoint's model at its trained weights on real <c>ape-small</c>
    /// training images, with a fresh AdamW state and with the checkpoint's (lr 1e-7): whether a step costs more late in training than early (e.g.
    /// through subnormal floats) shows as a difference between an early and a late checkpoint of the same run.
    /// </summary>
    private static void TimeCheckpoint(string path, int steps)
    {
        using var trained = TrainedModel.Load(path);
        var data = ExperimentData.Load(ExperimentRegistry.Get("ape-small").Data with { TrainCount = 64 * (steps + 2) });
        var model = trained.Model;
        model.train();
        foreach (bool restored in new[] { false, true })
        {
            // The trainer's optimizer, fresh or with the checkpoint's moments (their magnitudes late in training).
            using var optimizer = new Training.AdamWOptimizer(Training.ParameterGroups.Split(model), 0.05);
            if (restored) Training.TrainingCheckpoint.Load(path, model, optimizer);
            optimizer.SetLearningRate(1e-7);
            int next = 0;
            string name = $"{Path.GetFileName(Path.GetDirectoryName(path))}/{Path.GetFileName(path)} (step {trained.Step}{(restored ? ", its AdamW state" : ", fresh AdamW")})";
            var batches = Enumerable.Range(0, steps + 2).Select(b =>
            {
                var samples = Enumerable.Range(64 * b, 64).Select(i => data.Train.Get(i % data.Train.Count)).ToArray();
                var x = stack(samples.Select(s => s.Image).ToArray()).permute(0, 2, 3, 1).contiguous();
                foreach (var sample in samples) sample.Image.Dispose();
                return (x, tensor(samples.Select(s => s.Label).ToArray()));
            }).ToArray();
            Report(name + ": fwd+bwd", steps, () =>
            {
                using var scope = NewDisposeScope();
                var (x, y) = batches[next++ % batches.Length];
                optimizer.ZeroGradients();
                nn.functional.cross_entropy(model.forward(x), y).backward();
            });
            Report(name + ": AdamW step", steps, () =>
            {
                using var scope = NewDisposeScope();
                optimizer.Step(1.0);
            });
        }
    }

    /// <summary>Times one P- and one D-mode layer at the model's shapes (B 64, 8×8, D 64, H 2).</summary>
    private static void TimeLayers(int steps)
    {
        foreach (var mode in new[] { Layers.Plstm2DMode.P, Layers.Plstm2DMode.D })
        {
            using var layer = new Layers.Plstm2DLayer("layer", new Layers.Plstm2DLayerConfig(64, 2, mode));
            var x = randn(64, 8, 8, 64, requires_grad: true);
            Report($"one {mode}-mode layer (B 64, 8×8, D 64) fwd+bwd", steps, () =>
            {
                using var scope = NewDisposeScope();
                layer.zero_grad();
                layer.forward(x).sum().backward();
            });
            Report($"one {mode}-mode layer forward only", steps, () =>
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                layer.forward(x);
            });
        }
        // The kernel form's two parts at the layers' operator shape (B·H = 128, 8×8 cells, DK = DV = 32): the summed
        // gate from the CPU walk, and the masked attention that uses it.
        var gates = rand(new long[] { 128, 4, 8, 8, 8 }, requires_grad: true);
        Report("gate walk [128, 4, 8, 8×8] fwd+bwd", steps, () =>
        {
            using var scope = NewDisposeScope();
            gates.grad?.zero_();
            Ops.TwoD.FusedGateCpuKernel.Gate(gates).sum().backward();
        });
        var (q, k, v) = (randn(128, 64, 32, requires_grad: true), randn(128, 64, 32, requires_grad: true),
            randn(128, 64, 32, requires_grad: true));
        var gate = rand(128, 64, 64, requires_grad: true);
        Report("masked attention (Q Kᵀ ⊙ G) V fwd+bwd", steps, () =>
        {
            using var scope = NewDisposeScope();
            q.matmul(k.transpose(1, 2)).mul(gate).matmul(v).sum().backward();
        });
    }

    /// <summary>Times training steps (forward, cross-entropy, backward, AdamW) on one random batch of 64 at 64 px.</summary>
    private static void ReportSteps(string what, int steps, VisionModel model, bool nchwBatch = false)
    {
        var optimizer = optim.AdamW(model.parameters(), 5e-4);
        var x = nchwBatch ? randn(64, 3, 64, 64).permute(0, 2, 3, 1) : randn(64, 64, 64, 3);
        var y = randint(0, 2, [64], dtype: ScalarType.Int64);
        Report(what, steps, () =>
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.cross_entropy(model.forward(x), y).backward();
            optimizer.step();
        });
    }

    private static void Report(string what, int steps, Action action)
    {
        action();
        action();
        var times = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what,-40} median {times[steps / 2],8:F1} ms"));
    }
}
