using TorchSharp;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The automatic choice behind <see cref="Plstm2DForm.Auto"/>: which exact form and which chunk side run a 2D scan.
/// Every threshold lives here, so retuning for a machine is an edit of this file only. All forms give the same result
/// (to rounding); the choice is about speed.
/// </summary>
/// <remarks>
/// CPU values were measured (README §"Chunkwise form", table "CPU measurements"): float32, B·H = 8, DK = DV = 32,
/// P-mode gates, forward + backward, grids 8² … 32², on a 2-core machine shared with several other jobs (load average
/// 10–17), so differences below ~30 % are noise. There the chunkwise form was never clearly slower than the
/// hierarchical form at its best chunk side and clearly faster at 8², 12² and against the layer's default levels at 32²;
/// one chunk was best up to 16², chunks of 8 beyond.
/// CUDA values were measured on an H200 (bench/results/gpu-h200-2026-11-29.md, `plstm bench op`, float32, B·H = 384,
/// DK = DV = 64, fused four orientations, forward + backward): at 14² the chunkwise form (one chunk) took 21.9 ms against
/// 48.8 ms hierarchical; at 32² chunkwise with chunks of 16 took 339 ms and 112 GB against 178 ms and 68 GB
/// hierarchical; at 12² 20.5 ms against 48.3 ms; at 24² (chunks of 12) 161.5 ms / 57 GB against 179.1 ms / 70 GB.
/// So on CUDA the chunkwise form ran grids of up to 24 × 24 cells and the hierarchical form larger ones.
/// The row-scan form (2026-11-30, bench/results/gpu-h200-2026-11-30.md, same shapes) then beat both on CUDA up to 24²
/// (12²: 10.3 against 15.5 ms chunkwise; 14²: 11.1–13.1 against 14.5–20.0; 16²: 20.3 against 23.1; 24²: 88 ms / 16 GB
/// against 162 ms / 57 GB) and at 32² took 310 ms / 55 GB against 178 ms / 68 GB for the hierarchical form; in a
/// pLSTM-ViT-T training step at 512 px (32², batch 32) only the row-scan form fits the H200 (the hierarchical form ran
/// out of memory), so on CUDA it is chosen up to 32 × 32 cells. On the 2-core CPU (one thread, DK = DV = 64,
/// B·H = 24, after the in-place source blocks) it beat the chunkwise form everywhere: 8² 9.9 against 14.1 ms, 14² 85
/// against 109, 16² 136 against 198, 24² 0.95 against 5.8 s, 32² 3.9 against 12.0 s; but with DK = DV = 16 (B·H = 8) the
/// chunkwise form, whose border states are DK × DV, won at 24² (130 against 345 ms); with DK = DV = 32 (B·H = 8, two
/// threads) the row-scan form won at 24² (190 against 309 ms) and tied at 32² (738 against 769). So on the CPU the
/// row-scan form is chosen up to 16 × 16 cells, and up to 32 × 32 when DK · DV ≥ 32 · 32 (every vision preset: DK = DV =
/// 32 or 64). Its memory grows as cells² per batch entry, so larger grids keep the forms that are linear in cells.
/// The CUDA kernel form (2026-11-30, bench/results/gpu-h200-kernel-2026-11-30.md: the same 𝒢 from a runtime-compiled
/// kernel, two launches instead of hundreds) then beat the row scan at every CUDA shape up to its 1,024-cell limit
/// (operator 12²: 2.0 against 5.9 ms; 14²: 2.3 against 6.0; 24²: 10.2 against 26.0; 32²: 26.1 against 70.7, with a
/// quarter of the memory; training steps 1.9× faster at 224 px and 2.0× at 512 px), so on CUDA it replaces the row scan
/// where it can run (a CUDA driver with NVRTC; half-precision gates walked in float32; elsewhere the kernel form runs
/// the row scan). Extended to 64 × 64 cells (2026-12-01, sixteenth session, bench/results/gpu-h200-kernel-64-2026-12-01.md:
/// the operator within 2.4–2.8× of sdpa at 48² and 64², the 1024-px step 21.1 img/s at batch 8 against the hierarchical
/// form's 2.8 img/s at batch 2), the kernel runs every CUDA grid it takes; the hierarchical form the rest.
/// The CPU gate walk (2026-11-30, thirteenth session, <see cref="FusedGateCpuKernel"/>, bench/results/cpu-gate-walk-2026-11-30.md: the same
/// walk in C# with SIMD lanes over the sources, one thread) then beat the row scan at every CPU shape measured, with
/// half its memory: ape-small's layer shape (B·H = 128, DK = DV = 32, 8²) 9.5 against 28.4 ms; B·H = 24, DK = DV = 64:
/// 8² 7.9 against 11.1, 14² 19.5 against 58.8, 16² 44 against 99, 24² 145 against 420, 32² 473 against 1,125 ms; and
/// the chunkwise form with small states (B·H = 8, DK = DV = 16): 24² 26 against 108, 32² 79 against 198 ms (48², DK 32:
/// 1.7 against 1.35 s, within noise, at 0.76× the memory). At B·H = 3, DK = DV = 64 (the 1024-px step's shape) it also
/// beat the chunkwise form beyond 32² in time and memory: 48² 0.44 against 0.64 s (0.8 against 2.7 GiB), 64² 1.36
/// against 1.67 s (2.2 against 3.8 GiB). So on the CPU the walk runs every scalar-gate grid it takes (up to 64 × 64
/// cells, <see cref="FusedGateCpuKernel.MaxCells"/>) whatever the state size, the chunkwise form larger ones.
/// </remarks>
public static class Plstm2DAutoForm
{
    /// <summary>CPU: grids whose longer side is at most this run as one chunk.</summary>
    public const int CpuSingleChunkMaxSide = 16;

    /// <summary>CPU: chunk side of larger grids (the work per cell grows as P², the op count as 2P + NX + NY).</summary>
    public const int CpuChunkSide = 8;

    /// <summary>CPU: grids with more cells than this use the hierarchical form (none measured so far).</summary>
    public const long CpuMaxCellsForChunkwise = long.MaxValue;

    /// <summary>CUDA: grids whose longer side is at most this run as one chunk (measured at 14²).</summary>
    public const int CudaSingleChunkMaxSide = 16;

    /// <summary>CUDA: chunk side of larger grids when the chunkwise form is asked for explicitly (Auto picks the
    /// hierarchical form there, see <see cref="CudaMaxCellsForChunkwise"/>). Larger chunks mean fewer sequential steps,
    /// which pays where each op costs ~13 µs to launch; memory grows as P² per cell.</summary>
    public const int CudaChunkSide = 16;

    /// <summary>CUDA: grids with more cells than this use the hierarchical form (measured: chunkwise faster at 12², 14²
    /// and 24²; 1.9× slower with 1.6× the memory at 32², chunks of 16).</summary>
    public const long CudaMaxCellsForChunkwise = 24 * 24;

    /// <summary>CPU: grids with at most this many cells use the gate walk (<see cref="Plstm2DForm.Kernel"/>, on the CPU
    /// <see cref="FusedGateCpuKernel"/>) for scalar gates (memory cells² per batch entry; every grid the walk takes).</summary>
    public const long CpuMaxCellsForKernel = FusedGateCpuKernel.MaxCells;

    /// <summary>CUDA: grids with at most this many cells use the row-scan form for scalar gates (memory cells² per
    /// batch entry).</summary>
    public const long CudaMaxCellsForRowScan = 32 * 32;

    /// <summary>
    /// The form for an X × Y scan: for scalar gates (all J = 1) <see cref="Plstm2DForm.Kernel"/> up to the device's cell
    /// count (CUDA: the runtime-compiled kernel on the grids it takes, up to 64 × 64, where it can run — up to 1,024 cells
    /// also where it cannot, running the row scan then; CPU: the C# gate walk up to 64 × 64), then
    /// <see cref="Plstm2DForm.Chunkwise"/> up to its chunkwise cell count; <see cref="Plstm2DForm.Hierarchical"/>
    /// otherwise (J &gt; 1 always).
    /// </summary>
    public static Plstm2DForm Choose(bool scalarGates, long x, long y, DeviceType device)
    {
        bool cuda = device == DeviceType.CUDA;
        if (cuda && scalarGates && x * y > CudaMaxCellsForRowScan && FusedGateKernel.TakesGrid(x, y)
            && FusedGateKernel.UnavailableReason is null)
            return Plstm2DForm.Kernel;
        long kernelCells = cuda ? CudaMaxCellsForRowScan : CpuMaxCellsForKernel;
        if (scalarGates && x * y <= kernelCells)
            return cuda && !FusedGateKernel.TakesGrid(x, y) ? Plstm2DForm.RowScan : Plstm2DForm.Kernel;
        long maxCells = cuda ? CudaMaxCellsForChunkwise : CpuMaxCellsForChunkwise;
        return scalarGates && x * y <= maxCells ? Plstm2DForm.Chunkwise : Plstm2DForm.Hierarchical;
    }

    /// <summary>The chunk side of the chunkwise form for an X × Y grid on <paramref name="device"/>: one chunk for grids
    /// up to the device's single-chunk side, else the device's chunk side.</summary>
    public static int ChunkSide(long x, long y, DeviceType device)
    {
        bool cuda = device == DeviceType.CUDA;
        int single = cuda ? CudaSingleChunkMaxSide : CpuSingleChunkMaxSide;
        return Math.Max(x, y) <= single ? single : cuda ? CudaChunkSide : CpuChunkSide;
    }

    /// <summary>Replaces <see cref="Plstm2DForm.Auto"/> by the chosen form; any other form is returned unchanged.</summary>
    public static Plstm2DForm Resolve(Plstm2DForm form, bool scalarGates, long x, long y, DeviceType device) =>
        form == Plstm2DForm.Auto ? Choose(scalarGates, x, y, device) : form;
}
