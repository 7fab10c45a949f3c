using System.Diagnostics;
using System.Globalization;
using Plstm.Data;
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
/// <c>--ape-probe [--model cnn|cnn-gap|vit_tiny|plstm_vit_tiny] [--stem] [--pooling corners|mean] [--minutes M] [--threads N] [--ink] [--symmetry [--advance A]] [--lr LR] [--weight-decay WD] [--patch P] [--dim D] [--heads H] [--blocks N] [--stem-width W] [--device cuda]</c>. <c>cnn</c> is a small
/// convolutional net (three conv–ReLU–max-pool stages, 32/64/64 channels, then 128 conv channels, flatten, MLP);
/// <c>--stem</c> puts the library's <see cref="ConvStem"/> (width <c>--stem-width</c>, default 32: the same three conv
/// stages) in front of a vision preset's patch projection.
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
        // --ink: strokes 1, background 0 (pixel / 255 inverted, no ImageNet statistics) instead of the paper's input,
        // where every background pixel is ≈ +2.2 after normalisation and only the few stroke pixels differ.
        bool ink = args.Contains("--ink");
        var normalization = ink ? Plstm.Data.Normalization.Identity : null;
        var train = new ArrowPointingDataset(settings, 100_000, normalization);
        var val = new ArrowPointingDataset(settings with { Seed = 100042 }, 512, normalization);
        var device = Value(args, "--device") is string dev ? torch.device(dev) : CPU;
        double lr = double.Parse(Value(args, "--lr") ?? "1e-3", CultureInfo.InvariantCulture);
        var pooling = Value(args, "--pooling") is string p ? Enum.Parse<VisionPooling>(p, ignoreCase: true) : (VisionPooling?)null;
        var shape = new Shape(Int(args, "--patch"), Int(args, "--dim"), Int(args, "--heads"), Int(args, "--blocks"), Int(args, "--stem-width"));
        double weightDecay = double.Parse(Value(args, "--weight-decay") ?? "0", CultureInfo.InvariantCulture);
        using var net = Build(model, stem, pooling, shape);
        net.to(device);
        var optimizer = optim.AdamW(net.parameters(), lr, weight_decay: weightDecay);
        bool channelsLast = !model.StartsWith("cnn", StringComparison.Ordinal);
        // Symmetry curriculum (--symmetry): stage 0 shows every training image turned (flips, transpose) so that the
        // circle lies in the octant right of and below the arrow, 0 ≤ dy ≤ dx; then the arrow's direction alone predicts
        // the label. Each later stage undoes one symmetry at random (transpose, then horizontal, then vertical flip);
        // stage 4 is the raw data. A stage ends when the mean training accuracy of the last 100 steps reaches --advance.
        bool symmetry = args.Contains("--symmetry") && !args.Contains("--no-symmetry");
        double advance = double.Parse(Value(args, "--advance") ?? "0.9", CultureInfo.InvariantCulture);
        int stage = symmetry ? 0 : 4;
        var rng = new System.Random(1);
        // The canonical turn is the dataset's (the rule SymmetryCurriculum uses); the released symmetries are drawn from
        // a System.Random only for the stages that have them, as in the runs recorded in bench/results.
        Tensor Turn(Tensor image, ArrowPointingDataset d, int index)
        {
            if (stage >= 4) return image;
            image = d.CanonicalTurn(index).Apply(image);
            bool transpose = stage >= 1 && rng.Next(2) == 1;
            bool flipX = stage >= 2 && rng.Next(2) == 1;
            bool flipY = stage >= 3 && rng.Next(2) == 1;
            image = new DihedralTurn(FlipX: false, FlipY: false, Transpose: transpose).Apply(image);
            return new DihedralTurn(FlipX: flipX, FlipY: flipY, Transpose: false).Apply(image);
        }
        (Tensor X, Tensor Y) Batch(ArrowPointingDataset d, int start, int n, bool training = false)
        {
            var items = Enumerable.Range(start, n).Select(i => d.Get(i % d.Count)).ToArray();
            var images = items.Select(s => s.Image).ToArray();
            if (training && stage < 4)
                images = images.Select((im, i) => Turn(im, d, (start + i) % d.Count)).ToArray();
            var x = stack(images);                                                                  // [B, C, H, W]
            if (ink) x = 1 - x;
            if (channelsLast) x = x.permute(0, 2, 3, 1);
            return (x.to(device), tensor(items.Select(s => s.Label).ToArray()).to(device));
        }
        var recent = new Queue<double>();
        var (vx, vy) = Batch(val, 0, val.Count);
        Console.WriteLine($"ape probe: model {model}{(stem ? " with conv stem" : "")}{(ink ? ", ink input" : "")}{(symmetry ? $", symmetry curriculum (advance at {advance})" : "")}, lr {lr}, {device}{(pooling is { } pl ? $", pooling {pl}" : "")}{shape}, {net.parameters().Sum(p => p.numel())} parameters, "
            + $"torch threads {get_num_threads()}, up to {minutes} min");
        var clock = Stopwatch.StartNew();
        for (int step = 0; clock.Elapsed.TotalMinutes < minutes; step++)
        {
            using var scope = NewDisposeScope();
            var (x, y) = Batch(train, step * 64, 64, training: true);
            var logits = net.forward(x);
            var loss = nn.functional.cross_entropy(logits, y);
            recent.Enqueue(logits.argmax(1).eq(y).to(float32).mean().item<float>());
            if (recent.Count > 100) recent.Dequeue();
            if (stage < 4 && recent.Count == 100 && recent.Average() >= advance)
            {
                stage++;
                recent.Clear();
                Console.WriteLine($"step {step,5}  stage {stage}  {clock.Elapsed.TotalSeconds:F0} s");
            }
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            if (step % 250 == 0)
            {
                using var noGrad = no_grad();
                double acc = net.forward(vx).argmax(1).eq(vy).to(float32).mean().item<float>();
                Console.WriteLine($"step {step,5}  stage {stage}  train loss {loss.item<float>():F4}  train acc(100) {(recent.Count > 0 ? recent.Average() : 0):F3}  val acc {acc:F3}  {clock.Elapsed.TotalSeconds:F0} s");
            }
        }
        return 0;
    }

    /// <summary>Overrides of the preset's shape (<c>--patch</c>, <c>--dim</c>, <c>--heads</c>, <c>--blocks</c>); null keeps the preset's.</summary>
    private sealed record Shape(int? Patch, int? Dim, int? Heads, int? Blocks, int? StemWidth)
    {
        public override string ToString() =>
            (Patch is { } p ? $", patch {p}" : "") + (Dim is { } d ? $", dim {d}" : "") + (Heads is { } h ? $", heads {h}" : "") + (Blocks is { } b ? $", blocks {b}" : "") + (StemWidth is { } sw ? $", stem width {sw}" : "");
    }

    private static int? Int(string[] args, string name) =>
        Value(args, name) is string v ? int.Parse(v, CultureInfo.InvariantCulture) : null;

    private static nn.Module<Tensor, Tensor> Build(string model, bool stem, VisionPooling? pooling, Shape shape)
    {
        int w = shape.StemWidth ?? 32;
        // The CNN baselines start with the same three conv stages as the library's stem: [B, 2w, 8, 8].
        if (model == "cnn")
            return nn.Sequential(ConvStem.Create(3, w, 8), nn.Conv2d(2 * w, 128, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(128 * 16, 128), nn.ReLU(), nn.Linear(128, 2));
        if (model == "cnn-gap")                                                                  // position-free read-out
            return nn.Sequential(ConvStem.Create(3, w, 8), nn.Conv2d(2 * w, 128, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
                nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2));
        // --stem: the library's ConvStem (width --stem-width, default 32) before the 1×1 patch projection. The runs of
        // bench/results/ape-small-stem-h200-2026-11-30.md built the same network by hand (these conv stages, then the
        // preset at patch 1 on the 8×8 feature map); the library form draws its initial weights in another order.
        var preset = ModelRegistry.Get(model);
        int stemWidth = stem ? w : 0;
        VisionModel body = preset.Family == ModelFamily.Plstm
            ? new PlstmVisionModel(preset.PlstmConfig! with
            {
                ImageSize = 64, NumClasses = 2, PatchSize = shape.Patch ?? preset.PatchSize, ConvStemWidth = stemWidth,
                Pooling = pooling ?? preset.PlstmConfig!.Pooling,
                Dim = shape.Dim ?? preset.PlstmConfig!.Dim, NumHeads = shape.Heads ?? preset.PlstmConfig!.NumHeads,
                NumBlocks = shape.Blocks ?? preset.PlstmConfig!.NumBlocks,
            }, model)
            : new VisionTransformer(preset.VitConfig! with
            {
                ImageSize = 64, NumClasses = 2, PatchSize = shape.Patch ?? preset.PatchSize, ConvStemWidth = stemWidth,
                Dim = shape.Dim ?? preset.VitConfig!.Dim, NumHeads = shape.Heads ?? preset.VitConfig!.NumHeads,
                NumBlocks = shape.Blocks ?? preset.VitConfig!.NumBlocks,
            }, model);
        return body;
    }

    private static string? Value(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
