using Plstm.Tests.Support;
using Plstm.Data.Images;
using Plstm.Tests.Training;

namespace Plstm.Tests.Cli;

/// <summary>
/// Bad input never half-works: missing data, corrupt IDX or PNG files, unknown experiments or presets, bad flag or
/// config values, missing or foreign checkpoints — each gives a non-zero exit code, exactly one stderr line starting
/// <c>plstm: error: </c>, nothing on stdout for the early checks, and no <c>--out</c> folder.
/// </summary>
[Collection(TrainingSerialCollection.Name)]
public sealed class BadInputCliTests
{
    [Fact]
    public void Train_rejects_bad_input_without_creating_the_output_folder()
    {
        using var temp = new TempFolder();
        string output = temp.File("never");
        string idx = CorruptIdxFolder(temp.File("idx"));
        string truncatedIdx = TruncatedIdxFolder(temp.File("idx-truncated"));
        string png = ImageFolderWithTruncatedPng(temp.File("png"));
        string notPng = ImageFolderWithGarbagePng(temp.File("png-garbage"));
        string emptyClass = temp.File("empty-class");
        Directory.CreateDirectory(Path.Combine(emptyClass, "a"));
        string badYaml = Write(temp.File("bad.yaml"), "steps: [1, 2\n");
        string unknownKey = Write(temp.File("unknown.yaml"), "steps: 2\nstepz: 3\n");
        string wrongType = Write(temp.File("wrong.json"), "{\"steps\": \"many\"}");
        string badValue = Write(temp.File("zero.yml"), "batch_size: 0\n");
        string badFlip = Write(temp.File("flip.yaml"), "hflip: 2\n");
        string goodIdx = temp.File("idx-good");
        WriteIdx(goodIdx, 8, 8);

        string[][] cases =
        [
            // missing or corrupt data
            ["train", "--preset", "plstm_vit_tiny", "--data", temp.File("no-such-folder"), "--out", output],
            ["train", "--preset", "plstm_vit_tiny", "--data", idx, "--patch-size", "4", "--out", output],
            ["train", "--preset", "plstm_vit_tiny", "--data", truncatedIdx, "--patch-size", "4", "--out", output],
            ["train", "--preset", "plstm_vit_tiny", "--data", png, "--out", output],
            ["train", "--preset", "plstm_vit_tiny", "--data", notPng, "--out", output],
            ["train", "--preset", "plstm_vit_tiny", "--data", emptyClass, "--out", output],
            ["train", "fashion-mnist", "--data-dir", temp.File("no-fashion-here"), "--out", output],
            // unknown names
            ["train", "ape-huge", "--out", output],
            ["train", "--preset", "plstm_vit_huge", "--data", "arrows", "--out", output],
            ["train", "--out", output],
            ["train", "ape-small", "--preset", "vit_tiny", "--out", output],
            ["train", "--preset", "vit_tiny", "--out", output],
            ["train", "ape-small", "--data", "arrows", "--out", output],
            // bad flag values
            ["train", "ape-small", "--steps", "0", "--out", output],
            ["train", "ape-small", "--steps", "abc", "--out", output],
            ["train", "ape-small", "--lr", "-1", "--out", output],
            ["train", "ape-small", "--lr", "NaN", "--out", output],
            ["train", "ape-small", "--batch-size", "0", "--out", output],
            ["train", "ape-small", "--device", "gpu", "--out", output],
            ["train", "ape-small", "--scale", "0.5", "--out", output],
            ["train", "ape-small", "--scale", "5", "--out", output],
            ["train", "ape-small", "--eval-count", "-1", "--out", output],
            ["train", "ape-small", "--steps", "10", "--warmup", "11", "--out", output],
            ["train", "ape-small", "--patch-size", "7", "--out", output],
            ["train", "ape-small", "--data-dir", temp.Path, "--out", output],
            ["train", "fashion-mnist", "--scale", "2", "--out", output],
            ["train", "ape-small", "--bogus-flag", "--out", output],
            ["train", "fashion-mnist", "--random-crop", "-1", "--out", output],
            ["train", "fashion-mnist", "--random-crop", "two", "--out", output],
            ["train", "fashion-mnist", "--hflip", "1.5", "--out", output],
            ["train", "fashion-mnist", "--hflip", "-0.1", "--out", output],
            ["train", "fashion-mnist", "--hflip", "NaN", "--out", output],
            ["train", "fashion-mnist", "--label-smoothing", "1", "--out", output],
            ["train", "ape-small", "--arrow-input", "grey", "--out", output],
            ["train", "ape-small", "--symmetry-curriculum", "-0.1", "--out", output],
            ["train", "--preset", "plstm_vit_tiny", "--data", goodIdx, "--patch-size", "4", "--random-crop", "8", "--out", output],
            // bad config files
            ["train", "ape-small", "--config", temp.File("missing.yaml"), "--out", output],
            ["train", "ape-small", "--config", badYaml, "--out", output],
            ["train", "ape-small", "--config", unknownKey, "--out", output],
            ["train", "ape-small", "--config", wrongType, "--out", output],
            ["train", "ape-small", "--config", badValue, "--out", output],
            ["train", "ape-small", "--config", badFlip, "--out", output],
        ];
        foreach (var args in cases)
        {
            string what = string.Join(' ', args.Select(a => a.Replace(temp.Path, "TMP", StringComparison.Ordinal)));
            var run = CliRunner.Run(args);
            CliAssert.FailedWithOneLine(run, what);
            Assert.True(run.Stdout.Length == 0, $"{what}: printed '{run.Stdout}'");
            Assert.False(Directory.Exists(output), $"{what}: created --out");
        }
    }

    [Fact]
    public void Augmentation_flags_name_the_flag_and_the_rule()
    {
        using var temp = new TempFolder();
        string output = temp.File("never");
        string idx = temp.File("idx");
        WriteIdx(idx, 8, 8);
        (string[] Args, string Message)[] cases =
        [
            (["train", "fashion-mnist", "--random-crop", "-1"], "--random-crop must be ≥ 0 (0 = off) (got -1)."),
            (["train", "fashion-mnist", "--hflip", "1.5"], "--hflip must be in [0, 1] (0 = off) (got 1.5)."),
            (["train", "fashion-mnist", "--label-smoothing", "1"], "--label-smoothing must be in [0, 1) (got 1)."),
            (["train", "ape-small", "--symmetry-curriculum", "1.5"], "--symmetry-curriculum must be in [0, 1] (0 = off) (got 1.5)."),
            (["train", "ape-small", "--curriculum-window", "0"], "--curriculum-window must be ≥ 1 (got 0)."),
            (["train", "fashion-mnist", "--symmetry-curriculum", "0.5"], "--symmetry-curriculum applies to arrow-pointing data only"),
            (["train", "fashion-mnist", "--arrow-input", "ink"], "--arrow-input applies to arrow-pointing data only."),
            (["train", "ape-small", "--conv-stem-kind", "avgpool"], "--conv-stem-kind must be maxpool or strided (got avgpool)."),
            (["train", "ape-small", "--ema-decay", "1"], "--ema-decay must be in [0, 1) (0 = off) (got 1)."),
            (["train", "fashion-mnist", "--sync-every", "0"], "--sync-every must be ≥ 1 (got 0)."),
            (["train", "ape-small", "--sync-every", "4"], "--sync-every must be 1 with the symmetry curriculum"),
            (["train", "ape-small", "--tta", "rot90"], "rot90"),
            (["train", "ape-small", "--conv-stem", "-1"], "--conv-stem must be ≥ 0 (0 = the linear patch projection) (got -1)."),
            // ape-small's models have a stem, whose max-pools reach only power-of-two patches (48 px images, patch 6).
            (["train", "ape-small", "--scale", "4", "--patch-size", "6"], "must be a power of two ≥ 2 with a convolutional stem"),
            // The image size is known only once the data is read: 8×8 IDX images cannot take a padding of 8.
            (["train", "--preset", "plstm_vit_tiny", "--data", idx, "--patch-size", "4", "--random-crop", "8"],
                "RandomCropPadding must be smaller than the training images' sides (got 8 for 8×8 images)"),
        ];
        foreach (var (args, message) in cases)
        {
            var run = CliRunner.Run([.. args, "--out", output]);
            CliAssert.FailedWithOneLine(run, string.Join(' ', args));
            Assert.Contains(message, run.Stderr);
            Assert.False(Directory.Exists(output));
        }
    }

    [Fact]
    public void Eval_predict_and_plot_reject_bad_input_with_one_line()
    {
        using var temp = new TempFolder();
        // A real (tiny) checkpoint to pair with bad images and flags.
        string run = temp.File("run");
        CliAssert.Succeeded(CliRunner.Run("train", "--preset", "vit_tiny", "--data", "arrows", "--scale", "6",
            "--steps", "1", "--batch-size", "4", "--train-count", "8", "--eval-count", "4", "--no-plot", "--out", run), "train");
        string checkpoint = Path.Combine(run, "vit_tiny", "last.ckpt");
        string notCheckpoint = Write(temp.File("random.ckpt"), "definitely not a zip file");
        string goodPng = temp.File("good.png");
        PngWriter.WriteFile(goodPng, PngImage.Grayscale(32, 32, new byte[32 * 32]));
        string truncated = temp.File("truncated.png");
        File.WriteAllBytes(truncated, File.ReadAllBytes(goodPng)[..30]);
        string metrics = Write(Path.Combine(temp.Path, "m", "metrics.jsonl"), "{\"step\":1,\"split\":\"train\",\"loss\":1}\nnot json\n{\"step\":2,\"split\":\"train\",\"loss\":0.5}\n");
        string plotOut = Path.Combine(temp.Path, "plots", "curves.png");

        string[][] cases =
        [
            ["eval", "--checkpoint", temp.File("missing.ckpt")],
            ["eval", "--checkpoint", notCheckpoint],
            ["eval", "--checkpoint", temp.Path],
            ["eval", "--checkpoint", checkpoint, "--image-size", "0"],
            ["eval", "--checkpoint", checkpoint, "--image-size", "36"],
            ["eval", "--checkpoint", checkpoint, "--split", "train"],
            ["eval", "--checkpoint", checkpoint, "--data", temp.File("no-such-folder")],
            ["eval", "--checkpoint", checkpoint, "--device", "tpu"],
            ["eval"],
            ["predict", "--checkpoint", checkpoint, goodPng, truncated],
            ["predict", "--checkpoint", checkpoint, temp.File("missing.png")],
            ["predict", "--checkpoint", checkpoint, notCheckpoint],
            ["predict", "--checkpoint", notCheckpoint, goodPng],
            ["predict", "--checkpoint", checkpoint],
            ["plot", "--metrics", temp.File("missing.jsonl"), "--out", plotOut],
            ["plot", "--metrics", metrics, "--out", plotOut],
            ["plot", "--metrics", temp.File("empty-dir"), "--out", plotOut],
            ["plot", "--metrics", Path.Combine(run, "vit_tiny", "metrics.jsonl"), "--out", plotOut, "--width", "10"],
        ];
        Directory.CreateDirectory(temp.File("empty-dir"));
        foreach (var args in cases)
        {
            string what = string.Join(' ', args.Select(a => a.Replace(temp.Path, "TMP", StringComparison.Ordinal)));
            var result = CliRunner.Run(args);
            CliAssert.FailedWithOneLine(result, what);
            Assert.True(result.Stdout.Length == 0, $"{what}: printed '{result.Stdout}'");
        }
        Assert.False(Directory.Exists(temp.File("plots")));
    }

    private static string Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Valid test files and labels; the training images file has a wrong magic number.</summary>
    private static string CorruptIdxFolder(string folder)
    {
        WriteIdx(folder, 8, 8);
        File.WriteAllBytes(Path.Combine(folder, "train-images-idx3-ubyte"), [0, 0, 8, 1, 0, 0, 0, 8, 1, 2, 3]);
        return folder;
    }

    /// <summary>A gzip-compressed training label file cut in the middle.</summary>
    private static string TruncatedIdxFolder(string folder)
    {
        WriteIdx(folder, 8, 8);
        string labels = Path.Combine(folder, "train-labels-idx1-ubyte");
        File.Delete(labels);
        byte[] gz = IdxWriter.EncodeLabels(new byte[8], gzip: true);
        File.WriteAllBytes(labels + ".gz", gz[..(gz.Length / 2)]);
        return folder;
    }

    private static void WriteIdx(string folder, int trainCount, int testCount)
    {
        Directory.CreateDirectory(folder);
        var labels = Enumerable.Range(0, trainCount).Select(i => (byte)(i % 2)).ToArray();
        IdxWriter.WriteImages(Path.Combine(folder, "train-images-idx3-ubyte"), trainCount, 8, 8, new byte[trainCount * 64]);
        IdxWriter.WriteLabels(Path.Combine(folder, "train-labels-idx1-ubyte"), labels);
        IdxWriter.WriteImages(Path.Combine(folder, "t10k-images-idx3-ubyte"), testCount, 8, 8, new byte[testCount * 64]);
        IdxWriter.WriteLabels(Path.Combine(folder, "t10k-labels-idx1-ubyte"), labels[..testCount]);
    }

    /// <summary>An image folder (train/a, train/b) in which one PNG is cut short.</summary>
    private static string ImageFolderWithTruncatedPng(string root)
    {
        string a = Path.Combine(root, "train", "a"), b = Path.Combine(root, "train", "b");
        Directory.CreateDirectory(a);
        Directory.CreateDirectory(b);
        var image = PngImage.Grayscale(16, 16, Enumerable.Range(0, 256).Select(i => (byte)i).ToArray());
        PngWriter.WriteFile(Path.Combine(a, "0.png"), image);
        PngWriter.WriteFile(Path.Combine(b, "0.png"), image);
        byte[] bytes = PngWriter.Encode(image);
        File.WriteAllBytes(Path.Combine(b, "1.png"), bytes[..(bytes.Length - 20)]);
        return root;
    }

    /// <summary>A class folder whose second "PNG" is not an image at all.</summary>
    private static string ImageFolderWithGarbagePng(string root)
    {
        string a = Path.Combine(root, "a"), b = Path.Combine(root, "b");
        Directory.CreateDirectory(a);
        Directory.CreateDirectory(b);
        var image = PngImage.Grayscale(16, 16, new byte[256]);
        PngWriter.WriteFile(Path.Combine(a, "0.png"), image);
        PngWriter.WriteFile(Path.Combine(b, "0.png"), image);
        File.WriteAllText(Path.Combine(b, "1.png"), "this is not a PNG");
        return root;
    }
}
