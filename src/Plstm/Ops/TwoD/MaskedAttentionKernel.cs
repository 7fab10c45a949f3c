using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using Plstm.Interop;
using Plstm.Interop.Cuda;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The kernel form's masked attention <c>Y = (Q Kᵀ ⊙ G) V</c> and its gradients as runtime-compiled CUDA kernels — a
/// forward and a one-kernel backward, or the two-kernel backward (README §"Masked attention kernel", source <c>Kernels/masked_attention.cu</c>): tile by tile, so that of the
/// cells²-sized tensors only the gate G is read and its gradient written (the batched products wrote and read the scores
/// S, their product with G and the gradients dA and dS, six float32 GEMMs and several element-wise passes per layer).
/// Not differentiable itself: <see cref="WalkedGateAttention"/> calls <see cref="Forward(Tensor, Tensor, Tensor, Tensor)"/> and
/// <see cref="Backward(Tensor, Tensor, Tensor, Tensor, Tensor)"/>.
/// </summary>
/// <remarks>
/// Runs on CUDA float32 tensors with DK and DV multiples of 8 up to 64 (every vision preset: 64) on devices of compute
/// capability 8.0 or newer, where the driver and NVRTC are installed (<see cref="CanRun"/>); callers use the batched
/// products elsewhere. The products run on tensor cores as 3xTF32 (each float32 operand split into two TF32 parts, three
/// products, the small·small one dropped: about 2⁻²¹ relative per product, float32 accumulation) — the arithmetic
/// PyTorch's fused attention uses for float32 on these devices, so the ViT comparison stays like for like. The backward
/// is one kernel per block of keys that adds each block's share of dQ by L2 reductions (float32 dQ may differ in its last
/// bits between runs), or with <c>PLSTM_MASKED_ATTENTION_BACKWARD=split</c> two deterministic kernels
/// (<see cref="MaskedAttentionBackwardForm"/>). Kernels are compiled once per
/// (device, DK, DV). <c>PLSTM_MASKED_ATTENTION=off</c> turns the kernels off for the process (measurements side by side).
/// On an H200 (B·H 384, DK = DV 64, forward + backward of the whole kernel-form operator): 14² cells 1.67–1.87 → 1.43–1.48
/// ms, 32² 25.7 → 22.9–23.1 ms and 8.7 → 5.7 GiB (bench/results/gpu-h200-masked-attention-2026-12-01.md).
/// </remarks>
public static class MaskedAttentionKernel
{
    /// <summary>Widest DK or DV the kernels take (registers and shared memory are sized for it).</summary>
    public const int MaxWidth = 64;

    private const int Warps = 4;
    private const int Rows = 16 * Warps;
    /// <summary>Keys per shared tile in the forward (64), and a fixed number of keys or queries per tile in the backward
    /// kernels (null: <see cref="BackwardTileFor"/>'s rule), unless <c>PLSTM_MASKED_ATTENTION_TILES</c> names both ("F,B",
    /// multiples of 8 up to 64) for measurements.</summary>
    private static readonly (int Forward, int? Backward) Tiles = ReadTiles();
    private static int ForwardTile => Tiles.Forward;

    /// <summary>Token counts up to which the fused backward takes query tiles of 16 rather than 32. Measured on an H200
    /// (Nsight Compute, B·H 384, DK = DV 64; bench/results/gpu-h200-fused-attention-backward-2026-12-02.md): 14² 523 → 490
    /// µs with 16, 32² 8.87 → 9.00 ms (shorter tiles meet the three barriers a tile more often).</summary>
    private const long SmallTileTokens = 400;

    /// <summary>The backward tile for <paramref name="tokens"/> tokens in the fused or the two-kernel backward: the fixed
    /// one of <c>PLSTM_MASKED_ATTENTION_TILES</c>, else 16 for the fused backward up to <see cref="SmallTileTokens"/> and
    /// 32 otherwise. Each tile is its own compiled module (the kernels' BWD_TILE).</summary>
    private static int BackwardTileFor(long tokens, bool fused) =>
        Tiles.Backward ?? (fused && tokens <= SmallTileTokens ? 16 : 32);

    /// <summary>The module the forward and <see cref="CanRun"/> use for <paramref name="tokens"/> tokens: the one the
    /// default backward takes (so a layer builds one module per grid).</summary>
    private static int ModuleTile(long tokens) => BackwardTileFor(tokens, FusedBackward);

    /// <summary>The module of large token counts (what <see cref="CanRun"/>, <see cref="BuildError"/> and
    /// <see cref="Resources"/> build).</summary>
    private static int LargeTile => BackwardTileFor(long.MaxValue, FusedBackward);
    private const int DefaultSharedLimit = 48 * 1024;
    private const string ForwardName = "plstm_masked_attention_forward";
    private const string QueryName = "plstm_masked_attention_backward_query";
    private const string KeyName = "plstm_masked_attention_backward_key";
    private const string FusedName = "plstm_masked_attention_backward_fused";
    private const string NormalizedName = "plstm_masked_attention_forward_normalized";

    private static readonly bool Disabled =
        RunTimeSwitch.Is("PLSTM_MASKED_ATTENTION", "off");
    /// <summary>The kernel source: the embedded <c>Kernels/masked_attention.cu</c>, or, for measuring a variant without a
    /// rebuild, the file named by <c>PLSTM_MASKED_ATTENTION_SOURCE</c> (same kernel names, arguments and results).</summary>
    private static readonly KernelCache<(long DK, long DV, int Tile, MaskedAttentionPrecision Precision)> Kernels =
        new("masked_attention.cu", "PLSTM_MASKED_ATTENTION_SOURCE",
            [ForwardName, QueryName, KeyName, FusedName, NormalizedName], Definitions, AllowShared);
    private static readonly ConcurrentDictionary<int, bool> TensorCores = new();

    /// <summary>How the layers' backward runs (<see cref="MaskedAttentionBackwardForm"/>): fused unless
    /// <c>PLSTM_MASKED_ATTENTION_BACKWARD=split</c> or a backward tile (<c>PLSTM_MASKED_ATTENTION_TILES</c>) the fused
    /// kernel does not take (a multiple of 16 whose sixteenths divide the block's four warps). Read once.</summary>
    public static MaskedAttentionBackwardForm BackwardForm { get; } =
        !RunTimeSwitch.Is("PLSTM_MASKED_ATTENTION_BACKWARD", "split") && (Tiles.Backward is not { } fixedTile || FusedTakesTile(fixedTile))
            ? MaskedAttentionBackwardForm.Fused : MaskedAttentionBackwardForm.TwoKernels;

    /// <summary>Whether <see cref="BackwardForm"/> is the fused kernel.</summary>
    internal static bool FusedBackward => BackwardForm == MaskedAttentionBackwardForm.Fused;

    /// <summary>Whether the fused backward is compiled for backward tiles of <paramref name="tile"/> queries (the source's
    /// <c>#if</c>: 16, 32 or 64).</summary>
    private static bool FusedTakesTile(int tile) => tile % 16 == 0 && Warps % (tile / 16) == 0;

    /// <summary>Whether the kernels run for operands like q <c>[N, T, DK]</c> and v <c>[N, T, DV]</c> (the caller has
    /// checked that they match): CUDA, float32, DK and DV multiples of 8 up to <see cref="MaxWidth"/>, N at most 65,535
    /// (a grid axis), compute capability ≥ 8.0, driver and NVRTC present, not turned off.</summary>
    public static bool CanRun(Tensor q, long n, long dk, long dv)
    {
        ArgumentNullException.ThrowIfNull(q);
        if (!TakesShape(n, dk, dv) || Disabled || q.device_type != DeviceType.CUDA || q.dtype != ScalarType.Float32)
            return false;
        if (FusedGateKernel.UnavailableReason is not null || Kernels.Source is null) return false;
        int device = TensorData.DeviceIndex(q);
        // Kernels that do not build here (an NVRTC or driver too old for them) leave the batched products in place. The
        // module of small grids (query tiles of 16) differs from this one in a tile size only: should it alone fail, its
        // first launch throws with NVRTC's message, and `plstm selfcheck` (token counts from 1) reports it.
        return HasTensorCores(device) && Kernels.BuildError(device, (dk, dv, LargeTile, MaskedAttentionPrecision.Float32)) is null;
    }

    /// <summary>Whether CUDA device <paramref name="device"/> has the TF32 tensor cores the kernels use (compute capability
    /// 8.0 or newer).</summary>
    public static bool HasTensorCores(int device) =>
        TensorCores.GetOrAdd(device, d => CudaDriver.ComputeCapability(d).Major >= 8);

    /// <summary>Why the kernels for DK × DV do not build on CUDA device <paramref name="device"/> (what NVRTC or the driver
    /// said), or null when they do; compiles them if needed. <c>plstm selfcheck</c> reports it: <see cref="CanRun"/> then
    /// says no and the layers quietly keep the batched products.</summary>
    public static string? BuildError(int device, long dk, long dv) =>
        Kernels.BuildError(device, (dk, dv, LargeTile, MaskedAttentionPrecision.Float32));

    /// <summary>Whether the kernels are built for N batch entries of widths DK and DV: DK and DV multiples of 8 from 8 to
    /// <see cref="MaxWidth"/>, 1 ≤ N ≤ 65,535 (a grid axis). Any token count T ≥ 1.</summary>
    public static bool TakesShape(long n, long dk, long dv) =>
        n is >= 1 and <= ushort.MaxValue && dk is >= 8 and <= MaxWidth && dv is >= 8 and <= MaxWidth && dk % 8 == 0 && dv % 8 == 0;

    /// <summary><c>(q kᵀ ⊙ gate) v</c>, <c>[N, T, DV]</c>, for contiguous q, k <c>[N, T, DK]</c>, v <c>[N, T, DV]</c>,
    /// gate <c>[N, T, T]</c> the kernels take (<see cref="CanRun"/>).</summary>
    /// <exception cref="ArgumentException">Operands the kernels do not take, or of mismatched shapes.</exception>
    public static Tensor Forward(Tensor q, Tensor k, Tensor v, Tensor gate) =>
        Forward(q, k, v, gate, check: true, DefaultPrecision);

    /// <summary><see cref="Forward(Tensor, Tensor, Tensor, Tensor)"/> with the products in <paramref name="precision"/>.</summary>
    /// <exception cref="ArgumentException">Operands the kernels do not take, or of mismatched shapes.</exception>
    public static Tensor Forward(Tensor q, Tensor k, Tensor v, Tensor gate, MaskedAttentionPrecision precision) =>
        Forward(q, k, v, gate, check: true, precision);

    /// <summary>The precision of calls that do not name one: <see cref="MaskedAttentionPrecision.Tf32"/> while
    /// <c>torch.backends.cuda.matmul.allow_tf32</c> is set (as PyTorch's float32 matmuls; read at each call), else
    /// <see cref="MaskedAttentionPrecision.Float32"/>.</summary>
    public static MaskedAttentionPrecision DefaultPrecision =>
        backends.cuda.matmul.allow_tf32 ? MaskedAttentionPrecision.Tf32 : MaskedAttentionPrecision.Float32;

    /// <summary><see cref="Forward(Tensor, Tensor, Tensor, Tensor)"/>; <paramref name="check"/> false for a caller that
    /// has established the preconditions (the layer's hot path: each check is a few native calls).</summary>
    internal static Tensor Forward(Tensor q, Tensor k, Tensor v, Tensor gate, bool check, MaskedAttentionPrecision precision)
    {
        var (n, tokens, dk, dv, kernels) = Prepare(q, k, v, gate, null, check, precision);
        var y = empty(new[] { n, tokens, dv }, q.dtype, q.device);
        RowLayout qk = RowLayout.Contiguous(tokens, dk), vy = RowLayout.Contiguous(tokens, dv);
        Launch(kernels, n, tokens, dk, dv, new(q, 0, qk), new(k, 0, qk), new(v, 0, vy), gate, new(y, 0, vy));
        return y;
    }

    /// <summary>Where the rows of one batch entry of an operand lie (the kernels' <c>struct RowLayout</c>, passed by value):
    /// entry n = (n / Heads, n % Heads) starts <c>Batch·(n / Heads) + Head·(n % Heads)</c> floats from the operand's
    /// base, its T rows <c>Row</c> floats apart.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal readonly record struct RowLayout(long Batch, long Head, int Row, int Heads)
    {
        /// <summary>A contiguous <c>[N, T, W]</c> operand.</summary>
        public static RowLayout Contiguous(long tokens, long width) => new(tokens * width, 0, checked((int)width), 1);

        /// <summary>Heads side by side in each row: entry (b, h) of a <c>[B, T, …]</c> tensor whose rows are
        /// <paramref name="row"/> floats long starts at <c>b·T·row + h·width</c> (the 2D layer's projection output
        /// and its <c>[B, T, H, DV]</c> output).</summary>
        public static RowLayout HeadsInRows(long tokens, long row, long width, int heads) =>
            new(tokens * row, width, checked((int)row), heads);
    }

    /// <summary>An operand: a float32 CUDA tensor's data from <paramref name="Offset"/> floats on, its entries' rows
    /// placed by <paramref name="Layout"/>.</summary>
    internal readonly record struct Operand(Tensor Data, long Offset, RowLayout Layout)
    {
        public IntPtr Pointer => TensorData.Pointer(Data) + checked((nint)(Offset * sizeof(float)));
    }

    /// <summary>The forward on operands placed by their <see cref="RowLayout"/> (the 2D layer's projection layout): y written
    /// where <paramref name="y"/> says. The caller has checked what <see cref="CanRun"/> checks, the shapes, that every
    /// entry lies inside its tensor, and that every stride and offset is a multiple of 4 floats of a tensor whose data
    /// starts 16-byte aligned (the float4 loads).</summary>
    internal static void ForwardInto(Operand q, Operand k, Operand v, Tensor gate, Operand y, long n, long tokens, long dk,
        long dv, MaskedAttentionPrecision precision) =>
        Launch(KernelsOn(TensorData.DeviceIndex(q.Data), dk, dv, ModuleTile(tokens), precision), n, tokens,
            dk, dv, q, k, v, gate, y);

    /// <summary><see cref="ForwardInto"/> with the 2D layer's per-head RMS norm in the same kernel (the formula of
    /// <see cref="Common.RmsNormalization"/>, without reading y back): y where <paramref name="y"/> says, ŷ = y · r in
    /// <paramref name="normalized"/> (y's layout, another tensor), and r into <paramref name="inverse"/>, one per row of
    /// <c>[B, T, H, DV]</c> in that order (entry n = (b, h), H the layout's heads) — what the norm's backward reads.
    /// Preconditions as <see cref="ForwardInto"/>'s; <paramref name="inverse"/> a contiguous float32 tensor of
    /// <c>N · T</c> values.</summary>
    internal static unsafe void ForwardNormalizedInto(Operand q, Operand k, Operand v, Tensor gate, Operand y,
        Operand normalized, Tensor inverse, double eps, long n, long tokens, long dk, long dv,
        MaskedAttentionPrecision precision)
    {
        if (normalized.Layout != y.Layout)
            throw new ArgumentException("ŷ must have y's row layout", nameof(normalized));
        var kernels = KernelsOn(TensorData.DeviceIndex(q.Data), dk, dv, ModuleTile(tokens), precision);
        IntPtr qp = q.Pointer, kp = k.Pointer, vp = v.Pointer, gp = TensorData.Pointer(gate), yp = y.Pointer,
            np = normalized.Pointer, ip = TensorData.Pointer(inverse);
        RowLayout lq = q.Layout, lk = k.Layout, lv = v.Layout, ly = y.Layout;
        int t = checked((int)tokens);
        float e = (float)eps;
        void** args = stackalloc void*[] { &qp, &kp, &vp, &gp, &yp, &np, &ip, &t, &lq, &lk, &lv, &ly, &e };
        CudaDriver.Launch(kernels[4], Grid(n, tokens), Warps * 32, args, (uint)ForwardSharedBytes(dk, dv));
    }

    private static unsafe void Launch(IntPtr[] kernels, long n, long tokens, long dk, long dv, Operand q, Operand k,
        Operand v, Tensor gate, Operand y)
    {
        IntPtr qp = q.Pointer, kp = k.Pointer, vp = v.Pointer, gp = TensorData.Pointer(gate), yp = y.Pointer;
        RowLayout lq = q.Layout, lk = k.Layout, lv = v.Layout, ly = y.Layout;
        int t = checked((int)tokens);
        void** args = stackalloc void*[] { &qp, &kp, &vp, &gp, &yp, &t, &lq, &lk, &lv, &ly };
        CudaDriver.Launch(kernels[0], Grid(n, tokens), Warps * 32, args, (uint)ForwardSharedBytes(dk, dv));
    }

    /// <summary>The gradients of <see cref="Forward(Tensor, Tensor, Tensor, Tensor)"/>'s output with respect to q, k, v and the gate, given the output's
    /// gradient <paramref name="dy"/> <c>[N, T, DV]</c> (contiguous), in the layers' form (<see cref="BackwardForm"/>).</summary>
    /// <exception cref="ArgumentException">Operands the kernels do not take, or of mismatched shapes.</exception>
    public static (Tensor DQ, Tensor DK, Tensor DV, Tensor DGate) Backward(Tensor q, Tensor k, Tensor v, Tensor gate,
        Tensor dy) => Backward(q, k, v, gate, dy, BackwardForm, DefaultPrecision);

    /// <summary><see cref="Backward(Tensor, Tensor, Tensor, Tensor, Tensor)"/> in the given form (`plstm selfcheck` checks
    /// both) and precision (null: <see cref="DefaultPrecision"/>; the forward's, for the gradients of its output).</summary>
    /// <exception cref="ArgumentException">Operands the kernels do not take, or of mismatched shapes.</exception>
    /// <exception cref="InvalidOperationException">The fused form with a backward tile
    /// (<c>PLSTM_MASKED_ATTENTION_TILES</c>) it does not take.</exception>
    public static (Tensor DQ, Tensor DK, Tensor DV, Tensor DGate) Backward(Tensor q, Tensor k, Tensor v, Tensor gate,
        Tensor dy, MaskedAttentionBackwardForm form, MaskedAttentionPrecision? precision = null)
    {
        ArgumentNullException.ThrowIfNull(dy);
        bool fused = form == MaskedAttentionBackwardForm.Fused;
        if (fused && Tiles.Backward is { } fixedTile && !FusedTakesTile(fixedTile))
            throw new InvalidOperationException($"the fused backward does not take backward tiles of {fixedTile} queries");
        var (dQ, dK, dV, dGate, keyKernel) = BackwardQueryFirst(q, k, v, gate, dy, check: true, fused,
            precision ?? DefaultPrecision);
        keyKernel?.Invoke();
        return (dQ, dK, dV, dGate);
    }

    /// <summary><see cref="Backward(Tensor, Tensor, Tensor, Tensor, Tensor, MaskedAttentionBackwardForm, MaskedAttentionPrecision?)"/> in two steps: the gradients' buffers
    /// and the query kernel (dQ and the gate's gradient, complete on return in stream order), and an action that
    /// launches the key kernel (dK, dV) — so that work needing only the gate's gradient can be launched between the two,
    /// and run beside the second. With <paramref name="fused"/> the one kernel computes everything and the action is
    /// null.</summary>
    internal static (Tensor DQ, Tensor DK, Tensor DV, Tensor DGate, Action? KeyKernel) BackwardQueryFirst(Tensor q,
        Tensor k, Tensor v, Tensor gate, Tensor dy, bool check, bool fused, MaskedAttentionPrecision precision)
    {
        var (n, tokens, dk, dv, _) = Prepare(q, k, v, gate, dy, check, precision);
        // The fused kernel adds each key block's share into dQ.
        var dQ = fused ? zeros(new[] { n, tokens, dk }, q.dtype, q.device) : empty(new[] { n, tokens, dk }, q.dtype, q.device);
        var dK = empty(new[] { n, tokens, dk }, q.dtype, q.device);
        var dV = empty(new[] { n, tokens, dv }, q.dtype, q.device);
        var dGate = empty(new[] { n, tokens, tokens }, q.dtype, q.device);                 // every entry is written
        RowLayout qk = RowLayout.Contiguous(tokens, dk), vy = RowLayout.Contiguous(tokens, dv);
        Operand Q = new(q, 0, qk), K = new(k, 0, qk), V = new(v, 0, vy), DY = new(dy, 0, vy);
        if (fused)
        {
            BackwardFusedInto(Q, K, V, gate, DY, new(dQ, 0, qk), new(dK, 0, qk), new(dV, 0, vy), dGate, n, tokens, dk, dv,
                precision);
            return (dQ, dK, dV, dGate, null);
        }
        BackwardQueryInto(Q, K, V, gate, DY, new(dQ, 0, qk), dGate, n, tokens, dk, dv, precision);
        return (dQ, dK, dV, dGate,
            () => BackwardKeyInto(Q, K, V, gate, DY, new(dK, 0, qk), new(dV, 0, vy), n, tokens, dk, dv, precision));
    }

    /// <summary>The backward's first kernel on operands placed by their <see cref="RowLayout"/>: dQ written where it says
    /// (the 2D layer's projection gradient), the gate's gradient into the contiguous <paramref name="dGate"/>
    /// <c>[N, T, T]</c> (every entry). Preconditions as <see cref="ForwardInto"/>'s. Apart from the second kernel
    /// (<see cref="BackwardKeyInto"/>), so that work needing the gate's gradient can run alongside that one.</summary>
    internal static unsafe void BackwardQueryInto(Operand q, Operand k, Operand v, Tensor gate, Operand dy, Operand dq,
        Tensor dGate, long n, long tokens, long dkWidth, long dvWidth, MaskedAttentionPrecision precision)
    {
        int tile = BackwardTileFor(tokens, fused: false);
        var kernels = KernelsOn(TensorData.DeviceIndex(q.Data), dkWidth, dvWidth, tile, precision);
        IntPtr qp = q.Pointer, kp = k.Pointer, vp = v.Pointer, gp = TensorData.Pointer(gate), dyp = dy.Pointer,
            dqp = dq.Pointer, dgp = TensorData.Pointer(dGate);
        RowLayout lq = q.Layout, lk = k.Layout, lv = v.Layout, ldy = dy.Layout, ldq = dq.Layout;
        int t = checked((int)tokens);
        void** queryArgs = stackalloc void*[] { &qp, &kp, &vp, &gp, &dyp, &dqp, &dgp, &t, &lq, &lk, &lv, &ldy, &ldq };
        CudaDriver.Launch(kernels[1], Grid(n, tokens), Warps * 32, queryArgs, (uint)BackwardSharedBytes(dkWidth, dvWidth, tile));
    }

    /// <summary>The backward's second kernel alone: dK and dV (see <see cref="BackwardQueryInto"/>).</summary>
    internal static unsafe void BackwardKeyInto(Operand q, Operand k, Operand v, Tensor gate, Operand dy, Operand dk,
        Operand dv, long n, long tokens, long dkWidth, long dvWidth, MaskedAttentionPrecision precision)
    {
        int tile = BackwardTileFor(tokens, fused: false);
        var kernels = KernelsOn(TensorData.DeviceIndex(q.Data), dkWidth, dvWidth, tile, precision);
        IntPtr qp = q.Pointer, kp = k.Pointer, vp = v.Pointer, gp = TensorData.Pointer(gate), dyp = dy.Pointer,
            dkp = dk.Pointer, dvp = dv.Pointer;
        RowLayout lq = q.Layout, lk = k.Layout, lv = v.Layout, ldy = dy.Layout, ldk = dk.Layout, ldv = dv.Layout;
        int t = checked((int)tokens);
        void** keyArgs = stackalloc void*[] { &qp, &kp, &vp, &gp, &dyp, &dkp, &dvp, &t, &lq, &lk, &lv, &ldy, &ldk, &ldv };
        CudaDriver.Launch(kernels[2], Grid(n, tokens), Warps * 32, keyArgs, (uint)BackwardSharedBytes(dkWidth, dvWidth, tile));
    }

    /// <summary>The whole backward as one kernel (<see cref="FusedBackward"/>) on operands placed by their
    /// <see cref="RowLayout"/>: dK, dV written where they say, dQ ADDED where it says (the caller zeroes it: each block of
    /// keys adds its share), the gate's gradient into the contiguous <paramref name="dGate"/> (every entry).
    /// Preconditions as <see cref="ForwardInto"/>'s, and a backward tile the kernel takes.</summary>
    internal static unsafe void BackwardFusedInto(Operand q, Operand k, Operand v, Tensor gate, Operand dy, Operand dq,
        Operand dk, Operand dv, Tensor dGate, long n, long tokens, long dkWidth, long dvWidth, MaskedAttentionPrecision precision)
    {
        int tile = BackwardTileFor(tokens, fused: true);
        var kernels = KernelsOn(TensorData.DeviceIndex(q.Data), dkWidth, dvWidth, tile, precision);
        IntPtr qp = q.Pointer, kp = k.Pointer, vp = v.Pointer, gp = TensorData.Pointer(gate), dyp = dy.Pointer,
            dqp = dq.Pointer, dkp = dk.Pointer, dvp = dv.Pointer, dgp = TensorData.Pointer(dGate);
        RowLayout lq = q.Layout, lk = k.Layout, lv = v.Layout, ldy = dy.Layout, ldq = dq.Layout, ldk = dk.Layout,
            ldv = dv.Layout;
        int t = checked((int)tokens);
        void** args = stackalloc void*[] { &qp, &kp, &vp, &gp, &dyp, &dqp, &dkp, &dvp, &dgp, &t, &lq, &lk, &lv, &ldy, &ldq,
            &ldk, &ldv };
        CudaDriver.Launch(kernels[3], Grid(n, tokens), Warps * 32, args, (uint)FusedSharedBytes(dkWidth, dvWidth, tile));
    }

    /// <summary>Registers and local memory per thread (bytes) of the forward and the two backward kernels compiled for
    /// DK × DV on CUDA device <paramref name="device"/>, then of the fused backward (what `plstm selfcheck` reports).</summary>
    public static (int Registers, int LocalBytes)[] Resources(int device, long dk, long dv) =>
        KernelsOn(device, dk, dv, LargeTile, MaskedAttentionPrecision.Float32).Select(CudaDriver.Resources).ToArray();

    /// <summary>Checks the operands (unless <paramref name="check"/> is false) and returns the sizes and the kernels.</summary>
    private static (long N, long T, long DK, long DV, IntPtr[] Kernels) Prepare(Tensor q, Tensor k, Tensor v, Tensor gate,
        Tensor? dy, bool check, MaskedAttentionPrecision precision)
    {
        if (!check)
        {
            var shape = q.shape;
            long width = v.shape[2];
            return (shape[0], shape[1], shape[2], width,
                KernelsOn(TensorData.DeviceIndex(q), shape[2], width, ModuleTile(shape[1]), precision));
        }
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(gate);
        var qShape = q.shape;
        if (qShape.Length != 3 || !CanRun(q, qShape[0], qShape[2], qShape.Length == 3 && v.dim() == 3 ? v.shape[2] : 0))
            throw new ArgumentException("q must be a contiguous CUDA float32 [N, T, DK] tensor (DK and v's DV multiples of 8 "
                + $"up to {MaxWidth}, N ≤ 65,535) on a device the kernels run on", nameof(q));
        long n = qShape[0], tokens = qShape[1], dk = qShape[2], dv = v.shape[2];
        if (tokens < 1 || tokens > int.MaxValue)
            throw new ArgumentException($"q must have at least one token (T ≥ 1), got T = {tokens}", nameof(q));
        void Require(Tensor t, long[] shape, string name)
        {
            if (!t.shape.SequenceEqual(shape) || t.dtype != ScalarType.Float32 || t.device_type != DeviceType.CUDA
                || t.device_index != q.device_index || !t.is_contiguous())
                throw new ArgumentException($"{name} must be a contiguous float32 tensor [{string.Join(", ", shape)}] on q's "
                    + $"device, got [{string.Join(", ", t.shape)}] {t.dtype} on {t.device}", name);
        }
        Require(q, [n, tokens, dk], nameof(q));
        Require(k, [n, tokens, dk], nameof(k));
        Require(v, [n, tokens, dv], nameof(v));
        Require(gate, [n, tokens, tokens], nameof(gate));
        if (dy is not null) Require(dy, [n, tokens, dv], nameof(dy));
        int device = TensorData.DeviceIndex(q);
        return (n, tokens, dk, dv, KernelsOn(device, dk, dv, ModuleTile(tokens), precision));
    }

    private static (uint, uint, uint) Grid(long n, long tokens) =>
        (checked((uint)((tokens + Rows - 1) / Rows)), checked((uint)n), 1);

    /// <summary>The forward's dynamic shared memory: the block's own query rows and a tile of keys and values, rows padded
    /// by 4 floats (see the source).</summary>
    private static int ForwardSharedBytes(long dk, long dv) =>
        checked((int)(Rows * (dk + 4) * 4 + ForwardTile * (dk + 4 + dv + 4) * 4));

    /// <summary>The backward kernels' dynamic shared memory: the block's own rows and one tile of the other side, of both
    /// operands, rows padded by 4 floats (see the source).</summary>
    private static int BackwardSharedBytes(long dk, long dv, int tile) =>
        checked((int)(Rows * (dk + 4 + dv + 4) * 4 + tile * (dk + 4 + dv + 4) * 4));

    /// <summary>The fused backward's dynamic shared memory: the key kernel's and the staged dS tile (ROWS keys × the tile's
    /// queries, rows padded by 4 floats).</summary>
    private static int FusedSharedBytes(long dk, long dv, int tile) =>
        checked(BackwardSharedBytes(dk, dv, tile) + Rows * (tile + 4) * 4);

    private static IntPtr[] KernelsOn(int device, long dk, long dv, int tile, MaskedAttentionPrecision precision) =>
        Kernels.On(device, (dk, dv, tile, precision));

    internal static Dictionary<string, string> Definitions((long DK, long DV, int Tile, MaskedAttentionPrecision Precision) key) => new()
    {
        ["TF32_PASSES"] = key.Precision == MaskedAttentionPrecision.Tf32 ? "1" : "3",
        ["DK"] = key.DK.ToString(CultureInfo.InvariantCulture),
        ["DV"] = key.DV.ToString(CultureInfo.InvariantCulture),
        ["FWD_TILE"] = ForwardTile.ToString(CultureInfo.InvariantCulture),
        ["BWD_TILE"] = key.Tile.ToString(CultureInfo.InvariantCulture),
        ["MIN_BLOCKS"] = (RunTimeSwitch.Integer("PLSTM_MASKED_ATTENTION_MIN_BLOCKS", blocks => blocks is >= 1 and <= 8) ?? 3)
            .ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Shared memory above the 48 KiB a kernel gets without the driver's opt-in.</summary>
    private static void AllowShared(IntPtr[] kernels, (long DK, long DV, int Tile, MaskedAttentionPrecision Precision) key)
    {
        int forward = ForwardSharedBytes(key.DK, key.DV), backward = BackwardSharedBytes(key.DK, key.DV, key.Tile);
        if (forward > DefaultSharedLimit)
        {
            CudaDriver.AllowSharedMemory(kernels[0], forward);
            CudaDriver.AllowSharedMemory(kernels[4], forward);
        }
        if (backward > DefaultSharedLimit)
        {
            CudaDriver.AllowSharedMemory(kernels[1], backward);
            CudaDriver.AllowSharedMemory(kernels[2], backward);
        }
        int fused = FusedSharedBytes(key.DK, key.DV, key.Tile);
        if (FusedTakesTile(key.Tile) && fused > DefaultSharedLimit) CudaDriver.AllowSharedMemory(kernels[3], fused);
    }

    private static (int, int?) ReadTiles()
    {
        var parts = (Environment.GetEnvironmentVariable("PLSTM_MASKED_ATTENTION_TILES") ?? "").Split(',');
        static bool Valid(string text, out int tile) =>
            RunTimeSwitch.TryInteger(text, out tile) && tile is >= 8 and <= 64 && tile % 8 == 0;
        return parts.Length == 2 && Valid(parts[0], out var f) && Valid(parts[1], out var b) ? (f, b) : (64, null);
    }
}
