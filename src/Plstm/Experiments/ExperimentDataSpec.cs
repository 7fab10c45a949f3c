using System.Globalization;

namespace Plstm.Experiments;

/// <summary>Where an experiment's images come from.</summary>
public enum ExperimentDataKind
{
    /// <summary>The arrow-pointing extrapolation task, generated on demand (nothing is written to disk).</summary>
    Arrows,

    /// <summary>Fashion-MNIST from its IDX files (Debian's <c>dataset-fashion-mnist</c>, <c>$PLSTM_DATA</c>, …).</summary>
    FashionMnist,

    /// <summary>
    /// A folder: either the four MNIST-style IDX files (<c>train-images-idx3-ubyte[.gz]</c>, …), or image folders in
    /// torchvision <c>ImageFolder</c> layout — <c>DIR/train/&lt;class&gt;/*.png</c> with optional <c>val/</c> and
    /// <c>test/</c> siblings, or <c>DIR/&lt;class&gt;/*.png</c> directly (then used for training only).
    /// </summary>
    Folder,
}

/// <summary>
/// What data an experiment trains and evaluates on (loaded by <see cref="ExperimentData.Load"/>). Counts are caps for
/// file-based data (null = all) and exact sizes for the generated arrow-pointing data.
/// </summary>
public sealed record ExperimentDataSpec
{
    /// <summary>The source.</summary>
    public ExperimentDataKind Kind { get; init; }

    /// <summary>
    /// <see cref="ExperimentDataKind.Folder"/>: the data folder (required). <see cref="ExperimentDataKind.FashionMnist"/>:
    /// an explicit folder holding the IDX files (null searches <c>$PLSTM_DATA</c>, <c>../shared/data</c> and the Debian
    /// package's folder). Unused for arrows.
    /// </summary>
    public string? Folder { get; init; }

    /// <summary>Arrows: the common divisor of image size, padding, radius, length and width (1 = paper scale).</summary>
    public double ArrowScale { get; init; } = 1;

    /// <summary>Arrows: side of the training images at paper scale (192); the model sees ArrowTrainSize / ArrowScale.</summary>
    public int ArrowTrainSize { get; init; } = 192;

    /// <summary>Arrows: dataset seed of the training split (paper runs: 43–47).</summary>
    public long TrainSeed { get; init; } = 43;

    /// <summary>Training images: arrows — exact count (required); other sources — the first N (null = all).</summary>
    public int? TrainCount { get; init; }

    /// <summary>
    /// Validation images: arrows — the size of the <c>val</c> split (seed 100042; 0 = none); Fashion-MNIST — the last
    /// N training images are held out for validation (0 = none, validate on nothing); folder — a cap on <c>val/</c>.
    /// </summary>
    public int? ValidationCount { get; init; }

    /// <summary>
    /// Test images: arrows — the size of <c>test</c> (seed 200042) and, with <see cref="Extrapolation"/>,
    /// <c>test-ext</c> (seed 200043); other sources — a cap (null = all).
    /// </summary>
    public int? TestCount { get; init; }

    /// <summary>Arrows: normalise as "ink" (<see cref="Data.Normalization.Ink"/>: background 0, strokes −1) instead of
    /// the paper's ImageNet statistics.</summary>
    public bool ArrowInk { get; init; }

    /// <summary>Arrows: also test at twice the image side (same object sizes), the extrapolation test.</summary>
    public bool Extrapolation { get; init; }

    /// <summary>Folder of images: resize every image to this side (null = the size of the first image).</summary>
    public int? ImageSize { get; init; }

    /// <summary>Folder of images: 1 (gray) or 3 (RGB) channels; null = 1 when the first image is gray, else 3.</summary>
    public int? Channels { get; init; }

    /// <summary>The name used on the command line (<c>arrows</c>, <c>fashion-mnist</c>, or the folder).</summary>
    public string DisplayName => Kind switch
    {
        ExperimentDataKind.Arrows => "arrows",
        ExperimentDataKind.FashionMnist => "fashion-mnist",
        _ => Folder ?? "(folder)",
    };

    /// <summary>Arrows: side of the training images in pixels (<see cref="ArrowTrainSize"/> / <see cref="ArrowScale"/>).</summary>
    public int ArrowImageSize => (int)Math.Round(ArrowTrainSize / ArrowScale);

    /// <summary>One line describing the data, e.g. for the results file.</summary>
    public string Describe() => Kind switch
    {
        ExperimentDataKind.Arrows => string.Create(CultureInfo.InvariantCulture,
            $"arrow pointing at {ArrowImageSize} px (paper {ArrowTrainSize} px / {ArrowScale}{(ArrowInk ? ", ink input" : "")}), train {TrainCount} (seed {TrainSeed}), "
            + $"val {ValidationCount ?? 0}, test {TestCount ?? 0}{(Extrapolation ? $" at {ArrowImageSize} and {2 * ArrowImageSize} px" : "")}"),
        ExperimentDataKind.FashionMnist => string.Create(CultureInfo.InvariantCulture,
            $"Fashion-MNIST 28 px, train {(TrainCount is int t ? t.ToString(CultureInfo.InvariantCulture) : "all")} "
            + $"(minus {ValidationCount ?? 0} held out for validation), test {(TestCount is int n ? n.ToString(CultureInfo.InvariantCulture) : "10000")}"),
        _ => $"folder {Folder}",
    };
}
