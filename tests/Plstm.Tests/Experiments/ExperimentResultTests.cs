using Plstm.Tests.Support;
using Plstm.Experiments;

namespace Plstm.Tests.Experiments;

/// <summary>results.json / results.md and the metrics reader behind the curves.</summary>
public sealed class ExperimentResultTests
{
    private static ExperimentResult Sample() => new("ape-small", "arrows", 100, 64, 43, "cpu", 12.5,
    [
        new ModelResult("plstm", "plstm_vit_tiny", 218_938, 1e-3, 100, 40, 0.4, 0.9, 100, 0.9,
            [new NamedEvaluation("test", 64, 0.3, 0.91, 1024), new NamedEvaluation("test-ext", 128, 0.6, 0.75, 1024)]),
        new ModelResult("vit", "vit_tiny", 216_642, 1e-3, 100, 9, 0.09, 0.8, 100, 0.8,
            [new NamedEvaluation("test", 64, 0.5, 0.81, 1024), new NamedEvaluation("test-ext", 128, 0.7, 0.6, 1024)]),
    ]);

    [Fact]
    public void Markdown_has_one_row_per_model_and_one_column_per_evaluation()
    {
        string md = Sample().ToMarkdown();
        Assert.Contains("| model | preset | params | lr | steps | s/step | train time | best val acc | test acc @64 | test-ext acc @128 |", md);
        Assert.Contains("| plstm | plstm_vit_tiny | 218,938 | 1e-3 | 100 | 0.400 | 40.0s | 0.900 | 0.910 | 0.750 |", md);
        Assert.Contains("| vit | vit_tiny | 216,642 | 1e-3 | 100 | 0.090 | 9.0s | 0.800 | 0.810 | 0.600 |", md);
    }

    [Fact]
    public void Json_round_trips()
    {
        var sample = Sample();
        var back = ExperimentResult.FromJson(sample.ToJson());
        Assert.Equal(sample.Models.Select(m => m.Evaluations.ToArray()), back.Models.Select(m => m.Evaluations.ToArray()));
        Assert.Equal(sample with { Models = [] }, back with { Models = [] });
        Assert.Contains("\"seconds_per_step\": 0.4", sample.ToJson());
    }

    [Fact]
    public void Metrics_reader_skips_a_torn_last_line_but_not_a_broken_middle_line()
    {
        using var temp = new TempFolder();
        string path = temp.File("metrics.jsonl");
        File.WriteAllText(path, "{\"step\":1,\"split\":\"train\",\"loss\":2.0,\"acc\":null}\n\n{\"step\":1,\"split\":\"val\",\"loss\":1.5,\"acc\":0.5}\n{\"step\":2,\"spl");
        var points = MetricsPlot.Read(path);
        Assert.Equal([new MetricPoint(1, "train", 2.0, null), new MetricPoint(1, "val", 1.5, 0.5)], points);

        File.WriteAllText(path, "{\"step\":1,\"split\":\"train\"}\n{oops\n{\"step\":2,\"split\":\"train\"}\n");
        Assert.Throws<InvalidDataException>(() => MetricsPlot.Read(path));
        File.WriteAllText(path, "\n");
        Assert.Throws<InvalidDataException>(() => MetricsPlot.Read(path));
        Assert.Throws<FileNotFoundException>(() => MetricsPlot.Read(temp.File("none.jsonl")));
    }
}
