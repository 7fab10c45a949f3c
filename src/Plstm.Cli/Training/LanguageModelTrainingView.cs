using System.Globalization;
using Plstm.Training.Language;

namespace Plstm.Cli.Training;

/// <summary>
/// Plain progress lines of <c>plstm train lm</c>, one per <c>--log-every</c> steps (averaged over them, and the first
/// step) and one per evaluation, e.g.
/// <c>[lm_tiny] step 100/1000 loss 1.8342 (2.646 bits) lr 2.0e-3 6123 bytes/s eta 4m10s</c> and
/// <c>[lm_tiny] val step 100: 1.9012 nats/byte, 2.7429 bits/byte</c>. A run limited by a time budget only shows the
/// step without a total.
/// </summary>
public sealed class LanguageModelTrainingView(TextWriter output, string tag, long logEvery)
{
    private double _loss, _seconds;
    private long _bytes;
    private int _count;

    /// <summary>Handles one report of the trainer.</summary>
    public void Report(LanguageModelTrainingProgress p)
    {
        ArgumentNullException.ThrowIfNull(p);
        var inv = CultureInfo.InvariantCulture;
        string step = p.TotalSteps >= LanguageModelTrainingOptions.UnboundedSteps
            ? p.Step.ToString(inv)
            : string.Create(inv, $"{p.Step}/{p.TotalSteps}");
        if (p.Split != "train")
        {
            output.WriteLine(string.Create(inv,
                $"[{tag}] val step {step}: {p.Loss:0.0000} nats/byte, {p.BitsPerByte:0.0000} bits/byte"));
            output.Flush();
            return;
        }
        double seconds = p.BytesPerSecond > 0 ? 1.0 / p.BytesPerSecond : 0;          // per byte; scaled below
        _loss += p.Loss;
        _count++;
        _bytes += 1;
        _seconds += seconds;
        bool last = p.Eta is { TotalSeconds: < 1e-9 } || p.Step == p.TotalSteps;
        if (p.Step % logEvery != 0 && p.Step != 1 && !last) return;
        // Every step processes the same number of bytes, so the mean rate is the harmonic mean of the step rates.
        double rate = _seconds > 0 ? _bytes / _seconds : 0;
        double loss = _loss / _count;
        string eta = p.Eta is TimeSpan e ? $" eta {TrainingView.FormatEta(e)}" : "";
        output.WriteLine(string.Create(inv,
            $"[{tag}] step {step} loss {loss:0.0000} ({loss / Math.Log(2):0.000} bits) lr {TrainingView.FormatLearningRate(p.LearningRate ?? 0)} {rate:0} bytes/s{eta}"));
        output.Flush();
        _loss = _seconds = 0;
        _bytes = 0;
        _count = 0;
    }
}
