using Plstm.Data;
using Plstm.Data.Graphs;

namespace Plstm.Tests.Data.Graphs;

public sealed class TuDatasetTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "plstm-tu-" + Guid.NewGuid().ToString("N"));

    public TuDatasetTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static string? SharedTu(string name)
    {
        var shared = DataPaths.SharedDataDirectory;
        var dir = shared is null ? null : Path.Combine(shared, TuDataset.RootFolder, name);
        return dir is not null && File.Exists(Path.Combine(dir, name + "_A.txt")) ? dir : null;
    }

    [SkippableFact]
    public void Mutag_parses_with_the_published_statistics()
    {
        var dir = SharedTu("MUTAG");
        Skip.If(dir is null, "MUTAG not found under ../shared/data/tu");
        var data = TuDataset.LoadFrom(dir!, "MUTAG");
        Assert.Equal(188, data.Graphs.Count);
        Assert.Equal([-1, 1], data.ClassLabels);
        Assert.Equal(63, data.Graphs.Count(g => g.Label == -1));
        Assert.Equal(125, data.Graphs.Count(g => g.Label == 1));
        Assert.All(data.Graphs, g => Assert.Equal(g.Label == 1 ? 1 : 0, g.ClassIndex));
        Assert.Equal(3371, data.Graphs.Sum(g => g.NodeCount));
        Assert.Equal(7442, data.Graphs.Sum(g => g.Edges.Count));
        Assert.Equal(3721, data.Graphs.Sum(g => g.UndirectedEdgeCount));
        Assert.Equal(0, data.NodeLabelMin);
        Assert.Equal(7, data.NodeLabelCount);
        Assert.Equal(0, data.NodeAttributeCount);
        Assert.Equal(7, data.NodeFeatureCount);
        Assert.Equal(4, data.EdgeLabelCount);
        Assert.Equal(10, data.Graphs.Min(g => g.NodeCount));
        Assert.Equal(28, data.Graphs.Max(g => g.NodeCount));

        var first = data.Graphs[0];
        Assert.Equal(17, first.NodeCount);
        Assert.Equal(38, first.Edges.Count);
        Assert.Equal((1, 0), first.Edges[0]);                                      // "2, 1" in the file
        Assert.Equal(13, data.Graphs[1].NodeCount);
        Assert.Equal(17, data.Graphs[1].FirstNode);
        var x = data.NodeFeatures(first);
        Assert.Equal(17 * 7, x.Length);
        for (int i = 0; i < 17; i++)
            Assert.Equal(1f, x.Skip(i * 7).Take(7).Sum());

        foreach (var g in data.Graphs)
            foreach (var mode in new[] { GraphMode.P, GraphMode.D })
            {
                var prepared = g.Prepare(mode);
                Assert.Equal(g.UndirectedEdgeCount, prepared.EdgeCount);
                Assert.Equal(g.NodeCount, prepared.NodeCount);
            }
    }

    [SkippableTheory]
    [InlineData("PTC_FM", 349, 2, 18)]
    [InlineData("PROTEINS", 1113, 2, 4)]
    [InlineData("NCI1", 4110, 2, 37)]
    public void Other_tu_sets_parse(string name, int graphs, int classes, int features)
    {
        var dir = SharedTu(name);
        Skip.If(dir is null, $"{name} not found under ../shared/data/tu");
        var data = TuDataset.Load(name, Path.GetDirectoryName(Path.GetDirectoryName(dir))!);
        Assert.Equal(graphs, data.Graphs.Count);
        Assert.Equal(classes, data.ClassCount);
        Assert.Equal(features, data.NodeFeatureCount);
        var g = data.Graphs[^1];
        Assert.Equal(g.NodeCount * features, data.NodeFeatures(g).Length);
    }

    private void Write(string name, string suffix, string text) => File.WriteAllText(Path.Combine(_dir, $"{name}_{suffix}.txt"), text);

    /// <summary>A 2-graph set: graph 1 = path 1–2–3, graph 2 = edge 4–5; node labels 3..5, one attribute.</summary>
    private void WriteToy(string name, string newline, string edgeSeparator = ", ")
    {
        string Lines(params string[] lines) => string.Join(newline, lines) + newline;
        Write(name, "A", Lines($"1{edgeSeparator}2", $"2{edgeSeparator}1", $"2{edgeSeparator}3", $"3{edgeSeparator}2", $"4{edgeSeparator}5", $"5{edgeSeparator}4"));
        Write(name, "graph_indicator", Lines("1", "1", "1", "2", "2"));
        Write(name, "graph_labels", Lines("-1", "1"));
        Write(name, "node_labels", Lines("3", "5", "4", "3", "3"));
        Write(name, "node_attributes", Lines(" 0.5", " 1.5", "-2", "3e1", "0"));
        Write(name, "edge_labels", Lines("0", "0", "1", "1", "2", "2"));
    }

    [Fact]
    public void Crlf_lf_and_spacing_variants_read_the_same()
    {
        WriteToy("LF", "\n");
        WriteToy("CRLF", "\r\n", ",");
        var lf = TuDataset.LoadFrom(_dir, "LF");
        var crlf = TuDataset.LoadFrom(_dir, "CRLF");
        foreach (var data in new[] { lf, crlf })
        {
            Assert.Equal(2, data.Graphs.Count);
            Assert.Equal([3, 2], data.Graphs.Select(g => g.NodeCount));
            Assert.Equal([(0, 1), (1, 0), (1, 2), (2, 1)], data.Graphs[0].Edges);
            Assert.Equal([(0, 1), (1, 0)], data.Graphs[1].Edges);
            Assert.Equal([2, 2], data.Graphs[1].EdgeLabels!);
            Assert.Equal([0, 1], data.Graphs.Select(g => g.ClassIndex));
            Assert.Equal(3, data.NodeLabelMin);
            Assert.Equal(3, data.NodeLabelCount);
            Assert.Equal(1, data.NodeAttributeCount);
            Assert.Equal(4, data.NodeFeatureCount);
            Assert.Equal([0.5f, 1, 0, 0, 1.5f, 0, 0, 1, -2f, 0, 1, 0], data.NodeFeatures(data.Graphs[0]));
            Assert.Equal([30f, 1, 0, 0, 0f, 1, 0, 0], data.NodeFeatures(data.Graphs[1]));
            Assert.Equal(2, data.Graphs[0].Prepare(GraphMode.P).EdgeCount);
        }
    }

    [Fact]
    public void Without_labels_or_attributes_features_are_constant()
    {
        Write("BARE", "A", "1, 2\n2, 1\n");
        Write("BARE", "graph_indicator", "1\n1\n1\n");
        Write("BARE", "graph_labels", "0\n");
        var data = TuDataset.LoadFrom(_dir, "BARE");
        Assert.Equal(1, data.NodeFeatureCount);
        Assert.Equal([1f, 1f, 1f], data.NodeFeatures(data.Graphs[0]));
        Assert.Null(data.Graphs[0].NodeLabels);
        Assert.Null(data.Graphs[0].EdgeLabels);
    }

    public static TheoryData<string, string, string, string> Malformed() => new()
    {
        { "A", "1, 2\n2; 1\n", "BAD_A.txt line 2", "'i, j'" },
        { "A", "1, 2\n2, x\n", "BAD_A.txt line 2", "'x' is not a node id" },
        { "A", "1, 2\n2, 9\n", "BAD_A.txt line 2", "out of range" },
        { "A", "1, 2\n2, 3\n", "BAD_A.txt line 2", "joins graph 1 and graph 2" },
        { "A", "1, 2\n\n2, 1\n", "BAD_A.txt line 2", "empty" },
        { "graph_indicator", "1\n1\n3\n3\n", "BAD_graph_indicator.txt line 3", "non-decreasing" },
        { "graph_labels", "1\n", "BAD_graph_labels.txt line 2", "1 graph labels" },
        { "graph_labels", "1\n1.5\n", "BAD_graph_labels.txt line 2", "'1.5' is not an integer" },
        { "node_labels", "0\n1\n2\n", "BAD_node_labels.txt line 4", "one per node (4)" },
        { "node_attributes", "1\n2\nz\n4\n", "BAD_node_attributes.txt line 3", "'z' is not a number" },
        { "node_attributes", "1,2\n2,3\n3\n4,5\n", "BAD_node_attributes.txt line 3", "the first line has 2" },
        { "edge_labels", "0\n0\n", "BAD_edge_labels.txt line 3", "has 4 edges" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_files_are_rejected_naming_file_and_line(string file, string content, string where, string what)
    {
        // Valid base: 2 graphs (nodes 1–2 and 3–4), each one undirected edge.
        Write("BAD", "A", "1, 2\n2, 1\n3, 4\n4, 3\n");
        Write("BAD", "graph_indicator", "1\n1\n2\n2\n");
        Write("BAD", "graph_labels", "1\n0\n");
        Write("BAD", file, content);
        var ex = Assert.Throws<InvalidDataException>(() => TuDataset.LoadFrom(_dir, "BAD"));
        Assert.Contains(where, ex.Message);
        Assert.Contains(what, ex.Message);
    }

    [Fact]
    public void Missing_files_and_folders_are_reported()
    {
        Write("MISS", "A", "1, 2\n");
        Assert.Throws<FileNotFoundException>(() => TuDataset.LoadFrom(_dir, "MISS"));
        var ex = Assert.Throws<DirectoryNotFoundException>(() => TuDataset.Locate("NOPE", _dir));
        Assert.Contains("NOPE", ex.Message);
        Assert.Throws<ArgumentException>(() => TuDataset.Locate("../x", _dir));
    }

    [Fact]
    public void Locate_searches_the_folder_its_name_and_tu_subfolders()
    {
        var nested = Path.Combine(_dir, TuDataset.RootFolder, "TOY");
        Directory.CreateDirectory(nested);
        File.WriteAllText(Path.Combine(nested, "TOY_A.txt"), "1, 2\n");
        Assert.Equal(Path.GetFullPath(nested), TuDataset.Locate("TOY", _dir));
        Assert.Equal(Path.GetFullPath(nested), TuDataset.Locate("TOY", nested));
    }
}
