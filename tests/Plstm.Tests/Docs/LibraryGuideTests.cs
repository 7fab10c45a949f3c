using Plstm.Data;
using Plstm.Tests.Support;

namespace Plstm.Tests.Docs;

/// <summary>
/// docs/library.md's example: its code block is the marked region of <c>LibraryGuideExample.cs</c> character for
/// character, and that code runs (a few steps) and writes what the guide says.
/// </summary>
public class LibraryGuideTests
{
    private const string Start = "// region: library-guide\n";
    private const string End = "// endregion: library-guide";

    [Fact]
    public void The_guide_shows_the_compiled_example_verbatim()
    {
        string root = DataPaths.FindRepositoryRoot(AppContext.BaseDirectory)
            ?? throw new InvalidOperationException("repository root not found");
        string source = File.ReadAllText(Path.Combine(root, "tests", "Plstm.Tests", "Docs", "LibraryGuideExample.cs"))
            .Replace("\r\n", "\n", StringComparison.Ordinal);
        int from = source.IndexOf(Start, StringComparison.Ordinal), to = source.IndexOf(End, StringComparison.Ordinal);
        Assert.True(from >= 0 && to > from, "the example's markers are missing");
        string code = source[(from + Start.Length)..to];
        string guide = File.ReadAllText(Path.Combine(root, "docs", "library.md")).Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.Contains("```csharp\n" + code + "```\n", guide, StringComparison.Ordinal);
    }

    [Fact]
    public void The_example_trains_saves_reloads_and_evaluates()
    {
        using var temp = new TempFolder();
        string folder = temp.File("run");
        double accuracy = MyApp.ArrowsExample.TrainAndReload(steps: 3, trainImages: 64, outputFolder: folder);
        Assert.InRange(accuracy, 0.0, 1.0);
        foreach (string file in new[] { "metrics.jsonl", "last.ckpt", "weights.safetensors" })
            Assert.True(File.Exists(Path.Combine(folder, file)), $"{file} was not written");
    }
}
