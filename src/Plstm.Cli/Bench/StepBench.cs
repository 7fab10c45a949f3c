using System.Globalization;
using Plstm.Cli.Commands;
using Plstm.Layers;
using Plstm.Models;
using Plstm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Cli.Bench;

/// <summary>
/// <c>plstm bench step</c>: for every dtype, image size and preset, a full training step (<see cref="TrainingStepCase"/>)
/// of the preset built at that image size (positional embedding on the size's patch grid).
/// </summary>
public static class StepBench
{
    /// <summary>Checks that every preset can be built at every size (patch divisibility, levels) before anything runs.</summary>
    /// <exception cref="CliUsageException">A size is not a multiple of a preset's patch size, or the config is invalid.</exception>
    public static void Validate(StepBenchPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        foreach (var preset in plan.Presets)
            foreach (int size in plan.Sizes)
            {
                if (size % preset.PatchSize != 0)
                    throw new CliUsageException(
                        $"--sizes: {size} is not a multiple of {preset.Name}'s patch size {preset.PatchSize}.");
                OptionChecks.Usage(() =>
                {
                    if (Config(preset, size, plan.Levels) is PlstmVisionConfig p) p.Validate();
                    else if (Config(preset, size, plan.Levels) is VitConfig v) v.Validate();
                    return true;
                });
            }
    }

    /// <summary>Runs the benchmark and returns the exit code.</summary>
    /// <exception cref="InvalidOperationException">Some row ended in an error (after the report was written).</exception>
    public static int Run(StepBenchPlan plan, BenchSettings settings, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(settings);
        Validate(plan);
        settings.Apply();
        var inv = CultureInfo.InvariantCulture;
        bool cuda = settings.Device.type == DeviceType.CUDA;
        var report = new BenchReport("plstm bench step", settings.CommandLine, MachineInfo.Collect(settings.Device),
        [
            ("presets", plan.Presets.Select(p => p.Name).ToArray()),
            ("pLSTM form", plan.Form?.ToString().ToLowerInvariant() ?? "layer default"),
            ("pLSTM levels", plan.Levels?.ToString(inv) ?? "preset default"),
            ("pLSTM recompute in backward", plan.Recompute ? "yes" : "no"),
            ("TF32 matrix products", settings.Tf32 ? "allowed (--tf32)" : "no"),
            ("warm-up", settings.Warmup), ("iterations", settings.Iterations),
            ("device synchronisation", settings.SynchronisationNote), ("seed", settings.Seed),
            ("step", "forward, cross-entropy, backward, AdamW (wd 0.05); no clipping, no loss read-back"),
        ],
        [
            new("model", r => r.Name),
            new("image", r => r.ImageSize?.ToString(inv) ?? "", true),
            new("grid", r => r.Grid is { } g ? $"{g.X}×{g.Y}" : ""),
            new("batch", r => r.Batch?.ToString(inv) ?? "", true),
            new("params M", r => r.Parameters is long p ? (p / 1e6).ToString("0.00", inv) : "", true),
            new("dtype", r => r.Dtype),
            new("img/s", r => r.ImagesPerSecond is double rate ? rate.ToString(rate < 100 ? "0.0" : "0", inv) : "", true),
        ]);
        report.Notes.Add("img/s = batch / median step time. bfloat16 rows are pure bfloat16 (weights, activations and "
            + "AdamW state; no autocast); \"float32, bfloat16 compute\" rows keep float32 parameters and AdamW state and "
            + "compute in bfloat16 (--compute-dtype: mixed precision, as autocast).");
        report.Notes.Add("host fwd + bwd ms = median times the host takes to issue the forward and loss, and the backward "
            + "(the calls return before the device finishes; the AdamW step is not included). On a GPU, host times that add up to nearly the median step time mean the step is bound by "
            + "per-operation host costs, not by its kernels.");

        var session = new BenchSession(settings, report, writer, settings.Dtypes.Count * plan.Sizes.Count * plan.Presets.Count);
        session.Start();
        foreach (var (dtype, dtypeName) in settings.Dtypes)
            foreach (int size in plan.Sizes)
                foreach (var preset in plan.Presets)
                {
                    int batch = plan.BatchFor(size, cuda);
                    int grid = size / preset.PatchSize;
                    long parameters = preset.ParameterCount(size);
                    var row = new BenchRow
                    {
                        Name = preset.Name, Grid = (grid, grid), Batch = batch, ImageSize = size,
                        Dtype = plan.ComputeDtype is { } compute && compute != dtype
                            ? $"{dtypeName}, {compute.ToString().ToLowerInvariant()} compute" : dtypeName,
                        Parameters = parameters,
                    };
                    session.Run(row, dtype, () =>
                    {
                        Trainer.SeedTorch(settings.Seed);
                        return new TrainingStepCase(Build(preset, size, plan), batch, size, dtype, settings.Device,
                            settings.Seed);
                    });
                }
        session.Finish();
        return session.ExitCode();
    }

    /// <summary>Builds <paramref name="preset"/> at <paramref name="size"/> pixels with the plan's pLSTM overrides.</summary>
    private static VisionModel Build(ModelPreset preset, int size, StepBenchPlan plan)
    {
        VisionModel model = Config(preset, size, plan.Levels) switch
        {
            PlstmVisionConfig p => new PlstmVisionModel(p, preset.Name),
            VitConfig v => new VisionTransformer(v, preset.Name),
            _ => throw new InvalidOperationException($"Preset '{preset.Name}' has no configuration."),
        };
        model.ComputeDtype = plan.ComputeDtype;
        foreach (var layer in model.modules().OfType<Plstm2DLayer>())
        {
            if (plan.Form is { } form) layer.Form = form;
            if (plan.Recompute) layer.RecomputeInBackward = true;
        }
        return model;
    }

    private static object Config(ModelPreset preset, int size, int? levels) => preset.ConfigFor(size) switch
    {
        PlstmVisionConfig p when levels is int l => p with { Levels = l },
        var config => config,
    };
}
