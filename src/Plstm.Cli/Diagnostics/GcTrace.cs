using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace Plstm.Cli.Diagnostics;

/// <summary>
/// With <c>PLSTM_TRACE</c> set: counts the runtime's garbage collections by generation and reason, and the
/// large-object-heap allocations (sampled every ≈ 100 KB by the runtime) by type, and prints both at the end.
/// For finding what starts collections during training (each can finalize a TorchSharp temporary Scalar).
/// </summary>
internal sealed class GcTrace : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, int> _collections = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _large = new(StringComparer.Ordinal);

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.Payload is null || e.PayloadNames is null) return;
        object? Get(string name)
        {
            int i = e.PayloadNames.IndexOf(name);
            return i >= 0 ? e.Payload[i] : null;
        }
        if (e.EventName?.StartsWith("GCStart", StringComparison.Ordinal) == true)
        {
            string key = string.Create(CultureInfo.InvariantCulture, $"gen{Get("Depth")} reason {Reason(Convert.ToInt32(Get("Reason"), CultureInfo.InvariantCulture))}");
            _collections.AddOrUpdate(key, 1, (_, n) => n + 1);
        }
        else if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) == true
                 && Convert.ToInt32(Get("AllocationKind"), CultureInfo.InvariantCulture) == 1)
        {
            long amount = Get("AllocationAmount64") is { } a ? Convert.ToInt64(a, CultureInfo.InvariantCulture) : 0;
            _large.AddOrUpdate(Get("TypeName") as string ?? "?", amount, (_, n) => n + amount);
        }
    }

    /// <summary>Writes the tallies, most frequent first.</summary>
    public void Report(TextWriter output)
    {
        foreach (var (key, count) in _collections.OrderByDescending(kv => kv.Value))
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"gc trace: {count} collections {key}"));
        foreach (var (type, bytes) in _large.OrderByDescending(kv => kv.Value).Take(8))
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"gc trace: large-object allocations (sampled) {bytes / 1e6:0.0} MB of {type}"));
    }

    private static string Reason(int reason) => reason switch
    {
        0 => "small-object allocation",
        1 => "induced (GC.Collect)",
        2 => "low memory",
        3 => "empty",
        4 => "large-object allocation",
        5 => "out of space (small-object heap)",
        6 => "out of space (large-object heap)",
        7 => "induced, not forced as blocking",
        8 => "stress",
        9 => "low memory (host)",
        _ => reason.ToString(CultureInfo.InvariantCulture),
    };
}
