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
/// <para><see cref="AttendProjected"/> takes x, the weight and the bias instead of proj and makes the projection inside
/// the function (the layer's path in float32), its backward then also the projection's gradients.</para>
/// <para>Kept for backward: <c>proj</c> itself (the q, k, v copies and the compact pre-activation copy it replaces are
/// as large), the stacked gates, D0 per cell, with the norm the attention's output before it and the norm's factors,
/// unless <c>recompute</c> the gate G, when projecting x's rows and the weight, and with the opt-in gate kernel
/// (<see cref="GateActivation.CanProject"/>, proj then only the q, k, v columns) the gate pre-activations it made.</para>
/// <para>D0 may come per head (<c>[H]</c>, the layer's bias-only direct gate): the function spreads it over the cells and
/// sums its gradient itself (<see cref="HeadDirectGradient"/>), cheaper than autograd's reduction of a broadcast copy.</para>
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
        /// <summary>Whether the function makes proj itself from x, the weight and the bias (<see cref="AttendProjected"/>)
        /// and returns their gradients; which of the three want one.</summary>
        public Common.RowsLinear.Wants? Projecting { get; init; }
        /// <summary>When projecting: whether the gate kernel makes the gate pre-activations from x
        /// (<see cref="GateActivation.ProjectNoGrad"/>; proj then holds only the q, k and v columns).</summary>
        public bool GatesFromInput { get; init; }
        /// <summary>Whether D0 came per head (<c>[H]</c>; its gradient then summed here) rather than per cell.</summary>
        public bool DirectPerHead { get; init; }
        /// <summary>The columns of proj as the forward holds it (the gradient of proj has all of <see cref="Shape"/>'s).</summary>
        public long ProjColumns => GatesFromInput ? QkvColumns : Shape[3];
        public long Tokens => Shape[1] * Shape[2];
        public long Entries => Shape[0] * Heads;
        public long QkvColumns => 3L * Heads * Width;
        public long GateColumns => Shape[3] - QkvColumns;
    }

    /// <summary>The per-head outputs <c>[B, X, Y, H, W]</c> (a view on the composition's path) of the layer's projection
    /// output <paramref name="proj"/> <c>[B, X, Y, 3·H·W + K·4H]</c> (K = <see cref="GateActivation.Kinds"/>),
    /// <paramref name="direct"/> (D0 per cell <c>[B·H, X·Y]</c>, or per head <c>[H]</c>, the same at every batch entry and
    /// cell: its gradient is then summed inside), on a device, dtype and grid a gate walk takes
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
        bool directPerHead = DirectPerHead(direct, heads);
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
                proj.narrow(3, qkv, gateColumns), heads, mode, factor, PerCell(direct, B, heads, T), scale, recompute,
                precision);                                                                  // [N, T, W]
            var perHead = scanned.view(B, heads, X, Y, width).permute(0, 2, 3, 1, 4);         // [B, X, Y, H, W]
            return (normEps is { } eps ? RmsNormalization.Apply(perHead, width, eps) : perHead).MoveToOuterDisposeScope();
        }
        var setting = new Setting(shape, heads, width, mode, factor, scale, recompute, normEps,
            precision ?? MaskedAttentionKernel.DefaultPrecision) { DirectPerHead = directPerHead };
        if (!is_grad_enabled() || !(proj.requires_grad || direct.requires_grad))
        {
            using var noGrad = no_grad();
            var (gates, form) = ActivatedGates(proj, setting);
            using var gate = WalkedGateAttention.Walk(gates, PerCell(direct, B, heads, T), scale, form);
            var (output, _, _) = Attention(proj, gate, setting);
            return output.MoveToOuterDisposeScope();
        }
        // The forward's handles of what it saves stay in this scope until the context has taken its own references.
        return apply(proj, direct, setting)[0].MoveToOuterDisposeScope();
    }

    /// <summary><see cref="Attend"/> of <c>proj = x Wᵀ + b</c> (<paramref name="x"/> <c>[B, X, Y, D]</c>,
    /// <paramref name="weight"/> <c>[C, D]</c>, <paramref name="bias"/> <c>[C]</c>, C the columns <see cref="Attend"/>
    /// takes) with the projection inside the function where the in-place kernels run: its backward then makes the
    /// gradients of x, the weight and the bias from proj's gradient itself — the bias's as a matrix–vector product
    /// (<c>dprojᵀ · 1</c>) where libtorch's linear sums over the rows with a reduction kernel (H200, 224 px: 62 µs for the
    /// D-mode layer's 660 columns against about 25; bench/results/gpu-h200-rows-linear-2026-12-02.md), at no host cost
    /// beyond the function the layer calls anyway. Everywhere else it is <see cref="Attend"/> of the linear map.</summary>
    /// <exception cref="ArgumentException">Shapes that do not fit together, or those <see cref="Attend"/> rejects.</exception>
    public static Tensor AttendProjected(Tensor x, Tensor weight, Tensor bias, int heads, long width, GateActivationMode mode,
        double factor, Tensor direct, double scale, bool recompute, double? normEps = null,
        MaskedAttentionPrecision? precision = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(bias);
        ArgumentNullException.ThrowIfNull(direct);
        var (xShape, wShape, bShape) = (x.shape, weight.shape, bias.shape);
        if (xShape.Length != 4 || wShape.Length != 2 || bShape.Length != 1 || wShape[1] != xShape[3] || bShape[0] != wShape[0])
            throw new ArgumentException($"x [B, X, Y, D], weight [C, D] and bias [C] must fit together, got x "
                + $"[{string.Join(", ", xShape)}], weight [{string.Join(", ", wShape)}], bias [{string.Join(", ", bShape)}]",
                nameof(weight));
        long B = xShape[0], X = xShape[1], Y = xShape[2];
        var wants = new Common.RowsLinear.Wants(x.requires_grad, weight.requires_grad, bias.requires_grad); // read once
        bool wantsGrad = is_grad_enabled() && (wants.Rows || wants.Weight || wants.Bias || direct.requires_grad);
        if (!wantsGrad || !x.is_contiguous() || !InPlace(x, B * heads, width)
            || weight.dtype != x.dtype || bias.dtype != x.dtype || !WalkedGateAttention.CanWalk(x.device_type, x.dtype, X, Y))
            return Attend(Layers.Dtypes.Linear(x, weight, bias), heads, width, mode, factor, direct, scale, recompute, normEps,
                precision);
        long qkv = 3L * heads * width, gateColumns = (long)GateActivation.Kinds(mode) * 4 * heads;
        if (wShape[0] != qkv + gateColumns)
            throw new ArgumentException($"weight must have {qkv + gateColumns} rows (q, k, v of {heads} heads × {width} and "
                + $"{gateColumns} gate pre-activations), got {wShape[0]}", nameof(weight));
        var setting = new Setting([B, X, Y, wShape[0]], heads, width, mode, factor, scale, recompute, normEps,
            precision ?? MaskedAttentionKernel.DefaultPrecision)
        {
            Projecting = wants, DirectPerHead = DirectPerHead(direct, heads),
            GatesFromInput = weight.is_contiguous() && GateActivation.CanProject(x, xShape[3], heads, mode),
        };
        using var scope = NewDisposeScope();
        return apply(x, weight, bias, direct, setting)[0].MoveToOuterDisposeScope();
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

    /// <summary>Whether <paramref name="direct"/> is D0 per head, <c>[H]</c> (else it must be per cell, <c>[B·H, X·Y]</c>,
    /// which the walks check).</summary>
    private static bool DirectPerHead(Tensor direct, int heads)
    {
        var shape = direct.shape;
        if (shape.Length != 1) return false;
        if (shape[0] != heads)
            throw new ArgumentException($"direct must be D0 per head [{heads}] or per cell [B·H, X·Y], got [{shape[0]}]",
                nameof(direct));
        return true;
    }

    /// <summary>D0 per cell <c>[B·H, X·Y]</c> from D0 per head (the same at every batch entry and cell; a copy), or
    /// <paramref name="direct"/> itself when it is per cell. Differentiable where grad mode is on.</summary>
    private static Tensor PerCell(Tensor direct, long batch, int heads, long tokens) =>
        direct.dim() == 1 ? direct.reshape(1, heads, 1).expand(batch, heads, tokens).reshape(batch * heads, tokens) : direct;

    /// <summary>D0's gradient per head <c>[H]</c>: scale · Σ over batch entries and cells of the gate gradient's diagonal
    /// (<paramref name="dGate"/> <c>[B·H, T, T]</c>) — the sum over cells, then the batch's as a matrix–vector product: at
    /// 224 px on an H200 autograd's sum of the broadcast per-cell copy's gradient was one 15-µs reduction after a 5-µs
    /// read-out of the diagonal.</summary>
    private static Tensor HeadDirectGradient(Tensor dGate, Setting s)
    {
        using var diagonal = dGate.diagonal(0, 1, 2);                                      // [N, T], strided
        using var perEntry = diagonal.sum(new long[] { 1 });                               // [N]
        using var byBatch = perEntry.view(s.Shape[0], s.Heads);                            // [B, H]
        using var byHead = byBatch.t();                                                     // [H, B]
        using var ones = Common.RowsLinear.Ones(dGate, s.Shape[0]);
        var sums = mv(byHead, ones);                                                         // [H]
        sums.mul_(s.Scale);
        return sums;
    }

    /// <summary>The kernels' operands in <paramref name="t"/>, a <c>[B, X, Y, C]</c> projection output or its gradient
    /// (C = <paramref name="columns"/>):
    /// q, k, v at column blocks 0, 1, 2 of H·W columns, entry (b, h) at head h's W columns.</summary>
    private static MaskedAttentionKernel.Operand[] Blocks(Tensor t, long columns, Setting s)
    {
        var rows = MaskedAttentionKernel.RowLayout.HeadsInRows(s.Tokens, columns, s.Width, s.Heads);
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
        var qkv = Blocks(proj, s.ProjColumns, s);
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
        var setting = (Setting)vars[^1];
        bool projecting = setting.Projecting is not null;
        var directArgument = (Tensor)vars[projecting ? 3 : 1];
        // TorchSharp runs a custom function's forward in the caller's grad mode.
        using var noGrad = no_grad();
        var direct = setting.DirectPerHead                                                   // [N, T]
            ? PerCell(directArgument, setting.Shape[0], setting.Heads, setting.Tokens) : directArgument;
        Tensor proj, gates;
        Tensor? xRows = null, weight = null, pre = null;
        WalkedGateAttention.GateForm form;
        if (projecting)
        {
            // proj = x Wᵀ + b as libtorch's linear makes it on the rows (addmm, the bias in cuBLASLt's epilogue).
            var x = (Tensor)vars[0];
            (xRows, weight) = (x.view(setting.Shape[0] * setting.Tokens, -1), (Tensor)vars[1]);       // [M, D]
            var bias = (Tensor)vars[2];
            if (setting.GatesFromInput)
            {
                // Opt-in (GateActivation.CanProject): only q, k and v from the matrix product; the gate kernel makes the
                // gate pre-activations from x (their rows block-diagonal: 16 channels each at 224 px) and keeps them for
                // the backward. At 224 px on an H200 the D-mode layer's product narrows from 660 columns, past a cuBLAS
                // tile boundary, to 576 (257 → 208 µs under Nsight Compute), but its earlier forms cost 31–56 µs more than
                // the plain activation (bench/results/gpu-h200-gate-projection-2026-12-02.md).
                long qkvColumns = setting.QkvColumns, gateColumns = setting.GateColumns;
                // The gate kernel first, while x (just written by the block's norm) is still in the L2 cache: the
                // product's output streams through it.
                using (var gateWeight = weight.narrow(0, qkvColumns, gateColumns))                      // [K·4H, D]
                using (var gateBias = bias.narrow(0, qkvColumns, gateColumns))
                    (gates, pre) = GateActivation.ProjectNoGrad(xRows, gateWeight, gateBias, setting.Shape[0],
                        setting.Shape[1], setting.Shape[2], setting.Heads, setting.Mode, setting.Factor);
                using var qkvWeight = weight.narrow(0, 0, qkvColumns);
                using var qkvWeightT = qkvWeight.t();
                using var qkvBias = bias.narrow(0, 0, qkvColumns);
                using var rows = addmm(qkvBias, xRows, qkvWeightT, 1, 1);                              // [M, 3·H·W]
                proj = rows.view(setting.Shape[0], setting.Shape[1], setting.Shape[2], qkvColumns);
                form = WalkedGateAttention.FormOf(gates, setting.Mode);
            }
            else
            {
                using var weightT = weight.t();
                using var rows = addmm(bias, xRows, weightT, 1, 1);                                    // [M, C]
                proj = rows.view(setting.Shape);                                                          // [B, X, Y, C]
                (gates, form) = ActivatedGates(proj, setting);
            }
        }
        else
        {
            proj = (Tensor)vars[0];
            (gates, form) = ActivatedGates(proj, setting);
        }
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
        // graph to itself), then G unless recomputing, then, when projecting, x's rows and the weight (what the
        // products of the backward read; libtorch's linear keeps the same two).
        var save = new List<Tensor> { proj, gates, direct };
        if (attended is not null && inverse is not null) save.AddRange([attended, inverse]);
        if (!setting.Recompute) save.Add(gate);
        if (xRows is not null && weight is not null) save.AddRange([xRows, weight]);
        if (pre is not null) save.Add(pre);
        ctx.save_for_backward(save);
        ctx.save_data(SettingKey, setting);
        ctx.save_data(FormKey, form);
        ctx.save_data(DirectGradKey, directArgument.requires_grad);
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
            int next = 3;
            var (attended, inverse) = s.NormEps is not null ? (saved[next++], saved[next++]) : (null, null);
            var savedGate = s.Recompute ? null : saved[next++];
            var (xRows, weight) = s.Projecting is not null ? (saved[next++], saved[next++]) : (null, null);
            // The gate pre-activations: kept by the gate kernel, else proj's gate columns.
            var pre = s.GatesFromInput ? saved[next++] : proj.narrow(3, s.QkvColumns, s.GateColumns);
            if (dOutput is null || dOutput.IsInvalid)
                result = [zeros(s.Shape, proj.dtype, proj.device),
                    s.DirectPerHead ? zeros(s.Heads, direct.dtype, direct.device) : zeros_like(direct)];
            else
            {
                var gate = savedGate ?? WalkedGateAttention.Walk(gates, direct, s.Scale, form);
                var dy = dOutput.contiguous();                                              // [B, X, Y, H, W]
                var dProj = empty(s.Shape, proj.dtype, proj.device);                        // every entry is written
                // The fused backward adds dq (its key blocks' shares) into the q columns, which therefore start at zero:
                // cleared by the norm's backward kernel where it runs (one pass fewer), else by a fill below.
                bool fused = MaskedAttentionKernel.FusedBackward;
                if (attended is not null && inverse is not null)                             // through the norm
                    dy = RmsNormKernel.Backward(attended, inverse, dy, s.Width, fused ? (dProj, s.Heads) : null);
                var dGate = empty(new[] { s.Entries, s.Tokens, s.Tokens }, proj.dtype, proj.device);
                var (inputs, grads) = (Blocks(proj, s.ProjColumns, s), Blocks(dProj, s.Shape[3], s));
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
                var (dGates, dDirect) = WalkedGateAttention.WalkBackward(gates, dGate, s.Scale,
                    directGrad && !s.DirectPerHead, form, alongside);
                if (directGrad && s.DirectPerHead) dDirect = HeadDirectGradient(dGate, s);
                if (s.Recompute) gate.Dispose();
                dGate.Dispose();
                GateActivation.BackwardInto(pre, dGates,
                    dProj.narrow(3, s.QkvColumns, s.GateColumns), s.Heads, s.Mode, s.Factor);
                dGates.Dispose();
                result = [dProj, dDirect!];
            }
            if (s.Projecting is { } wants && xRows is not null && weight is not null)
                result = ProjectionBackward(result[0], result[1], xRows, weight, wants);
            foreach (var t in result) t?.MoveToOuterDisposeScope();
        }
        BackwardResults.Hand(result);
        foreach (var t in saved) t.Dispose();
        if (dOutput is { IsInvalid: false }) dOutput.Dispose();
        // One entry per forward argument: proj, or x, the weight and the bias; D0 (null without gradient); none for the
        // setting.
        return [.. result, null!];
    }

    /// <summary>The gradients of x <c>[B, X, Y, D]</c>, the weight and the bias (each null unless wanted; the linear
    /// map's, <see cref="Common.RowsLinear.Gradients"/>) and D0's from proj's gradient <paramref name="dProj"/>
    /// <c>[B, X, Y, C]</c>.</summary>
    private static List<Tensor> ProjectionBackward(Tensor dProj, Tensor? dDirect, Tensor xRows, Tensor weight,
        Common.RowsLinear.Wants wants)
    {
        var shape = dProj.shape;
        using var rows = dProj.view(-1, shape[3]);                                          // [M, C]
        var (dxRows, dWeight, dBias) = Common.RowsLinear.Gradients(rows, xRows, weight, wants);
        var dx = dxRows?.view(shape[0], shape[1], shape[2], -1);                            // [B, X, Y, D]
        dxRows?.Dispose();
        dProj.Dispose();
        return [dx!, dWeight!, dBias!, dDirect!];
    }
}
