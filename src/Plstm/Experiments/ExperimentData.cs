using System.Globalization;
using Plstm.Data;
using Plstm.Data.ArrowPointing;
using Plstm.Data.Images;

namespace Plstm.Experiments;

/// <summary>A named evaluation set (e.g. <c>test</c> at 64 px, <c>test-ext</c> at 128 px).</summary>
/// <param name="Name">Split name.</param>
/// <param name="Dataset">The images.</param>
public sealed record EvaluationSet(string Name, IImageDataset Dataset)
{
    /// <summary>Image side (height) in pixels.</summary>
    public int ImageSize => Dataset.Height;
}

/// <summary>
/// The loaded data of an experiment: training and validation sets, the final evaluation sets and what a checkpoint
/// must remember to read new images the same way (size, channels, normalisation, class names).
/// </summary>
public sealed class ExperimentData
{
    /// <summary>Label names of the arrow-pointing task (label 1: the arrow points at the circle).</summary>
    public static IReadOnlyList<string> ArrowClassNames { get; } = ["not-pointing", "pointing"];

    /// <summary>Paper seeds of the fixed arrow-pointing evaluation splits.</summary>
    public const long ArrowValidationSeed = 100_042, ArrowValidationExtSeed = 100_043, ArrowTestSeed = 200_042,
        ArrowTestExtSeed = 200_043;

    private ExperimentData(ExperimentDataSpec spec, IImageDataset train, IImageDataset? validation,
        IReadOnlyList<EvaluationSet> tests, IReadOnlyList<string> classNames, NormalizationStats normalization)
    {
        Spec = spec;
        Train = train;
        Validation = validation;
        Tests = tests;
        ClassNames = classNames;
        Normalization = normalization;
    }

    /// <summary>What was loaded.</summary>
    public ExperimentDataSpec Spec { get; }

    /// <summary>Training set.</summary>
    public IImageDataset Train { get; }

    /// <summary>Validation set evaluated during training, or null.</summary>
    public IImageDataset? Validation { get; }

    /// <summary>Sets evaluated once training has finished (may be empty).</summary>
    public IReadOnlyList<EvaluationSet> Tests { get; }

    /// <summary>Class names, indexed by label.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Normalisation applied after pixel / 255.</summary>
    public NormalizationStats Normalization { get; }

    /// <summary>Training image side in pixels (images are square or at least this high).</summary>
    public int ImageSize => Train.Height;

    /// <summary>Image channels.</summary>
    public int Channels => Train.Channels;

    /// <summary>Number of classes.</summary>
    public int NumClasses => Train.NumClasses;

    /// <summary>
    /// Loads (or, for arrows, sets up the generators of) <paramref name="spec"/>. File-based data is read and checked
    /// completely here — every IDX file is parsed and every PNG/JPEG decoded once — so that a corrupt file fails
    /// before anything is written.
    /// </summary>
    /// <exception cref="ArgumentException">The spec is inconsistent (bad counts, an arrow scale that does not divide
    /// the image size).</exception>
    /// <exception cref="DirectoryNotFoundException">The data folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">Required files are missing.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt (the message names it).</exception>
    public static ExperimentData Load(ExperimentDataSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.TrainCount is < 1) throw new ArgumentException($"The training count must be ≥ 1 (got {spec.TrainCount}).");
        if (spec.ValidationCount is < 0) throw new ArgumentException($"The validation count must be ≥ 0 (got {spec.ValidationCount}).");
        if (spec.TestCount is < 0) throw new ArgumentException($"The test count must be ≥ 0 (got {spec.TestCount}).");
        return spec.Kind switch
        {
            ExperimentDataKind.Arrows => LoadArrows(spec),
            ExperimentDataKind.FashionMnist => LoadFashionMnist(spec),
            ExperimentDataKind.Folder => LoadFolder(spec),
            _ => throw new ArgumentException($"Unknown data kind {spec.Kind}."),
        };
    }

    /// <summary>
    /// The arrow-pointing generator settings at <paramref name="imageSize"/> model pixels for <paramref name="scale"/>
    /// (paper size = imageSize · scale, then shrunk by the scale).
    /// </summary>
    /// <exception cref="ArgumentException">imageSize · scale is not a whole number of paper pixels, or the settings
    /// cannot be drawn.</exception>
    public static ArrowPointingSettings ArrowSettings(int imageSize, double scale, long seed)
    {
        double paper = imageSize * scale;
        int paperSize = (int)Math.Round(paper);
        if (Math.Abs(paper - paperSize) > 1e-9 * Math.Max(1, paper) || paperSize < 1)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"An arrow image of {imageSize} px at scale {scale} is {paper} paper pixels, not a whole number."));
        var settings = ArrowPointingSettings.Paper(paperSize, seed);
        if (scale != 1.0) settings = settings.Scaled(scale);
        try
        {
            settings.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Arrow images of {imageSize} px at scale {scale} cannot be drawn: {ex.Message}"), ex);
        }
        return settings;
    }

    /// <summary>An arrow-pointing dataset of <paramref name="count"/> images at <paramref name="imageSize"/> px.</summary>
    public static ArrowPointingDataset Arrows(int imageSize, double scale, long seed, int count,
        NormalizationStats? normalization = null) =>
        new(ArrowSettings(imageSize, scale, seed), count, normalization);

    private static ExperimentData LoadArrows(ExperimentDataSpec spec)
    {
        if (!(double.IsFinite(spec.ArrowScale) && spec.ArrowScale >= 1))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The arrow scale must be a number ≥ 1 (got {spec.ArrowScale})."));
        if (spec.TrainCount is not int trainCount)
            throw new ArgumentException("Arrow-pointing data needs a training count.");
        double s = spec.ArrowScale;
        // Paper size / scale must be whole: checked through the generator settings.
        double side = spec.ArrowTrainSize / s;
        int size = (int)Math.Round(side);
        if (Math.Abs(side - size) > 1e-9 * Math.Max(1, side))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The arrow scale {s} must divide the paper image size {spec.ArrowTrainSize} into a whole number of pixels."));
        var ink = spec.ArrowInk ? Data.Normalization.Ink : null;
        var train = Arrows(size, s, spec.TrainSeed, trainCount, ink);
        var normalization = train.Normalization;
        int valCount = spec.ValidationCount ?? 0, testCount = spec.TestCount ?? 0;
        IImageDataset? validation = valCount > 0 ? Arrows(size, s, ArrowValidationSeed, valCount, ink) : null;
        var tests = new List<EvaluationSet>();
        if (testCount > 0)
        {
            tests.Add(new EvaluationSet("test", Arrows(size, s, ArrowTestSeed, testCount, ink)));
            if (spec.Extrapolation)
                tests.Add(new EvaluationSet("test-ext", Arrows(2 * size, s, ArrowTestExtSeed, testCount, ink)));
        }
        return new ExperimentData(spec, train, validation, tests, ArrowClassNames, normalization);
    }

    private static ExperimentData LoadFashionMnist(ExperimentDataSpec spec)
    {
        var files = FashionMnist.Locate(spec.Folder);
        var normalization = Data.Normalization.FashionMnist;
        var (trainImages, trainLabels) = files.For(IdxSplit.Train);
        var all = IdxImageDataset.Load(trainImages, trainLabels, FashionMnist.NumClasses, normalization);
        var (testImages, testLabels) = files.For(IdxSplit.Test);
        var test = IdxImageDataset.Load(testImages, testLabels, FashionMnist.NumClasses, normalization);
        int held = Math.Min(spec.ValidationCount ?? 0, all.Count - 1);
        int available = all.Count - held;
        IImageDataset train = SubsetDataset.Range(all, 0, available);
        if (spec.TrainCount is int cap) train = SubsetDataset.Head(train, cap);
        IImageDataset? validation = held > 0 ? SubsetDataset.Range(all, available, held) : null;
        IImageDataset testSet = spec.TestCount is int t ? SubsetDataset.Spread(test, t) : test;
        var tests = testSet.Count > 0 ? new[] { new EvaluationSet("test", testSet) } : [];
        return new ExperimentData(spec, train, validation, tests, FashionMnist.ClassNames, normalization);
    }

    private static ExperimentData LoadFolder(ExperimentDataSpec spec)
    {
        if (string.IsNullOrWhiteSpace(spec.Folder)) throw new ArgumentException("A data folder is required.");
        string root = Path.GetFullPath(spec.Folder);
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException(File.Exists(root)
                ? $"Data folder '{spec.Folder}' is a file, not a folder."
                : $"Data folder '{spec.Folder}' does not exist.");
        var idx = IdxDatasetFiles.TryFind(root, out _);
        return idx is not null ? LoadIdxFolder(spec, idx) : LoadImageFolders(spec, root);
    }

    private static ExperimentData LoadIdxFolder(ExperimentDataSpec spec, IdxDatasetFiles files)
    {
        var (trainImages, trainLabels) = IdxReader.ReadPair(files.TrainImages, files.TrainLabels);
        var (testImages, testLabels) = IdxReader.ReadPair(files.TestImages, files.TestLabels);
        if (trainImages.Rows != testImages.Rows || trainImages.Columns != testImages.Columns)
            throw new InvalidDataException(
                $"IDX folder '{files.Directory}': training images are {trainImages.Rows}×{trainImages.Columns}, test images {testImages.Rows}×{testImages.Columns}.");
        if (trainImages.Count == 0) throw new InvalidDataException($"IDX folder '{files.Directory}': the training file holds no images.");
        int classes = Math.Max(2, Math.Max(trainLabels.Max(), testLabels.Length > 0 ? testLabels.Max() : (byte)0) + 1);
        var normalization = PixelStatistics(trainImages.Pixels);
        var all = new IdxImageDataset(trainImages, trainLabels, classes, normalization);
        var test = new IdxImageDataset(testImages, testLabels, classes, normalization);
        int held = Math.Min(spec.ValidationCount ?? 0, all.Count - 1);
        int available = all.Count - held;
        IImageDataset train = SubsetDataset.Range(all, 0, available);
        if (spec.TrainCount is int cap) train = SubsetDataset.Head(train, cap);
        IImageDataset? validation = held > 0 ? SubsetDataset.Range(all, available, held) : null;
        IImageDataset testSet = spec.TestCount is int t ? SubsetDataset.Spread(test, t) : test;
        var names = Enumerable.Range(0, classes).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var tests = testSet.Count > 0 ? new[] { new EvaluationSet("test", testSet) } : [];
        return new ExperimentData(spec, train, validation, tests, names, normalization);
    }

    /// <summary>Mean and standard deviation of bytes / 255 (one channel).</summary>
    private static NormalizationStats PixelStatistics(byte[] pixels)
    {
        if (pixels.Length == 0) return Data.Normalization.Identity;
        var histogram = new long[256];
        foreach (byte b in pixels) histogram[b]++;
        double n = pixels.Length, sum = 0, sumSq = 0;
        for (int v = 0; v < 256; v++)
        {
            double x = v / 255.0;
            sum += histogram[v] * x;
            sumSq += histogram[v] * x * x;
        }
        double mean = sum / n;
        double std = Math.Sqrt(Math.Max(sumSq / n - mean * mean, 0));
        return new NormalizationStats((float)mean, (float)Math.Max(std, 1e-3));
    }

    private static ExperimentData LoadImageFolders(ExperimentDataSpec spec, string root)
    {
        string trainDir = Path.Combine(root, "train");
        bool split = Directory.Exists(trainDir);
        if (!split && !Directory.EnumerateDirectories(root).Any(d => !Path.GetFileName(d).StartsWith('.')))
            throw new FileNotFoundException(
                $"Data folder '{root}' holds neither the IDX files ({string.Join(", ", IdxDatasetFiles.StandardNames)}[.gz]) "
                + "nor image folders (DIR/train/<class>/*.png or DIR/<class>/*.png).");
        string trainRoot = split ? trainDir : root;

        int channels = spec.Channels ?? DetectChannels(trainRoot);
        var probe = new ImageFolderDataset(trainRoot, new ImageFolderOptions { Channels = channels });
        int height = spec.ImageSize ?? probe.Height, width = spec.ImageSize ?? probe.Width;
        var options = new ImageFolderOptions { Channels = channels, Height = height, Width = width };
        var full = new ImageFolderDataset(trainRoot, options);
        VerifyAll(full);

        ImageFolderDataset? Optional(string name)
        {
            string dir = Path.Combine(root, name);
            if (!split || !Directory.Exists(dir)) return null;
            var set = new ImageFolderDataset(dir, options);
            if (!set.ClassNames.SequenceEqual(full.ClassNames))
                throw new InvalidDataException(
                    $"Image folder '{dir}' has classes [{string.Join(", ", set.ClassNames)}], the training folder [{string.Join(", ", full.ClassNames)}].");
            VerifyAll(set);
            return set;
        }

        var val = Optional("val");
        var test = Optional("test");
        IImageDataset train = spec.TrainCount is int cap ? SubsetDataset.Spread(full, cap) : full;
        IImageDataset? validation = val is null ? null
            : spec.ValidationCount is int v ? (v > 0 ? SubsetDataset.Spread(val, v) : null) : val;
        var tests = new List<EvaluationSet>();
        if (test is not null && spec.TestCount is not 0)
            tests.Add(new EvaluationSet("test", spec.TestCount is int t ? SubsetDataset.Spread(test, t) : test));
        return new ExperimentData(spec, train, validation, tests, full.ClassNames, full.Normalization);
    }

    /// <summary>1 when the first image of the folder is gray (1 or 2 components), else 3.</summary>
    private static int DetectChannels(string root)
    {
        var probe = new ImageFolderDataset(root, new ImageFolderOptions { Channels = 3 });
        var (_, _, components) = ImageDecoding.ReadInfo(probe.Samples[0].Path);
        return components <= 2 ? 1 : 3;
    }

    /// <summary>Decodes every file once (in parallel) so that a corrupt image fails now, naming the file.</summary>
    private static void VerifyAll(ImageFolderDataset dataset)
    {
        var failures = new System.Collections.Concurrent.ConcurrentBag<(int Index, Exception Error)>();
        Parallel.For(0, dataset.Count, i =>
        {
            try
            {
                ImageDecoding.ReadFile(dataset.Samples[i].Path, dataset.Channels);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                failures.Add((i, ex));
            }
        });
        if (!failures.IsEmpty)
        {
            var first = failures.OrderBy(f => f.Index).First();
            string more = failures.Count > 1 ? $" ({failures.Count - 1} more bad file(s))" : "";
            throw new InvalidDataException(first.Error.Message + more, first.Error);
        }
    }
}
