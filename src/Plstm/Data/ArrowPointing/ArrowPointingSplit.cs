namespace Plstm.Data.ArrowPointing;

/// <summary>
/// One split of the paper's APE experiments (<c>/work/shared/spec/arrow_pointing.md</c>, "Settings used by the
/// paper's experiments"): its size, image side and dataset seed. The "ext" splits keep the object sizes and double
/// the image side, which is the extrapolation test.
/// </summary>
/// <param name="Name">Short name (train, val, val-ext, test, test-ext).</param>
/// <param name="Count">Number of images.</param>
/// <param name="ImageSize">Image side in pixels at paper scale.</param>
/// <param name="Seed">Dataset seed.</param>
public sealed record ArrowPointingSplit(string Name, long Count, int ImageSize, long Seed)
{
    /// <summary>Training split: 100,000 images at 192 with the run's seed (paper runs: 43–47).</summary>
    public static ArrowPointingSplit Train(long runSeed) => new("train", 100_000, 192, runSeed);

    /// <summary>Validation at the training size: 5,120 images at 192, seed 100042.</summary>
    public static ArrowPointingSplit Validation { get; } = new("val", 5_120, 192, 100_042);

    /// <summary>Validation at double size: 5,120 images at 384, seed 100043.</summary>
    public static ArrowPointingSplit ValidationExtrapolation { get; } = new("val-ext", 5_120, 384, 100_043);

    /// <summary>Test at the training size: 10,240 images at 192, seed 200042.</summary>
    public static ArrowPointingSplit Test { get; } = new("test", 10_240, 192, 200_042);

    /// <summary>Test at double size: 10,240 images at 384, seed 200043.</summary>
    public static ArrowPointingSplit TestExtrapolation { get; } = new("test-ext", 10_240, 384, 200_043);

    /// <summary>The generator settings of this split, optionally shrunk by <paramref name="scale"/> (see
    /// <see cref="ArrowPointingSettings.Scaled"/>; 1 = paper scale).</summary>
    public ArrowPointingSettings Settings(double scale = 1.0)
    {
        var settings = ArrowPointingSettings.Paper(ImageSize, Seed);
        return scale == 1.0 ? settings : settings.Scaled(scale);
    }

    /// <summary>The dataset of this split (optionally scaled), generated on demand; normalisation as
    /// <see cref="ArrowPointingDataset(ArrowPointingSettings, int, NormalizationStats?)"/> (null = ImageNet).</summary>
    public ArrowPointingDataset CreateDataset(double scale = 1.0, NormalizationStats? normalization = null) =>
        new(Settings(scale), checked((int)Count), normalization);
}
