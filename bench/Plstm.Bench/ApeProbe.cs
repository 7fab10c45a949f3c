using System.Diagnostics;
using System.Globalization;
using Plstm.Data.ArrowPointing;
using Plstm.Experiments;
using Plstm.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Bench;

/// <summary>
/// Diagnostic for the ape-small task (docs/experiments.md, "Why ape-small stays at chance"): trains one model on the
/// ape-small training images (64 px, objects scaled by 3, seed 43, on demand) with a plain AdamW loop (lr 1e-3, no
/// weight decay, batch 64) and prints the validation accuracy on 512 images (seed 100042) every 250 steps.
/// <c>--ape-probe [--model cnn|cnn-gap|vit_tiny|plstm_vit_tiny] [--stem] [--pooling corners|mean] [--minutes M] [--threads N]</c>. <c>cnn</c> is a small
/// convolutional net (three conv–ReLU–max-pool stages, 32/64/64 channels, then 128 conv channels, flatten, MLP);
/// <c>--stem</c> puts the same three conv stages in front of a vision preset (its input then is the 8 × 8 × 64 feature
/// map with patch size 1) instead of the preset's linear patch embedding.
/// </summary>
public static class ApeProbe
{
    /// <summary>Runs the probe; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        string model = Value(args, "--model") ?? "cnn";
        double minutes = double.Parse(Value(args, "--minutes") ?? "8", CultureInfo.InvariantCulture);
        bool stem = args.Contains("--stem");
        if (Value(args, "--threads") is string threads) set_num_threads(int.Parse(threads, CultureInfo.InvariantCulture));
        manual_seed(0);
        var settings = ArrowPointingSettings.Paper(192, ExperimentRegistry.Get("ape-small").Seed).Scaled(ExperimentRegistry.ApeSmallScale);
        var train = new ArrowPointingDataset(settings, 100_000);
        var val = new ArrowPointingDataset(settings with { Seed = 100042 }, 512);
        var pooling = Value(args, "--pooling") is string p ? Enum.Parse<VisionPooling>(p, ignoreCase: true) : (VisionPooling?)null;
        using var net = Build(model, stem, pooling);
        var optimizer = optim.AdamW(net.parameters(), 1e-3, weight_decay: 0.0);
        bool channelsLast = !model.StartsWith("cnn", StringComparison.Ordinal) && !stem;
        (Tensor X, Tensor Y) Batch(ArrowPointingDataset d, int start, int n)
        {
            var items = Enumerable.Range(start, n).Select(i => d.Get(i % d.Count)).ToArray();
            var x = stack(items.Select(s => s.Image).ToArray());                                   // [B, C, H, W]
            return (channelsLast ? x.permute(0, 2, 3, 1) : x, tensor(items.Select(s => s.Label).ToArray()));
        }
        var (vx, vy) = Batch(val, 0, val.Count);
        Console.WriteLine($"ape probe: model {model}{(stem ? " with conv stem" : "")}{(pooling is { } pl ? $", pooling {pl}" : "")}, {net.parameters().Sum(p => p.numel())} parameters, "
            + $"torch threads {get_num_threads()}, up to {minutes} min");
        var clock = Stopwatch.StartNew();
        for (int step = 0; clock.Elapsed.TotalMinutes < minutes; step++)
        {
            using var scope = NewDisposeScope();
            var (x, y) = Batch(train, step * 64, 64);
            var loss = nn.functional.cross_entropy(net.forward(x), y);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            if (step % 250 == 0)
            {
                using var noGrad = no_grad();
                double acc = net.forward(vx).argmax(1).eq(vy).to(float32).mean().item<float>();
                Console.WriteLine($"step {step,5}  train loss {loss.item<float>():F4}  val acc {acc:F3}  {clock.Elapsed.TotalSeconds:F0} s");
            }
        }
        return 0;
    }

    private static nn.Module<Tensor, Tensor> Build(string model, bool stem, VisionPooling? pooling)
    {
        nn.Module<Tensor, Tensor> Stages(int input) => nn.Sequential(
            nn.Conv2d(input, 32, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2));                  // [B, 64, 8, 8]
        if (model == "cnn")
            return nn.Sequential(Stages(3), nn.Conv2d(64, 128, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(128 * 16, 128), nn.ReLU(), nn.Linear(128, 2));
        if (model == "cnn-gap")                                                                  // position-free read-out
            return nn.Sequential(Stages(3), nn.Conv2d(64, 128, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
                nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2));
        var preset = ModelRegistry.Get(model);
        int size = stem ? 8 : 64, channels = stem ? 64 : 3;
        int? patch = stem ? 1 : null;
        VisionModel body = preset.Family == ModelFamily.Plstm
            ? new PlstmVisionModel(preset.PlstmConfig! with
            {
                ImageSize = size, NumChannels = channels, NumClasses = 2, PatchSize = patch ?? preset.PatchSize,
                Pooling = pooling ?? preset.PlstmConfig!.Pooling,
            }, model)
            : new VisionTransformer(preset.VitConfig! with { ImageSize = size, NumChannels = channels, NumClasses = 2, PatchSize = patch ?? preset.PatchSize }, model);
        return stem ? nn.Sequential(("stem", Stages(3)), ("channels_last", new ChannelsLast()), ("body", body)) : body;
    }

    private static string? Value(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    private sealed class ChannelsLast() : nn.Module<Tensor, Tensor>("channels_last")
    {
        public override Tensor forward(Tensor x) => x.permute(0, 2, 3, 1);
    }
}
