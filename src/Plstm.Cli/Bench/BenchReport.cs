using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Plstm.Data;

namespace Plstm.Cli.Bench;

/// <summary>
/// The results of one bench command: machine, command line, settings, memory measure and rows. Renders the markdown
/// table (stdout and <c>--out</c>) and the JSON document (<c>--json</c>); both files are rewritten atomically after
/// every row, so a run that is stopped from outside still leaves complete files with the rows measured so far.
/// </summary>
public sealed class BenchReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private readonly List<BenchRow> _rows = [];
    private readonly IReadOnlyList<BenchColumn> _columns;

    /// <summary>Creates an empty report.</summary>
    /// <param name="title">Heading, e.g. <c>plstm bench op</c>.</param>
    /// <param name="command">The command line as typed.</param>
    /// <param name="machine">Where it runs.</param>
    /// <param name="settings">The settings that shape every row (name, value), in display order.</param>
    /// <param name="columns">The verb's own columns; timing, memory and status columns follow.</param>
    public BenchReport(string title, string command, MachineInfo machine, IReadOnlyList<(string Name, object Value)> settings,
        IReadOnlyList<BenchColumn> columns)
    {
        Title = title;
        Command = command;
        Machine = machine;
        Settings = settings;
        _columns = columns;
        StartedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>Heading of the report.</summary>
    public string Title { get; }

    /// <summary>The command line.</summary>
    public string Command { get; }

    /// <summary>The machine.</summary>
    public MachineInfo Machine { get; }

    /// <summary>The settings shared by every row.</summary>
    public IReadOnlyList<(string Name, object Value)> Settings { get; }

    /// <summary>When the command started (UTC).</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>Which memory measure the memory columns hold (<see cref="MemoryMeter.Description"/>).</summary>
    public string MemoryMeasure { get; set; } = "";

    /// <summary>Time limit in seconds, or null.</summary>
    public double? TimeLimitSeconds { get; set; }

    /// <summary>Seconds the command has run so far.</summary>
    public double ElapsedSeconds { get; set; }

    /// <summary>Notes printed under the table (one bullet each).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>The rows so far.</summary>
    public IReadOnlyList<BenchRow> Rows => _rows;

    /// <summary>Appends a row.</summary>
    public void Add(BenchRow row) => _rows.Add(row);

    /// <summary>The markdown document: heading, facts, table, notes.</summary>
    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.Append("# ").Append(Title).Append("\n\n");
        text.Append("- date: ").Append(StartedAt.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", Inv)).Append('\n');
        text.Append("- command: `").Append(Command).Append("`\n");
        foreach (string line in Machine.Lines()) text.Append("- ").Append(line).Append('\n');
        text.Append("- settings: ").Append(string.Join(", ", Settings.Select(s => $"{s.Name} {Format(s.Value)}"))).Append('\n');
        text.Append("- memory: ").Append(MemoryMeasure).Append('\n');
        text.Append("- time: ").Append(string.Create(Inv, $"{ElapsedSeconds:F1} s"))
            .Append(TimeLimitSeconds is double limit ? string.Create(Inv, $" (limit {limit:0.#} s)") : "").Append("\n\n");
        text.Append(Table());
        if (Notes.Count > 0)
        {
            text.Append('\n');
            foreach (string note in Notes) text.Append("- ").Append(note).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>The markdown table alone.</summary>
    public string Table()
    {
        var columns = AllColumns();
        var text = new StringBuilder();
        text.Append("| ").Append(string.Join(" | ", columns.Select(c => c.Header))).Append(" |\n");
        text.Append('|').Append(string.Join('|', columns.Select(c => c.RightAligned ? "---:" : "---"))).Append("|\n");
        foreach (var row in _rows)
            text.Append("| ").Append(string.Join(" | ", columns.Select(c => Escape(c.Cell(row))))).Append(" |\n");
        return text.ToString();
    }

    /// <summary>The JSON document (snake_case keys; times in milliseconds, memory in bytes).</summary>
    public string ToJson()
    {
        var settings = new JsonObject();
        foreach (var (name, value) in Settings) settings[name] = JsonSerializer.SerializeToNode(value);
        var rows = new JsonArray();
        foreach (var row in _rows) rows.Add(RowJson(row));
        var machine = new JsonObject
        {
            ["host"] = Machine.Host,
            ["cpu"] = Machine.Cpu,
            ["logical_cores"] = Machine.LogicalCores,
            ["torch_threads"] = Machine.TorchThreads,
            ["memory_gib"] = Machine.MemoryGiB,
            ["device"] = Machine.Device,
            ["gpu"] = Machine.Gpu,
            ["gpu_memory_gib"] = Machine.GpuMemoryGiB,
            ["torch"] = Machine.Torch,
            ["runtime"] = Machine.Runtime,
        };
        var document = new JsonObject
        {
            ["title"] = Title,
            ["date"] = StartedAt.ToString("o", Inv),
            ["command"] = Command,
            ["machine"] = machine,
            ["settings"] = settings,
            ["memory_measure"] = MemoryMeasure,
            ["time_limit_seconds"] = TimeLimitSeconds,
            ["elapsed_seconds"] = Math.Round(ElapsedSeconds, 3),
            ["notes"] = new JsonArray(Notes.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
            ["rows"] = rows,
        };
        return document.ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = true,
            // Readable ·, ε, + and quotes in the file; it is data, never embedded in HTML.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }) + "\n";
    }

    /// <summary>Writes the markdown and/or JSON files (each atomically); null paths are skipped.</summary>
    public void Write(string? markdownPath, string? jsonPath)
    {
        if (markdownPath is not null)
            AtomicFile.WriteAllBytes(markdownPath, Encoding.UTF8.GetBytes(ToMarkdown()));
        if (jsonPath is not null)
            AtomicFile.WriteAllBytes(jsonPath, Encoding.UTF8.GetBytes(ToJson()));
    }

    /// <summary>The status cell of a row: <c>ok</c>, <c>OOM</c>, <c>unsupported: …</c>, <c>skipped (time limit)</c>, <c>error: …</c>.</summary>
    public static string StatusText(BenchRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return row.Status switch
        {
            BenchStatus.Ok when row.Timing is { Truncated: true } t => $"ok (time limit: {t.Iterations} iters)",
            BenchStatus.Ok => "ok",
            BenchStatus.OutOfMemory => "OOM",
            BenchStatus.Unsupported => $"unsupported: {row.Message}",
            BenchStatus.Skipped => "skipped (time limit)",
            _ => $"error: {row.Message}",
        };
    }

    /// <summary>Milliseconds with 3 significant-ish digits (0.0123, 1.23, 12.3, 123).</summary>
    public static string Milliseconds(double ms) => ms switch
    {
        < 1 => ms.ToString("0.0000", Inv),
        < 10 => ms.ToString("0.000", Inv),
        < 100 => ms.ToString("0.00", Inv),
        _ => ms.ToString("0.0", Inv),
    };

    private List<BenchColumn> AllColumns()
    {
        var columns = new List<BenchColumn>(_columns)
        {
            new("median ms", r => r.Timing is { } t ? Milliseconds(t.Median) : "", true),
            new("p25–p75 ms", r => r.Timing is { } t ? $"{Milliseconds(t.P25)}–{Milliseconds(t.P75)}" : "", true),
            new("n", r => r.Timing is { } t ? t.Iterations.ToString(Inv) : "", true),
        };
        // Host issue time, where a case measures it (training steps): compare with the median to see host-bound rows.
        if (_rows.Any(r => r.HostMilliseconds is not null))
            columns.Add(new("host fwd + bwd ms", r => r.HostMilliseconds is { } h ? $"{Milliseconds(h.First)} + {Milliseconds(h.Second)}" : "", true));
        // Only the memory measures that some row has: CUDA rows have allocator peaks (and device used), CPU rows RSS.
        static string MiB(long? bytes) => bytes is long b ? (b / (double)(1 << 20)).ToString("0", Inv) : "";
        if (_rows.Any(r => r.Memory?.PeakAllocatedBytes is not null))
            columns.Add(new("peak alloc MiB", r => MiB(r.Memory?.PeakAllocatedBytes), true));
        if (_rows.Any(r => r.Memory?.PeakReservedBytes is not null))
            columns.Add(new("peak reserved MiB", r => MiB(r.Memory?.PeakReservedBytes), true));
        if (_rows.Any(r => r.Memory?.DeviceGrowthBytes is not null))
            columns.Add(new("Δ device MiB", r => MiB(r.Memory?.DeviceGrowthBytes), true));
        if (_rows.Any(r => r.Memory?.DeviceUsedBytes is not null))
            columns.Add(new("device used MiB", r => MiB(r.Memory?.DeviceUsedBytes), true));
        if (_rows.Any(r => r.Memory?.PeakRssDeltaBytes is not null))
            columns.Add(new("peak RSS Δ MiB", r => MiB(r.Memory?.PeakRssDeltaBytes), true));
        columns.Add(new("status", StatusText));
        return columns;
    }

    private static JsonObject RowJson(BenchRow row)
    {
        var json = new JsonObject
        {
            ["name"] = row.Name,
            ["dtype"] = row.Dtype,
            ["status"] = row.Status switch
            {
                BenchStatus.Ok => "ok",
                BenchStatus.OutOfMemory => "oom",
                BenchStatus.Unsupported => "unsupported",
                BenchStatus.Skipped => "skipped",
                _ => "error",
            },
        };
        if (row.Message is not null) json["message"] = row.Message;
        if (row.Grid is { } g)
        {
            json["grid_x"] = g.X;
            json["grid_y"] = g.Y;
            json["tokens"] = row.Tokens;
        }
        if (row.Batch is int batch) json["batch"] = batch;
        if (row.ImageSize is int size) json["image_size"] = size;
        if (row.Parameters is long parameters) json["parameters"] = parameters;
        if (row.HostMilliseconds is { } host)
        {
            json["host_forward_median_ms"] = host.First;
            json["host_backward_median_ms"] = host.Second;
        }
        if (row.Timing is { } t)
        {
            json["timing"] = new JsonObject
            {
                ["warmup"] = t.Warmup,
                ["iterations"] = t.Iterations,
                ["truncated"] = t.Truncated,
                ["median_ms"] = t.Median,
                ["p25_ms"] = t.P25,
                ["p75_ms"] = t.P75,
                ["min_ms"] = t.Min,
                ["max_ms"] = t.Max,
                ["iteration_ms"] = new JsonArray(t.Milliseconds.Select(ms => (JsonNode?)JsonValue.Create(ms)).ToArray()),
            };
        }
        if (row.ImagesPerSecond is double rate) json["images_per_second"] = rate;
        if (row.Memory is { } m)
        {
            var memory = new JsonObject();
            if (m.PeakAllocatedBytes is long a) memory["peak_allocated_bytes"] = a;
            if (m.PeakReservedBytes is long r) memory["peak_reserved_bytes"] = r;
            if (m.DeviceGrowthBytes is long growth) memory["device_growth_bytes"] = growth;
            if (m.DeviceUsedBytes is long d) memory["device_used_bytes"] = d;
            if (m.PeakRssDeltaBytes is long s) memory["peak_rss_delta_bytes"] = s;
            json["memory"] = memory;
        }
        return json;
    }

    private static string Format(object value) => value switch
    {
        string s => s,
        System.Collections.IEnumerable items => string.Join(",", items.Cast<object>().Select(Format)),
        IFormattable f => f.ToString(null, Inv),
        _ => value.ToString() ?? "",
    };

    private static string Escape(string cell) => cell.Replace("|", "\\|", StringComparison.Ordinal).Replace('\n', ' ');
}
