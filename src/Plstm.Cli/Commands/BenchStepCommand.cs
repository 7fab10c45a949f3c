using System.CommandLine;
using Plstm.Cli.Bench;
using Plstm.Models;
using Plstm.Ops.TwoD;

namespace Plstm.Cli.Commands;

/// <summary>
/// <c>plstm bench step</c>: images/s and peak memory of full training steps (forward, cross-entropy, backward, AdamW)
/// of model presets at several image sizes (<see cref="StepBench"/>).
/// </summary>
public static class BenchStepCommand
{
    /// <summary>Creates the subcommand.</summary>
    public static Command Create()
    {
        var presets = new Option<string>("--presets")
        {
            Description = "Comma list of model presets (see 'plstm models'; default plstm_vit_t,vit_t).",
            DefaultValueFactory = _ => "plstm_vit_t,vit_t",
        };
        var sizes = new Option<string>("--sizes")
        {
            Description = "Comma list of image sides in pixels (default 192,224,384,512,1024).",
            DefaultValueFactory = _ => "192,224,384,512,1024",
        };
        var batchSizes = new Option<string?>("--batch-sizes")
        {
            Description = "One batch size for every image size, or BATCH@SIZE entries, e.g. 128@224,32@512 (default on "
                + "cuda 128@192, 128@224, 64@384, 32@512, 8@1024; on cpu those / 32, at least 1).",
        };
        var form = new Option<string?>("--form")
        {
            Description = $"Operator form of every pLSTM layer ({string.Join(", ", Enum.GetNames<Plstm2DForm>().Select(n => n.ToLowerInvariant()))}; default: the layer's).",
        };
        var levels = new Option<int?>("--levels") { Description = "Hierarchy depth of every pLSTM layer (default: the preset's, 6)." };
        OptionChecks.Add(levels, v => v is null or (>= 0 and <= 16), "--levels must be in 0..16.");
        var recompute = new Option<bool>("--recompute")
        {
            Description = "Recompute the path sums in backward in every pLSTM layer (chunkwise, row-scan and kernel forms: less memory, one more program per backward).",
        };
        var computeDtype = new Option<string>("--compute-dtype")
        {
            Description = "dtype the models compute in with their parameters in --dtype (mixed precision, as autocast): "
                + "float32 (default: the parameters' dtype), bfloat16 or float16.",
            DefaultValueFactory = _ => "float32",
        };
        computeDtype.AcceptOnlyFromAmong(OptionChecks.ComputeDtypeNames);
        var common = new BenchCommonOptions();

        var step = new Command("step",
            "Time full training steps (forward, cross-entropy, backward, AdamW) of model presets at several image sizes "
            + "on random data: images/s and peak memory; OOM rows are reported and skipped.")
        {
            presets, sizes, batchSizes, form, levels, recompute, computeDtype,
        };
        common.AddTo(step);
        step.SetAction(parseResult =>
        {
            var settings = common.Read(parseResult, "bench step");
            var models = BenchLists.Entries("--presets", parseResult.GetValue(presets)).Select(name =>
                ModelRegistry.TryGet(name, out var preset)
                    ? preset
                    : throw new CliUsageException(
                        $"--presets: unknown model '{name}'; known: {string.Join(", ", ModelRegistry.Names)}.")).Distinct().ToArray();
            var batches = parseResult.GetValue(batchSizes) is string text
                ? BenchLists.BatchSizes("--batch-sizes", text)
                : (null, new Dictionary<int, int>());
            Plstm2DForm? layerForm = null;
            if (parseResult.GetValue(form) is string formName)
            {
                var target = OpTarget.Parse("--form", formName);
                layerForm = target.Count == 1 && target[0].Form is { } f
                    ? f
                    : throw new CliUsageException($"--form: '{formName}' is not one operator form.");
            }
            var plan = new StepBenchPlan(models, BenchLists.Integers("--sizes", parseResult.GetValue(sizes)).Distinct().ToArray(),
                batches.All, batches.PerSize, layerForm, parseResult.GetValue(levels), parseResult.GetValue(recompute),
                OptionChecks.ComputeDtype(parseResult.GetValue(computeDtype)!, "--compute-dtype"));
            return StepBench.Run(plan, settings, parseResult.InvocationConfiguration.Output);
        });
        return step;
    }
}
