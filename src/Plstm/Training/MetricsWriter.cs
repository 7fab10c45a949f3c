using System.Text;
using System.Text.Json;

namespace Plstm.Training;

/// <summary>
/// Writes metrics to <c>metrics.jsonl</c> (one JSON object per line, flushed per line) and to a TensorBoard event file
/// under <c>tensorboard/</c> in the output folder.
/// </summary>
/// <remarks>
/// When a run resumes, lines written after the checkpoint it resumes from (by a run that then crashed) would repeat
/// steps; the constructor therefore first drops every line with a step above the checkpoint's
/// (atomically rewriting the file). TensorBoard gets a new event file per run; the repeated steps of an interrupted
/// run may show there as a second point at the same step.
/// </remarks>
public sealed class MetricsWriter : IDisposable
{
    /// <summary>Name of the JSON-lines file.</summary>
    public const string JsonLinesFileName = "metrics.jsonl";

    /// <summary>Name of the TensorBoard sub-folder.</summary>
    public const string TensorBoardFolderName = "tensorboard";

    private readonly StreamWriter _jsonl;
    private readonly TensorBoardEventWriter? _tensorBoard;

    /// <summary>Opens the writers in <paramref name="folder"/> (created if needed).</summary>
    /// <param name="folder">The output folder.</param>
    /// <param name="keepUpToStep">Lines of an existing <c>metrics.jsonl</c> with a step above this are removed first;
    /// 0 starts a fresh file, <see cref="long.MaxValue"/> keeps everything.</param>
    /// <param name="tensorBoard">Also write a TensorBoard event file.</param>
    public MetricsWriter(string folder, long keepUpToStep = 0, bool tensorBoard = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Directory.CreateDirectory(folder);
        JsonLinesPath = Path.Combine(folder, JsonLinesFileName);
        TruncateAfter(JsonLinesPath, keepUpToStep);
        _jsonl = new StreamWriter(new FileStream(JsonLinesPath, FileMode.Append, FileAccess.Write, FileShare.Read),
            new UTF8Encoding(false)) { NewLine = "\n" };
        if (tensorBoard) _tensorBoard = new TensorBoardEventWriter(Path.Combine(folder, TensorBoardFolderName));
    }

    /// <summary>Path of <c>metrics.jsonl</c>.</summary>
    public string JsonLinesPath { get; }

    /// <summary>Path of the TensorBoard event file, if one is written.</summary>
    public string? TensorBoardPath => _tensorBoard?.FilePath;

    /// <summary>Writes one record to both outputs.</summary>
    public void Write(MetricRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _jsonl.WriteLine(ToJson(record));
        _jsonl.Flush();
        if (_tensorBoard is null) return;
        void Scalar(string name, double? value)
        {
            if (value is double v && double.IsFinite(v))
                _tensorBoard.WriteScalar($"{record.Split}/{name}", (float)v, record.Step, record.Time);
        }
        Scalar("loss", record.Loss);
        Scalar("acc", record.Accuracy);
        Scalar("lr", record.LearningRate);
        Scalar("grad_norm", record.GradNorm);
        Scalar(record.ThroughputName, record.ImagesPerSecond);
        if (record.Extra is not null)
            foreach (var (name, value) in record.Extra) Scalar(name, value);
    }

    /// <summary>Closes both files.</summary>
    public void Dispose()
    {
        _jsonl.Dispose();
        _tensorBoard?.Dispose();
    }

    /// <summary>One JSON line (no newline) for <paramref name="record"/>; non-finite numbers become null.</summary>
    public static string ToJson(MetricRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("step", record.Step);
            json.WriteNumber("epoch", record.Epoch);
            json.WriteString("split", record.Split);
            Number(json, "loss", record.Loss);
            Number(json, "acc", record.Accuracy);
            Number(json, "lr", record.LearningRate);
            Number(json, "grad_norm", record.GradNorm);
            Number(json, record.ThroughputName, record.ImagesPerSecond);
            Number(json, "time", record.Time);
            if (record.Extra is not null)
                foreach (var (name, value) in record.Extra) Number(json, name, value);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Number(Utf8JsonWriter json, string name, double? value)
    {
        // JSON has no NaN/Infinity; null keeps every line parseable.
        if (value is double v && double.IsFinite(v)) json.WriteNumber(name, v);
        else json.WriteNull(name);
    }

    private static void TruncateAfter(string path, long keepUpToStep)
    {
        if (!File.Exists(path) || keepUpToStep == long.MaxValue) return;
        var kept = new List<string>();
        foreach (string line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            long? step = null;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.TryGetProperty("step", out var s) && s.TryGetInt64(out long value)) step = value;
            }
            catch (JsonException)
            {
                // A torn last line from a crash: drop it.
                continue;
            }
            if (step is long v && v <= keepUpToStep) kept.Add(line);
        }
        string temp = path + ".tmp";
        File.WriteAllText(temp, kept.Count == 0 ? "" : string.Join("\n", kept) + "\n", new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }
}
