using Plstm.Ops.Common;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Blocks;

/// <summary>
/// RMS normalisation over the last axis: <c>y = x · rsqrt(mean(x²) + eps) · scale</c>, no bias (models §6.1).
/// Reference name of the one parameter: <c>scale</c> (<c>[D]</c>, init 1).
/// </summary>
/// <remarks>
/// The statistics are computed in at least float32: half/bfloat16 inputs are upcast (the reference runs its norms in
/// float32 under bf16 autocast, since a bf16 mean of squares loses too much), float64 inputs stay float64 so the
/// double-precision tests keep their accuracy. The result has the input's dtype.
/// </remarks>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the norm for a last axis of size <paramref name="dim"/>.</summary>
    /// <param name="name">Module name (TorchSharp).</param>
    /// <param name="dim">Size of the normalised (last) axis.</param>
    /// <param name="eps">Added to the mean square before the reciprocal square root.</param>
    public RmsNorm(string name, long dim, double eps = 1e-5) : base(name)
    {
        if (dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, "dim must be positive");
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be positive");
        Dim = dim;
        Eps = eps;
        register_parameter("scale", new Parameter(ones(dim, dtype: ScalarType.Float32)));
    }

    private static readonly long[] LastAxis = [-1];

    /// <summary>Size of the normalised axis.</summary>
    public long Dim { get; }

    /// <summary>The epsilon inside the square root.</summary>
    public double Eps { get; }

    /// <summary>The per-channel gain γ, <c>[D]</c>. Looked up each time because <c>Module.to</c> may replace it.</summary>
    public Parameter Scale => get_parameter("scale")!;

    /// <summary>Whether <see cref="forward"/> of <paramref name="x"/> runs the fused CUDA kernels
    /// (<c>Ops/Common/ScaledRmsNormKernel</c>: float32 or half-precision input on a CUDA device, D ≤ 1,024, a float32
    /// scale) rather than tensor operations.</summary>
    public bool UsesKernel(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.device_type != DeviceType.CUDA || x.dtype == ScalarType.Float64 || !x.is_floating_point()) return false;
        using var probe = empty(new[] { 1L, Dim }, ScalarType.Float32, x.device);
        return ScaledRmsNormKernel.CanRun(probe, Scale, Dim);
    }

    /// <summary>Normalises <c>[…, D]</c> → <c>[…, D]</c>.</summary>
    public override Tensor forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var shape = x.shape;                                                             // one native call
        if (shape.Length == 0 || shape[^1] != Dim)
            throw new ArgumentException(
                $"RmsNorm '{GetName()}' expects a last axis of size {Dim}, got shape [{string.Join(", ", shape)}].",
                nameof(x));
        using var scope = NewDisposeScope();
        // Every tensor call is a native call (and on a GPU a launch): the dtype read once, casts only where they change
        // something (25 norms per vision-model step).
        var dtype = x.dtype;
        var computeType = dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        var xc = Layers.Dtypes.Cast(x, computeType);                                     // [..., D]
        var scale = Layers.Dtypes.Cast(Scale, computeType);                              // [D]
        // On CUDA in float32: one kernel each way (Ops/Common/ScaledRmsNormKernel; these operations were about six
        // full-size passes forward and a dozen backward). The operations below are its definition.
        if (ScaledRmsNormKernel.CanRun(xc, scale, Dim))
            return Layers.Dtypes.Cast(ScaledRmsNormKernel.Apply(xc, scale, Dim, Eps), dtype).MoveToOuterDisposeScope();
        var inverseRms = xc.square().mean(LastAxis, keepdim: true).add_(Eps).rsqrt_();   // [..., 1]
        var y = xc * inverseRms * scale;
        return Layers.Dtypes.Cast(y, dtype).MoveToOuterDisposeScope();
    }
}
