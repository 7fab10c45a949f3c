using Plstm.Interop;
using Plstm.Interop.Cuda;
using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The 2D layer's gate activations as one differentiable step: the gate pre-activations of the layer's projection,
/// <c>[B, X, Y, K·4H]</c> (column <c>k·4H + 4h + o</c> for gate kind k, head h, orientation o), become the stacked gates
/// <c>[B·H, 4, 8, X, Y]</c> the gate walk reads (S0r, S0d, T0rl, T0du, T0dl, T0ru, M0l, M0u; formulas in
/// <see cref="GateActivationMode"/> and <c>Ops/TwoD/README.md</c> §"Gate activation").
/// </summary>
/// <remarks>
/// Why a function of its own: written as tensor operations the activations, the P-mode products, the stacking and their
/// autograd nodes are about fifteen small operations per layer forward and as many backward, and on a GPU each costs
/// the host more (TorchSharp, libtorch dispatch, a kernel launch) than the device: the 224-px pLSTM-ViT-T training
/// step was bound by the host. On CUDA (float32/float64, where the driver and NVRTC are available) forward and backward
/// are one runtime-compiled kernel each (<c>Kernels/gate_activation.cu</c>); elsewhere the same formulas run as tensor
/// operations (<see cref="Reference"/> forward, the kernel's backward formulas mirrored). The backward recomputes the
/// activations from a compact copy of the pre-activations, <c>B·X·Y·K·4H</c> values, written by the forward (saving
/// the view would keep the whole projection output alive).
/// </remarks>
public sealed class GateActivation : autograd.MultiTensorFunction<GateActivation>
{
    private const string HeadsKey = "heads";
    private const string ModeKey = "mode";
    private const string FactorKey = "factor";
    private const int ForwardBlock = 256;
    private const int BackwardBlock = 128;
    private const string ForwardName = "plstm_gate_activation_forward";
    private const string BackwardName = "plstm_gate_activation_backward";
    private const string ProjectName = "plstm_gate_activation_project";

    private static readonly KernelCache<ScalarType> Kernels = new("gate_activation.cu", null,
        [ForwardName, BackwardName, ProjectName],
        type => new Dictionary<string, string> { ["REAL"] = type == ScalarType.Float64 ? "double" : "float" },
        (kernels, _) => CudaDriver.PreferSharedMemory(kernels[2]));                      // a hint; refusal is fine

    /// <inheritdoc />
    public override string Name => nameof(GateActivation);

    /// <summary>Gate kinds K of a mode: 4 in P-mode (ω, S, M, T), 7 in D-mode (S0r, S0d, M0l, M0u, T0rl, T0du, turn).</summary>
    public static int Kinds(GateActivationMode mode) => mode == GateActivationMode.P ? 4 : 7;

    /// <summary>Whether <see cref="Apply"/> runs the CUDA kernel for pre-activations like <paramref name="pre"/> (else
    /// tensor operations).</summary>
    public static bool RunsKernel(Tensor pre)
    {
        ArgumentNullException.ThrowIfNull(pre);
        return pre.device_type == DeviceType.CUDA && pre.dtype is ScalarType.Float32 or ScalarType.Float64
            && FusedGateKernel.UnavailableReason is null && Kernels.Source is not null;
    }

    /// <summary>The stacked gates <c>[B·H, 4, 8, X, Y]</c> from the pre-activations <paramref name="pre"/>
    /// <c>[B, X, Y, K·4H]</c> (a view with unit column stride is read in place), differentiable with respect to them.</summary>
    /// <param name="pre">Gate pre-activations, K = <see cref="Kinds"/> kinds of 4H columns, in the order of the mode.</param>
    /// <param name="heads">Heads H.</param>
    /// <param name="mode">Which gates the kinds are.</param>
    /// <param name="factor">Transition factor f: T = tanh(f·z).</param>
    /// <exception cref="ArgumentException">A shape that does not match the mode and head count, or a non-floating dtype.</exception>
    public static Tensor Apply(Tensor pre, int heads, GateActivationMode mode, double factor)
    {
        Check(pre, heads, mode);
        if (!(is_grad_enabled() && pre.requires_grad))
        {
            using var scope = NewDisposeScope();
            return Forward(pre, heads, mode, factor, keep: false).Gates.MoveToOuterDisposeScope();
        }
        // The forward's handle of the copy it saves stays in this scope until the context has taken its own reference
        // (TorchSharp copies the saved tensors after the forward returns), then is released here.
        using (var scope = NewDisposeScope())
            return apply(pre, heads, (int)mode, factor)[0].MoveToOuterDisposeScope();
    }

    /// <summary>The stacked gates as plain tensor operations (differentiable by autograd): the definition
    /// <see cref="Apply"/> is tested against.</summary>
    public static Tensor Reference(Tensor pre, int heads, GateActivationMode mode, double factor)
    {
        Check(pre, heads, mode);
        return Activate(pre, heads, mode, factor);
    }

    /// <summary><see cref="Reference"/> without the argument check (its callers have made it).</summary>
    private static Tensor Activate(Tensor pre, int heads, GateActivationMode mode, double factor)
    {
        using var scope = NewDisposeScope();
        var z = ByKind(pre, heads, Kinds(mode));                                             // [K, B·H, 4, X, Y]
        Tensor[] planes;
        if (mode == GateActivationMode.P)
        {
            var (w, s, m, t) = (sigmoid(z[0]), sigmoid(z[1]), sigmoid(z[2]), tanh(z[3] * factor));
            var ws = w * s;
            var wt = w * t;
            planes = [ws, 1.0 - ws, wt, 1.0 - wt, 1.0 - wt, wt, m, m];
        }
        else
        {
            var turn = tanh(z[6] * factor);
            var none = zeros_like(turn);
            planes = [sigmoid(z[0]), sigmoid(z[1]), tanh(z[4] * factor), tanh(z[5] * factor),
                mode == GateActivationMode.DRight ? turn : none, mode == GateActivationMode.DLeft ? turn : none,
                sigmoid(z[2]), sigmoid(z[3])];
        }
        return stack(planes, 2).MoveToOuterDisposeScope();                                   // [B·H, 4, 8, X, Y]
    }

    private static void Check(Tensor pre, int heads, GateActivationMode mode)
    {
        ArgumentNullException.ThrowIfNull(pre);
        if (heads < 1) throw new ArgumentOutOfRangeException(nameof(heads), heads, "heads must be at least 1");
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown gate activation mode");
        long columns = (long)Kinds(mode) * 4 * heads;
        var shape = pre.shape;
        if (shape.Length != 4 || shape[3] != columns || shape[0] < 1 || shape[1] < 1 || shape[2] < 1)
            throw new ArgumentException($"pre must be [B, X, Y, {columns}] ({Kinds(mode)} kinds × 4 orientations × {heads} "
                + $"heads) with B, X, Y ≥ 1, got [{string.Join(", ", shape)}]", nameof(pre));
        if (!pre.is_floating_point())
            throw new ArgumentException($"pre must be a floating-point tensor, got {pre.dtype}", nameof(pre));
    }

    /// <summary>[B, X, Y, K·4H] → [K, B·H, 4, X, Y] (a copy).</summary>
    private static Tensor ByKind(Tensor pre, int heads, int kinds)
    {
        var shape = pre.shape;                                                               // one native call
        long B = shape[0], X = shape[1], Y = shape[2];
        return pre.reshape(B, X, Y, kinds, heads, 4).permute(3, 0, 4, 5, 1, 2).reshape(kinds, B * heads, 4, X, Y);
    }

    /// <summary>[K, B·H, 4, X, Y] → [B, X, Y, K·4H] (a copy): the inverse of <see cref="ByKind"/>.</summary>
    private static Tensor FromKinds(Tensor byKind, long B, int heads)
    {
        var shape = byKind.shape;
        long K = shape[0], X = shape[3], Y = shape[4];
        return byKind.reshape(K, B, heads, 4, X, Y).permute(1, 4, 5, 0, 2, 3).reshape(B, X, Y, K * 4 * heads);
    }

    /// <summary>The forward without autograd, for a function that runs the activation inside its own forward
    /// (<see cref="WalkedGateAttention"/>): the stacked gates and the compact copy of the pre-activations that
    /// <see cref="BackwardNoGrad"/> reads.</summary>
    internal static (Tensor Gates, Tensor Kept) ForwardNoGrad(Tensor pre, int heads, GateActivationMode mode, double factor)
    {
        Check(pre, heads, mode);
        var (gates, kept) = Forward(pre, heads, mode, factor, keep: true);
        return (gates, kept!);
    }

    /// <summary>The stacked gates alone (<see cref="ForwardNoGrad"/> without the compact copy), for a function that keeps
    /// the pre-activations another way (<see cref="ProjectedGateAttention"/> keeps the whole projection output).</summary>
    internal static Tensor GatesNoGrad(Tensor pre, int heads, GateActivationMode mode, double factor)
    {
        Check(pre, heads, mode);
        return Forward(pre, heads, mode, factor, keep: false).Gates;
    }

    /// <summary><c>PLSTM_GATE_PROJECTION=on</c> lets the gate kernel make a D-mode layer's gate pre-activations from x on
    /// CUDA (<see cref="ProjectNoGrad"/>); off by default: measured no faster on an H200 yet
    /// (bench/results/gpu-h200-gate-projection-2026-12-02.md).</summary>
    private static readonly bool ProjectionOn = Environment.GetEnvironmentVariable("PLSTM_GATE_PROJECTION") == "on";

    /// <summary>Cells per block of the projecting kernel (<c>PLSTM_GATE_PROJECTION_TILE</c>, default 32, at most 32; for
    /// measurements), capped so that what it stages fits 48 KiB.</summary>
    private static readonly int ProjectionTile =
        int.TryParse(Environment.GetEnvironmentVariable("PLSTM_GATE_PROJECTION_TILE"), out int t) && t > 0 ? t : MaxTileCells;

    /// <summary>Whether <see cref="ProjectNoGrad"/> runs for inputs like <paramref name="x"/> of
    /// <paramref name="inputs"/> channels: switched on (<c>PLSTM_GATE_PROJECTION=on</c>), a D-mode layer (the P-mode
    /// orientation rows read every channel, and the P-mode product gains nothing from the narrower width), on CUDA in
    /// float32/float64 with the kernels built, D a multiple of 4H, rows that fit the staging.</summary>
    internal static bool CanProject(Tensor x, long inputs, int heads, GateActivationMode mode) =>
        ProjectionOn && mode != GateActivationMode.P && inputs % (4L * heads) == 0 && RunsKernel(x)
        && ProjectTile(inputs, heads, mode, x.dtype == ScalarType.Float64 ? 8 : 4) > 0;

    /// <summary>Cells per block of the projecting kernel for inputs of <paramref name="inputs"/> channels (one cell per
    /// lane: at most 32), as many as let <see cref="ProjectSharedBytes"/> fit 48 KiB; 0 when none fit.</summary>
    private static int ProjectTile(long inputs, int heads, GateActivationMode mode, int bytes)
    {
        int columns = Kinds(mode) * 4 * heads;
        long sub = inputs / (4L * heads), perCell = (inputs + 1 + columns + 1) * bytes;
        long tile = (SharedBytes - ProjectSharedBytes(0, inputs, sub, columns, bytes)) / perCell;
        return (int)Math.Clamp(Math.Min(tile, ProjectionTile), 0, MaxTileCells);             // a lane per cell: ≤ 32
    }

    /// <summary>Shared memory of the projecting kernel: the staged input rows <c>[tile, D + 1]</c>, the gate rows' blocks
    /// <c>[K·4H, D/(4H) + 1]</c>, their biases <c>[K·4H]</c> and the pre-activation rows <c>[tile, K·4H + 1]</c>.</summary>
    private static long ProjectSharedBytes(int tile, long inputs, long sub, int columns, int bytes) =>
        (tile * (inputs + 1) + columns * (sub + 1) + columns + tile * (columns + 1L)) * bytes;

    /// <summary>The stacked gates <c>[B·H, 4, 8, X, Y]</c> and the pre-activations <c>[B, X, Y, K·4H]</c> the backward
    /// reads, made from the layer's input rows <paramref name="xRows"/> <c>[B·X·Y, D]</c> (contiguous) and the gate rows
    /// of its stacked projection, <paramref name="gateWeight"/> <c>[K·4H, D]</c> and <paramref name="gateBias"/>
    /// <c>[K·4H]</c> (contiguous, possibly views), without autograd: pre = x·wᵀ + b, then the activations, in one kernel
    /// (see <see cref="CanProject"/>). The weight's rows must be block-diagonal (column 4h + o reading its own D/(4H)
    /// channels, as the 2D layer's are): the zero entries are not read.</summary>
    internal static unsafe (Tensor Gates, Tensor Pre) ProjectNoGrad(Tensor xRows, Tensor gateWeight, Tensor gateBias,
        long batch, long gridX, long gridY, int heads, GateActivationMode mode, double factor)
    {
        using var noGrad = no_grad();
        int kinds = Kinds(mode), columns = kinds * 4 * heads, H = heads, m = (int)mode;
        int B = checked((int)batch), cells = checked((int)(gridX * gridY)), D = checked((int)xRows.shape[1]);
        var gates = empty(new[] { batch * heads, 4, FusedGateKernel.GatesPerOrientation, gridX, gridY }, xRows.dtype,
            xRows.device);
        var pre = empty(new[] { batch, gridX, gridY, columns }, xRows.dtype, xRows.device);     // as BackwardInto reads it
        var kernels = Kernels.On(xRows.device_index, xRows.dtype);
        IntPtr xp = TensorData.Pointer(xRows), wp = TensorData.Pointer(gateWeight), bp = TensorData.Pointer(gateBias);
        IntPtr gp = TensorData.Pointer(gates), kp = TensorData.Pointer(pre);
        float factor32 = (float)factor;
        double factor64 = factor;
        void* factorArg = xRows.dtype == ScalarType.Float64 ? &factor64 : &factor32;
        int bytes = xRows.dtype == ScalarType.Float64 ? 8 : 4, tile = ProjectTile(D, heads, mode, bytes);
        uint sharedBytes = checked((uint)ProjectSharedBytes(tile, D, D / (4 * heads), columns, bytes));
        void** args = stackalloc void*[] { &xp, &D, &wp, &bp, &gp, &kp, &B, &H, &cells, &m, factorArg, &kinds, &tile };
        CudaDriver.Launch(kernels[2], ((uint)((cells + tile - 1) / tile), checked((uint)B), 1), ForwardBlock, args,
            sharedBytes);
        return (gates, pre);
    }

    /// <summary>The gradient of the pre-activations (<c>[B, X, Y, K·4H]</c>, contiguous) from the stacked gates'
    /// gradient, given the copy <see cref="ForwardNoGrad"/> kept.</summary>
    internal static Tensor BackwardNoGrad(Tensor kept, Tensor dGates, int heads, GateActivationMode mode, double factor)
    {
        using var noGrad = no_grad();
        if (!RunsKernel(kept)) return MirroredBackward(kept, dGates, heads, mode, factor);
        var dPre = empty(kept.shape, kept.dtype, kept.device);
        BackwardInto(kept, dGates, dPre, heads, mode, factor);
        return dPre;
    }

    /// <summary><see cref="BackwardNoGrad"/> written into <paramref name="dPre"/>, a <c>[B, X, Y, K·4H]</c> tensor or
    /// view with equally spaced rows of unit column stride (the gate columns of the 2D layer's projection gradient);
    /// <paramref name="pre"/> the pre-activations, equally spaced rows too (on CUDA the kernel reads them strided).</summary>
    internal static void BackwardInto(Tensor pre, Tensor dGates, Tensor dPre, int heads, GateActivationMode mode,
        double factor)
    {
        using var noGrad = no_grad();
        if (!RunsKernel(pre))
        {
            using var computed = MirroredBackward(pre, dGates, heads, mode, factor);
            dPre.copy_(computed);
            return;
        }
        using var incoming = dGates.contiguous();
        Launch(pre, pre.stride(2), incoming, null, dPre, heads, mode, factor);
    }

    /// <summary>The forward without autograd: the stacked gates and, when <paramref name="keep"/>, the compact copy of
    /// the pre-activations the backward reads.</summary>
    private static (Tensor Gates, Tensor? Kept) Forward(Tensor pre, int heads, GateActivationMode mode, double factor, bool keep)
    {
        using var noGrad = no_grad();
        if (!RunsKernel(pre))
            return (Activate(pre, heads, mode, factor), keep ? pre.contiguous() : null);
        var shape = pre.shape;
        var stride = pre.stride();
        long B = shape[0], X = shape[1], Y = shape[2];
        var input = stride[3] == 1 && stride[1] == Y * stride[2] && stride[0] == X * stride[1]
            ? pre : pre.contiguous();                                                        // rows equally spaced
        var gates = empty(new[] { B * heads, 4, FusedGateKernel.GatesPerOrientation, X, Y }, pre.dtype, pre.device);
        var kept = keep ? empty(shape, pre.dtype, pre.device) : null;
        Launch(input, input.stride(2), gates, kept, null, heads, mode, factor);
        if (!ReferenceEquals(input, pre)) input.Dispose();
        return (gates, kept);
    }

    /// <inheritdoc />
    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var pre = (Tensor)vars[0];
        var (heads, mode, factor) = ((int)vars[1], (GateActivationMode)(int)vars[2], (double)vars[3]);
        var (gates, kept) = Forward(pre, heads, mode, factor, keep: true);
        ctx.save_for_backward([kept!]);
        ctx.save_data(HeadsKey, heads);
        ctx.save_data(ModeKey, (int)mode);
        ctx.save_data(FactorKey, factor);
        ctx.set_materialize_grads(false);
        return [gates];
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grad_outputs)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var saved = ctx.get_saved_variables();
        var kept = saved[0];
        int heads = (int)ctx.get_data(HeadsKey);
        var mode = (GateActivationMode)(int)ctx.get_data(ModeKey);
        double factor = (double)ctx.get_data(FactorKey);
        var dGates = grad_outputs[0];
        var dPre = dGates is null || dGates.IsInvalid ? zeros_like(kept) : BackwardNoGrad(kept, dGates, heads, mode, factor);
        if (dGates is { IsInvalid: false }) dGates.Dispose();
        foreach (var t in saved) t.Dispose();
        BackwardResults.Hand([dPre]);
        // One entry per forward argument: the pre-activations, then none for heads, mode and factor.
        return [dPre, null!, null!, null!];
    }

    /// <summary>The CUDA kernel's backward formulas as tensor operations (the CPU path; tested against autograd of
    /// <see cref="Reference"/>).</summary>
    private static Tensor MirroredBackward(Tensor pre, Tensor dGates, int heads, GateActivationMode mode, double factor)
    {
        using var scope = NewDisposeScope();
        var z = ByKind(pre, heads, Kinds(mode));                                             // [K, B·H, 4, X, Y]
        var g = dGates.unbind(2);                                                            // 8 × [B·H, 4, X, Y]
        Tensor Logistic(Tensor a) => sigmoid(a);
        Tensor LogisticSlope(Tensor s) => s * (1.0 - s);
        Tensor TanhSlope(Tensor t) => (1.0 - t * t) * factor;
        Tensor[] dz;
        if (mode == GateActivationMode.P)
        {
            var (w, s, m, t) = (Logistic(z[0]), Logistic(z[1]), Logistic(z[2]), tanh(z[3] * factor));
            var a = g[0] - g[1];
            var e = g[2] + g[5] - g[3] - g[4];
            dz = [(a * s + e * t) * LogisticSlope(w), a * w * LogisticSlope(s), (g[6] + g[7]) * LogisticSlope(m),
                e * w * TanhSlope(t)];
        }
        else
        {
            var turnGrad = mode == GateActivationMode.DLeft ? g[5] : g[4];
            dz = [g[0] * LogisticSlope(Logistic(z[0])), g[1] * LogisticSlope(Logistic(z[1])),
                g[6] * LogisticSlope(Logistic(z[2])), g[7] * LogisticSlope(Logistic(z[3])),
                g[2] * TanhSlope(tanh(z[4] * factor)), g[3] * TanhSlope(tanh(z[5] * factor)),
                turnGrad * TanhSlope(tanh(z[6] * factor))];
        }
        return FromKinds(stack(dz, 0), pre.shape[0], heads).MoveToOuterDisposeScope();
    }

    /// <summary>Launches the forward (<paramref name="gates"/> and optionally <paramref name="kept"/> from
    /// <paramref name="pre"/>; one thread per item) or, when <paramref name="dPre"/> is given, the backward
    /// (<paramref name="gates"/> holding the incoming gradient; one block per tile of cells of a batch entry), see
    /// gate_activation.cu.</summary>
    private static unsafe void Launch(Tensor pre, long stride, Tensor gates, Tensor? kept, Tensor? dPre, int heads,
        GateActivationMode mode, double factor)
    {
        var kernels = Kernels.On(pre.device_index, pre.dtype);
        var shape = pre.shape;
        int B = checked((int)shape[0]), cells = checked((int)(shape[1] * shape[2])), H = heads, m = (int)mode;
        int kinds = Kinds(mode);
        IntPtr p = TensorData.Pointer(pre), gp = TensorData.Pointer(gates);
        float factor32 = (float)factor;
        double factor64 = factor;
        void* factorArg = pre.dtype == ScalarType.Float64 ? &factor64 : &factor32;
        if (dPre is null)
        {
            long total = (long)B * H * 4 * cells;
            uint blocks = checked((uint)((total + ForwardBlock - 1) / ForwardBlock));
            IntPtr kp = kept is null ? IntPtr.Zero : TensorData.Pointer(kept);
            void** args = stackalloc void*[] { &p, &stride, &gp, &kp, &B, &H, &cells, &m, factorArg, &kinds };
            CudaDriver.Launch(kernels[0], (blocks, 1, 1), ForwardBlock, args);
        }
        else
        {
            int bytes = pre.dtype == ScalarType.Float64 ? 8 : 4, columns = kinds * 4 * heads;
            int tile = TileCells(columns, bytes);
            uint sharedBytes = (uint)(tile * (columns + 1) * bytes);
            IntPtr dp = TensorData.Pointer(dPre);
            long dstride = dPre.stride(2);
            void** args = stackalloc void*[] { &p, &stride, &gp, &dp, &dstride, &B, &H, &cells, &m, factorArg, &kinds, &tile };
            CudaDriver.Launch(kernels[1], ((uint)((cells + tile - 1) / tile), checked((uint)B), 1), BackwardBlock, args,
                sharedBytes);
        }
    }

    /// <summary>Cells per block of the backward kernel: at most 32, and as many as let their staged pre-activation rows
    /// (<paramref name="columns"/> + 1 values of <paramref name="bytes"/> each) fit 48 KiB of shared memory.</summary>
    internal static int TileCells(int columns, int bytes)
    {
        int tile = Math.Min(MaxTileCells, SharedBytes / ((columns + 1) * bytes));
        if (tile < 1)
            throw new ArgumentException($"{columns} gate columns per cell do not fit the activation backward's shared memory "
                + $"({SharedBytes} bytes; at most {SharedBytes / bytes - 1} columns)", nameof(columns));
        return tile;
    }

    private const int MaxTileCells = 32;
    private const int SharedBytes = 48 * 1024;
}
