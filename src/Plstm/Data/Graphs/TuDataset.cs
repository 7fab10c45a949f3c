using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace Plstm.Data.Graphs;

/// <summary>One graph of a <see cref="TuDataset"/>. Node ids are local (<c>0 … NodeCount − 1</c>).</summary>
public sealed class TuGraph
{
    internal TuGraph(int index, int firstNode, int nodeCount, (int, int)[] edges, int[]? edgeLabels, int label,
        int classIndex, int[]? nodeLabels, float[]? nodeAttributes, int nodeAttributeCount)
    {
        Index = index;
        FirstNode = firstNode;
        NodeCount = nodeCount;
        Edges = edges;
        EdgeLabels = edgeLabels;
        Label = label;
        ClassIndex = classIndex;
        NodeLabels = nodeLabels;
        NodeAttributes = nodeAttributes;
        NodeAttributeCount = nodeAttributeCount;
    }

    /// <summary>Index of the graph in the data set (0-based; the file's graph id minus 1).</summary>
    public int Index { get; }

    /// <summary>Global 0-based id of the graph's first node (its nodes are <c>FirstNode …</c> in the node files).</summary>
    public int FirstNode { get; }

    /// <summary>Number of nodes.</summary>
    public int NodeCount { get; }

    /// <summary>The lines of <c>NAME_A.txt</c> that belong to this graph, as local (tail, head) pairs in file order
    /// (TU files list each undirected edge in both directions).</summary>
    public IReadOnlyList<(int Tail, int Head)> Edges { get; }

    /// <summary>The raw edge label of each entry of <see cref="Edges"/>, or null without <c>NAME_edge_labels.txt</c>.</summary>
    public IReadOnlyList<int>? EdgeLabels { get; }

    /// <summary>The raw graph label (as in <c>NAME_graph_labels.txt</c>, e.g. −1/1).</summary>
    public int Label { get; }

    /// <summary>The class index: position of <see cref="Label"/> among the data set's sorted distinct labels.</summary>
    public int ClassIndex { get; }

    /// <summary>The raw node labels, or null without <c>NAME_node_labels.txt</c>.</summary>
    public IReadOnlyList<int>? NodeLabels { get; }

    /// <summary>The node attributes, row-major <c>[NodeCount, NodeAttributeCount]</c>, or null without
    /// <c>NAME_node_attributes.txt</c>.</summary>
    public IReadOnlyList<float>? NodeAttributes { get; }

    /// <summary>Number of attributes per node (0 without attributes).</summary>
    public int NodeAttributeCount { get; }

    /// <summary>Number of distinct undirected edges (a pair listed in both directions counts once).</summary>
    public int UndirectedEdgeCount => Edges.Select(e => (Math.Min(e.Tail, e.Head), Math.Max(e.Tail, e.Head))).Distinct().Count();

    /// <summary>The graph prepared as an undirected graph (<see cref="GraphPreparation.FromUndirected"/>: edges oriented
    /// from lower to higher node id, line graph in <paramref name="mode"/>).</summary>
    public PreparedGraph Prepare(GraphMode mode) =>
        GraphPreparation.FromUndirected(NodeCount, Edges.Select(e => (e.Tail, e.Head)), mode);
}

/// <summary>
/// A graph-classification data set in the TU Dortmund text format (Morris et al. 2020): <c>NAME_A.txt</c> ("i, j" per
/// line, 1-based global node ids, with or without spaces), <c>NAME_graph_indicator.txt</c> (graph id of each node,
/// 1-based, non-decreasing), <c>NAME_graph_labels.txt</c> (one integer label per graph), and optionally
/// <c>NAME_node_labels.txt</c> (one integer per node, used one-hot), <c>NAME_node_attributes.txt</c> (comma-separated
/// numbers per node) and <c>NAME_edge_labels.txt</c> (one integer per line of <c>NAME_A.txt</c>). CRLF and LF line ends
/// are both accepted; trailing empty lines are ignored; anything else malformed is an <see cref="InvalidDataException"/>
/// naming the file and line. Node features follow PyTorch Geometric's <c>TUDataset(use_node_attr=True)</c>:
/// [attributes ‖ one-hot(label − min label)] (<see cref="NodeFeatures"/>).
/// </summary>
public sealed class TuDataset
{
    /// <summary>Folder under a data root that holds one subfolder per TU data set (<c>$PLSTM_DATA/tu/MUTAG</c>).</summary>
    public const string RootFolder = "tu";

    /// <summary>Where <see cref="DownloadAsync"/> fetches <c>NAME.zip</c> from (the TU collection's server, as used by
    /// PyTorch Geometric).</summary>
    public const string DownloadUrl = "https://www.chrsmrrs.com/graphkerneldatasets/";

    private TuDataset(string name, string directory, TuGraph[] graphs, int[] classLabels, int nodeLabelMin,
        int nodeLabelCount, int nodeAttributeCount, int edgeLabelMin, int edgeLabelCount)
    {
        Name = name;
        Directory = directory;
        _graphs = graphs;
        _classLabels = classLabels;
        NodeLabelMin = nodeLabelMin;
        NodeLabelCount = nodeLabelCount;
        NodeAttributeCount = nodeAttributeCount;
        EdgeLabelMin = edgeLabelMin;
        EdgeLabelCount = edgeLabelCount;
    }

    /// <summary>The data set name (file prefix).</summary>
    public string Name { get; }

    /// <summary>The folder the files were read from.</summary>
    public string Directory { get; }

    private readonly TuGraph[] _graphs;
    private readonly int[] _classLabels;

    /// <summary>The graphs in file order.</summary>
    public IReadOnlyList<TuGraph> Graphs => _graphs;

    /// <summary>The distinct raw graph labels, ascending; class index i ↔ <c>ClassLabels[i]</c>.</summary>
    public IReadOnlyList<int> ClassLabels => _classLabels;

    /// <summary>Number of classes.</summary>
    public int ClassCount => ClassLabels.Count;

    /// <summary>Smallest raw node label (0 without node labels).</summary>
    public int NodeLabelMin { get; }

    /// <summary>Width of the node-label one-hot: max − min + 1 over the data set (0 without node labels).</summary>
    public int NodeLabelCount { get; }

    /// <summary>Number of attributes per node (0 without <c>NAME_node_attributes.txt</c>).</summary>
    public int NodeAttributeCount { get; }

    /// <summary>Smallest raw edge label (0 without edge labels).</summary>
    public int EdgeLabelMin { get; }

    /// <summary>Width of the edge-label one-hot: max − min + 1 (0 without edge labels).</summary>
    public int EdgeLabelCount { get; }

    /// <summary>Width F of <see cref="NodeFeatures"/>: attributes + one-hot labels, or 1 (a constant feature) when the
    /// data set has neither.</summary>
    public int NodeFeatureCount => Math.Max(1, NodeAttributeCount + NodeLabelCount);

    /// <summary>
    /// The node features of one graph, row-major <c>[NodeCount, NodeFeatureCount]</c>: the attributes, then the one-hot
    /// node label (position label − <see cref="NodeLabelMin"/>); all ones when the data set has neither.
    /// </summary>
    public float[] NodeFeatures(TuGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        int f = NodeFeatureCount;
        var x = new float[graph.NodeCount * f];
        if (NodeAttributeCount + NodeLabelCount == 0)
        {
            Array.Fill(x, 1f);
            return x;
        }
        for (int i = 0; i < graph.NodeCount; i++)
        {
            for (int a = 0; a < NodeAttributeCount; a++)
                x[i * f + a] = graph.NodeAttributes![i * NodeAttributeCount + a];
            if (graph.NodeLabels is { } labels)
                x[i * f + NodeAttributeCount + labels[i] - NodeLabelMin] = 1f;
        }
        return x;
    }

    /// <summary>
    /// The folder holding <c>NAME_A.txt</c>. With <paramref name="dataDir"/> only that folder, <c>dataDir/NAME</c> and
    /// <c>dataDir/tu/NAME</c> are searched; otherwise <c>$PLSTM_DATA/tu/NAME</c>, <c>$PLSTM_DATA/NAME</c>,
    /// <c>&lt;repo&gt;/../shared/data/tu/NAME</c> and <c>&lt;repo&gt;/../shared/data/NAME</c> (see <see cref="DataPaths"/>).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No searched folder holds the files (the message lists them).</exception>
    public static string Locate(string name, string? dataDir = null)
    {
        CheckName(name);
        var candidates = new List<string>();
        void Add(string? dir)
        {
            if (dir is null) return;
            var full = Path.GetFullPath(dir);
            if (!candidates.Contains(full, StringComparer.Ordinal)) candidates.Add(full);
        }
        if (!string.IsNullOrWhiteSpace(dataDir))
        {
            Add(dataDir);
            Add(Path.Combine(dataDir, name));
            Add(Path.Combine(dataDir, RootFolder, name));
        }
        else
        {
            foreach (var root in new[] { DataPaths.EnvironmentDataDirectory, DataPaths.SharedDataDirectory })
            {
                if (root is null) continue;
                Add(Path.Combine(root, RootFolder, name));
                Add(Path.Combine(root, name));
            }
        }
        foreach (var dir in candidates)
            if (File.Exists(Path.Combine(dir, name + "_A.txt"))) return dir;
        throw new DirectoryNotFoundException(
            $"The TU data set {name} ({name}_A.txt …) was not found. Searched:{Environment.NewLine}  " +
            string.Join(Environment.NewLine + "  ", candidates) +
            (string.IsNullOrWhiteSpace(dataDir)
                ? $"{Environment.NewLine}Pass a data folder, set {DataPaths.EnvironmentVariable} to a folder with a '{RootFolder}/{name}' subfolder, or download it (online): plstm data tu {name} --data DIR ({nameof(TuDataset)}.{nameof(DownloadAsync)})."
                : ""));
    }

    /// <summary>Finds (<see cref="Locate"/>) and reads data set <paramref name="name"/> (e.g. <c>MUTAG</c>).</summary>
    /// <exception cref="DirectoryNotFoundException">The files were not found.</exception>
    /// <exception cref="InvalidDataException">A file is malformed (the message names file and line).</exception>
    public static TuDataset Load(string name, string? dataDir = null) => LoadFrom(Locate(name, dataDir), name);

    /// <summary>Reads the files <c>directory/NAME_*.txt</c>.</summary>
    /// <exception cref="FileNotFoundException">A required file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is malformed (the message names file and line).</exception>
    public static TuDataset LoadFrom(string directory, string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        CheckName(name);
        string PathOf(string suffix) => Path.Combine(directory, $"{name}_{suffix}.txt");

        var indicatorFile = TuFile.Read(PathOf("graph_indicator"), required: true)!;
        var graphOfNode = indicatorFile.Ints();
        int n = graphOfNode.Length;
        if (n == 0) throw indicatorFile.Error(1, "the file is empty: a data set needs at least one node");
        for (int i = 0; i < n; i++)
        {
            int previous = i == 0 ? 0 : graphOfNode[i - 1];
            if (graphOfNode[i] != previous && graphOfNode[i] != previous + 1)
                throw indicatorFile.Error(i + 1,
                    $"graph id {graphOfNode[i]} after {previous}: ids must start at 1 and be non-decreasing without gaps");
        }
        int graphCount = graphOfNode[^1];

        var labelFile = TuFile.Read(PathOf("graph_labels"), required: true)!;
        var labels = labelFile.Ints();
        if (labels.Length != graphCount)
            throw labelFile.Error(labels.Length + 1,
                $"{labels.Length} graph labels, but {Path.GetFileName(indicatorFile.Path)} has {graphCount} graphs");

        var nodeLabelFile = TuFile.Read(PathOf("node_labels"), required: false);
        var nodeLabels = nodeLabelFile?.Ints();
        if (nodeLabels is not null && nodeLabels.Length != n)
            throw nodeLabelFile!.Error(nodeLabels.Length + 1, $"{nodeLabels.Length} node labels, expected one per node ({n})");

        var attributeFile = TuFile.Read(PathOf("node_attributes"), required: false);
        float[]? attributes = null;
        int attributeCount = 0;
        if (attributeFile is not null)
        {
            (attributes, attributeCount) = attributeFile.FloatRows();
            if (attributes.Length / attributeCount != n)
                throw attributeFile.Error(attributes.Length / attributeCount + 1,
                    $"{attributes.Length / attributeCount} attribute rows, expected one per node ({n})");
        }

        var edgeFile = TuFile.Read(PathOf("A"), required: true)!;
        var edges = edgeFile.IntPairs();
        var edgeLabelFile = TuFile.Read(PathOf("edge_labels"), required: false);
        var edgeLabels = edgeLabelFile?.Ints();
        if (edgeLabels is not null && edgeLabels.Length != edges.Length)
            throw edgeLabelFile!.Error(edgeLabels.Length + 1,
                $"{edgeLabels.Length} edge labels, but {Path.GetFileName(edgeFile.Path)} has {edges.Length} edges");

        var firstNode = new int[graphCount + 1];
        for (int i = n - 1; i >= 0; i--) firstNode[graphOfNode[i] - 1] = i;
        firstNode[graphCount] = n;
        var graphEdges = new List<(int, int)>[graphCount];
        var graphEdgeLabels = new List<int>[graphCount];
        for (int g = 0; g < graphCount; g++)
        {
            graphEdges[g] = new List<(int, int)>();
            graphEdgeLabels[g] = new List<int>();
        }
        for (int line = 0; line < edges.Length; line++)
        {
            var (a, b) = edges[line];
            if (a < 1 || a > n || b < 1 || b > n)
                throw edgeFile.Error(line + 1, $"node id out of range 1 … {n}");
            int g = graphOfNode[a - 1] - 1;
            if (graphOfNode[b - 1] - 1 != g)
                throw edgeFile.Error(line + 1, $"the edge joins graph {g + 1} and graph {graphOfNode[b - 1]}");
            graphEdges[g].Add((a - 1 - firstNode[g], b - 1 - firstNode[g]));
            if (edgeLabels is not null) graphEdgeLabels[g].Add(edgeLabels[line]);
        }

        var classLabels = labels.Distinct().Order().ToArray();
        int nodeLabelMin = nodeLabels is { Length: > 0 } ? nodeLabels.Min() : 0;
        int nodeLabelCount = nodeLabels is { Length: > 0 } ? nodeLabels.Max() - nodeLabelMin + 1 : 0;
        int edgeLabelMin = edgeLabels is { Length: > 0 } ? edgeLabels.Min() : 0;
        int edgeLabelCount = edgeLabels is { Length: > 0 } ? edgeLabels.Max() - edgeLabelMin + 1 : 0;
        var graphs = new TuGraph[graphCount];
        for (int g = 0; g < graphCount; g++)
        {
            int first = firstNode[g], count = firstNode[g + 1] - first;
            graphs[g] = new TuGraph(g, first, count, graphEdges[g].ToArray(),
                edgeLabels is null ? null : graphEdgeLabels[g].ToArray(), labels[g],
                Array.BinarySearch(classLabels, labels[g]),
                nodeLabels?[first..(first + count)],
                attributes?[(first * attributeCount)..((first + count) * attributeCount)], attributeCount);
        }
        return new TuDataset(name, Path.GetFullPath(directory), graphs, classLabels, nodeLabelMin, nodeLabelCount,
            attributeCount, edgeLabelMin, edgeLabelCount);
    }

    /// <summary>
    /// Opt-in download of the official TU zip <c><see cref="DownloadUrl"/>NAME.zip</c> into <c>dataRoot/tu/NAME/</c>
    /// (the zip holds a folder <c>NAME/</c>). Returns the data set as read there (its <see cref="Directory"/> the final
    /// folder). Never called implicitly. Nothing is half written: the zip is extracted into a hidden staging folder next
    /// to the target, read with <see cref="LoadFrom"/> (so a malformed file is reported by name and line), and only then
    /// moved into place; on any failure the staging folder is removed.
    /// </summary>
    /// <param name="name">Data set name as on the TU server (letters, digits, '_' and '-').</param>
    /// <param name="dataRoot">The data folder (the one <c>--data</c> / <c>PLSTM_DATA</c> name); created if missing.</param>
    /// <param name="http">Client to use (tests pass one with a local handler); default a new one.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <exception cref="ArgumentException">Not a data set name (<c>ParamName</c> name).</exception>
    /// <exception cref="IOException"><c>dataRoot/tu/NAME</c> already exists (remove it to download again).</exception>
    /// <exception cref="HttpRequestException">The download failed.</exception>
    /// <exception cref="InvalidDataException">The zip is not a TU data set of that name.</exception>
    public static async Task<TuDataset> DownloadAsync(string name, string dataRoot, HttpClient? http = null,
        CancellationToken cancellationToken = default)
    {
        CheckName(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataRoot);
        var target = Path.Combine(Path.GetFullPath(dataRoot), RootFolder);
        var final = Path.Combine(target, name);
        if (System.IO.Directory.Exists(final) || File.Exists(final))
            throw new IOException($"'{final}' already exists; remove it to download {name} again.");
        System.IO.Directory.CreateDirectory(target);
        var staging = Path.Combine(target, $".{name}.download-{Guid.NewGuid():N}");
        var own = http is null ? new HttpClient() : null;
        try
        {
            var client = http ?? own!;
            using var response = await client.GetAsync(new Uri(DownloadUrl + name + ".zip"), cancellationToken).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            buffer.Position = 0;
            try
            {
                using var zip = new ZipArchive(buffer, ZipArchiveMode.Read);
                zip.ExtractToDirectory(staging);
            }
            catch (InvalidDataException ex)
            {
                throw new InvalidDataException($"The download of {name} is not a readable zip ({ex.Message}).", ex);
            }
            var extracted = Path.Combine(staging, name);
            if (!System.IO.Directory.Exists(extracted))
                throw new InvalidDataException($"The zip of {name} holds no folder '{name}/'.");
            var read = LoadFrom(extracted, name);                                             // every file checked
            System.IO.Directory.Move(extracted, final);
            return read.Relocated(final);
        }
        finally
        {
            own?.Dispose();
            if (System.IO.Directory.Exists(staging)) System.IO.Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>The same data set, read from <paramref name="directory"/> (its files were moved there unchanged).</summary>
    private TuDataset Relocated(string directory) => new(Name, Path.GetFullPath(directory), _graphs, _classLabels,
        NodeLabelMin, NodeLabelCount, NodeAttributeCount, EdgeLabelMin, EdgeLabelCount);

    private static void CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!Regex.IsMatch(name, "^[A-Za-z0-9_\\-]+$"))
            throw new ArgumentException($"'{name}' is not a TU data set name (letters, digits, '_' and '-').", nameof(name));
    }

    /// <summary>One text file of the format, split into lines (CR/LF tolerant), with error reporting by line.</summary>
    private sealed class TuFile
    {
        private TuFile(string path, string[] lines)
        {
            Path = path;
            Lines = lines;
        }

        public string Path { get; }

        public string[] Lines { get; }

        public static TuFile? Read(string path, bool required)
        {
            if (!File.Exists(path))
            {
                if (required) throw new FileNotFoundException($"The TU file {path} is missing.", path);
                return null;
            }
            var text = File.ReadAllText(path, Encoding.UTF8);
            var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
            while (lines.Count > 0 && string.IsNullOrWhiteSpace(lines[^1])) lines.RemoveAt(lines.Count - 1);
            return new TuFile(path, lines.ToArray());
        }

        public InvalidDataException Error(int line, string message) =>
            new($"{System.IO.Path.GetFileName(Path)} line {line}: {message} (file {Path}).");

        public int[] Ints()
        {
            var result = new int[Lines.Length];
            for (int i = 0; i < Lines.Length; i++)
                result[i] = ParseInt(Lines[i], i, "an integer");
            return result;
        }

        public (int, int)[] IntPairs()
        {
            var result = new (int, int)[Lines.Length];
            for (int i = 0; i < Lines.Length; i++)
            {
                if (string.IsNullOrWhiteSpace(Lines[i]))
                    throw Error(i + 1, "empty line, expected 'i, j'");
                var parts = Lines[i].Split(',');
                if (parts.Length != 2)
                    throw Error(i + 1, $"expected 'i, j' (two node ids separated by a comma), got '{Lines[i]}'");
                result[i] = (ParseInt(parts[0], i, "a node id"), ParseInt(parts[1], i, "a node id"));
            }
            return result;
        }

        public (float[] Values, int Columns) FloatRows()
        {
            int columns = -1;
            var values = new List<float>();
            for (int i = 0; i < Lines.Length; i++)
            {
                if (string.IsNullOrWhiteSpace(Lines[i]))
                    throw Error(i + 1, "empty line, expected comma-separated numbers");
                var parts = Lines[i].Split(',');
                if (columns < 0) columns = parts.Length;
                else if (parts.Length != columns)
                    throw Error(i + 1, $"{parts.Length} values, but the first line has {columns}");
                foreach (var p in parts)
                {
                    if (!float.TryParse(p.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                        throw Error(i + 1, $"'{p.Trim()}' is not a number");
                    values.Add(v);
                }
            }
            if (columns < 0) throw Error(1, "the file is empty");
            return (values.ToArray(), columns);
        }

        private int ParseInt(string text, int lineIndex, string what)
        {
            var t = text.Trim();
            if (t.Length == 0) throw Error(lineIndex + 1, $"empty, expected {what}");
            if (!int.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
                throw Error(lineIndex + 1, $"'{t}' is not {what}");
            return v;
        }
    }
}
