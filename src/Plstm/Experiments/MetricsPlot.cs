using System.Text.Json;
using ScottPlot;
using SkiaSharp;

namespace Plstm.Experiments;

/// <summary>One line of <c>metrics.jsonl</c> as the plot needs it.</summary>
/// <param name="Step">Optimiser step.</param>
/// <param name="Split"><c>train</c>, <c>val</c>, …</param>
/// <param name="Loss">Loss, or null.</param>
/// <param name="Accuracy">Accuracy, or null.</param>
public sealed record MetricPoint(long Step, string Split, double? Loss, double? Accuracy);

/// <summary>The metrics of one run, labelled for the legend.</summary>
/// <param name="Label">Legend label (e.g. the model key).</param>
/// <param name="Points">The records, in file order.</param>
public sealed record MetricsSeries(string Label, IReadOnlyList<MetricPoint> Points);

/// <summary>
/// Training curves as a PNG (ScottPlot): a loss panel and an accuracy panel side by side, x = step; per run a solid
/// line for <c>train</c> and a dashed line with markers for <c>val</c>, one colour per run.
/// </summary>
public static class MetricsPlot
{
    /// <summary>Default image width in pixels.</summary>
    public const int DefaultWidth = 1400;

    /// <summary>Default image height in pixels.</summary>
    public const int DefaultHeight = 520;

    /// <summary>
    /// Reads a <c>metrics.jsonl</c> (see <c>Plstm.Training.MetricsWriter</c>). Blank lines and a torn last line are
    /// skipped.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">A line that is not a metrics record (other than a torn last line), or no
    /// record at all.</exception>
    public static IReadOnlyList<MetricPoint> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException(Directory.Exists(path)
                ? $"Metrics file '{path}' is a folder."
                : $"Metrics file '{path}' does not exist.", path);
        var lines = File.ReadAllLines(path);
        int last = Array.FindLastIndex(lines, l => !string.IsNullOrWhiteSpace(l));
        var points = new List<MetricPoint>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            try
            {
                using var doc = JsonDocument.Parse(lines[i]);
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("step", out var step)
                    || !step.TryGetInt64(out long s) || !root.TryGetProperty("split", out var split)
                    || split.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException(
                        $"Metrics file '{path}', line {i + 1}: not a metrics record (needs \"step\" and \"split\").");
                points.Add(new MetricPoint(s, split.GetString()!, Number(root, "loss"), Number(root, "acc")));
            }
            catch (JsonException ex)
            {
                if (i == last) continue; // torn last line of a crashed run
                throw new InvalidDataException($"Metrics file '{path}', line {i + 1}: not JSON ({ex.Message}).", ex);
            }
        }
        if (points.Count == 0) throw new InvalidDataException($"Metrics file '{path}' holds no metrics records.");
        return points;
    }

    private static double? Number(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d)
            && double.IsFinite(d) ? d : null;

    /// <summary>Renders the curves of <paramref name="series"/> as PNG bytes.</summary>
    /// <exception cref="ArgumentException">No series, or a size below 200×150.</exception>
    public static byte[] RenderPng(IReadOnlyList<MetricsSeries> series, string? title = null,
        int width = DefaultWidth, int height = DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0) throw new ArgumentException("Nothing to plot: no metrics.", nameof(series));
        if (width < 200 || height < 150)
            throw new ArgumentException($"The image must be at least 200×150 pixels (got {width}×{height}).");

        var palette = new ScottPlot.Palettes.Category10();
        var loss = new Plot();
        var accuracy = new Plot();
        for (int i = 0; i < series.Count; i++)
        {
            var color = palette.GetColor(i);
            AddCurves(loss, series[i], p => p.Loss, color, series.Count > 1 ? series[i].Label + " " : "");
            AddCurves(accuracy, series[i], p => p.Accuracy, color, series.Count > 1 ? series[i].Label + " " : "");
        }
        Style(loss, title is null ? "loss" : $"{title} — loss", "loss");
        Style(accuracy, title is null ? "accuracy" : $"{title} — accuracy", "accuracy");

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var surface = SKSurface.Create(info)
            ?? throw new InvalidOperationException($"Cannot create a {width}×{height} drawing surface.");
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        // Each panel is drawn on its own surface (a plot fills its whole canvas), then placed side by side.
        int left = width / 2;
        DrawPanel(canvas, loss, 0, left, height);
        DrawPanel(canvas, accuracy, left, width - left, height);
        canvas.Flush();
        using var image = surface.Snapshot();
        using var encoded = image.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException("PNG encoding failed.");
        return encoded.ToArray();
    }

    private static void DrawPanel(SKCanvas canvas, Plot plot, int x, int width, int height)
    {
        using var panel = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"Cannot create a {width}×{height} drawing surface.");
        panel.Canvas.Clear(SKColors.White);
        plot.Render(panel);
        using var image = panel.Snapshot();
        canvas.DrawImage(image, x, 0);
    }

    private static void AddCurves(Plot plot, MetricsSeries series, Func<MetricPoint, double?> value, ScottPlot.Color color,
        string prefix)
    {
        foreach (string split in series.Points.Select(p => p.Split).Distinct())
        {
            var points = series.Points.Where(p => p.Split == split && value(p) is not null)
                .GroupBy(p => p.Step).Select(g => g.Last()).OrderBy(p => p.Step).ToArray();
            if (points.Length == 0) continue;
            double[] xs = points.Select(p => (double)p.Step).ToArray();
            double[] ys = points.Select(p => value(p)!.Value).ToArray();
            var scatter = plot.Add.Scatter(xs, ys, color);
            scatter.LegendText = prefix + split;
            bool train = split == "train";
            scatter.LineWidth = train ? 1.5f : 2f;
            scatter.MarkerSize = train ? 0 : 6;
            if (!train) scatter.LinePattern = LinePattern.Dashed;
        }
    }

    private static void Style(Plot plot, string title, string yLabel)
    {
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel(yLabel);
        plot.ShowLegend(Edge.Right);
    }
}
