using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.Common;

/// <summary>
/// <c>x Wᵀ + b</c> for a matrix of rows <c>x [M, in]</c>, weight <c>[out, in]</c> and bias <c>[out]</c> (libtorch's addmm)
/// as one custom autograd function whose backward takes the bias gradient as a matrix–vector product,
/// <c>db = dYᵀ · 1</c>, where libtorch's addmm backward sums dY over its rows with a reduction kernel.
/// </summary>
/// <remarks>
/// Why: at the vision models' shapes the column sum is the slow part of a linear map's backward on a GPU. Measured on an
/// H200 (M = 128 · 196 rows; bench/gpu/gemm_products.py, bench/results/gpu-h200-rows-linear-2026-12-02.md):
/// the reduction took 62 µs for 576 or 660 columns, 52 µs for 768 and 30 µs for 192, cuBLAS's matrix–vector product
/// 22–27 µs for each, against 150–260 µs for the products themselves. The other two gradients are libtorch's own
/// products, <c>dx = dY W</c> and <c>dW = dYᵀ x</c>, each only where its input wants a gradient. The forward hands
/// cuBLAS the weight as a row-major transposed copy (measured faster, see <see cref="forward"/>).
/// <para>Opt-in (<c>PLSTM_ROWS_LINEAR=on</c>): a TorchSharp custom function costs the host about 15–40 µs more per call
/// than libtorch's linear. ViT-T's 224-px training step, bound by its kernels, gained 44.3 → 42.3 ms with it; pLSTM-ViT-T's,
/// whose host time is close to its device time, did not gain (its host times rose 2–5 ms); at 512 px pLSTM-ViT-T gained
/// 92.6 → 91.5 ms, ViT-T 79.9 → 77.9 ms. Off, <see cref="Linear"/> is libtorch's linear on the flattened rows.</para>
/// <para>Tests run the function on the CPU against <c>nn.functional.linear</c>, every gradient, float64 and float32;
/// <c>plstm selfcheck --parts linear</c> runs <see cref="Linear"/> on a GPU against libtorch in float64.</para>
/// </remarks>
public sealed class RowsLinear : autograd.MultiTensorFunction<RowsLinear>
{
    private const string WantsKey = "wants";

    /// <summary>Whether <see cref="Linear"/> runs through this function on CUDA: <c>PLSTM_ROWS_LINEAR=on</c> (see the
    /// remarks).</summary>
    public static bool On { get; } = Environment.GetEnvironmentVariable("PLSTM_ROWS_LINEAR") == "on";

    /// <inheritdoc />
    public override string Name => nameof(RowsLinear);

    /// <summary><c>nn.functional.linear(x, weight, bias)</c> (<c>x Wᵀ + b</c> over the last axis, same shapes), with a
    /// contiguous <paramref name="x"/> of rank ≥ 3 taken as one matrix of rows, so the bias goes into the product
    /// (libtorch's addmm: on CUDA cuBLASLt's bias epilogue), and with <c>PLSTM_ROWS_LINEAR=on</c> on CUDA through this
    /// function (see the class remarks). libtorch's linear as TorchSharp calls it ran the product and then added the
    /// bias in a separate pass over the whole output: at 224 px (batch 128) 50–60 µs per 2D-layer projection and MLP
    /// up-projection and 17 µs per down-projection and patch embedding on an H200, ≈ 1.5 ms of a pLSTM-ViT-T training
    /// step, ≈ 0.7 ms of ViT-T's (bench/results/gpu-h200-flat-linear-2026-12-02.md).</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (bias is null) return nn.functional.linear(x, weight);                     // matmul folds the rows itself
        var shape = x.shape;                                                            // one native call
        bool function = On && x.device_type == DeviceType.CUDA;
        if (shape.Length == 2 && function) return Apply(x, weight, bias);
        if (shape.Length <= 2 || !x.is_contiguous()) return nn.functional.linear(x, weight, bias);
        using var rows = x.view(-1, shape[^1]);                                         // [rows, in]
        using var product = function ? Apply(rows, weight, bias) : nn.functional.linear(rows, weight, bias); // [rows, out]
        shape[^1] = product.size(1);
        return product.view(shape);                                                     // [..., out]
    }

    /// <summary><c>rows Wᵀ + b</c> <c>[M, out]</c>, differentiable with respect to all three (the caller passes a matrix
    /// <paramref name="rows"/> <c>[M, in]</c>, <paramref name="weight"/> <c>[out, in]</c> and <paramref name="bias"/>
    /// <c>[out]</c> of one dtype and device).</summary>
    internal static Tensor Apply(Tensor rows, Tensor weight, Tensor bias)
    {
        if (!is_grad_enabled()) return nn.functional.linear(rows, weight, bias);      // addmm, no graph
        var wants = new Wants(rows.requires_grad, weight.requires_grad, bias.requires_grad); // read once (native calls)
        if (!(wants.Rows || wants.Weight || wants.Bias)) return nn.functional.linear(rows, weight, bias);
        using var scope = NewDisposeScope();
        return apply(rows, weight, bias, wants)[0].MoveToOuterDisposeScope();
    }

    /// <summary>Which of rows, weight and bias want a gradient (read once per call: each read is a native call).</summary>
    internal sealed record Wants(bool Rows, bool Weight, bool Bias);

    /// <summary>The gradients of rows <c>[M, in]</c>, weight <c>[out, in]</c> and bias of <c>rows Wᵀ + b</c> for its
    /// output's gradient <paramref name="dy"/> <c>[M, out]</c>, each null unless wanted: dx = dY W, dW = dYᵀ rows and
    /// db = dYᵀ · 1 (a matrix–vector product, not libtorch's column-sum reduction). Also the backward of the 2D layer's
    /// projection inside <c>ProjectedGateAttention.AttendProjected</c>.</summary>
    internal static (Tensor? Dx, Tensor? Dw, Tensor? Db) Gradients(Tensor dy, Tensor rows, Tensor weight, Wants wants)
    {
        using var dyT = dy.t();                                                             // [out, M]
        var dx = wants.Rows ? dy.mm(weight) : null;                                         // [M, in]
        var dw = wants.Weight ? dyT.mm(rows) : null;                                        // [out, in]
        if (!wants.Bias) return (dx, dw, null);
        using var ones = Ones(dy, dy.size(0));
        return (dx, dw, mv(dyT, ones));                                                     // db [out]
    }

    /// <summary>The longest vector of ones made so far per device and dtype (the bias gradient's right-hand side):
    /// backward takes a view of it instead of allocating and filling one per call. Guarded by a lock: CUDA runs
    /// backward on one worker thread per device, the CPU on the caller's.</summary>
    private static readonly Dictionary<(DeviceType, int, ScalarType), Tensor> OnesCache = new();

    /// <summary>A view of <paramref name="length"/> ones in <paramref name="like"/>'s dtype and device.</summary>
    internal static Tensor Ones(Tensor like, long length)
    {
        var (device, dtype) = (like.device, like.dtype);
        var key = (device.type, device.index, dtype);
        lock (OnesCache)
        {
            if (!OnesCache.TryGetValue(key, out var ones) || ones.size(0) < length)
            {
                // Kept for the process's lifetime, outside every dispose scope. Freeing the shorter one is safe with
                // products still queued that read it: libtorch's CUDA allocator reuses memory in stream order.
                ones?.Dispose();
                ones = torch.ones(Math.Max(length, 1), dtype: dtype, device: device).DetachFromDisposeScope();
                OnesCache[key] = ones;
            }
            return ones.narrow(0, 0, length);
        }
    }

    /// <inheritdoc />
    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var (rows, weight, bias, wants) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (Wants)vars[3]);
        using var noGrad = no_grad();
        // The weight transposed into a row-major [in, out] copy: cuBLAS then runs the product with both operands
        // row-major, for which it picks faster kernels at these shapes than for the transposed view linear passes
        // (H200, M = 25,088, in = 192: 576 columns 155 → 142 µs, 660: 195 → 173, 768: 191 → 188, 192: 58 → 51; the
        // MLP's 768 → 192: 201 → 183; 624 and 640 columns +2 µs), for one small copy of the weight.
        using var weightT = weight.t().contiguous();                                       // [in, out]
        var output = addmm(bias, rows, weightT, 1, 1);                                     // [M, out]
        // Saved: what the two products read (the weight only for dx, the rows only for dW).
        ctx.save_for_backward([rows, weight]);
        ctx.save_data(WantsKey, wants);
        ctx.set_materialize_grads(false);
        return [output];
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grad_outputs)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var saved = ctx.get_saved_variables();
        var wants = (Wants)ctx.get_data(WantsKey);
        var dOutput = grad_outputs[0];
        List<Tensor> result;
        using (var scope = NewDisposeScope())
        {
            var (rows, weight) = (saved[0], saved[1]);
            if (dOutput is null || dOutput.IsInvalid)
                result = [zeros_like(rows), zeros_like(weight), zeros(weight.size(0), dtype: weight.dtype, device: weight.device)];
            else
            {
                var (dx, dw, db) = Gradients(dOutput, rows, weight, wants);                 // dOutput [M, out]
                result = [dx!, dw!, db!];
            }
            foreach (var t in result) t?.MoveToOuterDisposeScope();
        }
        BackwardResults.Hand(result);
        foreach (var t in saved) t.Dispose();
        if (dOutput is { IsInvalid: false }) dOutput.Dispose();
        return [.. result, null!];                                                      // none for the Wants
    }
}
