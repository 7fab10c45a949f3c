using Plstm.Data;
using Plstm.Models;
using Plstm.Training;

namespace Plstm.Experiments;

/// <summary>
/// One model of an experiment: a <see cref="ModelRegistry"/> preset (its image size, channel count and class count
/// are taken from the data; the patch size can be overridden) and its peak learning rate.
/// </summary>
/// <param name="Key">Short name, also the model's output subfolder (e.g. <c>plstm</c>, <c>vit</c>).</param>
/// <param name="Preset">Model registry name (e.g. <c>plstm_vit_tiny</c>).</param>
/// <param name="LearningRate">Peak learning rate of the run.</param>
/// <param name="PatchSize">Patch side override, or null for the preset's.</param>
/// <param name="ConvStemWidth">Width of a convolutional stem (<see cref="ConvStem"/>; 0 = none), or null for the
/// preset's.</param>
/// <param name="ConvStemKind">How the stem's stages halve the resolution, or null for the preset's.</param>
public sealed record ExperimentModel(string Key, string Preset, double LearningRate, int? PatchSize = null,
    int? ConvStemWidth = null, ConvStemKind? ConvStemKind = null)
{
    /// <summary>
    /// The model description for the given data: the preset's configuration at <paramref name="imageSize"/> with
    /// <paramref name="channels"/> input channels and <paramref name="numClasses"/> classes.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown preset, or the result is not a valid configuration (e.g. an image
    /// size that is not a multiple of the patch size).</exception>
    public ModelSpec Spec(int imageSize, int channels, int numClasses)
    {
        var preset = ModelRegistry.Get(Preset);
        int patch = PatchSize ?? preset.PatchSize;
        if (patch < 1) throw new ArgumentException($"The patch size must be ≥ 1 (got {patch}).");
        if (imageSize % patch != 0)
            throw new ArgumentException(
                $"Images of {imageSize} px do not split into {patch}×{patch} patches of model {Preset}; choose a patch size that divides {imageSize}.");
        return preset.Family == ModelFamily.Plstm
            ? ModelSpec.ForPlstm(Preset, preset.PlstmConfig! with
            {
                ImageSize = imageSize, NumChannels = channels, NumClasses = numClasses, PatchSize = patch,
                ConvStemWidth = ConvStemWidth ?? preset.PlstmConfig!.ConvStemWidth,
                ConvStemKind = ConvStemKind ?? preset.PlstmConfig!.ConvStemKind,
            })
            : ModelSpec.ForVit(Preset, preset.VitConfig! with
            {
                ImageSize = imageSize, NumChannels = channels, NumClasses = numClasses, PatchSize = patch,
                ConvStemWidth = ConvStemWidth ?? preset.VitConfig!.ConvStemWidth,
                ConvStemKind = ConvStemKind ?? preset.VitConfig!.ConvStemKind,
            });
    }
}

/// <summary>
/// A named, reproducible experiment: data, models and the shared training recipe (AdamW, linear warm-up + cosine,
/// decoupled weight decay, global-norm clipping; models.md §7). Every model trains with the same recipe, seed and data
/// order; only the learning rate is per model. Adjust with <c>with { … }</c>.
/// </summary>
public sealed record ExperimentPreset
{
    /// <summary>Registry name (e.g. <c>ape-small</c>).</summary>
    public required string Name { get; init; }

    /// <summary>One-line description.</summary>
    public required string Description { get; init; }

    /// <summary>The data.</summary>
    public required ExperimentDataSpec Data { get; init; }

    /// <summary>The models, trained one after the other, each in its own subfolder.</summary>
    public required IReadOnlyList<ExperimentModel> Models { get; init; }

    /// <summary>Optimiser steps per model.</summary>
    public required long Steps { get; init; }

    /// <summary>Training batch size.</summary>
    public required int BatchSize { get; init; }

    /// <summary>Evaluation batch size (null = <see cref="BatchSize"/>).</summary>
    public int? EvalBatchSize { get; init; }

    /// <summary>Linear warm-up steps.</summary>
    public long WarmupSteps { get; init; }

    /// <summary>Decoupled weight decay (weights only).</summary>
    public double WeightDecay { get; init; } = 0.05;

    /// <summary>Global gradient-norm clip.</summary>
    public double GradientClip { get; init; } = 1.0;

    /// <summary>Label smoothing ε in [0, 1).</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Random crop of training images: padding in pixels on every side, filled with black (pixel 0), then a
    /// window of the original size at a random offset; 0 = off (<see cref="RandomCropFlip"/>).</summary>
    public int RandomCropPadding { get; init; }

    /// <summary>Probability that a training image is mirrored left–right; 0 = off.</summary>
    public double HorizontalFlipProbability { get; init; }

    /// <summary>Symmetry curriculum threshold (<see cref="Training.SymmetryCurriculum"/>; arrows only): the mean
    /// training accuracy of a window that releases the next symmetry; 0 = off.</summary>
    public double SymmetryCurriculumThreshold { get; init; }

    /// <summary>Steps per window of the symmetry curriculum.</summary>
    public int SymmetryCurriculumWindow { get; init; } = 100;

    /// <summary>Decay of the weight average (<see cref="Training.ModelEma"/>) validated, saved and tested instead of the
    /// optimiser's own weights; 0 = off.</summary>
    public double EmaDecay { get; init; }

    /// <summary>Symmetric views averaged in a second set of final tests (<see cref="SymmetryAveraging"/>): every test
    /// split of <see cref="TestTimeAugmentationSplits"/> is then scored twice, on the images as given and with the views'
    /// averaged class probabilities. None = once.
    /// Validation (and with it the best checkpoint) always uses the images as given.</summary>
    public TestTimeAugmentation TestTimeAugmentation { get; init; }

    /// <summary>The test splits (<c>test</c>, <c>test-ext</c>) scored a second time with
    /// <see cref="TestTimeAugmentation"/>; null = every test split.</summary>
    public IReadOnlyList<string>? TestTimeAugmentationSplits { get; init; }

    /// <summary>Whether the test split <paramref name="split"/> is also scored with <see cref="TestTimeAugmentation"/>.</summary>
    public bool AugmentsTest(string split) => TestTimeAugmentation != TestTimeAugmentation.None
        && (TestTimeAugmentationSplits is null || TestTimeAugmentationSplits.Contains(split));

    /// <summary>Validation every this many steps (0 = only at the end).</summary>
    public long EvalEverySteps { get; init; }

    /// <summary><c>last.ckpt</c> every this many steps (0 = only at the end).</summary>
    public long CheckpointEverySteps { get; init; }

    /// <summary>Metrics line every this many steps.</summary>
    public long LogEverySteps { get; init; } = 10;

    /// <summary>Read the training steps' numbers back from the device every this many steps
    /// (<see cref="TrainerOptions.SyncEverySteps"/>); null: 10 on CUDA, 1 on the CPU and with the symmetry
    /// curriculum.</summary>
    public int? SyncEverySteps { get; init; }

    /// <summary>Run seed (model initialisation, data order).</summary>
    public long Seed { get; init; }

    /// <summary>Every pLSTM 2D layer keeps only its gates for backward and recomputes the path sums there
    /// (<see cref="Layers.Plstm2DLayer.RecomputeInBackward"/>): less memory (a pLSTM-ViT-T step at 1024 px on the H200:
    /// 18.8 instead of 51.8 GiB), 11–14 % slower at large images, same result. An execution setting: not stored with
    /// the model. Default false.</summary>
    public bool RecomputeInBackward { get; init; }

    /// <summary>Mixed precision, as autocast: the models compute in this dtype (bfloat16 or float16) while their
    /// parameters and the optimiser's state stay float32 (<see cref="Models.VisionModel.ComputeDtype"/>). An execution
    /// setting: not stored with the model. Null (default): float32 throughout.</summary>
    public TorchSharp.torch.ScalarType? ComputeDtype { get; init; }

    /// <summary>Checks the recipe without loading data (counts, steps, models exist, options valid).</summary>
    /// <exception cref="ArgumentException">Something is invalid; the message says what.</exception>
    public void Validate()
    {
        if (Models.Count == 0) throw new ArgumentException($"Experiment '{Name}' has no models.");
        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var model in Models)
        {
            if (string.IsNullOrWhiteSpace(model.Key) || model.Key.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0
                || model.Key is "." or "..")
                throw new ArgumentException($"Model key '{model.Key}' is not a valid folder name.");
            if (!keys.Add(model.Key)) throw new ArgumentException($"Model key '{model.Key}' appears twice.");
            ModelRegistry.Get(model.Preset);
            TrainerOptions(model, outputFolder: null, device: "cpu", resume: false).Validate();
        }
    }

    /// <summary>The trainer settings of <paramref name="model"/>.</summary>
    /// <param name="model">One of <see cref="Models"/>.</param>
    /// <param name="outputFolder">The trainer's output folder, or null.</param>
    /// <param name="device"><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</param>
    /// <param name="resume">Continue from <c>last.ckpt</c>.</param>
    /// <param name="runConfigJson">The checkpoints' <c>config.json</c>.</param>
    /// <param name="normalization">The data's normalisation: random crops pad with black (pixel 0) in its units, as
    /// torchvision's <c>RandomCrop</c> before <c>Normalize</c> does; null pads with 0, the normalised mean.</param>
    public TrainerOptions TrainerOptions(ExperimentModel model, string? outputFolder, string device, bool resume,
        string? runConfigJson = null, NormalizationStats? normalization = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new TrainerOptions
        {
            Steps = Steps,
            BatchSize = BatchSize,
            EvalBatchSize = EvalBatchSize,
            PeakLearningRate = model.LearningRate,
            WarmupSteps = WarmupSteps,
            WeightDecay = WeightDecay,
            GradientClip = GradientClip,
            LabelSmoothing = LabelSmoothing,
            RandomCropPadding = RandomCropPadding,
            // Only with a crop: a fill without padding would change nothing but the resume fingerprint.
            RandomCropFill = RandomCropPadding > 0 ? normalization?.NormalizedValues(0f) : null,
            HorizontalFlipProbability = HorizontalFlipProbability,
            SymmetryCurriculumThreshold = SymmetryCurriculumThreshold,
            SymmetryCurriculumWindow = SymmetryCurriculumWindow,
            EmaDecay = EmaDecay,
            EvalEverySteps = EvalEverySteps,
            CheckpointEverySteps = CheckpointEverySteps,
            LogEverySteps = LogEverySteps,
            SyncEverySteps = SyncEverySteps,
            Seed = Seed,
            Device = device,
            OutputFolder = outputFolder,
            Resume = resume,
            // The loader yields [B, C, H, W]; the vision models take channels-last input by default.
            ChannelsLast = true,
            RunConfigJson = runConfigJson,
        };
    }
}
