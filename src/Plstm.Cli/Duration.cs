using System.Globalization;
using System.Text.RegularExpressions;

namespace Plstm.Cli;

/// <summary>Parses the durations of options such as <c>--time-budget</c>: seconds as a plain number, or parts with
/// units <c>h</c>, <c>m</c>/<c>min</c>, <c>s</c> (<c>600</c>, <c>90s</c>, <c>10m</c>, <c>1.5h</c>, <c>1h30m</c>).</summary>
public static partial class Duration
{
    /// <summary>The duration in seconds, or null when <paramref name="text"/> is not a positive finite duration.</summary>
    public static double? TryParseSeconds(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        string t = text.Trim().ToLowerInvariant();
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double plain))
            return plain > 0 && double.IsFinite(plain) ? plain : null;
        var match = Parts().Match(t);
        if (!match.Success) return null;
        double seconds = 0;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var p = Part().Match(part.Value);
            double value = double.Parse(p.Groups["value"].Value, CultureInfo.InvariantCulture);
            seconds += value * (p.Groups["unit"].Value switch { "h" => 3600, "m" or "min" => 60, _ => 1 });
        }
        return seconds > 0 && double.IsFinite(seconds) ? seconds : null;
    }

    [GeneratedRegex(@"^(?<part>\d+(?:\.\d+)?(?:h|min|m|s))+$")]
    private static partial Regex Parts();

    [GeneratedRegex(@"^(?<value>\d+(?:\.\d+)?)(?<unit>h|min|m|s)$")]
    private static partial Regex Part();
}
