using System.CommandLine;
using Plstm.Data;
using Plstm.Experiments;
using Plstm.Training;

namespace Plstm.Cli.Commands;

/// <summary>
/// <c>plstm plot --metrics PATH… --out curves.png</c>: training curves (loss and accuracy against the step, train and
/// validation, one colour per run) from <c>metrics.jsonl</c> files, as a PNG (ScottPlot). A PATH may be a
/// <c>metrics.jsonl</c>, a run folder holding one, or an experiment folder whose model subfolders hold one each. The
/// PNG is written atomically, only once everything was read and drawn.
/// </summary>
public sealed class PlotCommand : IVerb
{
    /// <inheritdoc />
    public Command Create()
    {
        var metrics = new Option<string[]>("--metrics")
        {
            Description = "metrics.jsonl file, or a folder holding one (or model subfolders that do); repeat for several runs.",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string>("--out") { Description = "PNG file to write.", Required = true };
        OptionChecks.Add(output, v => !string.IsNullOrWhiteSpace(v), "--out must name a file.");
        var title = new Option<string?>("--title") { Description = "Title prefix of the panels." };
        var width = new Option<int>("--width") { Description = "Image width in pixels.", DefaultValueFactory = _ => MetricsPlot.DefaultWidth };
        OptionChecks.Add(width, v => v is >= 200 and <= 10_000, "--width must be in 200 … 10000.");
        var height = new Option<int>("--height") { Description = "Image height in pixels.", DefaultValueFactory = _ => MetricsPlot.DefaultHeight };
        OptionChecks.Add(height, v => v is >= 150 and <= 10_000, "--height must be in 150 … 10000.");

        var plot = new Command("plot", "Plot training curves from metrics.jsonl files to a PNG.")
        {
            metrics, output, title, width, height,
        };
        plot.SetAction(parseResult =>
        {
            var series = OptionChecks.Usage(() => Collect(parseResult.GetValue(metrics)!));
            string target = Path.GetFullPath(parseResult.GetValue(output)!);
            if (Directory.Exists(target)) throw new CliUsageException($"--out '{parseResult.GetValue(output)}' is a folder.");
            byte[] png = MetricsPlot.RenderPng(series, parseResult.GetValue(title), parseResult.GetValue(width),
                parseResult.GetValue(height));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            AtomicFile.WriteAllBytes(target, png);
            var writer = parseResult.InvocationConfiguration.Output;
            writer.WriteLine($"wrote {target} ({series.Count} run(s): {string.Join(", ", series.Select(s => s.Label))})");
            writer.Flush();
            return PlstmApp.Success;
        });
        return plot;
    }

    /// <summary>Resolves the paths to metrics files and reads them, labelled by their folder names.</summary>
    private static List<MetricsSeries> Collect(IEnumerable<string> paths)
    {
        var series = new List<MetricsSeries>();
        foreach (string path in paths)
        {
            var files = new List<string>();
            if (Directory.Exists(path))
            {
                string direct = Path.Combine(path, MetricsWriter.JsonLinesFileName);
                if (File.Exists(direct)) files.Add(direct);
                else
                    files.AddRange(Directory.GetDirectories(path).Order(StringComparer.Ordinal)
                        .Select(d => Path.Combine(d, MetricsWriter.JsonLinesFileName)).Where(File.Exists));
                if (files.Count == 0)
                    throw new FileNotFoundException($"--metrics '{path}': no {MetricsWriter.JsonLinesFileName} in the folder or its subfolders.");
            }
            else
            {
                files.Add(path);
            }
            foreach (string file in files)
            {
                string label = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(file))) ?? file;
                series.Add(new MetricsSeries(label, MetricsPlot.Read(file)));
            }
        }
        return series;
    }
}
