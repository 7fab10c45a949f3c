namespace Plstm.Data;

/// <summary>
/// Where data sets live. Data stays out of the repository; a data set folder is looked up, in this order, in
/// <list type="number">
/// <item>an explicit folder given by the caller (then nothing else is searched),</item>
/// <item><c>$PLSTM_DATA/&lt;name&gt;</c> (<see cref="EnvironmentVariable"/>),</item>
/// <item><c>&lt;repository root&gt;/../shared/data/&lt;name&gt;</c> (<see cref="SharedDataDirectory"/>),</item>
/// <item>a system folder, when the data set has one (e.g. a Debian package's).</item>
/// </list>
/// </summary>
public static class DataPaths
{
    /// <summary>Environment variable naming the data root (the folder that holds one subfolder per data set).</summary>
    public const string EnvironmentVariable = "PLSTM_DATA";

    /// <summary>File whose presence marks the repository root.</summary>
    public const string RepositoryMarker = "Plstm.slnx";

    /// <summary>The value of <see cref="EnvironmentVariable"/> as a full path, or null when unset or blank.</summary>
    public static string? EnvironmentDataDirectory
    {
        get
        {
            var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
            return string.IsNullOrWhiteSpace(value) ? null : Path.GetFullPath(value);
        }
    }

    /// <summary>
    /// The repository root: the nearest folder at or above <paramref name="start"/> that holds
    /// <see cref="RepositoryMarker"/>. Without <paramref name="start"/>, the current directory is tried first and then
    /// the folder of the running assembly (<see cref="AppContext.BaseDirectory"/>). Null when none is found.
    /// </summary>
    public static string? FindRepositoryRoot(string? start = null)
    {
        var starts = start is not null
            ? [start]
            : new[] { Environment.CurrentDirectory, AppContext.BaseDirectory };
        foreach (var s in starts)
        {
            if (string.IsNullOrEmpty(s)) continue;
            for (var dir = new DirectoryInfo(Path.GetFullPath(s)); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, RepositoryMarker)))
                    return dir.FullName;
        }
        return null;
    }

    /// <summary><c>&lt;repository root&gt;/../shared/data</c>, or null when the repository root is not found.</summary>
    public static string? SharedDataDirectory
    {
        get
        {
            var root = FindRepositoryRoot();
            return root is null ? null : Path.GetFullPath(Path.Combine(root, "..", "shared", "data"));
        }
    }

    /// <summary>
    /// The data root: <paramref name="explicitRoot"/> when given, else <c>$PLSTM_DATA</c>, else the shared data folder
    /// when it exists; null otherwise. Existence is only checked for the shared folder.
    /// </summary>
    public static string? DataRoot(string? explicitRoot = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitRoot)) return Path.GetFullPath(explicitRoot);
        if (EnvironmentDataDirectory is { } env) return env;
        return SharedDataDirectory is { } shared && Directory.Exists(shared) ? shared : null;
    }

    /// <summary>
    /// The folders to search for data set <paramref name="name"/>, in order and without duplicates. With
    /// <paramref name="explicitDirectory"/> only that folder and its subfolder <paramref name="name"/> are searched;
    /// otherwise <c>$PLSTM_DATA/name</c>, <c>../shared/data/name</c> and then <paramref name="systemDirectories"/>.
    /// </summary>
    public static IReadOnlyList<string> Candidates(string? explicitDirectory, string name, params string[] systemDirectories)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(systemDirectories);
        var list = new List<string>();
        void Add(string? dir)
        {
            if (dir is null) return;
            var full = Path.GetFullPath(dir);
            if (!list.Contains(full, StringComparer.Ordinal)) list.Add(full);
        }
        if (!string.IsNullOrWhiteSpace(explicitDirectory))
        {
            Add(explicitDirectory);
            Add(Path.Combine(explicitDirectory, name));
            return list;
        }
        if (EnvironmentDataDirectory is { } env) Add(Path.Combine(env, name));
        if (SharedDataDirectory is { } shared) Add(Path.Combine(shared, name));
        foreach (var dir in systemDirectories) Add(dir);
        return list;
    }
}
