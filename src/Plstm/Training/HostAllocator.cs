using System.Runtime.InteropServices;

namespace Plstm.Training;

/// <summary>
/// Tunes glibc's malloc for CPU training: every block stays on the heap (no <c>mmap</c> per allocation) and freed memory
/// is kept for the next step instead of being handed back to the kernel.
/// </summary>
/// <remarks>
/// Why: libtorch allocates CPU tensors with <c>malloc</c>. glibc serves blocks above its mmap threshold (at most 32 MiB)
/// with a fresh <c>mmap</c> and unmaps them on free, so every training step pays page faults and zeroing for each large
/// activation again: on <c>ape-small</c> with a conv stem (batch 64, 64 px, 32 channels, 33 MB maps) a third of the
/// wall time was kernel time (26 s of 69 s), and a step took 0.388 s (pLSTM) / 0.259 s (ViT) instead of 0.302 / 0.195
/// with the tuning (bench/results/ape-small-stem-cpu-2026-11-30.md). The price is that the process's resident memory
/// does not shrink after a peak. Linux with glibc only; elsewhere (or with <c>PLSTM_MALLOC_TUNING=0</c>) it does
/// nothing. The <c>plstm</c> command calls it at start-up; library users may call it once before training.
/// </remarks>
public static class HostAllocator
{
    // glibc's mallopt parameters (malloc.h).
    private const int MTrimThreshold = -1;
    private const int MTopPad = -2;
    private const int MMmapMax = -4;

    /// <summary>Environment variable that switches the tuning off when set to <c>0</c>.</summary>
    public const string SwitchVariable = "PLSTM_MALLOC_TUNING";

    /// <summary>True once <see cref="TuneForTraining"/> has changed the allocator's settings in this process.</summary>
    public static bool IsTuned { get; private set; }

    /// <summary>
    /// Sets glibc's malloc to keep large blocks on the heap (<c>M_MMAP_MAX</c> 0), never trim freed memory below 2 GiB
    /// (<c>M_TRIM_THRESHOLD</c>) and grow the heap in 256 MiB steps (<c>M_TOP_PAD</c>). Returns whether it did.
    /// </summary>
    public static bool TuneForTraining()
    {
        if (IsTuned) return true;
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(SwitchVariable) == "0") return false;
        try
        {
            // mallopt returns 1 on success, 0 on error; a C library without it (musl) throws EntryPointNotFound.
            IsTuned = MallOpt(MMmapMax, 0) == 1
                && MallOpt(MTrimThreshold, int.MaxValue) == 1
                && MallOpt(MTopPad, 256 << 20) == 1;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            IsTuned = false;
        }
        return IsTuned;
    }

    // DllImport rather than LibraryImport: two ints need no marshalling code, and LibraryImport would need unsafe code.
#pragma warning disable SYSLIB1054
    [DllImport("libc.so.6", EntryPoint = "mallopt", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int MallOpt(int parameter, int value);
#pragma warning restore SYSLIB1054
}
