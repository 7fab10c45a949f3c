using System.Text.Json;
using Plstm.Data.ArrowPointing;
using Plstm.Data.Images;
using Plstm.Tests.Cli;

namespace Plstm.Tests.Data;

/// <summary>
/// Runs <c>plstm data arrows</c> end to end (in-process, through the CLI's entry point) into a temporary folder.
/// </summary>
public sealed class DataArrowsCliTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "plstm-cli-arrows-" + Guid.NewGuid().ToString("N"));

    public DataArrowsCliTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Arrows_verb_writes_the_images_and_labels()
    {
        string output = Path.Combine(_root, "out");

        var (exitCode, stdout, stderr) = CliRunner.Run("data", "arrows", "--seed", "42", "--size", "192", "--count", "6",
            "--out", output, "--scale", "4");
        Assert.True(exitCode == 0, $"exit code {exitCode}: {stderr}");
        Assert.Contains("wrote 6 images of 48×48", stdout);

        var generator = new ArrowPointingGenerator(ArrowPointingSettings.Paper(192, 42).Scaled(4));
        string[] lines = File.ReadAllLines(Path.Combine(output, "labels.jsonl"));
        Assert.Equal(6, lines.Length);
        for (int i = 0; i < 6; i++)
        {
            var expected = generator.GetSample(i);
            using var json = JsonDocument.Parse(lines[i]);
            Assert.Equal(i, json.RootElement.GetProperty("index").GetInt32());
            Assert.Equal(expected.Label, json.RootElement.GetProperty("label").GetInt32());
            Assert.Equal(expected.Phi, json.RootElement.GetProperty("phi").GetDouble());
            Assert.Equal(generator.Render(expected), PngReader.ReadFile(Path.Combine(output, $"{i:00000}.png")).Pixels);
        }
        Assert.Equal(7, Directory.GetFiles(output).Length);
        Assert.Equal([output], Directory.GetDirectories(_root)); // no staging folder left behind

        // Writing again into the now non-empty folder is refused with one line and exit code 2; nothing changes.
        (exitCode, _, stderr) = CliRunner.Run("data", "arrows", "--seed", "1", "--size", "192", "--count", "2", "--out", output);
        Assert.Equal(2, exitCode);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Equal(lines, File.ReadAllLines(Path.Combine(output, "labels.jsonl")));
    }

    [Fact]
    public void Arrows_verb_rejects_bad_flags_with_one_line()
    {
        string output = Path.Combine(_root, "never");
        string[][] badCommands =
        [
            ["data", "arrows", "--seed", "-1", "--size", "192", "--count", "2", "--out", output],
            ["data", "arrows", "--seed", "1", "--size", "192", "--count", "0", "--out", output],
            ["data", "arrows", "--seed", "1", "--size", "192", "--count", "2", "--out", output, "--scale", "5"],
            ["data", "arrows", "--seed", "1", "--size", "96", "--count", "2", "--out", output],
            ["data", "arrows", "--seed", "x", "--size", "192", "--count", "2", "--out", output],
            ["data", "arrows", "--size", "192", "--count", "2", "--out", output],
        ];
        foreach (var args in badCommands)
        {
            var (exitCode, _, stderr) = CliRunner.Run(args);
            Assert.True(exitCode != 0, $"'{string.Join(' ', args)}' succeeded");
            Assert.StartsWith("plstm: error: ", stderr);
            Assert.Single(stderr.Trim().Split('\n'));
        }
        Assert.Empty(Directory.GetFileSystemEntries(_root));
    }
}
