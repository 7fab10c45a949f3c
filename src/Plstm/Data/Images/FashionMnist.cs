namespace Plstm.Data.Images;

/// <summary>
/// Fashion-MNIST (Xiao et al. 2017): 28 × 28 grayscale images of 10 clothing classes, 60 000 training and 10 000 test
/// images in IDX files. Debian's package <c>dataset-fashion-mnist</c> installs them, gzip-compressed, into
/// <see cref="DebianDirectory"/>.
/// </summary>
public static class FashionMnist
{
    /// <summary>The data set's folder name under a data root (<c>$PLSTM_DATA/fashion-mnist</c>, <c>../shared/data/fashion-mnist</c>).</summary>
    public const string Name = "fashion-mnist";

    /// <summary>Where the Debian package <c>dataset-fashion-mnist</c> puts the four <c>*.gz</c> IDX files.</summary>
    public const string DebianDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The Debian package that ships the data set.</summary>
    public const string DebianPackage = "dataset-fashion-mnist";

    /// <summary>Number of training images.</summary>
    public const int TrainCount = 60000;

    /// <summary>Number of test images.</summary>
    public const int TestCount = 10000;

    /// <summary>Number of classes.</summary>
    public const int NumClasses = 10;

    /// <summary>The class names, indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// Finds the files: only in <paramref name="dataDirectory"/> (or its subfolder <c>fashion-mnist</c>) when given;
    /// otherwise in <c>$PLSTM_DATA/fashion-mnist</c>, <c>&lt;repo&gt;/../shared/data/fashion-mnist</c> and
    /// <see cref="DebianDirectory"/>, in that order.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No searched folder exists (the message lists them).</exception>
    /// <exception cref="FileNotFoundException">No searched folder holds all four files (the message lists what each lacks).</exception>
    public static IdxDatasetFiles Locate(string? dataDirectory = null) =>
        IdxDatasetFiles.Locate(Name, dataDirectory, $"install the Debian package (apt-get install {DebianPackage})", DebianDirectory);

    /// <summary>
    /// Loads <paramref name="split"/>, normalised with <paramref name="normalization"/> (default
    /// <see cref="Normalization.FashionMnist"/>: mean 0.2860, std 0.3530).
    /// </summary>
    /// <exception cref="InvalidDataException">A file is corrupt (the message names it).</exception>
    public static IdxImageDataset Load(IdxSplit split, string? dataDirectory = null, NormalizationStats? normalization = null)
    {
        var (images, labels) = Locate(dataDirectory).For(split);
        return IdxImageDataset.Load(images, labels, NumClasses, normalization ?? Normalization.FashionMnist);
    }
}

/// <summary>
/// MNIST handwritten digits: 28 × 28 grayscale, 10 classes, 60 000 training and 10 000 test images in IDX files. No
/// Debian package ships it; put the files under <c>$PLSTM_DATA/mnist</c> or <c>../shared/data/mnist</c>, or pass a folder.
/// </summary>
public static class Mnist
{
    /// <summary>The data set's folder name under a data root.</summary>
    public const string Name = "mnist";

    /// <summary>Number of classes.</summary>
    public const int NumClasses = 10;

    /// <summary>
    /// Finds the files: only in <paramref name="dataDirectory"/> (or its subfolder <c>mnist</c>) when given; otherwise in
    /// <c>$PLSTM_DATA/mnist</c> and <c>&lt;repo&gt;/../shared/data/mnist</c>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No searched folder exists (the message lists them).</exception>
    /// <exception cref="FileNotFoundException">No searched folder holds all four files (the message lists what each lacks).</exception>
    public static IdxDatasetFiles Locate(string? dataDirectory = null) => IdxDatasetFiles.Locate(Name, dataDirectory, null);

    /// <summary>Loads <paramref name="split"/>, normalised with <paramref name="normalization"/> (default <see cref="Normalization.Mnist"/>: 0.1307 / 0.3081).</summary>
    /// <exception cref="InvalidDataException">A file is corrupt (the message names it).</exception>
    public static IdxImageDataset Load(IdxSplit split, string? dataDirectory = null, NormalizationStats? normalization = null)
    {
        var (images, labels) = Locate(dataDirectory).For(split);
        return IdxImageDataset.Load(images, labels, NumClasses, normalization ?? Normalization.Mnist);
    }
}
