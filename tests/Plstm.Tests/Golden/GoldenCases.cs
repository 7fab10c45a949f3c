using System.Text.Json;
using Plstm.Tests.Support;

namespace Plstm.Tests.Golden;

/// <summary>
/// Discovery of golden files: every <c>*.json</c> in the bundled output folder <c>Golden/Data</c> plus every
/// <c>*.json</c> in the folder named by <see cref="ExtraDirVariable"/> when it is set. Each case is identified by a
/// readable id that is also its path relative to a named root: <c>foo.json</c> (bundled) or
/// <c>PLSTM_GOLDEN_DIR/foo.json</c> (extra); <see cref="ResolvePath"/> maps an id to the file.
/// A file name present in both places yields two cases.
/// </summary>
public static class GoldenCases
{
    /// <summary>Environment variable naming an extra folder of golden files.</summary>
    public const string ExtraDirVariable = "PLSTM_GOLDEN_DIR";

    private const string ExtraPrefix = ExtraDirVariable + "/";

    /// <summary>Id of the placeholder case produced when the extra folder is unusable; running it fails with the reason.</summary>
    private const string ExtraProblemId = ExtraDirVariable + " (unusable folder)";

    /// <summary>The bundled folder (copied next to the test assembly by the csproj).</summary>
    public static string BundledDirectory => Path.Combine(AppContext.BaseDirectory, "Golden", "Data");

    /// <summary>The extra folder, or null when the variable is unset or empty.</summary>
    public static string? ExtraDirectory
    {
        get
        {
            var value = Environment.GetEnvironmentVariable(ExtraDirVariable);
            return string.IsNullOrWhiteSpace(value) ? null : Path.GetFullPath(value);
        }
    }

    /// <summary>Every case id, bundled first, each group sorted by file name (ordinal).</summary>
    public static IReadOnlyList<string> Ids()
    {
        var ids = new List<string>();
        if (Directory.Exists(BundledDirectory))
            ids.AddRange(JsonFiles(BundledDirectory).Select(Path.GetFileName).Select(n => n!));
        var extra = ExtraDirectory;
        if (extra is not null)
        {
            if (ExtraDirectoryProblem(extra) is not null)
                ids.Add(ExtraProblemId);
            else
                ids.AddRange(JsonFiles(extra).Select(p => ExtraPrefix + Path.GetFileName(p)));
        }
        return ids;
    }

    /// <summary>The ids as xunit theory data.</summary>
    public static TheoryData<string> All()
    {
        var data = new TheoryData<string>();
        foreach (var id in Ids()) data.Add(id);
        return data;
    }

    /// <summary>
    /// The ids as xunit theory data, leaving out files of the given kinds (those have their own test class, e.g.
    /// <c>plstm2d_layer</c> in <c>Layers/LayerGoldenTests</c>). Unreadable files and the unusable-folder marker stay in.
    /// </summary>
    public static TheoryData<string> AllExcept(params string[] kinds)
    {
        var data = new TheoryData<string>();
        foreach (var id in Ids())
        {
            if (id != ExtraProblemId && kinds.Contains(PeekKind(PathOf(id)))) continue;
            data.Add(id);
        }
        return data;
    }

    private static string PathOf(string id) => id.StartsWith(ExtraPrefix, StringComparison.Ordinal)
        ? Path.Combine(ExtraDirectory ?? "", id[ExtraPrefix.Length..])
        : Path.Combine(BundledDirectory, id);


    /// <summary>The top-level "kind" of a golden file, read without parsing its arrays.</summary>
    public static string? PeekKind(string path)
    {
        try
        {
            var reader = new Utf8JsonReader(File.ReadAllBytes(path));
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    bool isKind = reader.ValueTextEquals("kind");
                    reader.Read();
                    if (isKind) return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: not one of ours (the operator harness reports unreadable files).
        }
        return null;
    }

    /// <summary>Maps a case id to its file; fails the test with a clear message when that is impossible.</summary>
    public static string ResolvePath(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (id == ExtraProblemId)
        {
            var extra = ExtraDirectory;
            Assert.Fail(extra is null
                ? $"{ExtraDirVariable} was set during discovery but is no longer set."
                : ExtraDirectoryProblem(extra) ?? $"{ExtraDirVariable} folder '{extra}' was unusable during discovery.");
        }
        string path;
        if (id.StartsWith(ExtraPrefix, StringComparison.Ordinal))
        {
            var extra = ExtraDirectory;
            if (extra is null)
                Assert.Fail($"Case {id}: {ExtraDirVariable} is no longer set.");
            path = Path.Combine(extra, id[ExtraPrefix.Length..]);
        }
        else
        {
            path = Path.Combine(BundledDirectory, id);
        }
        if (!File.Exists(path))
            Assert.Fail($"Case {id}: file {path} does not exist.");
        return path;
    }

    /// <summary>Loads the case with this id.</summary>
    public static GoldenCase Load(string id) => GoldenCase.Load(ResolvePath(id));

    private static string? ExtraDirectoryProblem(string dir)
    {
        if (!Directory.Exists(dir))
            return $"{ExtraDirVariable} is set to '{dir}', but that folder does not exist.";
        if (!JsonFiles(dir).Any())
            return $"{ExtraDirVariable} is set to '{dir}', but that folder holds no *.json file.";
        return null;
    }

    private static IEnumerable<string> JsonFiles(string dir) =>
        Directory.EnumerateFiles(dir, "*.json", SearchOption.TopDirectoryOnly)
            .Where(p => p.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            .OrderBy(p => Path.GetFileName(p), StringComparer.Ordinal);
}
