using System.Text.Json;
using System.Text.Json.Serialization;
using Plstm.Experiments;

namespace Plstm.Cli.Training;

/// <summary>
/// One <see cref="ExperimentProgress"/> per line of JSON: how a model's worker process (<c>plstm train
/// --model-worker KEY</c>) tells its parent what it is doing, so that the parent shows every model's progress as if it
/// trained them itself.
/// </summary>
public static class ExperimentProgressJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        // A diverged loss is NaN; the line must still go through.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The report as one line of JSON (no line breaks).</summary>
    public static string ToLine(ExperimentProgress progress) => JsonSerializer.Serialize(progress, Options);

    /// <summary>Parses <see cref="ToLine"/>'s output; null for a line that is not a progress report (anything else a
    /// worker may print).</summary>
    public static ExperimentProgress? TryParse(string line)
    {
        if (string.IsNullOrWhiteSpace(line) || line[0] != '{') return null;
        try
        {
            return JsonSerializer.Deserialize<ExperimentProgress>(line, Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
