namespace Plstm.Interop;

/// <summary>
/// A checkpoint does not match the model it is loaded into: keys the model needs are missing, the file has keys the
/// model does not know, or a tensor has another shape. The message names every offending key (the first 20 of each
/// kind) with its shapes.
/// </summary>
public sealed class CheckpointMismatchException : InvalidOperationException
{
    /// <summary>Creates the exception from the three lists of problems.</summary>
    public CheckpointMismatchException(string source, IReadOnlyList<string> missingKeys,
        IReadOnlyList<string> unexpectedKeys, IReadOnlyList<ShapeMismatch> shapeMismatches)
        : base(Describe(source, missingKeys, unexpectedKeys, shapeMismatches))
    {
        MissingKeys = missingKeys;
        UnexpectedKeys = unexpectedKeys;
        ShapeMismatches = shapeMismatches;
    }

    /// <summary>Model keys the checkpoint lacks.</summary>
    public IReadOnlyList<string> MissingKeys { get; }

    /// <summary>Checkpoint keys the model does not have.</summary>
    public IReadOnlyList<string> UnexpectedKeys { get; }

    /// <summary>Keys present on both sides with different shapes.</summary>
    public IReadOnlyList<ShapeMismatch> ShapeMismatches { get; }

    private const int MaxListed = 20;

    private static string Describe(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<ShapeMismatch> shapes)
    {
        var parts = new List<string>();
        if (shapes.Count > 0)
            parts.Add($"{shapes.Count} tensor(s) with the wrong shape: "
                + List(shapes.Select(s => $"'{s.Key}' is {Shape(s.CheckpointShape)} in the checkpoint but "
                    + $"{Shape(s.ModelShape)} in the model")));
        if (missing.Count > 0)
            parts.Add($"{missing.Count} missing key(s): " + List(missing.Select(k => $"'{k}'")));
        if (unexpected.Count > 0)
            parts.Add($"{unexpected.Count} unexpected key(s): " + List(unexpected.Select(k => $"'{k}'")));
        return $"Checkpoint {source} does not match the model: {string.Join("; ", parts)}.";
    }

    private static string List(IEnumerable<string> items)
    {
        var all = items.ToList();
        var shown = string.Join(", ", all.Take(MaxListed));
        return all.Count > MaxListed ? $"{shown}, … ({all.Count - MaxListed} more)" : shown;
    }

    /// <summary>Formats a shape as <c>[d0, d1, …]</c>.</summary>
    internal static string Shape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}

/// <summary>A key whose tensor has different shapes in the checkpoint and in the model.</summary>
/// <param name="Key">Parameter name.</param>
/// <param name="CheckpointShape">Shape stored in the checkpoint.</param>
/// <param name="ModelShape">Shape the model expects.</param>
public sealed record ShapeMismatch(string Key, long[] CheckpointShape, long[] ModelShape);
