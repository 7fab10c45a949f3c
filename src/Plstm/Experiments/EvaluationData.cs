using Plstm.Data;
using Plstm.Data.Images;

namespace Plstm.Experiments;

/// <summary>What to evaluate a trained model on (<c>plstm eval</c>).</summary>
public sealed record EvaluationRequest
{
    /// <summary><c>arrows</c>, <c>fashion-mnist</c>, a data folder, or null for the data the model was trained on.</summary>
    public string? Data { get; init; }

    /// <summary>Folder of the Fashion-MNIST IDX files (null: the training run's, else the usual search).</summary>
    public string? DataDirectory { get; init; }

    /// <summary><c>test</c> (default) or <c>val</c>.</summary>
    public string Split { get; init; } = "test";

    /// <summary>Image side (null: the training size). Arrows are generated at this size with the same object sizes;
    /// files are resized bilinearly.</summary>
    public int? ImageSize { get; init; }

    /// <summary>Number of images (null: the experiment's count for arrows, all for files).</summary>
    public int? Count { get; init; }
}

/// <summary>Builds the evaluation set of an <see cref="EvaluationRequest"/> for a model's <see cref="RunConfig"/>.</summary>
public static class EvaluationData
{
    /// <summary>Default number of generated arrow images when neither the request nor the run says.</summary>
    public const int DefaultArrowCount = 1_024;

    /// <summary>
    /// The dataset to evaluate on, read the way the model was trained (channels, normalisation). For arrows the
    /// paper's fixed seeds are used: <c>test</c> 200042 / <c>val</c> 100042 at the training size, 200043 / 100043 at
    /// any other size (the extrapolation splits).
    /// </summary>
    /// <exception cref="ArgumentException">Bad split, size or count, or data that does not fit the model (channels,
    /// classes, patch size).</exception>
    /// <exception cref="IOException">Missing files.</exception>
    /// <exception cref="InvalidDataException">Corrupt files.</exception>
    public static EvaluationSet Create(RunConfig config, EvaluationRequest request)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(request);
        string split = request.Split.Trim().ToLowerInvariant();
        if (split is not ("test" or "val"))
            throw new ArgumentException($"Unknown split '{request.Split}': use test or val.");
        int trainSize = config.Data.ImageSize;
        int size = request.ImageSize ?? trainSize;
        if (size < 1) throw new ArgumentException($"The image size must be ≥ 1 (got {size}).");
        int patch = config.Model.PatchSize;
        if (size % patch != 0)
            throw new ArgumentException(
                $"The image size {size} is not a multiple of the model's patch size {patch}.");
        if (request.Count is < 1) throw new ArgumentException($"The count must be ≥ 1 (got {request.Count}).");

        var (kind, folder) = ResolveSource(config, request);
        var normalization = config.Data.Normalization();
        IImageDataset dataset;
        string name;
        switch (kind)
        {
            case ExperimentDataKind.Arrows:
            {
                double scale = config.Data.Kind == ExperimentDataKind.Arrows ? config.Data.ArrowScale : 1;
                bool atTrainSize = size == trainSize;
                long seed = split == "test"
                    ? (atTrainSize ? ExperimentData.ArrowTestSeed : ExperimentData.ArrowTestExtSeed)
                    : (atTrainSize ? ExperimentData.ArrowValidationSeed : ExperimentData.ArrowValidationExtSeed);
                int count = request.Count
                    ?? (config.Data.Kind == ExperimentDataKind.Arrows
                        ? (split == "test" ? config.Data.TestCount : config.Data.ValidationCount)
                        : null)
                    ?? DefaultArrowCount;
                if (count < 1) count = DefaultArrowCount;
                dataset = ExperimentData.Arrows(size, scale, seed, count,
                    normalization.Fits(3) ? normalization : Normalization.ImageNet);
                name = atTrainSize ? split : split + "-ext";
                break;
            }
            case ExperimentDataKind.FashionMnist:
            case ExperimentDataKind.Folder:
            {
                var spec = new ExperimentDataSpec
                {
                    Kind = kind,
                    Folder = folder,
                    ValidationCount = split == "val" ? config.Data.ValidationCount : 0,
                    TrainCount = 1,
                    ImageSize = kind == ExperimentDataKind.Folder ? size : null,
                    Channels = config.Data.Channels is 1 or 3 ? config.Data.Channels : null,
                };
                var data = ExperimentData.Load(spec);
                IImageDataset? source = split == "val" ? data.Validation : data.Tests.FirstOrDefault()?.Dataset;
                // A plain DIR/<class>/*.png folder has no splits: evaluate on all of it.
                if (source is null && split == "test" && kind == ExperimentDataKind.Folder && data.Validation is null
                    && data.Tests.Count == 0)
                    source = data.Train is SubsetDataset sub ? sub.Source : data.Train;
                if (source is null) throw new ArgumentException($"The data has no {split} split.");
                if (request.Count is int cap) source = SubsetDataset.Spread(source, cap);
                dataset = source.Height == size && source.Width == size ? source : new ResizedDataset(source, size, size);
                name = split;
                // The model expects the statistics it was trained with.
                if (!SameStats(data.Normalization, normalization))
                    dataset = new RenormalizedDataset(dataset, data.Normalization, normalization);
                break;
            }
            default:
                throw new ArgumentException($"Unknown data kind {kind}.");
        }
        if (dataset.Channels != config.Data.Channels)
            throw new ArgumentException(
                $"The {kind.ToString().ToLowerInvariant()} images have {dataset.Channels} channel(s); the model takes {config.Data.Channels}.");
        if (dataset.NumClasses != config.Model.NumClasses)
            throw new ArgumentException(
                $"The data has {dataset.NumClasses} classes; the model predicts {config.Model.NumClasses}.");
        if (dataset.Count == 0) throw new ArgumentException($"The {split} split is empty.");
        return new EvaluationSet(name, dataset);
    }

    private static (ExperimentDataKind Kind, string? Folder) ResolveSource(RunConfig config, EvaluationRequest request)
    {
        string? data = request.Data?.Trim();
        if (string.IsNullOrEmpty(data))
            return (config.Data.Kind, request.DataDirectory ?? config.Data.Folder);
        if (string.Equals(data, "arrows", StringComparison.OrdinalIgnoreCase)) return (ExperimentDataKind.Arrows, null);
        if (string.Equals(data, "fashion-mnist", StringComparison.OrdinalIgnoreCase))
            return (ExperimentDataKind.FashionMnist,
                request.DataDirectory ?? (config.Data.Kind == ExperimentDataKind.FashionMnist ? config.Data.Folder : null));
        return (ExperimentDataKind.Folder, data);
    }

    private static bool SameStats(NormalizationStats a, NormalizationStats b) =>
        a.Mean.SequenceEqual(b.Mean) && a.Std.SequenceEqual(b.Std);

    /// <summary>Maps images normalised with one set of statistics to another: x' = ((x·σ₁ + μ₁) − μ₂) / σ₂.</summary>
    private sealed class RenormalizedDataset(IImageDataset source, NormalizationStats from, NormalizationStats to)
        : IImageDataset
    {
        public int Count => source.Count;
        public int NumClasses => source.NumClasses;
        public int Channels => source.Channels;
        public int Height => source.Height;
        public int Width => source.Width;

        public (TorchSharp.torch.Tensor Image, long Label) Get(int index)
        {
            var (image, label) = source.Get(index);
            using var scope = TorchSharp.torch.NewDisposeScope();
            var channels = new List<TorchSharp.torch.Tensor>();
            for (int c = 0; c < Channels; c++)
                channels.Add(image[c].mul(from.StdOf(c)).add(from.MeanOf(c)).sub(to.MeanOf(c)).div(to.StdOf(c)));
            var result = TorchSharp.torch.stack(channels).contiguous();
            image.Dispose();
            return (result.MoveToOuterDisposeScope(), label);
        }
    }

    /// <summary>A short description of the request's data for messages, e.g. <c>arrows</c>.</summary>
    public static string Describe(RunConfig config, EvaluationRequest request)
    {
        var (kind, folder) = ResolveSource(config, request);
        return kind switch
        {
            ExperimentDataKind.Arrows => "arrows",
            ExperimentDataKind.FashionMnist => "fashion-mnist",
            _ => folder ?? "folder",
        };
    }
}
