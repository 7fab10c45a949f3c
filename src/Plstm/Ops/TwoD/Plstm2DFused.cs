using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The fused four-orientation 2D operator (README §"Four orientations"): Y = Σ_o flip_o(scan(flip_o(Q, K, V),
/// flip_o(gates of o), D = 0)) + the direct term once. flip_0 = none, flip_1 = reverse x, flip_2 = reverse y,
/// flip_3 = both. The four scans run as one call with the orientations stacked on the batch axis.
/// Any grid size (the reference's fused kernel needs one square chunk; this one does not, clarification 3).
/// </summary>
public static class Plstm2DFused
{
    /// <summary>Axes (of a <c>[B, X, Y, …]</c> tensor) reversed by each orientation.</summary>
    public static long[] FlipAxes(int orientation) => orientation switch
    {
        0 => Array.Empty<long>(),
        1 => new long[] { 1 },
        2 => new long[] { 2 },
        3 => new long[] { 1, 2 },
        _ => throw new ArgumentOutOfRangeException(nameof(orientation), orientation, "orientation must be 0..3"),
    };

    /// <summary>Runs the fused operator. <paramref name="scale"/> defaults to DK^(-1/2); <paramref name="levels"/> only
    /// matters for <see cref="Plstm2DForm.Hierarchical"/> and does not change the result.</summary>
    public static Tensor Forward(Plstm2DFusedInputs inputs, int levels = 6, double? scale = null,
        Plstm2DForm form = Plstm2DForm.Hierarchical)
    {
        OperatorMath.CheckLevels(levels);
        var dims = inputs.Validate();
        using var scope = NewDisposeScope();
        double c = scale ?? OperatorMath.DefaultScale(dims["DK"]);
        long B = dims["B"];

        Tensor Shared(Tensor t) => cat(Enumerable.Range(0, 4).Select(o => Flip(t, o)).ToArray(), 0);
        Tensor PerOrientation(Tensor t) => cat(Enumerable.Range(0, 4).Select(o => Flip(t.select(1, o), o)).ToArray(), 0);
        Tensor? PerOrientationOpt(Tensor? t) => t is null ? null : PerOrientation(t);

        var scanInputs = new Plstm2DInputs(
            Shared(inputs.Q), Shared(inputs.K), Shared(inputs.V),
            PerOrientation(inputs.S0r), PerOrientation(inputs.S0d),
            PerOrientation(inputs.T0rl), PerOrientation(inputs.T0du),
            PerOrientationOpt(inputs.T0dl), PerOrientationOpt(inputs.T0ru),
            PerOrientation(inputs.M0l), PerOrientation(inputs.M0u),
            zeros(new[] { 4 * B }.Concat(inputs.D0.shape.Skip(1)).ToArray(), dtype: inputs.D0.dtype, device: inputs.D0.device));
        var scanned = form switch
        {
            Plstm2DForm.Naive => Plstm2DNaive.Forward(scanInputs, c).Y,
            Plstm2DForm.Hierarchical => Plstm2DHierarchical.Output(scanInputs, levels, c),
            _ => throw new ArgumentOutOfRangeException(nameof(form), form, "unknown form"),
        };                                                                                   // [4B, X, Y, DV, JO]
        var y = DirectTerm(inputs.Q, inputs.K, inputs.V, inputs.D0, c);                     // [B, X, Y, DV, JO]
        for (int o = 0; o < 4; o++)
            y = y + Flip(scanned.narrow(0, o * B, B), o);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>scale · Q D0 K V at every cell: the node's own contribution, <c>[B, X, Y, DV, JO]</c>.</summary>
    public static Tensor DirectTerm(Tensor Q, Tensor K, Tensor V, Tensor D0, double scale)
    {
        using var scope = NewDisposeScope();
        var qk = einsum("bxydq,bxydk->bxyqk", Q, K);                                         // [B, X, Y, JQ, JK]
        var w = einsum("bxyqk,bxyoqkl->bxyol", qk, D0);                                      // [B, X, Y, JO, JV]
        return (einsum("bxyol,bxyvl->bxyvo", w, V) * scale).MoveToOuterDisposeScope();
    }

    /// <summary>Applies orientation <paramref name="orientation"/>'s flip to a <c>[B, X, Y, …]</c> tensor (its own inverse).</summary>
    public static Tensor Flip(Tensor t, int orientation)
    {
        var axes = FlipAxes(orientation);
        return axes.Length == 0 ? t : t.flip(axes);
    }
}
