using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Plstm.Training;

namespace Plstm.Experiments;

/// <summary>One evaluation of a trained model.</summary>
/// <param name="Name">Split name (<c>test</c>, <c>test-ext</c>, …).</param>
/// <param name="ImageSize">Image side in pixels.</param>
/// <param name="Loss">Mean cross-entropy.</param>
/// <param name="Accuracy">Top-1 accuracy in [0, 1].</param>
/// <param name="Count">Images evaluated.</param>
/// <param name="Augmentation">Null for the images as given; else the test-time augmentation whose averaged class
/// probabilities were scored (<see cref="TestTimeAugmentationNames.ToName"/>: <c>flips</c>, <c>d4</c>).</param>
public sealed record NamedEvaluation(string Name, int ImageSize, double Loss, double Accuracy, int Count,
    string? Augmentation = null)
{
    /// <summary><c>test @64</c>, or <c>test @64 d4</c> with an augmentation.</summary>
    public string Describe() => Augmentation is null ? $"{Name} @{ImageSize}" : $"{Name} @{ImageSize} {Augmentation}";
}

/// <summary>What one model of an experiment achieved.</summary>
/// <param name="Key">Model key (output subfolder).</param>
/// <param name="Preset">Registry preset.</param>
/// <param name="Parameters">Parameter elements.</param>
/// <param name="LearningRate">Peak learning rate.</param>
/// <param name="Steps">Steps completed.</param>
/// <param name="TrainSeconds">Wall time of the training call (including periodic validation) in this run.</param>
/// <param name="SecondsPerStep">Mean time of a training step (forward, backward, update; no validation) in this
/// run, or null when no step ran.</param>
/// <param name="BestValidationAccuracy">Best validation accuracy, or null without validation.</param>
/// <param name="BestStep">Step of the best validation accuracy.</param>
/// <param name="FinalValidationAccuracy">Validation accuracy at the last step, or null.</param>
/// <param name="Evaluations">The final evaluations (of the last weights).</param>
/// <param name="CurriculumStageSteps">With the symmetry curriculum: the step at which each stage after 0 began
/// (its length is the final stage, 4 = raw images); null without it.</param>
public sealed record ModelResult(string Key, string Preset, long Parameters, double LearningRate, long Steps,
    double TrainSeconds, double? SecondsPerStep, double? BestValidationAccuracy, long? BestStep,
    double? FinalValidationAccuracy, IReadOnlyList<NamedEvaluation> Evaluations,
    IReadOnlyList<long>? CurriculumStageSteps = null);

/// <summary>
/// The outcome of an experiment: <c>results.json</c> (<see cref="ToJson"/>) and <c>results.md</c>
/// (<see cref="ToMarkdown"/>).
/// </summary>
/// <param name="Experiment">Experiment name.</param>
/// <param name="Data">Data description.</param>
/// <param name="Steps">Steps per model.</param>
/// <param name="BatchSize">Batch size.</param>
/// <param name="Seed">Run seed.</param>
/// <param name="Device">Device.</param>
/// <param name="WallSeconds">Wall time of the whole run (this invocation).</param>
/// <param name="Models">Per-model results, in training order.</param>
public sealed record ExperimentResult(string Experiment, string Data, long Steps, int BatchSize, long Seed,
    string Device, double WallSeconds, IReadOnlyList<ModelResult> Models)
{
    /// <summary>File name of the JSON results (written last, atomically: its presence marks a complete run).</summary>
    public const string JsonFileName = "results.json";

    /// <summary>File name of the markdown table.</summary>
    public const string MarkdownFileName = "results.md";

    /// <summary>File name of the training curves.</summary>
    public const string CurvesFileName = "curves.png";

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Parses <see cref="ToJson"/>'s output.</summary>
    /// <exception cref="InvalidDataException">Not a results file.</exception>
    public static ExperimentResult FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<ExperimentResult>(json, Options)
                ?? throw new InvalidDataException("The results file is empty.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Not a results file: {ex.Message}", ex);
        }
    }

    /// <summary>The results table (markdown), one row per model, one accuracy column per evaluation.</summary>
    public string ToMarkdown()
    {
        var columns = Models.SelectMany(m => m.Evaluations).Select(e => (e.Name, e.ImageSize, e.Augmentation)).Distinct()
            .ToList();
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.Append(inv, $"# {Experiment}\n\n{Data}; {Steps} steps of {BatchSize}, seed {Seed}, {Device}.\n\n");
        text.Append("| model | preset | params | lr | steps | s/step | train time | best val acc |");
        foreach (var (name, size, augmentation) in columns)
            text.Append(inv, $" {name} acc @{size}{(augmentation is null ? "" : " " + augmentation)} |");
        text.Append("\n|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var _ in columns) text.Append("---:|");
        text.Append('\n');
        foreach (var m in Models)
        {
            text.Append(inv, $"| {m.Key} | {m.Preset} | {m.Parameters:N0} | {m.LearningRate:0.###e+0} | {m.Steps} | ");
            text.Append(m.SecondsPerStep is double s ? s.ToString("0.000", inv) : "–");
            text.Append(" | ").Append(FormatDuration(m.TrainSeconds)).Append(" | ");
            text.Append(m.BestValidationAccuracy is double v ? v.ToString("0.000", inv) : "–").Append(" |");
            foreach (var (name, size, augmentation) in columns)
            {
                var e = m.Evaluations.FirstOrDefault(x => x.Name == name && x.ImageSize == size
                    && x.Augmentation == augmentation);
                text.Append(' ').Append(e is null ? "–" : e.Accuracy.ToString("0.000", inv)).Append(" |");
            }
            text.Append('\n');
        }
        foreach (var m in Models.Where(m => m.CurriculumStageSteps is not null))
        {
            var stages = m.CurriculumStageSteps!;
            text.Append(inv, $"\n{m.Key}: symmetry curriculum at stage {stages.Count} of {SymmetryCurriculum.FinalStage} at the end");
            if (stages.Count > 0) text.Append(inv, $" (stages 1–{stages.Count} began at steps {string.Join(", ", stages)})");
            text.Append(".\n");
        }
        return text.ToString();
    }

    /// <summary><c>12m34s</c>, <c>1h02m</c> or <c>45.2s</c>.</summary>
    public static string FormatDuration(double seconds)
    {
        if (!double.IsFinite(seconds) || seconds < 0) return "–";
        var t = TimeSpan.FromSeconds(seconds);
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m"
            : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds:00}s"
            : seconds.ToString("0.0", CultureInfo.InvariantCulture) + "s";
    }
}
