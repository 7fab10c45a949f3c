using System.Text.Json;
using Plstm.Data.ArrowPointing;
using Plstm.Data.Images;

namespace Plstm.Tests.Data;

/// <summary>Writing a dataset folder: PNG files, labels.jsonl, all-or-nothing behaviour.</summary>
public sealed class ArrowPointingExportTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "plstm-export-tests-" + Guid.NewGuid().ToString("N"));

    public ArrowPointingExportTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Writes_images_and_labels_that_match_the_generator()
    {
        var settings = ArrowPointingSettings.Paper(192, 42).Scaled(2);
        string output = Path.Combine(_root, "nested", "arrows");
        var result = ArrowPointingExport.Write(settings, 12, output);
        Assert.Equal(Path.GetFullPath(output), result.Folder);
        Assert.Equal((12L, 96), (result.Count, result.ImageSize));

        var generator = new ArrowPointingGenerator(settings);
        string[] lines = File.ReadAllLines(Path.Combine(output, "labels.jsonl"));
        Assert.Equal(12, lines.Length);
        Assert.Equal(13, Directory.GetFiles(output).Length);
        long positives = 0;
        for (int i = 0; i < 12; i++)
        {
            var expected = generator.GetSample(i);
            using var json = JsonDocument.Parse(lines[i]);
            var o = json.RootElement;
            Assert.Equal(["index", "label", "L", "W", "ax", "ay", "phi", "cx", "cy", "r"], o.EnumerateObject().Select(p => p.Name));
            Assert.Equal(i, o.GetProperty("index").GetInt64());
            Assert.Equal(expected.Label, o.GetProperty("label").GetInt32());
            Assert.Equal(expected.Length, o.GetProperty("L").GetInt32());
            Assert.Equal(expected.Width, o.GetProperty("W").GetInt32());
            // Doubles are written in round-trip form: they read back bit for bit.
            Assert.Equal(expected.Ax, o.GetProperty("ax").GetDouble());
            Assert.Equal(expected.Ay, o.GetProperty("ay").GetDouble());
            Assert.Equal(expected.Phi, o.GetProperty("phi").GetDouble());
            Assert.Equal(expected.Cx, o.GetProperty("cx").GetDouble());
            Assert.Equal(expected.Cy, o.GetProperty("cy").GetDouble());
            Assert.Equal(expected.Radius, o.GetProperty("r").GetDouble());
            positives += expected.Label;

            var png = PngReader.ReadFile(Path.Combine(output, $"{i:00000}.png"));
            Assert.Equal((96, 96, 1), (png.Width, png.Height, png.Channels));
            Assert.Equal(generator.Render(expected), png.Pixels);
        }
        Assert.Equal(positives, result.Positives);
        // Only the target folder exists next to it: the staging folder was renamed, not copied.
        Assert.Equal([Path.GetFullPath(output)], Directory.GetDirectories(Path.Combine(_root, "nested")));
    }

    [Fact]
    public void Refuses_a_non_empty_target_and_leaves_no_staging_folder()
    {
        string output = Path.Combine(_root, "busy");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "keep.txt"), "x");
        Assert.Throws<IOException>(() => ArrowPointingExport.Write(ArrowPointingSettings.Paper(192, 1), 3, output));
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(output).Select(Path.GetFileName));
        Assert.Equal([output], Directory.GetDirectories(_root));
    }

    [Fact]
    public void An_empty_target_folder_is_filled()
    {
        string output = Path.Combine(_root, "empty");
        Directory.CreateDirectory(output);
        ArrowPointingExport.Write(ArrowPointingSettings.Paper(192, 1).Scaled(4), 2, output);
        Assert.Equal(["00000.png", "00001.png", "labels.jsonl"],
            Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Cancellation_removes_the_partial_output()
    {
        string output = Path.Combine(_root, "cancelled");
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            ArrowPointingExport.Write(ArrowPointingSettings.Paper(192, 1), 50, output, cts.Token));
        Assert.False(Directory.Exists(output));
        Assert.Empty(Directory.GetFileSystemEntries(_root));
    }

    [Theory]
    [InlineData(0, 10, "00000.png")]
    [InlineData(99_999, 100_000, "99999.png")]
    [InlineData(7, 100_001, "000007.png")]
    [InlineData(123_456, 200_000, "123456.png")]
    public void Image_file_names_are_zero_padded_to_the_dataset_size(long index, long count, string expected)
    {
        Assert.Equal(expected, ArrowPointingExport.ImageFileName(index, count));
    }
}
