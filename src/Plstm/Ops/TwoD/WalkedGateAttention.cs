using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The kernel form's whole output (README §"Native kernel", "Memory"): <c>Y = (Q Kᵀ ⊙ G) V</c> with
/// <c>G = scale · (Σ_o 𝒢_o + diag D0)</c> from the gate walk (<see cref="FusedGateKernel"/> on CUDA — for gates with
/// one turn at most, a D-mode layer's through <see cref="AttendActivated"/> or those <see cref="Attend"/>'s caller
/// declares, the closed form <see cref="SinglePathGateKernel"/> —,
/// <see cref="FusedGateCpuKernel"/> on the CPU), as ONE custom autograd function whose inputs and gradients are all
/// small (Q, K, V, the stacked gates <c>[N, O, 8, X, Y]</c>, D0): nothing cells²-sized crosses its boundary.
/// </summary>
/// <remarks>
/// Why one function: TorchSharp 0.107 keeps, per custom function, an uninitialised copy of every output for as long as
/// the graph lives (its templates for zero gradients), and the gradients a custom backward returns stay alive until the
/// caller's dispose scope ends (their managed handles). The walk as a function of its own therefore held a second
/// cells²-sized tensor per layer, and an attention function of its own would hold the gate's gradient per layer through
/// the whole backward pass. Here the gate and its gradient live inside this function only.
/// <para>Memory kept for backward, per call: with <c>recompute</c> false the gate G and the scores S = Q Kᵀ (not their
/// product, rebuilt in backward with one element-wise pass; autograd through the plain products kept G, S, S ⊙ G and the
/// walk's output copy: four cells²-sized tensors, now two); with <c>recompute</c> true nothing cells²-sized — backward
/// walks the gate and forms Q Kᵀ again (one more walk and product per layer). Through <see cref="AttendActivated"/> the
/// stacked gates are formed inside and kept as before, plus a compact copy of the pre-activations (B·cells·K·4H values)
/// for the activation's gradient.</para>
/// <para>The arithmetic is that of the walk's own function followed by autograd through <c>(q.matmul(kᵀ) * G).matmul(v)</c>
/// — the same operations, operand order and layouts (bmm backward <c>dA = dO Vᵀ</c>, <c>dV = Aᵀ dO</c>, <c>dQ = dS K</c>,
/// <c>d(Kᵀ) = Qᵀ dS</c>; product backward <c>dS = dA ⊙ G</c>, <c>dG = dA ⊙ S</c>; the walk's adjoint of dG) — so outputs
/// and gradients equal the earlier composition to the bit (tested on the CPU in float32): training runs keep their
/// trajectories.</para>
/// <para>On CUDA in float32 with widths the kernels take, the masked attention and its gradients run as
/// <see cref="MaskedAttentionKernel"/> instead (tile by tile on tensor cores, 3xTF32): only G is kept for backward
/// (recomputing: nothing), S is formed again inside the backward kernels, and the values differ from the batched float32
/// products by float32 rounding (checked by <c>plstm selfcheck</c>).</para>
/// </remarks>
internal sealed class WalkedGateAttention : autograd.MultiTensorFunction<WalkedGateAttention>
{
    private const string ScaleKey = "scale";
    private const string RecomputeKey = "recompute";
    private const string DirectGradKey = "directGrad";
    private const string ActivationKey = "activation";
    private const string FusedKey = "fused";
    private const string FormKey = "form";
    private const string PrecisionKey = "precision";

    /// <inheritdoc />
    public override string Name => nameof(WalkedGateAttention);

    /// <summary>Whether one of the gate walks runs for <paramref name="gates"/> (the function's precondition).</summary>
    public static bool CanWalk(Tensor gates) => FusedGateKernel.CanRun(gates) || FusedGateCpuKernel.CanRun(gates);

    /// <summary>Whether one of the gate walks runs for stacked gates of <paramref name="dtype"/> on an X × Y grid on
    /// the device (<see cref="CanWalk(Tensor)"/> before the gates exist).</summary>
    public static bool CanWalk(DeviceType device, ScalarType dtype, long x, long y) => device switch
    {
        DeviceType.CUDA => FusedGateKernel.CanRun(dtype, x, y),
        DeviceType.CPU => FusedGateCpuKernel.CanRun(dtype, x, y),
        _ => false,
    };

    /// <summary>The gate activation run inside the function (<see cref="AttendActivated"/>).</summary>
    private sealed record Activation(int Heads, GateActivationMode Mode, double Factor);

    /// <summary>The masked attention kernel's products, passed to the function (its last argument) and kept for backward.</summary>
    private sealed record Products(MaskedAttentionPrecision Precision);

    /// <summary>Which turn gates stacked gates given to <see cref="Attend"/> may hold (the function's last argument
    /// there, as <see cref="Activation"/> is <see cref="AttendActivated"/>'s).</summary>
    private sealed record Wiring(GateActivationMode Mode);

    /// <summary><see cref="Attend"/> with the stacked gates formed inside the function from the 2D layer's gate
    /// pre-activations <paramref name="pre"/> <c>[B, X, Y, K·4H]</c> (<see cref="GateActivation"/>; N = B·H): the
    /// activation's gradient is taken in the same backward, so a layer call is one custom function instead of two
    /// (each costs the host a few hundred microseconds through TorchSharp). Same values as
    /// <c>Attend(q, k, v, GateActivation.Apply(pre, …), …)</c>.</summary>
    public static Tensor AttendActivated(Tensor q, Tensor k, Tensor v, Tensor pre, int heads, GateActivationMode mode,
        double factor, Tensor direct, double scale, bool recompute, MaskedAttentionPrecision? precision = null)
    {
        ArgumentNullException.ThrowIfNull(pre);
        var shape = pre.shape;
        if (shape.Length != 4 || !CanWalk(pre.device_type, pre.dtype, shape[1], shape[2]))
            throw new ArgumentException("no gate walk runs for gates from these pre-activations (CUDA kernel or CPU walk, "
                + "float32/float64, [B, X, Y, K·4H] on a grid they take)", nameof(pre));
        using var scope = NewDisposeScope();
        var products = new Products(precision ?? MaskedAttentionKernel.DefaultPrecision);
        bool wantsGrad = is_grad_enabled()
            && (q.requires_grad || k.requires_grad || v.requires_grad || pre.requires_grad || direct.requires_grad);
        if (!wantsGrad)
        {
            var activated = GateActivation.Apply(pre, heads, mode, factor);
            var form = FormOf(activated, mode);
            return Masked(q, k, v, Walk(activated, direct, scale, form), products.Precision).MoveToOuterDisposeScope();
        }
        // As in Attend: the forward's handles of what it saves are released with this scope.
        return apply(q, k, v, pre, direct, scale, recompute, new Activation(heads, mode, factor), products)[0]
            .MoveToOuterDisposeScope();
    }

    /// <summary><c>(q kᵀ ⊙ scale · (walk(gates) + diag direct)) v</c>, <c>[N, T, DV]</c>, for q, k <c>[N, T, DK]</c>,
    /// v <c>[N, T, DV]</c>, contiguous stacked gates <c>[N, O, 8, X, Y]</c> (T = X·Y) and direct <c>[N, T]</c> of one
    /// dtype and device on which a walk runs (<see cref="CanWalk(Tensor)"/>). <paramref name="recompute"/>: keep nothing
    /// cells²-sized for backward. <paramref name="wiring"/>: which turn gates the stacked gates hold —
    /// <see cref="GateActivationMode.P"/> any (walked), <see cref="GateActivationMode.DRight"/> no T0ru (its slot zero),
    /// <see cref="GateActivationMode.DLeft"/> no T0dl: with one turn only, one path joins two cells and on CUDA the gate
    /// is formed in closed form (<see cref="SinglePathGateKernel"/>) where it takes the grid, else walked. A zero slot is
    /// the caller's promise: it is not checked (the closed form ignores what the absent slot holds).
    /// <paramref name="precision"/>: the masked attention kernel's products (null:
    /// <see cref="MaskedAttentionKernel.DefaultPrecision"/>; the batched products elsewhere are not affected).</summary>
    public static Tensor Attend(Tensor q, Tensor k, Tensor v, Tensor gates, Tensor direct, double scale, bool recompute,
        GateActivationMode wiring = GateActivationMode.P, MaskedAttentionPrecision? precision = null)
    {
        if (!CanWalk(gates))
            throw new ArgumentException("no gate walk runs for these gates (CUDA kernel or CPU walk, float32/float64, "
                + "[N, O, 8, X, Y] on a grid they take)", nameof(gates));
        using var scope = NewDisposeScope();
        gates = gates.contiguous();                                                         // the walks read raw memory
        var products = new Products(precision ?? MaskedAttentionKernel.DefaultPrecision);
        bool wantsGrad = is_grad_enabled()
            && (q.requires_grad || k.requires_grad || v.requires_grad || gates.requires_grad || direct.requires_grad);
        if (!wantsGrad)
            return Masked(q, k, v, Walk(gates, direct, scale, FormOf(gates, wiring)), products.Precision).MoveToOuterDisposeScope();
        // The forward's handles of what it saves stay in this scope until the context has taken its own references
        // (TorchSharp copies the saved tensors after the forward returns), then are released here.
        return apply(q, k, v, gates, direct, scale, recompute, new Wiring(wiring), products)[0].MoveToOuterDisposeScope();
    }

    private static bool OnCuda(Tensor gates) => gates.device_type == DeviceType.CUDA;

    /// <summary>Whether the masked attention runs as <see cref="MaskedAttentionKernel"/> for these operands (CUDA float32,
    /// widths it takes), else as batched products.</summary>
    private static bool Fused(Tensor q, Tensor v)
    {
        var shape = q.shape;                                                                // one native call each
        return shape.Length == 3 && MaskedAttentionKernel.CanRun(q, shape[0], shape[2], v.shape[2]);
    }

    /// <summary><c>(q kᵀ ⊙ gate) v</c> without autograd: the kernel where it runs, else batched products.</summary>
    private static Tensor Masked(Tensor q, Tensor k, Tensor v, Tensor gate, MaskedAttentionPrecision precision) => Fused(q, v)
        ? MaskedAttentionKernel.Forward(q.contiguous(), k.contiguous(), v.contiguous(), gate, check: false, precision)
        : (q.matmul(k.transpose(1, 2)) * gate).matmul(v);

    /// <summary>How the gate is formed: the walk of the gates' device, or on CUDA for gates with one turn only (a D-mode
    /// layer's, known from its activation, or what <see cref="Attend"/>'s caller says: one path between two cells) the
    /// closed form of <see cref="SinglePathGateKernel"/>.</summary>
    internal enum GateForm { CpuWalk, CudaWalk, SinglePathLeft, SinglePathRight }

    internal static GateForm FormOf(Tensor gates, GateActivationMode wiring)
    {
        if (!OnCuda(gates)) return GateForm.CpuWalk;
        if (wiring == GateActivationMode.P) return GateForm.CudaWalk;
        var shape = gates.shape;                                                             // one native call
        if (!SinglePathGateKernel.CanRun(gates.dtype, shape[3], shape[4])) return GateForm.CudaWalk;
        return wiring == GateActivationMode.DLeft ? GateForm.SinglePathLeft : GateForm.SinglePathRight;
    }

    /// <summary>The gate, without autograd.</summary>
    internal static Tensor Walk(Tensor gates, Tensor direct, double scale, GateForm form) => form switch
    {
        GateForm.CudaWalk => GateWalkFunction<FusedGateKernel>.EvaluateGate(gates, direct, scale),
        GateForm.SinglePathLeft => GateWalkFunction<SinglePathGateKernel.Left>.EvaluateGate(gates, direct, scale),
        GateForm.SinglePathRight => GateWalkFunction<SinglePathGateKernel.Right>.EvaluateGate(gates, direct, scale),
        _ => GateWalkFunction<FusedGateCpuKernel>.EvaluateGate(gates, direct, scale),
    };

    /// <summary>The walk's backward for the gate's gradient <paramref name="dGate"/>: the stacked gates' gradient and, when
    /// <paramref name="directGrad"/>, D0's. With <paramref name="alongside"/> the walk's kernels run beside what it
    /// launches on the legacy stream (<see cref="GateWalkFunction{TSelf}.BackwardGateAlongside"/>; in order where the
    /// walk cannot fork).</summary>
    internal static (Tensor Gates, Tensor? Direct) WalkBackward(Tensor gates, Tensor dGate, double scale, bool directGrad,
        GateForm form, Action? alongside = null) => form switch
    {
        GateForm.CudaWalk => GateWalkFunction<FusedGateKernel>.BackwardGateAlongside(gates, dGate, scale, directGrad, alongside),
        GateForm.SinglePathLeft =>
            GateWalkFunction<SinglePathGateKernel.Left>.BackwardGateAlongside(gates, dGate, scale, directGrad, alongside),
        GateForm.SinglePathRight =>
            GateWalkFunction<SinglePathGateKernel.Right>.BackwardGateAlongside(gates, dGate, scale, directGrad, alongside),
        _ => GateWalkFunction<FusedGateCpuKernel>.BackwardGateAlongside(gates, dGate, scale, directGrad, alongside),
    };

    /// <inheritdoc />
    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var (q, k, v) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2]);
        var direct = (Tensor)vars[4];
        var (scale, recompute) = ((double)vars[5], (bool)vars[6]);
        // AttendActivated passes the pre-activations and how to activate them: the stacked gates are formed here (their
        // handles, like the copy of the pre-activations the backward reads, are released by AttendActivated's scope).
        var activation = vars[7] as Activation;
        var wiring = activation?.Mode ?? ((Wiring)vars[7]).Mode;
        var precision = ((Products)vars[8]).Precision;
        // TorchSharp runs a custom function's forward in the caller's grad mode.
        using var noGrad = no_grad();
        var (gates, kept) = activation is null ? ((Tensor)vars[3], null)
            : GateActivation.ForwardNoGrad((Tensor)vars[3], activation.Heads, activation.Mode, activation.Factor);
        // On CUDA float32 the masked attention is one kernel each way (MaskedAttentionKernel): only G is kept, the
        // scores are formed again tile by tile in backward.
        bool fused = Fused(q, v);
        var form = FormOf(gates, wiring);
        if (fused) (q, k, v) = (q.contiguous(), k.contiguous(), v.contiguous());          // no-ops for the layer's views
        Tensor output, scores, gate;
        using (var scope = NewDisposeScope())
        {
            gate = Walk(gates, direct, scale, form);                                        // G [N, T, T]
            if (fused)
            {
                scores = gate;                                                              // unused
                output = MaskedAttentionKernel.Forward(q, k, v, gate, check: false, precision); // [N, T, DV]
            }
            else
            {
                scores = q.matmul(k.transpose(1, 2));                                       // S [N, T, T]
                output = (scores * gate).matmul(v);                                         // [N, T, DV]; S ⊙ G freed here
            }
            output.MoveToOuterDisposeScope();
            if (!recompute)
            {
                if (!fused) scores.MoveToOuterDisposeScope();                               // to Attend's scope (see there)
                gate.MoveToOuterDisposeScope();
            }
        }
        var save = recompute ? new List<Tensor> { q, k, v, gates, direct }
            : fused ? [q, k, v, gates, direct, gate] : [q, k, v, gates, direct, scores, gate];
        if (kept is not null) save.Add(kept);                                               // last
        ctx.save_for_backward(save);
        ctx.save_data(ActivationKey, (object?)activation ?? false);
        ctx.save_data(FusedKey, fused);
        ctx.save_data(PrecisionKey, precision);
        ctx.save_data(FormKey, form);
        ctx.save_data(ScaleKey, scale);
        ctx.save_data(RecomputeKey, recompute);
        ctx.save_data(DirectGradKey, direct.requires_grad);
        ctx.set_materialize_grads(false);
        return [output];
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grad_outputs)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var saved = ctx.get_saved_variables();
        var scale = (double)ctx.get_data(ScaleKey);
        var recompute = (bool)ctx.get_data(RecomputeKey);
        var directGrad = (bool)ctx.get_data(DirectGradKey);
        var activation = ctx.get_data(ActivationKey) as Activation;
        var fused = (bool)ctx.get_data(FusedKey);
        var precision = (MaskedAttentionPrecision)ctx.get_data(PrecisionKey);
        var form = (GateForm)ctx.get_data(FormKey);
        var dOutput = grad_outputs[0];
        List<Tensor> result;
        // Every temporary, views included (a view keeps its cells²-sized base alive), is released by this scope; the
        // saved tensors and the incoming gradient arrive as fresh handles outside any scope and are released below.
        using (var scope = NewDisposeScope())
        {
            var (q, k, v, gates, direct) = (saved[0], saved[1], saved[2], saved[3], saved[4]);
            if (dOutput is null || dOutput.IsInvalid)
                result = [zeros_like(q), zeros_like(k), zeros_like(v), zeros_like(activation is null ? gates : saved[^1]),
                    zeros_like(direct)];
            else if (fused)
            {
                var gate = recompute ? Walk(gates, direct, scale, form) : saved[5];
                // The fused backward kernel writes every gradient at once; with the two-kernel backward the query kernel
                // writes dG and the walk's adjoint then runs beside the key kernel (dK, dV), on a side stream where the
                // walk can fork (GateWalkFunction.BackwardGateAlongside).
                var (dQ, dK, dV, dGate, keyKernel) = MaskedAttentionKernel.BackwardQueryFirst(q, k, v, gate,
                    dOutput.contiguous(), check: false, MaskedAttentionKernel.FusedBackward, precision);
                var walked = WalkBackward(gates, dGate, scale, directGrad, form, keyKernel);
                if (recompute) gate.Dispose();
                result = GatesBackward(walked, dGate, saved, activation, dQ, dK, dV);
            }
            else
            {
                var gate = recompute ? Walk(gates, direct, scale, form) : saved[6];
                var scores = recompute ? q.matmul(k.transpose(1, 2)) : saved[5];
                Tensor dV;
                using (var product = scores * gate)                                         // A = S ⊙ G again
                using (var productT = product.transpose(1, 2))
                    dV = productT.bmm(dOutput);                                             // Aᵀ dO
                var dScores = dOutput.bmm(v.transpose(1, 2));                               // dA = dO Vᵀ  [N, T, T]
                var dGate = dScores * scores;                                               // dA ⊙ S
                if (recompute) scores.Dispose();
                dScores.mul_(gate);                                                         // dS = dA ⊙ G, in place
                if (recompute) gate.Dispose();
                var dQ = dScores.bmm(k);                                                    // dS K
                var dK = q.transpose(1, 2).bmm(dScores).transpose(1, 2);                    // (Qᵀ dS)ᵀ, as autograd
                dScores.Dispose();
                result = GatesBackward(WalkBackward(gates, dGate, scale, directGrad, form), dGate, saved, activation, dQ,
                    dK, dV);
            }
            foreach (var t in result) t?.MoveToOuterDisposeScope();
        }
        BackwardResults.Hand(result);
        foreach (var t in saved) t.Dispose();
        if (dOutput is { IsInvalid: false }) dOutput.Dispose();
        // One entry per forward argument: q, k, v, the gates (or their pre-activations), D0 (null without gradient), none
        // for scale, recompute, the activation or wiring, and the products.
        return [.. result, null!, null!, null!, null!];
    }

    /// <summary>From the walk's adjoint <paramref name="walked"/> of the gate's gradient <paramref name="dGate"/> (disposed
    /// here) and, through <see cref="AttendActivated"/>, the pre-activations' gradient in this same backward: the
    /// function's gradients q, k, v, gates (or pre-activations), D0.</summary>
    private static List<Tensor> GatesBackward((Tensor Gates, Tensor? Direct) walked, Tensor dGate, List<Tensor> saved,
        Activation? activation, Tensor dQ, Tensor dK, Tensor dV)
    {
        var (dGates, dDirect) = walked;
        dGate.Dispose();
        if (activation is not null)
        {
            var dPre = GateActivation.BackwardNoGrad(saved[^1], dGates, activation.Heads, activation.Mode, activation.Factor);
            dGates.Dispose();
            dGates = dPre;
        }
        return [dQ, dK, dV, dGates, dDirect!];
    }
}
