using Plstm.Interop;
using Plstm.Interop.Cuda;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The gating matrix 𝒢 of the 2D operator with scalar gates, summed over orientations, from one runtime-compiled CUDA
/// kernel per direction (README §"Native kernel", source <c>Kernels/fused_gate.cu</c>): one thread per source cell walks
/// the grid once per orientation, so forward and backward are two launches instead of the row scan's few hundred
/// (each ~13 µs of host time through TorchSharp). Same values as <see cref="RowScanGate"/> flipped back and summed
/// (`plstm selfcheck` on the GPU; the kernel's loops are mirrored in C# and checked against autograd in the tests).
/// </summary>
/// <remarks>
/// Runs on CUDA tensors of float32 or float64 for the grids of <see cref="TakesGrid"/> (up to 64 × 64), where the CUDA driver and
/// NVRTC are installed (<see cref="CanRun(Tensor)"/>; the fused operator walks half-precision gates through it in float32);
/// callers fall back to the row scan elsewhere. Kernels are compiled once per
/// (device, dtype, grid) and cached for the process. The float32 gradient sums use atomic additions, so their last bits
/// can differ between runs.
/// </remarks>
public sealed class FusedGateKernel : GateWalkFunction<FusedGateKernel>
{
    /// <summary>Largest grid (cells) the kernel takes: 64 × 64. Its backward keeps, per source thread, the weights arriving
    /// at the cells of a few scan lines at a time in local memory (5.8 KiB in float32 at 64 × 64; <see cref="Resources"/>);
    /// each thread keeps
    /// one line's weights (<c>GY</c> values) in registers, so grids above <see cref="MaxCellsAnyLine"/> cells must have
    /// lines (Y) of at most <see cref="MaxLine"/> cells.</summary>
    public const long MaxCells = 64 * 64;

    /// <summary>Grids of up to this many cells run with lines (Y) of any length (the kernel's first limit).</summary>
    public const long MaxCellsAnyLine = 1024;

    /// <summary>Longest line (Y) of a grid with more than <see cref="MaxCellsAnyLine"/> cells.</summary>
    public const long MaxLine = 64;

    /// <summary>Number of gates per orientation in the stacked layout: S0r, S0d, T0rl, T0du, T0dl, T0ru, M0l, M0u.</summary>
    public const int GatesPerOrientation = 8;

    private const int Block = 128;

    /// <summary>Backward threads per block above <see cref="MaxCellsAnyLine"/> cells, when set: read once from
    /// <c>PLSTM_KERNEL_LARGE_BACKWARD_BLOCK</c> (128, 256, 512 or 1024) for measurements; otherwise the measured rule of
    /// <see cref="BackwardBlock"/>.</summary>
    private static readonly int? LargeGridBackwardBlockOverride =
        RunTimeSwitch.Integer("PLSTM_KERNEL_LARGE_BACKWARD_BLOCK", block => block is 128 or 256 or 512 or 1024);

    /// <summary>Orientations walked by one block of the backward kernel (1: each orientation its own block row, four times
    /// the warps in flight; 4: one block row loops over them). Read once from <c>PLSTM_KERNEL_BACKWARD_SPLIT</c> for
    /// measurements; the default is the measured faster one.</summary>
    private static readonly int OrientationsPerBackwardBlock =
        RunTimeSwitch.Integer("PLSTM_KERNEL_BACKWARD_SPLIT", split => split >= 1) ?? 1;
    /// <summary>Source tiles of the walks set by <c>PLSTM_WALK_TILES</c> (read once), for measurements: "LxC" (lines x
    /// columns, 32 in all) for both kernels, "off" for neither; null (unset or unreadable) leaves
    /// <see cref="DefaultTiling"/>.</summary>
    private static readonly WalkTiling? RequestedTiling = ParseTiling(Environment.GetEnvironmentVariable("PLSTM_WALK_TILES"));

    private const string ForwardName = "plstm_fused_gate_forward";
    private const string BackwardName = "plstm_fused_gate_backward";

    /// <summary>The kernel source: the embedded <c>Kernels/fused_gate.cu</c>, or, for measuring a variant without a
    /// rebuild (e.g. in one device call), the file named by <c>PLSTM_FUSED_GATE_SOURCE</c>. A variant must keep the two
    /// kernels' names, arguments and results.</summary>
    private static readonly KernelCache<(ScalarType Type, long X, long Y)> Kernels =
        new("fused_gate.cu", "PLSTM_FUSED_GATE_SOURCE", [ForwardName, BackwardName], Definitions);
    private static readonly Lazy<string?> Unavailable = new(Probe);

    /// <inheritdoc />
    public override string Name => nameof(FusedGateKernel);

    /// <summary>Why the kernel cannot run on this machine (no CUDA driver, no NVRTC), or null when it can.</summary>
    public static string? UnavailableReason => Unavailable.Value;

    /// <summary>Whether the kernel runs for stacked gates like <paramref name="gates"/> (<c>[N, O, 8, X, Y]</c>): CUDA,
    /// float32/float64, 1 ≤ O ≤ 4 (<see cref="TakesOrientations"/>), a grid the kernel takes (<see cref="TakesGrid"/>), a
    /// driver and NVRTC on this machine.</summary>
    public static bool CanRun(Tensor gates)
    {
        ArgumentNullException.ThrowIfNull(gates);
        // Each shape, dtype or device read is a native call that allocates: read once (this runs per layer call).
        if (gates.device_type != DeviceType.CUDA) return false;
        var shape = gates.shape;
        return shape.Length == 5 && TakesOrientations(shape[1]) && shape[2] == GatesPerOrientation
            && CanRun(gates.dtype, shape[3], shape[4]);
    }

    /// <summary>Whether <paramref name="orientations"/> (the layout's O) is one the walks take: 1 to 4. The orientations
    /// are the four scan directions (o reverses x when o &amp; 1, y when o &amp; 2): a fifth would repeat one, and the CUDA
    /// kernel's forward copies at most four orientations' gates into shared memory.</summary>
    public static bool TakesOrientations(long orientations) => orientations is >= 1 and <= 4;

    /// <summary>Whether the kernel runs for stacked gates of <paramref name="dtype"/> on an X × Y grid on a CUDA device
    /// (the test of <see cref="CanRun(Tensor)"/> before the gates exist). No per-device condition is left since the
    /// backward's sums became L2 reductions (it needs no shared memory, whose size was the one).</summary>
    internal static bool CanRun(ScalarType dtype, long x, long y) =>
        (dtype == ScalarType.Float32 || dtype == ScalarType.Float64) && TakesGrid(x, y) && UnavailableReason is null;

    /// <summary>Whether an X × Y grid is one the kernel takes: at most <see cref="MaxCellsAnyLine"/> cells, or at most
    /// <see cref="MaxCells"/> with lines (Y) of at most <see cref="MaxLine"/> cells.</summary>
    public static bool TakesGrid(long x, long y) =>
        x >= 1 && y >= 1 && (x * y <= MaxCellsAnyLine || (x * y <= MaxCells && y <= MaxLine));

    /// <summary>Backward threads per block for an X × Y grid. Above <see cref="MaxCellsAnyLine"/> cells the kernel parks
    /// its adjoint weights; blocks of 256 are compiled for two per multiprocessor (at most 128 registers; fused_gate.cu,
    /// PARK, BWD_MIN_BLOCKS), blocks of 128 for one (the compiler may take more: 168 at 64²). Measured on an H200, gate
    /// fwd + bwd, B·H 96, 256 / 128 threads (bench/results/gpu-h200-prefetch-lines-2026-12-01.md): 40² 8.10 / 9.14 ms,
    /// 48² 16.75 / 17.05, 56² 34.46 / 35.49, 64² 54.25 / 52.15 — so 128 only for lines of more than 56 cells, where a
    /// line's weights (wr[GY]) want the registers.</summary>
    private static int BackwardBlock(long x, long y) =>
        x * y <= MaxCellsAnyLine ? Block : LargeGridBackwardBlockOverride ?? (y > 56 ? 128 : 256);

    /// <summary>Σ_o 𝒢_o without D0, <c>[N, cells, cells]</c> (x-major cells), from stacked gates <c>[N, O, 8, X, Y]</c>
    /// in original cell coordinates (orientation o reverses x when o &amp; 1, y when o &amp; 2), absent turns as zeros.
    /// Differentiable with respect to the gates.</summary>
    /// <exception cref="ArgumentException">Gates the kernel cannot take (see <see cref="CanRun(Tensor)"/>).</exception>
    public static Tensor Gate(Tensor gates) => Gate(gates, null, 1.0);

    /// <summary><c>scale · (Σ_o 𝒢_o + diag(direct))</c>, <c>[N, cells, cells]</c>: the gate of <see cref="Gate(Tensor)"/>
    /// with the direct gate D0 (<c>[N, cells]</c>, or null) on its diagonal and the operator's scale folded in, so that
    /// <c>(Q Kᵀ ⊙ gate) V</c> is the whole operator output. Differentiable with respect to the gates and the direct gate.</summary>
    /// <exception cref="ArgumentException">Gates the kernel cannot take (see <see cref="CanRun(Tensor)"/>), or a direct gate of
    /// another shape, dtype or device.</exception>
    public static Tensor Gate(Tensor gates, Tensor? direct, double scale)
    {
        if (!CanRun(gates))
            throw new ArgumentException("gates must be a CUDA float32/float64 tensor [N, O, 8, X, Y] with 1 ≤ O ≤ 4, X·Y ≤ "
                + $"{MaxCellsAnyLine}, or X·Y ≤ {MaxCells} and Y ≤ {MaxLine}, on a machine with the CUDA driver and NVRTC "
                + $"({UnavailableReason ?? "available"})", nameof(gates));
        CheckDirect(gates, direct);
        return Run(gates, direct, scale);
    }

    /// <inheritdoc />
    protected override Tensor Walk(Tensor gates, double scale)
    {
        var shape = gates.shape;
        long N = shape[0], cells = shape[3] * shape[4];
        // The first orientation writes every entry (no zero fill needed), later ones add to it.
        var output = empty(new[] { N, cells, cells }, gates.dtype, gates.device);
        Launch(gates, output, null, scale);
        return output;
    }

    /// <inheritdoc />
    protected override Tensor Adjoint(Tensor gates, Tensor dGate, double scale)
    {
        var dGates = zeros_like(gates);                                                       // the kernel adds into it
        Launch(gates, dGate, dGates, scale);
        return dGates;
    }

    /// <inheritdoc />
    protected override bool LaunchesOnly => true;

    /// <inheritdoc />
    protected override void AdjointInto(Tensor gates, Tensor dGate, double scale, Tensor dGates, Tensor? scratch) =>
        Launch(gates, dGate, dGates, scale);

    /// <summary>Registers and local memory per thread (bytes) of the forward and backward kernels compiled for an
    /// X × Y grid of <paramref name="type"/> on CUDA device <paramref name="device"/> (compiling them if needed): what
    /// `plstm selfcheck` reports, since the driver reserves the local memory for every thread the device can hold.</summary>
    /// <exception cref="ArgumentException">A grid or dtype the kernel does not take.</exception>
    /// <exception cref="InvalidOperationException">The kernel cannot run on this machine (<see cref="UnavailableReason"/>).</exception>
    public static ((int Registers, int LocalBytes) Forward, (int Registers, int LocalBytes) Backward) Resources(
        int device, ScalarType type, long x, long y)
    {
        if (type != ScalarType.Float32 && type != ScalarType.Float64)
            throw new ArgumentException($"type must be Float32 or Float64 (got {type})", nameof(type));
        if (!TakesGrid(x, y)) throw new ArgumentException($"the kernel does not take a {x} x {y} grid", nameof(x));
        if (UnavailableReason is not null) throw new InvalidOperationException($"the kernel cannot run here: {UnavailableReason}");
        var kernels = KernelsOn(device, type, x, y);
        return (CudaDriver.Resources(kernels[0]), CudaDriver.Resources(kernels[1]));
    }

    /// <summary>Makes <paramref name="device"/>'s context current on this thread and returns its forward and backward
    /// kernels for an X × Y grid of <paramref name="type"/>, compiled on first use and cached for the process.</summary>
    private static IntPtr[] KernelsOn(int device, ScalarType type, long x, long y) => Kernels.On(device, (type, x, y));

    /// <summary>Launches the forward (gates → <paramref name="second"/> = scale · Σ_o 𝒢_o) or, when <paramref name="dGates"/>
    /// is given, the backward (gates, <paramref name="second"/> = its incoming gradient → <paramref name="dGates"/>).</summary>
    private static unsafe void Launch(Tensor gates, Tensor second, Tensor? dGates, double scale)
    {
        int device = TensorData.DeviceIndex(gates);
        var shape = gates.shape;
        var dtype = gates.dtype;
        long X = shape[3], Y = shape[4], N = shape[0];
        int orientations = (int)shape[1];
        var kernels = KernelsOn(device, dtype, X, Y);
        IntPtr g = TensorData.Pointer(gates), s = TensorData.Pointer(second), t = dGates is null ? IntPtr.Zero : TensorData.Pointer(dGates);
        int o = orientations;
        // The kernels' REAL scale argument: float or double as the tensors.
        float scale32 = (float)scale;
        double scale64 = scale;
        void* scaleArg = dtype == ScalarType.Float64 ? &scale64 : &scale32;
        uint batch = checked((uint)N);
        var tiling = TilingFor(X, Y);
        long slots = SourceSlots(X, Y, dGates is null ? tiling.Tiles : tiling.BackwardTiles);
        if (dGates is null)
        {
            void** args = stackalloc void*[] { &g, &s, &o, scaleArg };
            CudaDriver.Launch(kernels[0], (batch, (uint)((slots + Block - 1) / Block), 1), Block, args);
        }
        else
        {
            // The backward may spread the orientations over a third grid axis (OrientationsPerBackwardBlock).
            int perBlock = Math.Clamp(OrientationsPerBackwardBlock, 1, orientations);
            int block = BackwardBlock(X, Y);
            void** args = stackalloc void*[] { &g, &s, &t, &o, &perBlock, scaleArg };
            CudaDriver.Launch(kernels[1], (batch, (uint)((slots + block - 1) / block), (uint)((orientations + perBlock - 1) / perBlock)),
                (uint)block, args);
        }
    }

    internal static Dictionary<string, string> Definitions((ScalarType Type, long X, long Y) key) =>
        Definitions(key, TilingFor(key.X, key.Y));

    /// <summary>The compiler definitions for <paramref name="key"/> with source tiles <paramref name="tiling"/>
    /// (<see cref="WalkTiling.None"/>: 32 consecutive sources per warp in both kernels).</summary>
    internal static Dictionary<string, string> Definitions((ScalarType Type, long X, long Y) key, WalkTiling tiling)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        var definitions = new Dictionary<string, string>
        {
            ["REAL"] = key.Type == ScalarType.Float64 ? "double" : "float",
            ["GX"] = key.X.ToString(invariant),
            ["GY"] = key.Y.ToString(invariant),
            ["BLOCK"] = Block.ToString(invariant),
            ["BLOCK_BWD"] = BackwardBlock(key.X, key.Y).ToString(invariant),
        };
        if (tiling.Tiles.Lines > 0)
        {
            definitions["TILE_X"] = tiling.Tiles.Lines.ToString(invariant);
            definitions["TILE_Y"] = tiling.Tiles.Columns.ToString(invariant);
            if (!tiling.Backward) definitions["TILE_BWD"] = "0";
        }
        return definitions;
    }

    /// <summary>Source tiles of the two walks (fused_gate.cu TILE_X × TILE_Y, TILE_BWD): <paramref name="Tiles"/> for the
    /// forward ((0, 0): 32 consecutive sources per warp), and for the backward too when <paramref name="Backward"/>.</summary>
    internal readonly record struct WalkTiling((int Lines, int Columns) Tiles, bool Backward)
    {
        /// <summary>No tiles in either kernel.</summary>
        public static WalkTiling None => new((0, 0), false);

        /// <summary>The backward's tiles ((0, 0) when it walks 32 consecutive sources per warp).</summary>
        public (int Lines, int Columns) BackwardTiles => Backward ? Tiles : (0, 0);
    }

    /// <summary>The tiling the kernels use on an X × Y grid: <c>PLSTM_WALK_TILES</c>'s where set, else
    /// <see cref="DefaultTiling"/>; never tiles where <see cref="TilesFor"/> refuses them.</summary>
    internal static WalkTiling TilingFor(long x, long y)
    {
        var tiling = RequestedTiling ?? DefaultTiling(x, y);
        var tiles = TilesFor(x, y, tiling.Tiles);
        return tiles.Lines > 0 ? tiling with { Tiles = tiles } : WalkTiling.None;
    }

    /// <summary>The measured default: 4 × 8 tiles for the forward above 576 cells, the backward without. On an H200
    /// (Nsight Compute, B·H 384; bench/results/gpu-h200-walk-tiles-targets-2026-12-02.md) the tiled forward took 2.20 → 1.76
    /// ms at 32² but lost at 14² (89 → 108 µs; 24² not measured alone, so it stays untiled); the tiled backward lost
    /// everywhere (32²: 7.3 → 11.5 ms), its lanes' walks differing in length within a warp.</summary>
    internal static WalkTiling DefaultTiling(long x, long y) =>
        x * y > 576 ? new WalkTiling((4, 8), Backward: false) : WalkTiling.None;

    /// <summary>The source tiles the kernels take on an X × Y grid given the requested ones: none beyond
    /// <see cref="MaxCellsAnyLine"/> cells or for lines longer than 32 (the walks there are measured without).</summary>
    internal static (int Lines, int Columns) TilesFor(long x, long y, (int Lines, int Columns) requested) =>
        requested.Lines > 0 && x * y <= MaxCellsAnyLine && y <= 32 ? requested : (0, 0);

    /// <summary>Source slots (threads with a source or a tile's empty lane) a kernel is launched for: X·Y, or with
    /// tiles of L × C sources one warp per tile, ⌈X / L⌉ · ⌈Y / C⌉ · 32 (fused_gate.cu source_tile).</summary>
    internal static long SourceSlots(long x, long y, (int Lines, int Columns) tiles) =>
        tiles.Lines > 0 ? (x + tiles.Lines - 1) / tiles.Lines * ((y + tiles.Columns - 1) / tiles.Columns) * 32 : x * y;

    /// <summary><c>PLSTM_WALK_TILES</c>: "LxC" (L · C = 32) → those tiles in both kernels; "off" → none; anything else
    /// → null (the default).</summary>
    internal static WalkTiling? ParseTiling(string? text)
    {
        if (string.Equals(text, "off", StringComparison.OrdinalIgnoreCase)) return WalkTiling.None;
        var tiles = ParseWalkTiles(text);
        return tiles.Lines > 0 ? new WalkTiling(tiles, Backward: true) : null;
    }

    /// <summary>"LxC" with L · C = 32 (e.g. "4x8"), else (0, 0).</summary>
    internal static (int Lines, int Columns) ParseWalkTiles(string? text)
    {
        var parts = (text ?? "").Split('x');
        return parts.Length == 2 && RunTimeSwitch.TryInteger(parts[0], out int lines)
            && RunTimeSwitch.TryInteger(parts[1], out int columns) && lines > 0 && columns > 0 && lines * columns == 32
            ? (lines, columns) : (0, 0);
    }

    private static string? Probe()
    {
        if (!CudaDriver.Available) return "no CUDA driver (libcuda.so.1)";
        if (!NvrtcCompiler.Available) return "no NVRTC (libnvrtc.so; set PLSTM_NVRTC to its path)";
        return Kernels.Source is null ? "kernel source missing" : null;
    }
}
