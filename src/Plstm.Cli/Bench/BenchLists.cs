using System.Globalization;
using TorchSharp;

namespace Plstm.Cli.Bench;

/// <summary>
/// Parses the comma-separated list options of the bench verbs. Every malformed entry is a
/// <see cref="CliUsageException"/> naming the option and the entry, raised before anything runs.
/// </summary>
public static class BenchLists
{
    /// <summary>The dtype names accepted by <c>--dtype</c>, with their canonical spelling.</summary>
    private static readonly (string[] Names, torch.ScalarType Type, string Canonical)[] DtypeNames =
    [
        (["float32", "fp32", "f32"], torch.ScalarType.Float32, "float32"),
        (["bfloat16", "bf16"], torch.ScalarType.BFloat16, "bfloat16"),
    ];

    /// <summary>Splits a list option into trimmed, non-empty entries; an empty list is an error.</summary>
    public static string[] Entries(string option, string? text)
    {
        string[] entries = (text ?? "").Split(',', StringSplitOptions.TrimEntries);
        if (entries.Length == 0 || entries.Any(e => e.Length == 0))
            throw new CliUsageException($"{option} '{text}': expected a comma-separated list without empty entries.");
        return entries;
    }

    /// <summary>A list of integers, each at least <paramref name="min"/>.</summary>
    public static int[] Integers(string option, string? text, int min = 1) =>
        Entries(option, text).Select(e => Integer(option, e, min)).ToArray();

    /// <summary>Grids: <c>N</c> (N×N) or <c>XxY</c>, sides ≥ 1.</summary>
    public static (int X, int Y)[] Grids(string option, string? text) =>
        Entries(option, text).Select(entry =>
        {
            string[] sides = entry.Split(['x', 'X', '×']);
            return sides.Length switch
            {
                1 => (Integer(option, entry, 1), Integer(option, entry, 1)),
                2 => (Integer(option, sides[0], 1, entry), Integer(option, sides[1], 1, entry)),
                _ => throw new CliUsageException($"{option}: '{entry}' is not a grid (N or XxY)."),
            };
        }).ToArray();

    /// <summary>Dtypes by name (float32/fp32, bfloat16/bf16), duplicates removed.</summary>
    public static (torch.ScalarType Type, string Name)[] Dtypes(string option, string? text) =>
        Entries(option, text).Select(entry =>
        {
            var match = DtypeNames.FirstOrDefault(d => d.Names.Contains(entry, StringComparer.OrdinalIgnoreCase));
            return match.Names is null
                ? throw new CliUsageException($"{option}: unknown dtype '{entry}'; use float32 or bfloat16.")
                : (match.Type, match.Canonical);
        }).Distinct().ToArray();

    /// <summary>
    /// Batch sizes of <c>bench step</c>: one number for every image size, or <c>BATCH@SIZE</c> entries (sizes not
    /// listed keep their default). Returns the overall batch (or null) and the per-size ones.
    /// </summary>
    public static (int? All, IReadOnlyDictionary<int, int> PerSize) BatchSizes(string option, string? text)
    {
        string[] entries = Entries(option, text);
        if (entries.Length == 1 && !entries[0].Contains('@', StringComparison.Ordinal))
            return (Integer(option, entries[0], 1), new Dictionary<int, int>());
        var perSize = new Dictionary<int, int>();
        foreach (string entry in entries)
        {
            string[] parts = entry.Split('@');
            if (parts.Length != 2)
                throw new CliUsageException($"{option}: '{entry}' is not BATCH@SIZE (or give one batch size for all sizes).");
            int size = Integer(option, parts[1], 1, entry);
            if (!perSize.TryAdd(size, Integer(option, parts[0], 1, entry)))
                throw new CliUsageException($"{option}: image size {size} is given twice.");
        }
        return (null, perSize);
    }

    private static int Integer(string option, string text, int min, string? entry = null)
    {
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < min)
            throw new CliUsageException(
                $"{option}: '{entry ?? text}' is not {(min == 1 ? "a positive integer" : $"an integer ≥ {min}")}.");
        return value;
    }
}
