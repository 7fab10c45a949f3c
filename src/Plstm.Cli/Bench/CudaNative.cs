using System.Runtime.InteropServices;
using System.Text;

namespace Plstm.Cli.Bench;

/// <summary>
/// The CUDA facts TorchSharp 0.107 does not expose (it has <c>torch.cuda.synchronize</c> but no memory statistics and
/// no device name), read through native entry points that are looked up, never assumed:
/// <list type="bullet">
/// <item>The CUDA runtime (<c>libcudart.so.13/.12/.11.0</c>, found through the library path PyTorch's wheels set up):
/// <c>cudaMemGetInfo</c> (device-wide free and total) and <c>cudaGetDeviceProperties</c>, whose struct starts with
/// <c>char name[256]</c> in every CUDA version.</item>
/// <item>libtorch's caching-allocator statistics, only where libtorch exports them as functions: the
/// <c>at::accelerator</c> memory API (<c>emptyCache()</c>, <c>resetPeakStats(DeviceIndex)</c>,
/// <c>getDeviceStats(DeviceIndex)</c>, behind <c>torch.accelerator.memory_*</c>) by Itanium-mangled name (DeviceIndex
/// is <c>int8_t</c>). libtorch 2.10 does not export them (checked: its <c>libtorch_cpu.so</c> exports only
/// <c>at::accelerator</c>'s device and stream functions; the CUDA allocator's own API is inline virtual calls and c10
/// is built with hidden visibility), so there this path is simply absent and <see cref="MemoryMeter"/> measures through
/// cudaMemGetInfo. Where present, <c>DeviceStats</c> (c10/core/CachingDeviceAllocator.h) starts with nine
/// <c>StatArray</c>s of three <c>Stat {int64 current, peak, allocated, freed}</c> in the order allocation, segment,
/// active, inactive_split, allocated_bytes, reserved_bytes, …; it is returned through a hidden result pointer (x86-64
/// SysV: a class over 16 bytes is returned in memory) into a generous zeroed buffer, and the values are checked for
/// plausibility before use.</item>
/// </list>
/// Set <c>PLSTM_BENCH_ALLOCATOR_STATS=0</c> to skip the libtorch functions (should a libtorch build throw from them,
/// the process would end: a C++ exception cannot cross into .NET).
/// </summary>
public static class CudaNative
{
    /// <summary>Environment variable that turns the libtorch allocator statistics off when set to <c>0</c>.</summary>
    public const string AllocatorStatsVariable = "PLSTM_BENCH_ALLOCATOR_STATS";

    private const int StatBytes = 32;
    private const int StatArrayBytes = 3 * StatBytes;
    private const int AllocatedBytesOffset = 4 * StatArrayBytes;   // allocated_bytes[AGGREGATE]
    private const int ReservedBytesOffset = 5 * StatArrayBytes;    // reserved_bytes[AGGREGATE]
    private const int StatsBufferBytes = 16 * 1024;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void EmptyCacheFn();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void ResetPeakStatsFn(sbyte device);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr GetDeviceStatsFn(IntPtr result, sbyte device);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int MemGetInfoFn(out nuint free, out nuint total);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int GetDevicePropertiesFn(IntPtr properties, int device);

    private static readonly Lazy<Allocator?> AllocatorFunctions = new(LoadAllocator);
    private static readonly Lazy<Runtime?> RuntimeFunctions = new(LoadRuntime);

    /// <summary>True when libtorch's allocator statistics can be read (and were not turned off).</summary>
    public static bool HasAllocatorStats => AllocatorFunctions.Value is not null;

    /// <summary>True when the CUDA runtime library was found.</summary>
    public static bool HasRuntime => RuntimeFunctions.Value is not null;

    /// <summary>Returns cached, unused blocks of libtorch's allocator to the device (torch.cuda.empty_cache); false if unavailable.</summary>
    public static bool EmptyCache()
    {
        if (AllocatorFunctions.Value is not { } f) return false;
        f.EmptyCache();
        return true;
    }

    /// <summary>Resets the allocator's peak statistics of <paramref name="device"/> to the current values; false if unavailable.</summary>
    public static bool ResetPeakStats(int device)
    {
        if (AllocatorFunctions.Value is not { } f) return false;
        f.ResetPeakStats(checked((sbyte)device));
        return true;
    }

    /// <summary>
    /// Peak bytes held by tensors (allocated) and by the allocator's cache (reserved, ≥ allocated) since the last
    /// <see cref="ResetPeakStats"/>, or null when unavailable or implausible (an unexpected struct layout).
    /// </summary>
    public static (long PeakAllocated, long PeakReserved)? PeakStats(int device)
    {
        if (AllocatorFunctions.Value is not { } f) return null;
        IntPtr buffer = Marshal.AllocHGlobal(StatsBufferBytes);
        try
        {
            // Zeroed, so that a shorter struct than expected reads as zeros, not as garbage.
            for (int i = 0; i < StatsBufferBytes; i += 8) Marshal.WriteInt64(buffer, i, 0);
            f.GetDeviceStats(buffer, checked((sbyte)device));
            long allocatedCurrent = Marshal.ReadInt64(buffer, AllocatedBytesOffset);
            long allocatedPeak = Marshal.ReadInt64(buffer, AllocatedBytesOffset + 8);
            long reservedCurrent = Marshal.ReadInt64(buffer, ReservedBytesOffset);
            long reservedPeak = Marshal.ReadInt64(buffer, ReservedBytesOffset + 8);
            const long limit = 1L << 50;  // 1 PiB: anything above is not a byte count
            bool plausible = allocatedCurrent >= 0 && allocatedCurrent <= allocatedPeak && allocatedPeak < limit
                && reservedCurrent >= 0 && reservedCurrent <= reservedPeak && reservedPeak < limit
                && reservedPeak >= allocatedPeak;
            return plausible ? (allocatedPeak, reservedPeak) : null;
        }
        finally
        {
            Marshal.FreeHGlobal(buffer);
        }
    }

    /// <summary>Device-wide free and total bytes of the current CUDA device (cudaMemGetInfo), or null.</summary>
    public static (long Free, long Total)? MemoryInfo()
    {
        if (RuntimeFunctions.Value is not { } f) return null;
        return f.MemGetInfo(out nuint free, out nuint total) == 0 ? ((long)free, (long)total) : null;
    }

    /// <summary>The name of CUDA device <paramref name="device"/> (cudaGetDeviceProperties), or null.</summary>
    public static string? DeviceName(int device)
    {
        if (RuntimeFunctions.Value is not { } f) return null;
        // cudaDeviceProp is about 1 KB in CUDA 12; the buffer leaves room for later, larger versions.
        IntPtr buffer = Marshal.AllocHGlobal(StatsBufferBytes);
        try
        {
            if (f.GetDeviceProperties(buffer, device) != 0) return null;
            byte[] name = new byte[256];
            Marshal.Copy(buffer, name, 0, name.Length);
            int end = Array.IndexOf(name, (byte)0);
            string text = Encoding.UTF8.GetString(name, 0, end < 0 ? name.Length : end).Trim();
            return text.Length == 0 ? null : text;
        }
        finally
        {
            Marshal.FreeHGlobal(buffer);
        }
    }

    private static Allocator? LoadAllocator()
    {
        if (Environment.GetEnvironmentVariable(AllocatorStatsVariable) == "0") return null;
        // Already loaded by TorchSharp; dlopen by soname returns that copy.
        if (!NativeLibrary.TryLoad("libtorch_cpu.so", out IntPtr library)) return null;
        if (!NativeLibrary.TryGetExport(library, "_ZN2at11accelerator10emptyCacheEv", out IntPtr empty)
            || !NativeLibrary.TryGetExport(library, "_ZN2at11accelerator14resetPeakStatsEa", out IntPtr reset)
            || !NativeLibrary.TryGetExport(library, "_ZN2at11accelerator14getDeviceStatsEa", out IntPtr stats))
            return null;
        return new Allocator(
            Marshal.GetDelegateForFunctionPointer<EmptyCacheFn>(empty),
            Marshal.GetDelegateForFunctionPointer<ResetPeakStatsFn>(reset),
            Marshal.GetDelegateForFunctionPointer<GetDeviceStatsFn>(stats));
    }

    private static Runtime? LoadRuntime()
    {
        foreach (string name in new[] { "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0", "libcudart.so" })
        {
            if (!NativeLibrary.TryLoad(name, out IntPtr library)) continue;
            if (!NativeLibrary.TryGetExport(library, "cudaMemGetInfo", out IntPtr memInfo)) continue;
            // CUDA 12+ headers map cudaGetDeviceProperties to the _v2 entry point; older runtimes only have the plain one.
            if (!NativeLibrary.TryGetExport(library, "cudaGetDeviceProperties_v2", out IntPtr properties)
                && !NativeLibrary.TryGetExport(library, "cudaGetDeviceProperties", out properties))
                continue;
            return new Runtime(
                Marshal.GetDelegateForFunctionPointer<MemGetInfoFn>(memInfo),
                Marshal.GetDelegateForFunctionPointer<GetDevicePropertiesFn>(properties));
        }
        return null;
    }

    private sealed record Allocator(EmptyCacheFn EmptyCache, ResetPeakStatsFn ResetPeakStats, GetDeviceStatsFn GetDeviceStats);

    private sealed record Runtime(MemGetInfoFn MemGetInfo, GetDevicePropertiesFn GetDeviceProperties);
}
