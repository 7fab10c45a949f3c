using System.Diagnostics;
using Plstm.Models;
using Plstm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Bench;

/// <summary>
/// <c>--adamw-step [--preset plstm_vit_t] [--runs R] [--steps S] [--warmup W] [--threads T]</c>: the time of one
/// <see cref="AdamWOptimizer"/> step over a model preset's parameters (pLSTM-ViT-T by default: 318 tensors, 6.3 M
/// values, float32, CPU), with fixed random gradients on every parameter. Three rows: <c>Step()</c> (the bench step and
/// the unclipped trainer step), <c>Step(1.0)</c> (clipped: gradient norm and scaling, read back), and <c>Step()</c>
/// with one parameter that never has a gradient (the masked flat path). Each row: a warm-up of W steps (50: the
/// JIT has compiled the optimiser's host loops at full optimisation by then), then R runs of S steps; prints the median, minimum and maximum milliseconds per step over the runs. glibc's malloc is tuned as
/// for training (<see cref="HostAllocator"/>). No forward or backward:
/// the optimiser alone, so old and new optimiser code can be compared by running this at two commits.
/// </summary>
internal static class AdamWStepBench
{
    public static int Run(string[] args)
    {
        int at = Array.IndexOf(args, "--preset");
        string preset = at >= 0 && at + 1 < args.Length ? args[at + 1] : "plstm_vit_t";
        int runs = Program.ReadInt(args, "--runs", 7);
        int steps = Program.ReadInt(args, "--steps", 10);
        int warmup = Program.ReadInt(args, "--warmup", 50);
        torch.set_num_threads(Program.ReadInt(args, "--threads", Program.Threads));
        // As the plstm command does (PLSTM_MALLOC_TUNING=0 switches it off): without it each step's bucket-sized
        // temporaries (25 MB for pLSTM-ViT-T) are fresh mmaps, and page faults make the timings bimodal.
        bool tuned = HostAllocator.TuneForTraining();
        using var model = ModelRegistry.Create(preset);
        var parameters = model.named_parameters().ToList();
        long values = parameters.Sum(p => p.parameter.numel());
        Console.WriteLine($"AdamW step: {preset}, {parameters.Count} parameter tensors, {values / 1e6:F2} M values, "
            + $"{parameters[0].parameter.dtype}, {torch.get_num_threads()} thread(s), malloc tuned {tuned}, {warmup} warm-up steps, then {runs} runs × {steps} steps");
        var generator = new Generator(1234);
        var grads = parameters.ToDictionary(p => p.name,
            p => randn(p.parameter.shape, dtype: p.parameter.dtype, generator: generator).mul_(1e-2));
        using var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), weightDecay: 0.05);
        optimizer.SetLearningRate(1e-4);
        string unused = parameters[^1].name;
        foreach (var (name, step) in new (string, Action)[]
                 {
                     ("Step()", () => optimizer.Step()),
                     ("Step(1.0), clipped", () => optimizer.Step(1.0)),
                     ($"Step(), '{unused}' without gradient", () => optimizer.Step()),
                 })
        {
            foreach (var (n, p) in parameters)
                p.grad = name.Contains("without") && n == unused ? null : grads[n].clone();
            // Warm-up: enough steps for the JIT's tier-up of the per-parameter C# loops (30 calls, then a short delay).
            for (int s = 0; s < warmup; s++) step();
            var perStep = new List<double>();
            for (int r = 0; r < runs; r++)
            {
                var clock = Stopwatch.StartNew();
                for (int s = 0; s < steps; s++) step();
                clock.Stop();
                perStep.Add(clock.Elapsed.TotalMilliseconds / steps);
            }
            perStep.Sort();
            Console.WriteLine($"| {name,-40} | {perStep[perStep.Count / 2],8:F2} ms | {perStep[0],8:F2} – {perStep[^1],8:F2} ms |");
        }
        foreach (var g in grads.Values) g.Dispose();
        return 0;
    }
}
