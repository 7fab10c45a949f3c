using Plstm.Tests.Support;
using System.Globalization;

namespace Plstm.Tests.Cli;

/// <summary><c>plstm plot</c>: metrics.jsonl files → a valid PNG of the requested size.</summary>
public sealed class PlotCliTests
{
    [Fact]
    public void Plot_writes_a_png_of_the_requested_size()
    {
        using var temp = new TempFolder();
        string runA = WriteMetrics(Path.Combine(temp.Path, "exp", "plstm"), 0.7);
        WriteMetrics(Path.Combine(temp.Path, "exp", "vit"), 0.9);
        string output = Path.Combine(temp.Path, "figures", "curves.png");

        // A single file …
        var run = CliRunner.Run("plot", "--metrics", Path.Combine(runA, "metrics.jsonl"), "--out", output,
            "--width", "640", "--height", "300", "--title", "test");
        CliAssert.Succeeded(run, "plot one file");
        Assert.Contains("1 run(s): plstm", run.Stdout);
        Assert.Equal((640, 300), CliAssert.IsPng(output));
        Assert.True(new FileInfo(output).Length > 5_000, "the PNG is suspiciously small");

        // … and an experiment folder with one metrics file per model (overwrites the PNG atomically).
        run = CliRunner.Run("plot", "--metrics", Path.Combine(temp.Path, "exp"), "--out", output);
        CliAssert.Succeeded(run, "plot a folder");
        Assert.Contains("2 run(s): plstm, vit", run.Stdout);
        Assert.Equal((1400, 520), CliAssert.IsPng(output));
        Assert.Equal(["curves.png"], Directory.GetFiles(Path.GetDirectoryName(output)!).Select(Path.GetFileName));
    }

    /// <summary>A metrics.jsonl with 50 falling training losses, 5 validation points and a torn last line.</summary>
    private static string WriteMetrics(string folder, double scale)
    {
        Directory.CreateDirectory(folder);
        var lines = new List<string>();
        for (int step = 10; step <= 500; step += 10)
        {
            double loss = scale * Math.Exp(-step / 200.0);
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{{\"step\":{step},\"epoch\":0,\"split\":\"train\",\"loss\":{loss},\"acc\":{1 - loss / 2},\"lr\":0.001,\"grad_norm\":1,\"images_per_s\":100,\"time\":1}}"));
            if (step % 100 == 0)
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"step\":{step},\"epoch\":0,\"split\":\"val\",\"loss\":{loss * 1.1},\"acc\":{1 - loss / 1.8},\"lr\":null,\"grad_norm\":null,\"images_per_s\":300,\"time\":1}}"));
        }
        File.WriteAllText(Path.Combine(folder, "metrics.jsonl"), string.Join("\n", lines) + "\n{\"step\":51");
        return folder;
    }
}
