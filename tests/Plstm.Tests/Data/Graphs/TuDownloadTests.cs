using System.IO.Compression;
using System.Net;
using Plstm.Data.Graphs;
using Plstm.Tests.Cli;
using Plstm.Tests.Support;

namespace Plstm.Tests.Data.Graphs;

/// <summary>
/// <see cref="TuDataset.DownloadAsync"/> against an in-memory server (no network in tests): a good zip lands as
/// <c>tu/NAME/</c> and reads back; a zip without the folder, a malformed file inside, a failed request or an existing
/// folder leave nothing behind (no half-written data set, no staging folder). <c>plstm data tu</c> refuses bad input
/// with one line before going online.
/// </summary>
public sealed class TuDownloadTests
{
    /// <summary>Serves one response for every request and records the URLs asked for.</summary>
    private sealed class OneResponse(HttpStatusCode status, byte[] body) : HttpMessageHandler
    {
        public List<Uri> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request.RequestUri!);
            return Task.FromResult(new HttpResponseMessage(status) { Content = new ByteArrayContent(body) });
        }
    }

    /// <summary>A zip of a 2-graph TU set in folder <paramref name="folder"/> (path 1–2–3 and edge 4–5), its graph
    /// indicator line 3 replaced by <paramref name="indicatorLine3"/>.</summary>
    private static byte[] Zip(string name, string folder, string indicatorLine3 = "1")
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            void Add(string suffix, params string[] lines)
            {
                using var writer = new StreamWriter(zip.CreateEntry($"{folder}/{name}_{suffix}.txt").Open());
                writer.Write(string.Join("\n", lines) + "\n");
            }
            Add("A", "1, 2", "2, 1", "2, 3", "3, 2", "4, 5", "5, 4");
            Add("graph_indicator", "1", "1", indicatorLine3, "2", "2");
            Add("graph_labels", "0", "1");
            Add("node_labels", "0", "1", "0", "1", "1");
        }
        return buffer.ToArray();
    }

    private static void AssertNothingBesides(string root, params string[] expected) =>
        Assert.Equal(expected.Order(StringComparer.Ordinal),
            Directory.Exists(Path.Combine(root, TuDataset.RootFolder))
                ? Directory.EnumerateFileSystemEntries(Path.Combine(root, TuDataset.RootFolder)).Select(p => Path.GetFileName(p)!)
                    .Order(StringComparer.Ordinal)
                : []);

    [Fact]
    public async Task A_good_zip_lands_complete_and_reads_back()
    {
        using var temp = new TempFolder();
        var server = new OneResponse(HttpStatusCode.OK, Zip("TOY", "TOY"));
        using var http = new HttpClient(server);
        var downloaded = await TuDataset.DownloadAsync("TOY", temp.Path, http);
        string folder = downloaded.Directory;
        Assert.Equal(new Uri(TuDataset.DownloadUrl + "TOY.zip"), Assert.Single(server.Requests));
        Assert.Equal(Path.Combine(temp.Path, TuDataset.RootFolder, "TOY"), folder);
        var data = TuDataset.Load("TOY", temp.Path);
        Assert.Equal([3, 2], data.Graphs.Select(g => g.NodeCount));
        Assert.Equal(data.Graphs.Select(g => g.NodeCount), downloaded.Graphs.Select(g => g.NodeCount));
        Assert.Equal(data.ClassLabels, downloaded.ClassLabels);
        AssertNothingBesides(temp.Path, "TOY");

        // A second download would overwrite it: refused before any request, naming the folder.
        var error = await Assert.ThrowsAsync<IOException>(() => TuDataset.DownloadAsync("TOY", temp.Path, http));
        Assert.Contains(folder, error.Message, StringComparison.Ordinal);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_bad_download_leaves_nothing_behind()
    {
        using var temp = new TempFolder();
        async Task<Exception> Fails(HttpStatusCode status, byte[] body)
        {
            using var http = new HttpClient(new OneResponse(status, body));
            var error = await Record.ExceptionAsync(() => TuDataset.DownloadAsync("TOY", temp.Path, http));
            AssertNothingBesides(temp.Path);
            return Assert.IsAssignableFrom<Exception>(error);
        }

        var wrongFolder = await Fails(HttpStatusCode.OK, Zip("TOY", "OTHER"));
        Assert.IsType<InvalidDataException>(wrongFolder);
        Assert.Contains("no folder 'TOY/'", wrongFolder.Message, StringComparison.Ordinal);
        var malformed = await Fails(HttpStatusCode.OK, Zip("TOY", "TOY", indicatorLine3: "x"));
        Assert.IsType<InvalidDataException>(malformed);
        Assert.Contains("TOY_graph_indicator.txt", malformed.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidDataException>(await Fails(HttpStatusCode.OK, [1, 2, 3]));
        Assert.IsType<HttpRequestException>(await Fails(HttpStatusCode.NotFound, []));
    }

    [Fact]
    public void Plstm_data_tu_refuses_bad_input_with_one_line_before_going_online()
    {
        using var temp = new TempFolder();
        var badName = CliRunner.Run("data", "tu", "NOT A NAME", "--data", temp.Path);
        CliAssert.FailedWithOneLine(badName, "data tu with a bad name");
        Assert.DoesNotContain("(Parameter", badName.Stderr, StringComparison.Ordinal);
        Directory.CreateDirectory(Path.Combine(temp.Path, TuDataset.RootFolder, "MUTAG"));
        var existing = CliRunner.Run("data", "tu", "MUTAG", "--data", temp.Path);
        CliAssert.FailedWithOneLine(existing, "data tu over an existing folder");
        Assert.Contains("already exists", existing.Stderr, StringComparison.Ordinal);
    }
}
