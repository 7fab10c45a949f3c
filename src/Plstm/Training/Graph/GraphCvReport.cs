using System.Globalization;
using System.Text;

namespace Plstm.Training.Graph;

/// <summary>The markdown form of a <see cref="GraphCvResult"/> (<c>summary.md</c>): one row per fold and the mean ± std
/// of the test accuracy at the best-validation epoch.</summary>
public static class GraphCvReport
{
    /// <summary>The summary as a markdown document (invariant culture).</summary>
    public static string ToMarkdown(GraphCvResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var inv = CultureInfo.InvariantCulture;
        var o = result.Options;
        var text = new StringBuilder();
        text.AppendLine(inv, $"# pLSTM graph classification: {result.Dataset}, {result.Folds.Count} fold(s)");
        text.AppendLine();
        if (result.Interrupted)
        {
            text.AppendLine("**Interrupted**: only the folds below were finished.");
            text.AppendLine();
        }
        if (o is not null)
        {
            text.AppendLine(string.Create(inv,
                $"{result.GraphCount} graphs, {result.ClassCount} classes, {result.NodeFeatureCount} node features, {result.ParameterCount:N0} parameters; "
                + $"{o.Folds}-fold CV (split seed {o.SplitSeed}), {o.Epochs} epochs, batch {o.BatchSize}, lr {o.LearningRate:G}, "
                + $"seed {o.Seed}, transition input {o.TransitionInput}, P normalisation {o.PNormalization}, "
                + $"layers computed in {(o.ComputeDtype ?? TorchSharp.torch.ScalarType.Float32).ToString().ToLowerInvariant()}, device {o.Device}."));
            text.AppendLine();
        }
        string auc = result.MeanTestRocAuc is double a ? string.Create(inv, $", macro ROC-AUC {a:F4}") : "";
        string mean = string.Create(inv,
            $"**Test accuracy {result.MeanTestAccuracy:F4} ± {result.StdTestAccuracy:F4}** (population std; sample std {result.SampleStdTestAccuracy:F4})");
        text.AppendLine(mean + auc + ". Each fold's test accuracy is that of its best-validation checkpoint.");
        text.AppendLine();
        text.AppendLine("| fold | test acc | best val acc | best epoch | final train acc | majority class | ROC-AUC | seconds |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var f in result.Folds)
        {
            text.AppendLine(string.Create(inv,
                $"| {f.Fold} | {f.TestAccuracy:F4} | {f.BestValidationAccuracy:F4} | {f.BestEpoch} | {f.FinalTrainAccuracy:F3} | "
                + $"{f.MajorityTestAccuracy:F3} | {(f.TestRocAuc is double r ? r.ToString("F4", inv) : "–")} | {f.Seconds:F0} |"));
        }
        text.AppendLine();
        text.AppendLine(inv, $"Wall-clock time of this run: {result.Seconds:F0} s.");
        return text.ToString();
    }
}
