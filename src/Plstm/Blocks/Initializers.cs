using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Blocks;

/// <summary>
/// Weight initialisers shared by the blocks and vision models (models §3.3, §6.6). All of them write in place
/// without recording autograd history.
/// </summary>
public static class Initializers
{
    /// <summary>Standard deviation of <see cref="SmallInit"/>: <c>sqrt(2 / (5·fan))</c>.</summary>
    public static double SmallInitStd(long fan)
    {
        if (fan <= 0) throw new ArgumentOutOfRangeException(nameof(fan), fan, "fan must be positive");
        return Math.Sqrt(2.0 / (5.0 * fan));
    }

    /// <summary>
    /// SmallInit: normal with mean 0 and std <c>sqrt(2 / (5·fan))</c>. The caller picks the fan; the port uses
    /// fan = in_features for every Linear weight (the torch reference's choice; JAX uses out_features, §6.6).
    /// </summary>
    public static void SmallInit(Tensor weight, long fan)
    {
        ArgumentNullException.ThrowIfNull(weight);
        using var noGrad = no_grad();
        weight.normal_(0.0, SmallInitStd(fan));
    }

    /// <summary>
    /// Truncated normal with mean 0 and the given std, cut at the absolute bounds [<paramref name="low"/>,
    /// <paramref name="high"/>] (PyTorch's <c>trunc_normal_</c> defaults ±2; for a small std that is effectively
    /// untruncated). Sampled by inverting the normal CDF on the admissible interval, as PyTorch does.
    /// </summary>
    /// <remarks>
    /// Written out because TorchSharp 0.107's <c>nn.init.trunc_normal_</c> fills the tensor with the constant
    /// <c>std</c> instead of samples (which, for the classifier head, makes every class row identical and blocks
    /// all gradients below a softmax cross-entropy).
    /// </remarks>
    public static void TruncatedNormal(Tensor weight, double std, double low = -2.0, double high = 2.0)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (!(std > 0)) throw new ArgumentOutOfRangeException(nameof(std), std, "std must be positive");
        if (!(low < high)) throw new ArgumentException($"low {low} must be below high {high}.", nameof(low));
        using var noGrad = no_grad();
        static double NormalCdf(double x) => 0.5 * (1.0 + Erf(x / Math.Sqrt(2.0)));
        double lo = 2.0 * NormalCdf(low / std) - 1.0;
        double hi = 2.0 * NormalCdf(high / std) - 1.0;
        weight.uniform_(lo, hi).erfinv_().mul_(std * Math.Sqrt(2.0)).clamp_(low, high);
    }

    // .NET has no Math.Erf: evaluate it with libtorch in float64.
    private static double Erf(double x)
    {
        if (double.IsPositiveInfinity(x)) return 1.0;
        if (double.IsNegativeInfinity(x)) return -1.0;
        using var t = tensor(x, dtype: ScalarType.Float64);
        using var e = t.erf();
        return e.item<double>();
    }

    /// <summary>Fills with zeros.</summary>
    public static void Zeros(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using var noGrad = no_grad();
        tensor.zero_();
    }

    /// <summary>Fills with a constant.</summary>
    public static void Constant(Tensor tensor, double value)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using var noGrad = no_grad();
        tensor.fill_(value);
    }
}
