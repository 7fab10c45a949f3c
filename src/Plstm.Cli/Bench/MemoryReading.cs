namespace Plstm.Cli.Bench;

/// <summary>
/// Memory used by one benchmark row; which fields are set depends on the device and on what could be measured (see
/// <see cref="MemoryMeter.Description"/>). All values are bytes.
/// </summary>
/// <param name="PeakAllocatedBytes">CUDA: peak bytes held by live tensors during the row (libtorch's caching allocator,
/// <c>max_memory_allocated</c> after <c>reset_peak_memory_stats</c>).</param>
/// <param name="PeakReservedBytes">CUDA: peak bytes the allocator held from the device, live tensors plus its cache
/// (<c>max_memory_reserved</c>; the cache is emptied before each row).</param>
/// <param name="DeviceUsedBytes">CUDA: total − free device memory at the end of the row (cudaMemGetInfo): reserved
/// memory plus the CUDA context plus every other process on the GPU.</param>
/// <param name="DeviceGrowthBytes">CUDA: device used at the end of the row minus device used at its start, with
/// libtorch's cache flushed at the start. The caching allocator does not give memory back during a row, so this is the
/// row's peak reserved memory (live tensors plus the pool's fragmentation; ≥ peak allocated) plus any kernel code
/// loaded for the first time.</param>
/// <param name="PeakRssDeltaBytes">CPU: peak resident set size of the process during the row minus the resident size at
/// its start (<c>VmHWM</c>, reset per row through <c>/proc/self/clear_refs</c>).</param>
public sealed record MemoryReading(
    long? PeakAllocatedBytes = null,
    long? PeakReservedBytes = null,
    long? DeviceUsedBytes = null,
    long? DeviceGrowthBytes = null,
    long? PeakRssDeltaBytes = null);
