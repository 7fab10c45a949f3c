using Plstm.Interop;
using Plstm.Interop.Cuda;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The gating matrix 𝒢 of a D-mode 2D layer (one turn, so one path between any two cells) in closed form, from
/// runtime-compiled CUDA kernels (README §"Single-path kernel", source <c>Kernels/single_path_gate.cu</c>): each entry of
/// 𝒢 is a product of a mark, chain products along a line and a column (tables built once per batch entry and
/// orientation), at most one turn gate and a source — no walk over the grid. Same values as <see cref="FusedGateKernel"/>
/// for gates whose absent turn is zero (`plstm selfcheck` on the GPU; the kernels' loops are mirrored in C# and checked
/// against the walk's mirror in the tests), in a fraction of its time: the walk goes over every cell for every source,
/// although a D-mode source reaches only its quadrant, and does so as a chain of dependent steps.
/// </summary>
/// <remarks>
/// The caller states the wiring (<see cref="Gate"/>'s <c>left</c>): the kernels read only the gates a D-mode layer of
/// that chirality has, and the absent turn's gradient is zero (it is no input of such a layer). Runs on CUDA tensors of
/// float32 or float64 for grids of at most <see cref="MaxCells"/> cells with sides of at most <see cref="MaxSide"/>, where
/// the CUDA driver and NVRTC are installed; <c>PLSTM_SINGLE_PATH=off</c> turns it off (the walk runs instead), for
/// measurements. Scratch per batch entry and orientation: four tables of up to X·Y·max(X, Y) values (the chain products
/// and, in backward, two sums over d𝒢). The transitions' gradients add with atomic additions, so float32 results can
/// differ in the last bits between runs.
/// </remarks>
public static class SinglePathGateKernel
{
    /// <summary>Largest grid (cells) the kernels take.</summary>
    public const long MaxCells = 1024;

    /// <summary>Longest side (X or Y) the kernels take: the longest checked on a GPU (`plstm selfcheck`: 16 × 64 and
    /// 64 × 16). It once bounded per-thread register arrays of the backward's turn sums; those are scalars now, and a
    /// longer side would need new checks, not a new kernel.</summary>
    public const long MaxSide = 64;

    private const int TableThreads = 128;
    private const int ForwardThreads = 256;
    private const int MaxGridY = 65535;
    private const int TurnThreads = 256;

    /// <summary>Targets (rows of 𝒢) per block of the forward kernel (its TARGETS): <see cref="DefaultForwardTargets"/>
    /// unless <c>PLSTM_SINGLE_PATH_TARGETS</c> names 1 to 16, for measurements (read once).</summary>
    private static readonly int ForwardTargets =
        RunTimeSwitch.Integer("PLSTM_SINGLE_PATH_TARGETS", targets => targets is >= 1 and <= 16) ?? DefaultForwardTargets;

    /// <summary>Four targets per forward block. Measured on an H200 (Nsight Compute, B·H 384; bench/results/
    /// gpu-h200-walk-tiles-targets-2026-12-02.md): single_path_forward at 14² 96 → 72 µs (2: 78, 8: 78), at 32²
    /// 1,282 → 1,029 µs (2: 1,081, 8: 998); the D-mode operator fwd + bwd at 24² 1.82–1.84 → 1.69 ms, 32² 4.70 → 4.35–4.41
    /// ms. One value for every grid: 8 gained another 3 % at 32² only.</summary>
    internal const int DefaultForwardTargets = 4;

    private static readonly string[] Names =
        { "single_path_tables", "single_path_forward", "single_path_turns", "single_path_chains" };

    private static readonly KernelCache<(ScalarType Type, long X, long Y, bool Left)> Kernels =
        new("single_path_gate.cu", "PLSTM_SINGLE_PATH_SOURCE", Names, Definitions);
    private static readonly Lazy<string?> Unavailable = new(Probe);

    /// <summary>Whether <c>PLSTM_SINGLE_PATH=off</c> turned the kernels off (read once).</summary>
    private static readonly bool TurnedOff =
        RunTimeSwitch.Is("PLSTM_SINGLE_PATH", "off");

    /// <summary>Why the kernels cannot run on this machine (no CUDA driver, no NVRTC, turned off), or null when they can.</summary>
    public static string? UnavailableReason => Unavailable.Value;

    /// <summary>Whether the kernels run for stacked gates of <paramref name="dtype"/> on an X × Y grid on a CUDA device:
    /// float32/float64, a grid they take, a driver and NVRTC on this machine.</summary>
    public static bool CanRun(ScalarType dtype, long x, long y) =>
        (dtype == ScalarType.Float32 || dtype == ScalarType.Float64) && TakesGrid(x, y) && UnavailableReason is null;

    /// <summary>Whether the kernels take an X × Y grid.</summary>
    public static bool TakesGrid(long x, long y) => x >= 1 && y >= 1 && x <= MaxSide && y <= MaxSide && x * y <= MaxCells;

    /// <summary><c>scale · (Σ_o 𝒢_o + diag(direct))</c>, <c>[N, cells, cells]</c>, of a D-mode layer's stacked gates
    /// <c>[N, O, 8, X, Y]</c> (layout of <see cref="FusedGateKernel"/>; the absent turn is not read): chirality L
    /// (<paramref name="left"/>: state turns from the y-chain into the x-chain, T0ru) or R (from the x-chain into the
    /// y-chain, T0dl). Differentiable with respect to the gates and the direct gate.</summary>
    /// <exception cref="ArgumentException">Gates the kernels cannot take, or a direct gate of another shape, dtype or device.</exception>
    public static Tensor Gate(Tensor gates, bool left, Tensor? direct, double scale)
    {
        ArgumentNullException.ThrowIfNull(gates);
        var shape = gates.shape;
        // O ≤ 4: the orientations are the four scan directions (bit 0 reverses x, bit 1 y); the forward finds a pair's
        // orientation from those bits.
        if (gates.device_type != DeviceType.CUDA || shape.Length != 5 || !FusedGateKernel.TakesOrientations(shape[1])
            || shape[2] != FusedGateKernel.GatesPerOrientation || !CanRun(gates.dtype, shape[3], shape[4]))
            throw new ArgumentException($"gates must be a CUDA float32/float64 tensor [N, O ≤ 4, 8, X, Y] with X, Y ≤ {MaxSide} "
                + $"and X·Y ≤ {MaxCells} on a machine with the CUDA driver and NVRTC ({UnavailableReason ?? "available"}); "
                + $"got {gates.dtype} [{string.Join(", ", shape)}] on {gates.device}", nameof(gates));
        return left ? Left.Apply(gates, direct, scale) : Right.Apply(gates, direct, scale);
    }

    /// <summary>The closed form of one chirality as a gate function (the walk's autograd plumbing,
    /// <see cref="GateWalkFunction{TSelf}"/>).</summary>
    /// <typeparam name="TSelf">The chirality's function.</typeparam>
    public abstract class Chirality<TSelf> : GateWalkFunction<TSelf> where TSelf : Chirality<TSelf>, new()
    {
        /// <summary>Whether state turns from the y-chain into the x-chain (L), else from the x-chain into the y-chain (R).</summary>
        protected abstract bool TurnsIntoX { get; }

        internal static Tensor Apply(Tensor gates, Tensor? direct, double scale)
        {
            CheckDirect(gates, direct);
            return Run(gates, direct, scale);
        }

        /// <inheritdoc />
        protected override Tensor Walk(Tensor gates, double scale) => Forward(gates, scale, TurnsIntoX);

        /// <inheritdoc />
        protected override Tensor Adjoint(Tensor gates, Tensor dGate, double scale) => Backward(gates, dGate, scale, TurnsIntoX);

        /// <inheritdoc />
        protected override bool LaunchesOnly => true;

        /// <inheritdoc />
        protected override Tensor? AdjointScratch(Tensor gates) => Scratch(gates, gates.shape);

        /// <inheritdoc />
        protected override void AdjointInto(Tensor gates, Tensor dGate, double scale, Tensor dGates, Tensor? scratch) =>
            Launch(gates, gates.shape, dGate, dGates, scale, TurnsIntoX, scratch);
    }

    /// <summary>Chirality R (T0dl: from the x-chain into the y-chain).</summary>
    public sealed class Right : Chirality<Right>
    {
        /// <inheritdoc />
        public override string Name => "SinglePathGateKernel.Right";

        /// <inheritdoc />
        protected override bool TurnsIntoX => false;
    }

    /// <summary>Chirality L (T0ru: from the y-chain into the x-chain).</summary>
    public sealed class Left : Chirality<Left>
    {
        /// <inheritdoc />
        public override string Name => "SinglePathGateKernel.Left";

        /// <inheritdoc />
        protected override bool TurnsIntoX => true;
    }

    /// <summary>Scratch values per batch entry and orientation (the kernels' TABLES): the backward's tables PA, PB and
    /// its two sums, in whose room the forward's W, U, U' fit.</summary>
    private static long TableValues(long x, long y) => 2 * (y * x * x) + 2 * (x * y * y);

    /// <summary>scale · Σ_o 𝒢_o from contiguous gates: the chain tables, then every entry once.</summary>
    private static Tensor Forward(Tensor gates, double scale, bool left)
    {
        var shape = gates.shape;
        var output = empty(new[] { shape[0], shape[3] * shape[4], shape[3] * shape[4] }, gates.dtype, gates.device);
        Launch(gates, shape, output, null, scale, left);
        return output;
    }

    /// <summary>The gates' gradient from contiguous gates and the incoming gradient of scale · Σ_o 𝒢_o.</summary>
    private static Tensor Backward(Tensor gates, Tensor dGate, double scale, bool left)
    {
        var dGates = zeros_like(gates);                                                      // transitions add into it
        Launch(gates, gates.shape, dGate, dGates, scale, left);
        return dGates;
    }

    /// <summary>The kernels' scratch for stacked gates of <paramref name="shape"/>: the tables of every batch entry and
    /// orientation.</summary>
    private static Tensor Scratch(Tensor gates, long[] shape) =>
        empty(new[] { shape[0] * shape[1] * TableValues(shape[3], shape[4]) }, gates.dtype, gates.device);

    /// <summary>Builds the tables (the forward's W, U, U', or the backward's PA, PB) in <paramref name="scratch"/> (fresh
    /// when null), then launches the forward (gates → <paramref name="second"/> = scale · Σ_o 𝒢_o) or, when
    /// <paramref name="dGates"/> is given, the backward (gates, <paramref name="second"/> = its incoming gradient →
    /// <paramref name="dGates"/>).</summary>
    private static unsafe void Launch(Tensor gates, long[] shape, Tensor second, Tensor? dGates, double scale, bool left,
        Tensor? scratch = null)
    {
        long N = shape[0], X = shape[3], Y = shape[4], cells = X * Y;
        int o = (int)shape[1];
        var kernels = KernelsOn(gates.device_index, gates.dtype, X, Y, left);
        using var own = scratch is null ? Scratch(gates, shape) : null;
        var tables = scratch ?? own!;
        IntPtr g = TensorData.Pointer(gates), t = TensorData.Pointer(tables), s = TensorData.Pointer(second),
            r = dGates is null ? IntPtr.Zero : TensorData.Pointer(dGates);
        // The kernels' REAL scale argument: float or double as the tensors.
        float scale32 = (float)scale;
        double scale64 = scale;
        void* scaleArg = gates.dtype == ScalarType.Float64 ? &scale64 : &scale32;
        uint entries = checked((uint)(N * o));
        int backward = dGates is null ? 0 : 1;
        void** tableArgs = stackalloc void*[] { &g, &t, &o, &backward };
        CudaDriver.Launch(kernels[0], (entries, Blocks(2 * cells, TableThreads), 1), TableThreads, tableArgs);
        if (dGates is null)
        {
            // One block per (target cell, batch entry), its threads over the sources: blocks of one batch entry run
            // together, so its tables stay in L2. The batch axis is the grid's y (at most 65,535 entries per launch).
            uint threads = ForwardWidth(cells);                // the kernel's FORWARD_THREADS
            int batch0 = 0;
            void** forwardArgs = stackalloc void*[] { &g, &t, &s, &o, scaleArg, &batch0 };
            for (long start = 0; start < N; start += MaxGridY)
            {
                batch0 = (int)start;
                CudaDriver.Launch(kernels[1], (Blocks(cells, ForwardTargets), (uint)Math.Min(MaxGridY, N - start), 1), threads,
                    forwardArgs);
            }
            return;
        }
        // One thread per entry of F or Ā that exists, then per cell and chain; both grids flat with an entry's blocks
        // consecutive (the kernels' TURN_BLOCKS and CHAIN_BLOCKS), so that the blocks in flight share the entries' d𝒢 in L2.
        void** turnArgs = stackalloc void*[] { &g, &s, &t, &o, scaleArg };
        CudaDriver.Launch(kernels[2], (checked(entries * TurnBlocks(left ? Y : X, left ? X : Y)), 1, 1), TurnThreads, turnArgs);
        void** chainArgs = stackalloc void*[] { &g, &s, &t, &r, &o, scaleArg };
        CudaDriver.Launch(kernels[3], (checked(entries * Blocks(2 * cells, TableThreads)), 1, 1), TableThreads, chainArgs);
    }

    /// <summary>Threads per block of the forward: the cells rounded up to whole warps, at most 256 (compiled into the
    /// kernel as FORWARD_THREADS, which unrolls its loop for this width).</summary>
    private static uint ForwardWidth(long cells) => (uint)Math.Min(ForwardThreads, (cells + 31) / 32 * 32);

    private static uint Blocks(long threads, int perBlock) => checked((uint)((threads + perBlock - 1) / perBlock));

    /// <summary>The turn kernel's blocks per batch entry and orientation (its TURN_BLOCKS) for GP lines of GQ cells in the
    /// chirality's frame: a thread per F entry (lines p ≥ 1, pairs a &lt; q) and per Ā entry (pairs i &lt; p, every a);
    /// one idle block where there are none (a grid of one line).</summary>
    internal static uint TurnBlocks(long gp, long gq) =>
        Math.Max(1u, Blocks((gp - 1) * (gq * (gq - 1) / 2) + gp * (gp - 1) / 2 * gq, TurnThreads));

    /// <summary>Makes the device's context current on this thread and returns its kernels for the grid, dtype and
    /// chirality, compiled on first use and cached for the process.</summary>
    private static IntPtr[] KernelsOn(int device, ScalarType type, long x, long y, bool left) =>
        Kernels.On(device, (type, x, y, left));

    internal static Dictionary<string, string> Definitions((ScalarType Type, long X, long Y, bool Left) key) =>
        Definitions(key, ForwardTargets);

    /// <summary>The compiler definitions for <paramref name="key"/> with <paramref name="targets"/> targets per forward
    /// block (1: the kernel's default, not passed).</summary>
    internal static Dictionary<string, string> Definitions((ScalarType Type, long X, long Y, bool Left) key, int targets)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        var definitions = new Dictionary<string, string>
        {
            ["REAL"] = key.Type == ScalarType.Float64 ? "double" : "float",
            ["GX"] = key.X.ToString(invariant),
            ["GY"] = key.Y.ToString(invariant),
            ["TRANSPOSE"] = key.Left ? "1" : "0",
            // The forward's loop over a thread's sources is unrolled for the width it is launched with.
            ["FORWARD_THREADS"] = ForwardWidth(key.X * key.Y).ToString(invariant),
        };
        if (targets > 1) definitions["TARGETS"] = targets.ToString(invariant);
        return definitions;
    }

    /// <summary>The reason the kernels do not run: turned off, or what keeps every runtime-compiled kernel of the
    /// operator from running (<see cref="FusedGateKernel.UnavailableReason"/>: driver, NVRTC), or a missing source.</summary>
    private static string? Probe()
    {
        if (TurnedOff) return "turned off (PLSTM_SINGLE_PATH=off)";
        return FusedGateKernel.UnavailableReason ?? (Kernels.Source is null ? "kernel source missing" : null);
    }
}
