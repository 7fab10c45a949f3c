namespace Plstm.Data.Images;

/// <summary>The two splits of an MNIST-style data set.</summary>
public enum IdxSplit
{
    /// <summary>The training split (<c>train-*</c> files).</summary>
    Train,

    /// <summary>The test split (<c>t10k-*</c> files).</summary>
    Test,
}

/// <summary>
/// The four files of an MNIST-style data set in one folder: <c>train-images-idx3-ubyte</c>,
/// <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c> and <c>t10k-labels-idx1-ubyte</c>, each plain or with
/// <c>.gz</c> (also accepted: the dotted variant <c>train-images.idx3-ubyte</c> of some mirrors).
/// </summary>
/// <param name="Directory">The folder that holds the files.</param>
/// <param name="TrainImages">Path of the training images.</param>
/// <param name="TrainLabels">Path of the training labels.</param>
/// <param name="TestImages">Path of the test images.</param>
/// <param name="TestLabels">Path of the test labels.</param>
public sealed record IdxDatasetFiles(string Directory, string TrainImages, string TrainLabels, string TestImages, string TestLabels)
{
    /// <summary>The base names (without <c>.gz</c>) of the four files, in the order train images, train labels, test images, test labels.</summary>
    public static IReadOnlyList<string> StandardNames { get; } =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>The image and label files of <paramref name="split"/>.</summary>
    public (string Images, string Labels) For(IdxSplit split) => split switch
    {
        IdxSplit.Train => (TrainImages, TrainLabels),
        IdxSplit.Test => (TestImages, TestLabels),
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "Unknown split."),
    };

    /// <summary>
    /// The four files in <paramref name="directory"/>, or null when the folder does not exist or lacks one of them
    /// (<paramref name="missing"/> then names what is missing). For each file the plain name wins over <c>.gz</c>.
    /// </summary>
    public static IdxDatasetFiles? TryFind(string directory, out IReadOnlyList<string> missing)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var found = new string[StandardNames.Count];
        var lacking = new List<string>();
        if (!System.IO.Directory.Exists(directory))
        {
            missing = ["(folder does not exist)"];
            return null;
        }
        for (int i = 0; i < found.Length; i++)
        {
            string name = StandardNames[i];
            string dotted = name.Replace("-idx", ".idx", StringComparison.Ordinal);
            string[] options = [name, name + ".gz", dotted, dotted + ".gz"];
            found[i] = options.Select(o => Path.Combine(directory, o)).FirstOrDefault(File.Exists)!;
            if (found[i] is null) lacking.Add(name + "(.gz)");
        }
        missing = lacking;
        return lacking.Count > 0 ? null : new IdxDatasetFiles(Path.GetFullPath(directory), found[0], found[1], found[2], found[3]);
    }

    /// <summary>
    /// Finds the files of data set <paramref name="name"/> in the folders of <see cref="DataPaths.Candidates"/>: only
    /// <paramref name="dataDirectory"/> (or its subfolder <paramref name="name"/>) when given, otherwise
    /// <c>$PLSTM_DATA/name</c>, <c>../shared/data/name</c> and <paramref name="systemDirectories"/>; the first folder
    /// that holds all four files wins.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">None of the searched folders exists (the message lists them).</exception>
    /// <exception cref="FileNotFoundException">Folders exist but none holds all four files (the message lists each folder and what it lacks).</exception>
    public static IdxDatasetFiles Locate(string name, string? dataDirectory, string? installHint, params string[] systemDirectories)
    {
        var candidates = DataPaths.Candidates(dataDirectory, name, systemDirectories);
        var report = new List<string>();
        bool anyFolder = false;
        foreach (var dir in candidates)
        {
            var files = TryFind(dir, out var missing);
            if (files is not null) return files;
            anyFolder |= System.IO.Directory.Exists(dir);
            report.Add($"  {dir}: {(System.IO.Directory.Exists(dir) ? "missing " + string.Join(", ", missing) : "does not exist")}");
        }
        string how = string.IsNullOrWhiteSpace(dataDirectory)
            ? $" Pass a data folder, set {DataPaths.EnvironmentVariable} to a folder with a '{name}' subfolder{(installHint is null ? "" : ", or " + installHint)}."
            : "";
        string message = $"The {name} files ({string.Join(", ", StandardNames.Select(n => n + "[.gz]"))}) were not found. Searched:{Environment.NewLine}{string.Join(Environment.NewLine, report)}{Environment.NewLine}{how.Trim()}".TrimEnd();
        if (!anyFolder) throw new DirectoryNotFoundException(message);
        throw new FileNotFoundException(message);
    }
}
