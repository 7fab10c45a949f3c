using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Cli.Bench;

/// <summary>
/// Measures the memory of one benchmark row between <see cref="Begin"/> and <see cref="End"/>.
/// <para>CUDA: TorchSharp 0.107 exposes no memory statistics, and libtorch 2.10 exports none as a callable symbol
/// (<c>c10::cuda::CUDACachingAllocator::getDeviceStats</c> and friends are inline virtual calls; c10 is built with hidden
/// visibility). So: (1) when a libtorch exports <c>at::accelerator::getDeviceStats</c> (<see cref="CudaNative"/>), the
/// allocator's own peak allocated / peak reserved; (2) always, when libcudart is found, the device-wide used memory from
/// cudaMemGetInfo at the start and the end of the row, with libtorch's cache flushed at the start — the growth is the
/// row's peak reserved memory, because the caching allocator keeps what it reserved until it is flushed. The flush is
/// <c>at::accelerator::emptyCache</c> when exported, else a deliberately impossible allocation (larger than the GPU):
/// the caching allocator answers a failed cudaMalloc by releasing every cached block and retrying, then reports out of
/// memory, which is caught — the same release <c>torch.cuda.empty_cache()</c> does.</para>
/// <para>CPU: the process's peak RSS increase during the row (Linux <c>VmHWM</c>, reset per row, after
/// <c>malloc_trim</c>).</para>
/// </summary>
public sealed class MemoryMeter
{
    private readonly Device _device;
    private long _rssAtStart;
    private bool _rssResetFailed;
    private long? _deviceUsedAtStart;
    private bool _flushFailed;

    private MemoryMeter(Device device) => _device = device;

    /// <summary>The meter for <paramref name="device"/>.</summary>
    public static MemoryMeter For(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return new MemoryMeter(device);
    }

    private bool IsCuda => _device.type == DeviceType.CUDA;

    private int CudaIndex => Math.Max(0, (int)_device.index);

    /// <summary>One line saying which measures the numbers are (written into every report).</summary>
    public string Description
    {
        get
        {
            if (!IsCuda)
                return !OperatingSystem.IsLinux() ? "CPU: not measured (needs Linux /proc)"
                    : _rssResetFailed
                        ? "CPU: process peak RSS (VmHWM) minus RSS at the row's start; VmHWM could not be reset (/proc/self/clear_refs), so a value may include an earlier row's peak (upper bound)"
                        : "CPU: peak RSS of the process during the row minus RSS at its start (VmHWM, reset per row via /proc/self/clear_refs, after malloc_trim)";
            var parts = new List<string>();
            if (CudaNative.HasAllocatorStats)
                parts.Add("peak alloc / peak reserved = libtorch caching allocator peaks of the row (at::accelerator::getDeviceStats, "
                    + "as torch.cuda.max_memory_allocated/reserved, peaks reset per row)");
            if (CudaNative.HasRuntime)
            {
                parts.Add("Δ device = device memory used at the row's end minus at its start (cudaMemGetInfo) with libtorch's cache "
                    + (CudaNative.HasAllocatorStats ? "emptied" : "flushed (a deliberately failing oversize allocation makes the caching allocator release every cached block)")
                    + " before the row: the row's peak reserved memory (live tensors + allocator fragmentation, ≥ peak allocated), plus kernel code loaded on first use"
                    + (_flushFailed ? "; WARNING: the flush did not work, so rows may reuse earlier rows' cache and under-report" : ""));
                parts.Add("device used = total − free at the row's end (includes the CUDA context and other processes)");
            }
            return parts.Count == 0
                ? "CUDA: not measured (neither libtorch allocator statistics nor libcudart found)"
                : "CUDA: " + string.Join("; ", parts);
        }
    }

    /// <summary>Waits for the device (torch.cuda.synchronize on CUDA).</summary>
    public void Synchronize()
    {
        if (IsCuda) cuda.synchronize(_device);
    }

    /// <summary>Starts a row: releases cached memory so rows do not inherit each other's pool, and resets the peaks.</summary>
    public void Begin()
    {
        if (IsCuda)
        {
            Synchronize();
            FlushCache();
            CudaNative.ResetPeakStats(CudaIndex);
            _deviceUsedAtStart = DeviceUsed();
            return;
        }
        // Freed-but-resident heap from earlier rows would absorb this row's growth and hide it.
        NativeHeap.Trim();
        if (!TryResetRssPeak()) _rssResetFailed = true;
        _rssAtStart = ReadStatusKilobytes("VmRSS") * 1024;
    }

    /// <summary>Ends a row and returns what was measured.</summary>
    public MemoryReading End()
    {
        if (IsCuda)
        {
            Synchronize();
            var peaks = CudaNative.PeakStats(CudaIndex);
            long? used = DeviceUsed();
            return new MemoryReading(peaks?.PeakAllocated, peaks?.PeakReserved, used,
                used is long u && _deviceUsedAtStart is long s ? Math.Max(0, u - s) : null);
        }
        long hwm = ReadStatusKilobytes("VmHWM") * 1024;
        if (hwm <= 0) return new MemoryReading();
        // Without the reset the high-water mark may predate the row: then the number is an upper bound (Description).
        return new MemoryReading(PeakRssDeltaBytes: Math.Max(0, hwm - _rssAtStart));
    }

    /// <summary>After a row (e.g. one that ran out of memory): gives the cached blocks back so the next row starts clean.</summary>
    public void Release()
    {
        if (IsCuda) FlushCache();
    }

    private static long? DeviceUsed() => CudaNative.MemoryInfo() is { } info ? info.Total - info.Free : null;

    /// <summary>Empties libtorch's CUDA cache (see the class remarks for how).</summary>
    private void FlushCache()
    {
        if (CudaNative.EmptyCache() || _flushFailed) return;
        // Larger than the whole device: cudaMalloc must fail, whereupon the allocator frees its cached blocks, retries,
        // and reports out of memory.
        long impossible = (CudaNative.MemoryInfo()?.Total ?? 1L << 40) + (1L << 30);
        try
        {
            using var scope = NewDisposeScope();
            empty([impossible], dtype: ScalarType.Byte, device: _device);
            _flushFailed = true;   // it fitted (a device with oversubscription?): no flush this way
        }
        catch (Exception ex) when (FailureKinds.IsOutOfMemory(ex))
        {
            // Expected.
        }
        catch (Exception ex) when (ex is System.Runtime.InteropServices.ExternalException or InvalidOperationException)
        {
            _flushFailed = true;
        }
    }

    private static bool TryResetRssPeak()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            // "5" resets the peak RSS (VmHWM) to the current RSS (Linux ≥ 4.0, proc(5)).
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long ReadStatusKilobytes(string key)
    {
        if (!OperatingSystem.IsLinux()) return 0;
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (!line.StartsWith(key + ":", StringComparison.Ordinal)) continue;
                string[] parts = line[(key.Length + 1)..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                return parts.Length > 0 && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long kb) ? kb : 0;
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }
}
