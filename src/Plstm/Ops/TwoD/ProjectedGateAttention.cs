using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The 2D layer's kernel form read straight from its projection output: <c>proj [B, X, Y, C]</c> with columns
/// <c>[q (H·W) | k (H·W) | v (H·W) | gate pre-activations (K·4H)]</c>, heads side by side in each block, gives the
/// per-head outputs <c>[B, X, Y, H, W]</c> — the values of <see cref="WalkedGateAttention.AttendActivated"/> on the
/// head-folded q, k, v <c>[B·H, X·Y, W]</c> and the gate columns, with the heads moved back beside each other and, when
/// asked, each head's W outputs RMS-normalised (the layer's norm without its scale).
/// </summary>
/// <remarks>
/// Why: on CUDA in float32 the masked attention kernels place every row they read or write by a stride
/// (<see cref="MaskedAttentionKernel.RowLayout"/>), so this function reads q, k and v where the projection wrote them, writes
/// y in the layout the layer's norm and out-projection read, and in backward writes dq, dk, dv and (through
/// <see cref="GateActivation.BackwardInto"/>) the gate pre-activations' gradient into one <c>[B, X, Y, C]</c> gradient
/// of <c>proj</c>. The composition it replaces copied q, k, v to the heads-folded layout and back for their gradients,
/// stacked those gradients, concatenated them with the gates' gradient (the backward of the projection's split) and
/// permuted y and its gradient: at 224 px (B 128, 14², H 3, W 64) per layer about 0.5 GB of copies, ≈ 2 ms of a
/// 59-ms training step on an H200 (bench/results/gpu-h200-projected-attention-2026-12-01.md).
/// <para>Everywhere else (the CPU, float64, widths or batch sizes the kernels do not take, operands the float4 loads
/// cannot read) <see cref="Attend"/> is that composition itself, so those paths are unchanged to the bit. On CUDA the
/// in-place path is checked by <c>plstm selfcheck</c> (the float32 layer cases, the gradients of every parameter).</para>
/// <para>Kept for backward: <c>proj</c> itself (the q, k, v copies and the compact pre-activation copy it replaces are
/// as large), the stacked gates, D0, with the norm the attention's output before it and the norm's factors, and,
/// unless <c>recompute</c>, the gate G.</para>
/// </remarks>
internal sealed class ProjectedGateAttention : autograd.MultiTensorFunction<ProjectedGateAttention>
{
    private const string SettingKey = "setting";
    private const string FormKey = "form";
    private const string DirectGradKey = "directGrad";

    /// <inheritdoc />
    public override string Name => nameof(ProjectedGateAttention);

    /// <summary>What the function needs besides its two tensors; <paramref name="Shape"/> is proj's, read once per call
    /// (each read is a native call that allocates).</summary>
    private sealed record Setting(long[] Shape, int Heads, long Width, GateActivationMode Mode, double Factor, double Scale,
        bool Recompute, double? NormEps, MaskedAttentionPrecision Precision)
    {
        public long Tokens => Shape[1] * Shape[2];
        public long Entries => Shape[0] * Heads;
        public long QkvColumns => 3L * Heads * Width;
        public long GateColumns => Shape[3] - QkvColumns;
    }

    /// <summary>The per-head outputs <c>[B, X, Y, H, W]</c> (a view on the composition's path) of the layer's projection
    /// output <paramref name="proj"/> <c>[B, X, Y, 3·H·W + K·4H]</c> (K = <see cref="GateActivation.Kinds"/>),
    /// <paramref name="direct"/> <c>[B·H, X·Y]</c> (D0), on a device, dtype and grid a gate walk takes
    /// (<see cref="WalkedGateAttention.CanWalk(DeviceType, ScalarType, long, long)"/>). With
    /// <paramref name="normEps"/> each head's W outputs come RMS-normalised (<see cref="Common.RmsNormalization"/>, no
    /// scale; on the in-place path in the masked attention kernel's epilogue and <see cref="RmsNormKernel"/> backward,
    /// inside this function). <paramref name="precision"/>: the
    /// masked attention kernel's products (null: <see cref="MaskedAttentionKernel.DefaultPrecision"/>).</summary>
    /// <exception cref="ArgumentException">A <paramref name="proj"/> of another shape, or one no walk takes.</exception>
    public static Tensor Attend(Tensor proj, int heads, long width, GateActivationMode mode, double factor, Tensor direct,
        double scale, bool recompute, double? normEps = null, MaskedAttentionPrecision? precision = null)
    {
        ArgumentNullException.ThrowIfNull(proj);
        ArgumentNullException.ThrowIfNull(direct);
        var shape = proj.shape;
        long qkv = 3L * heads * width, gateColumns = (long)GateActivation.Kinds(mode) * 4 * heads;
        if (shape.Length != 4 || shape[3] != qkv + gateColumns)
            throw new ArgumentException($"proj must be [B, X, Y, {qkv + gateColumns}] (q, k, v of {heads} heads × {width} and "
                + $"{gateColumns} gate pre-activations), got [{string.Join(", ", shape)}]", nameof(proj));
        long B = shape[0], X = shape[1], Y = shape[2], T = X * Y, N = B * heads;
        if (!WalkedGateAttention.CanWalk(proj.device_type, proj.dtype, X, Y))
            throw new ArgumentException($"no gate walk runs for a {X} × {Y} grid of {proj.dtype} on {proj.device_type} (CUDA "
                + "kernel or CPU walk, float32/float64, a grid they take)", nameof(proj));
        using var scope = NewDisposeScope();
        if (!InPlace(proj, N, width))
        {
            // The composition: heads folded into the batch (one copy for the three), the activated walk, heads back.
            var folded = proj.narrow(3, 0, qkv).reshape(B, X, Y, 3, heads, width).permute(3, 0, 4, 1, 2, 5)
                .reshape(3, N, T, width).unbind(0);                                          // 3 × [N, T, W]
            var scanned = WalkedGateAttention.AttendActivated(folded[0], folded[1], folded[2],
                proj.narrow(3, qkv, gateColumns), heads, mode, factor, direct, scale, recompute, precision); // [N, T, W]
            var perHead = scanned.view(B, heads, X, Y, width).permute(0, 2, 3, 1, 4);         // [B, X, Y, H, W]
            return (normEps is { } eps ? RmsNormalization.Apply(perHead, width, eps) : perHead).MoveToOuterDisposeScope();
        }
        var setting = new Setting(shape, heads, width, mode, factor, scale, recompute, normEps,
            precision ?? MaskedAttentionKernel.DefaultPrecision);
        if (!is_grad_enabled() || !(proj.requires_grad || direct.requires_grad))
        {
            using var noGrad = no_grad();
            var (gates, form) = ActivatedGates(proj, setting);
            using var gate = WalkedGateAttention.Walk(gates, direct, scale, form);
            var (output, _, _) = Attention(proj, gate, setting);
            return output.MoveToOuterDisposeScope();
        }
        // The forward's handles of what it saves stay in this scope until the context has taken its own references.
        return apply(proj, direct, setting)[0].MoveToOuterDisposeScope();
    }

    /// <summary>Whether the in-place kernels run: CUDA float32, a contiguous <c>proj</c>, W and N as
    /// <see cref="MaskedAttentionKernel"/> takes them. W a multiple of 8 (which it requires) also makes every column
    /// block offset and row length a multiple of 4 floats, as its float4 loads need (3·H·W and K·4H columns).</summary>
    private static bool InPlace(Tensor proj, long n, long width) =>
        proj.device_type == DeviceType.CUDA && proj.dtype == ScalarType.Float32 && proj.is_contiguous()
        && MaskedAttentionKernel.CanRun(proj, n, width, width)
        && RmsNormKernel.BuildError(Interop.TensorData.DeviceIndex(proj)) is null;

    /// <summary>The stacked gates from the gate columns (not differentiated) and how the walk forms the gate.</summary>
    private static (Tensor Gates, WalkedGateAttention.GateForm Form) ActivatedGates(Tensor proj, Setting s)
    {
        var gates = GateActivation.GatesNoGrad(proj.narrow(3, s.QkvColumns, s.GateColumns), s.Heads, s.Mode, s.Factor);
        return (gates, WalkedGateAttention.FormOf(gates, s.Mode));                          // [B·H, 4, 8, X, Y]
    }

    /// <summary>The kernels' operands in <paramref name="t"/>, a <c>[B, X, Y, C]</c> projection output or its gradient:
    /// q, k, v at column blocks 0, 1, 2 of H·W columns, entry (b, h) at head h's W columns.</summary>
    private static MaskedAttentionKernel.Operand[] Blocks(Tensor t, Setting s)
    {
        var rows = MaskedAttentionKernel.RowLayout.HeadsInRows(s.Tokens, s.Shape[3], s.Width, s.Heads);
        return [new(t, 0, rows), new(t, s.Heads * s.Width, rows), new(t, 2 * s.Heads * s.Width, rows)];
    }

    /// <summary>A <c>[B, X, Y, H, W]</c> tensor as one operand (y or its gradient).</summary>
    private static MaskedAttentionKernel.Operand PerHead(Tensor t, Setting s) =>
        new(t, 0, MaskedAttentionKernel.RowLayout.HeadsInRows(s.Tokens, s.Heads * s.Width, s.Width, s.Heads));

    /// <summary>The output <c>[B, X, Y, H, W]</c>: y = (Q Kᵀ ⊙ G) V with Q, K, V read in place from
    /// <paramref name="proj"/>, normalised per head when the setting says (then also y itself and the norm's factors
    /// r <c>[B·X·Y·H]</c>, which its backward reads; else both null).</summary>
    private static (Tensor Output, Tensor? Attended, Tensor? Inverse) Attention(Tensor proj, Tensor gate, Setting s)
    {
        var y = empty(new[] { s.Shape[0], s.Shape[1], s.Shape[2], s.Heads, s.Width }, proj.dtype, proj.device);
        var qkv = Blocks(proj, s);
        if (s.NormEps is not { } eps)
        {
            MaskedAttentionKernel.ForwardInto(qkv[0], qkv[1], qkv[2], gate, PerHead(y, s), s.Entries, s.Tokens, s.Width,
                s.Width, s.Precision);
            return (y, null, null);
        }
        // The norm in the attention kernel's epilogue: one pass over y fewer than a norm kernel after it.
        var normalized = empty_like(y);
        var inverse = empty(new[] { s.Entries * s.Tokens }, proj.dtype, proj.device);  // [B·X·Y·H]
        MaskedAttentionKernel.ForwardNormalizedInto(qkv[0], qkv[1], qkv[2], gate, PerHead(y, s), PerHead(normalized, s),
            inverse, eps, s.Entries, s.Tokens, s.Width, s.Width, s.Precision);
        return (normalized, y, inverse);
    }

    /// <inheritdoc />
    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var (proj, direct, setting) = ((Tensor)vars[0], (Tensor)vars[1], (Setting)vars[2]);
        // TorchSharp runs a custom function's forward in the caller's grad mode.
        using var noGrad = no_grad();
        var (gates, form) = ActivatedGates(proj, setting);
        Tensor output, gate;
        Tensor? attended, inverse;
        using (var scope = NewDisposeScope())
        {
            gate = WalkedGateAttention.Walk(gates, direct, setting.Scale, form);            // G [N, T, T]
            (output, attended, inverse) = Attention(proj, gate, setting);                   // [B, X, Y, H, W]
            output.MoveToOuterDisposeScope();
            attended?.MoveToOuterDisposeScope();
            inverse?.MoveToOuterDisposeScope();
            if (!setting.Recompute) gate.MoveToOuterDisposeScope();
        }
        // Saved: proj, gates, D0, then y and r when normalised (y is not the output: saving an output would tie the
        // graph to itself), then G unless recomputing.
        var save = new List<Tensor> { proj, gates, direct };
        if (attended is not null && inverse is not null) save.AddRange([attended, inverse]);
        if (!setting.Recompute) save.Add(gate);
        ctx.save_for_backward(save);
        ctx.save_data(SettingKey, setting);
        ctx.save_data(FormKey, form);
        ctx.save_data(DirectGradKey, direct.requires_grad);
        ctx.set_materialize_grads(false);
        return [output];
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grad_outputs)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var saved = ctx.get_saved_variables();
        var s = (Setting)ctx.get_data(SettingKey);
        var form = (WalkedGateAttention.GateForm)ctx.get_data(FormKey);
        var directGrad = (bool)ctx.get_data(DirectGradKey);
        var dOutput = grad_outputs[0];
        List<Tensor> result;
        using (var scope = NewDisposeScope())
        {
            var (proj, gates, direct) = (saved[0], saved[1], saved[2]);
            if (dOutput is null || dOutput.IsInvalid)
                result = [zeros_like(proj), zeros_like(direct)];
            else
            {
                var gate = s.Recompute ? WalkedGateAttention.Walk(gates, direct, s.Scale, form) : saved[^1];
                var dy = dOutput.contiguous();                                              // [B, X, Y, H, W]
                var dProj = empty(s.Shape, proj.dtype, proj.device);                        // every entry is written
                // The fused backward adds dq (its key blocks' shares) into the q columns, which therefore start at zero:
                // cleared by the norm's backward kernel where it runs (one pass fewer), else by a fill below.
                bool fused = MaskedAttentionKernel.FusedBackward;
                if (s.NormEps is not null)                                                  // through the norm
                    dy = RmsNormKernel.Backward(saved[3], saved[4], dy, s.Width, fused ? (dProj, s.Heads) : null);
                var dGate = empty(new[] { s.Entries, s.Tokens, s.Tokens }, proj.dtype, proj.device);
                var (inputs, grads) = (Blocks(proj, s), Blocks(dProj, s));
                var dyRows = PerHead(dy, s);
                Action? alongside = null;
                if (fused)
                {
                    // One kernel for every gradient of the masked attention; it adds dq into the zeroed q columns.
                    if (s.NormEps is null) dProj.narrow(3, 0, s.Heads * s.Width).zero_();
                    MaskedAttentionKernel.BackwardFusedInto(inputs[0], inputs[1], inputs[2], gate, dyRows, grads[0], grads[1],
                        grads[2], dGate, s.Entries, s.Tokens, s.Width, s.Width, s.Precision);
                }
                else
                {
                    // The masked attention's query kernel writes the gate's gradient; the walk's backward, which needs
                    // only that, then runs on a side stream alongside the key kernel (dK, dV), each kernel family filling
                    // the multiprocessors the other leaves idle (both run few warps per multiprocessor).
                    MaskedAttentionKernel.BackwardQueryInto(inputs[0], inputs[1], inputs[2], gate, dyRows, grads[0], dGate,
                        s.Entries, s.Tokens, s.Width, s.Width, s.Precision);
                    alongside = () => MaskedAttentionKernel.BackwardKeyInto(inputs[0], inputs[1], inputs[2], gate, dyRows,
                        grads[1], grads[2], s.Entries, s.Tokens, s.Width, s.Width, s.Precision);
                }
                var (dGates, dDirect) = WalkedGateAttention.WalkBackward(gates, dGate, s.Scale, directGrad, form, alongside);
                if (s.Recompute) gate.Dispose();
                dGate.Dispose();
                GateActivation.BackwardInto(proj.narrow(3, s.QkvColumns, s.GateColumns), dGates,
                    dProj.narrow(3, s.QkvColumns, s.GateColumns), s.Heads, s.Mode, s.Factor);
                dGates.Dispose();
                result = [dProj, dDirect!];
            }
            foreach (var t in result) t?.MoveToOuterDisposeScope();
        }
        BackwardResults.Hand(result);
        foreach (var t in saved) t.Dispose();
        if (dOutput is { IsInvalid: false }) dOutput.Dispose();
        // One entry per forward argument: proj, D0 (null without gradient), none for the setting.
        return [.. result, null!];
    }
}
