using System.Runtime.InteropServices;

namespace Plstm.Cli.Bench;

/// <summary>
/// glibc's <c>malloc_trim(0)</c>: returns the free pages of the C heap (where libtorch's CPU allocator gets its
/// memory) to the operating system. Called before a CPU row's RSS baseline, so that memory freed by earlier rows but
/// still resident does not hide the row's own growth. A no-op where glibc is absent (looked up, never assumed).
/// </summary>
public static class NativeHeap
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int MallocTrimFn(nuint pad);

    private static readonly Lazy<MallocTrimFn?> MallocTrim = new(() =>
        OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libc.so.6", out IntPtr libc)
            && NativeLibrary.TryGetExport(libc, "malloc_trim", out IntPtr trim)
            ? Marshal.GetDelegateForFunctionPointer<MallocTrimFn>(trim)
            : null);

    /// <summary>Trims the heap; false when <c>malloc_trim</c> is unavailable.</summary>
    public static bool Trim()
    {
        if (MallocTrim.Value is not { } trim) return false;
        trim(0);
        return true;
    }
}
