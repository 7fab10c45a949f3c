using Plstm.Data;
using Plstm.Data.Images;
using Plstm.Models;
using Plstm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Experiments;

/// <summary>One prediction of <see cref="TrainedModel.Predict"/>.</summary>
/// <param name="Path">The image file.</param>
/// <param name="Label">Predicted class id.</param>
/// <param name="ClassName">Its name.</param>
/// <param name="Probability">Softmax probability of the predicted class.</param>
public sealed record Prediction(string Path, int Label, string ClassName, double Probability);

/// <summary>
/// A model restored from a training checkpoint written by the experiment runner (<c>last.ckpt</c> or
/// <c>best.ckpt</c>): its <see cref="RunConfig"/> rebuilds the architecture, the weights are loaded strictly.
/// </summary>
public sealed class TrainedModel : IDisposable
{
    private TrainedModel(string path, RunConfig config, VisionModel model, long step)
    {
        Path = path;
        Config = config;
        Model = model;
        Step = step;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <summary>The run configuration stored in the checkpoint.</summary>
    public RunConfig Config { get; }

    /// <summary>The model (CPU until evaluated or used on another device).</summary>
    public VisionModel Model { get; }

    /// <summary>Training step of the checkpoint.</summary>
    public long Step { get; }

    /// <summary>Class names by label (generated names when the run stored none).</summary>
    public IReadOnlyList<string> ClassNames => Config.Data.ClassNames.Count == Config.Model.NumClasses
        ? Config.Data.ClassNames
        : Enumerable.Range(0, Config.Model.NumClasses).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Loads a checkpoint.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a checkpoint of <c>plstm train</c>, or weights that do not fit.</exception>
    public static TrainedModel Load(string checkpointPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointPath);
        if (Directory.Exists(checkpointPath))
            throw new FileNotFoundException($"Checkpoint '{checkpointPath}' is a folder; give its last.ckpt or best.ckpt.", checkpointPath);
        var config = RunConfig.FromCheckpoint(checkpointPath);
        VisionModel model;
        try
        {
            model = config.Model.Create();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"Checkpoint '{checkpointPath}': the stored model configuration is invalid: {ex.Message}", ex);
        }
        try
        {
            var state = TrainingCheckpoint.Load(checkpointPath, model);
            return new TrainedModel(checkpointPath, config, model, state.Step);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Mean cross-entropy and accuracy on <paramref name="dataset"/>; with <paramref name="augmentation"/> of
    /// the class probabilities averaged over symmetric views of each image (<see cref="SymmetryAveraging"/>).</summary>
    public EvaluationResult Evaluate(IImageDataset dataset, string device = "cpu", int batchSize = 128,
        TestTimeAugmentation augmentation = TestTimeAugmentation.None)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var trainer = new Trainer(new TrainerOptions
        {
            Steps = 1,
            BatchSize = batchSize,
            Device = device,
            ChannelsLast = Config.ChannelsLast,
        });
        return trainer.Evaluate(Model, dataset, augmentation);
    }

    /// <summary>
    /// Reads every image file first (so that a bad file fails before anything is predicted), brings it to
    /// <paramref name="imageSize"/> (default: the training size; bilinear, antialiased when shrinking), normalises it
    /// as in training and returns the most probable class of each (with <paramref name="augmentation"/>: of the class
    /// probabilities averaged over its symmetric views, <see cref="SymmetryAveraging"/>).
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is not a readable PNG/JPEG.</exception>
    /// <exception cref="ArgumentException">A size that is not a multiple of the patch size.</exception>
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<string> files, int? imageSize = null, string device = "cpu",
        int batchSize = 64, TestTimeAugmentation augmentation = TestTimeAugmentation.None)
    {
        ArgumentNullException.ThrowIfNull(files);
        int size = imageSize ?? Config.Data.ImageSize;
        if (size < 1 || size % Config.Model.PatchSize != 0)
            throw new ArgumentException(
                $"The image size {size} is not a positive multiple of the model's patch size {Config.Model.PatchSize}.");
        var stats = Config.Data.Normalization();
        int channels = Config.Data.Channels;
        var images = new float[files.Count][];
        for (int i = 0; i < files.Count; i++)
            images[i] = Preprocess(ImageDecoding.ReadFile(files[i], channels), size, stats);

        var target = TrainingDevice.Resolve(device);
        Model.to(target);
        bool wasTraining = Model.training;
        Model.eval();
        var predictions = new List<Prediction>(files.Count);
        var names = ClassNames;
        try
        {
            using var noGrad = no_grad();
            for (int start = 0; start < files.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                int n = Math.Min(batchSize, files.Count - start);
                var flat = new float[(long)n * channels * size * size];
                for (int i = 0; i < n; i++) images[start + i].CopyTo(flat, (long)i * channels * size * size);
                var batch = tensor(flat, [n, channels, size, size], ScalarType.Float32).to(target);
                var logits = SymmetryAveraging.Logits(
                    x => Model.forward(Config.ChannelsLast ? x.permute(0, 2, 3, 1) : x), batch, augmentation);
                var probabilities = nn.functional.softmax(logits, 1).cpu();
                var (best, labels) = probabilities.max(1);
                var p = best.data<float>().ToArray();
                var l = labels.data<long>().ToArray();
                for (int i = 0; i < n; i++)
                    predictions.Add(new Prediction(files[start + i], (int)l[i], names[(int)l[i]], p[i]));
            }
        }
        finally
        {
            Model.train(wasTraining);
        }
        return predictions;
    }

    /// <summary>Decoded pixels → normalised planar float32 <c>[C, size, size]</c>.</summary>
    private static float[] Preprocess(DecodedImage image, int size, NormalizationStats stats)
    {
        int c = image.Channels;
        using var scope = NewDisposeScope();
        var x = tensor(image.Pixels, [image.Height, image.Width, c], ScalarType.Byte)
            .permute(2, 0, 1).unsqueeze(0).to_type(ScalarType.Float32).div_(255f);
        if (image.Height != size || image.Width != size)
        {
            bool shrinking = image.Height > size || image.Width > size;
            x = nn.functional.interpolate(x, size: [size, size], mode: InterpolationMode.Bilinear,
                align_corners: false, antialias: shrinking);
        }
        var normalized = Normalization.Apply(x.squeeze(0), stats).contiguous();
        return normalized.data<float>().ToArray();
    }

    /// <inheritdoc />
    public void Dispose() => Model.Dispose();
}
