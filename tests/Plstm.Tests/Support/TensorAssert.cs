using System.Globalization;
using System.Text;

namespace Plstm.Tests.Support;

/// <summary>
/// Elementwise closeness checks with diagnostic messages: shape mismatch, NaN/∞ positions, the number of violating
/// elements, the largest absolute error and the element that exceeds its allowance the most (with its index).
/// Comparisons are done in float64 on the CPU, whatever the dtype/device of the inputs.
/// </summary>
public static class TensorAssert
{
    /// <summary>Fails unless <c>|actual − expected| ≤ atol + rtol·|expected|</c> holds for every element.</summary>
    public static void AssertClose(Tensor actual, Tensor expected, string what, double rtol, double atol)
    {
        var failure = Compare(actual, expected, what, rtol, atol);
        if (failure is not null) Assert.Fail(failure);
    }

    /// <summary>Fails unless the float32 rule (<see cref="Tolerances.Float32Rule"/>) holds for every element.</summary>
    public static void AssertCloseFloat32(Tensor actual, Tensor expected, string what)
    {
        var failure = CompareFloat32(actual, expected, what);
        if (failure is not null) Assert.Fail(failure);
    }

    /// <summary>As <see cref="AssertClose"/>, but returns the failure message (null when the tensors are close).</summary>
    public static string? Compare(Tensor actual, Tensor expected, string what, double rtol, double atol) =>
        CompareCore(actual, expected, what, rtol, _ => atol,
            $"|a−e| ≤ {F(atol)} + {F(rtol)}·|e|");

    /// <summary>The failure message (null when close) of <c>|actual − expected| ≤ absScale · max(1, max|expected|) +
    /// rtol·|expected|</c> — the shape of the float32, TF32 and bfloat16 rules (<see cref="Tolerances"/>), the absolute
    /// part scaled by the array's largest magnitude.</summary>
    public static string? CompareScaled(Tensor actual, Tensor expected, string what, double rtol, double absScale) =>
        CompareCore(actual, expected, what, rtol, maxAbs => absScale * Math.Max(1.0, maxAbs),
            $"|a−e| ≤ {F(absScale)}·max(1, max|e|) + {F(rtol)}·|e|");

    /// <summary>As <see cref="AssertCloseFloat32"/>, but returns the failure message (null when the tensors are close).</summary>
    public static string? CompareFloat32(Tensor actual, Tensor expected, string what) =>
        CompareCore(actual, expected, what, Tolerances.Float32Rtol, Tolerances.Float32Atol,
            Tolerances.Float32Rule);

    private static string? CompareCore(Tensor actual, Tensor expected, string what, double rtol,
        Func<double, double> atolFromMaxAbsExpected, string rule)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(expected);
        if (!actual.shape.SequenceEqual(expected.shape))
            return $"{what}: shape mismatch: actual {FormatShape(actual.shape)} ({actual.dtype}), expected {FormatShape(expected.shape)} ({expected.dtype}).";

        var shape = expected.shape;
        double[] a = ToDoubles(actual), e = ToDoubles(expected);
        if (e.Length == 0) return null;

        double maxAbsExpected = 0.0;
        foreach (var v in e)
            if (!double.IsNaN(v)) maxAbsExpected = Math.Max(maxAbsExpected, Math.Abs(v));
        double atol = atolFromMaxAbsExpected(maxAbsExpected);

        int violations = 0, nonFinite = 0, firstNonFinite = -1;
        int worstAbs = 0, worstRatio = 0;
        double maxAbsErr = 0.0, maxRatio = 0.0;
        for (int i = 0; i < e.Length; i++)
        {
            double err = Math.Abs(a[i] - e[i]);
            double allowed = atol + rtol * Math.Abs(e[i]);
            if (double.IsNaN(err) || double.IsInfinity(err))
            {
                // Equal infinities are fine; anything else non-finite is a failure.
                if (a[i].Equals(e[i])) continue;
                nonFinite++; violations++;
                if (firstNonFinite < 0) firstNonFinite = i;
                continue;
            }
            if (err > allowed) violations++;
            if (err > maxAbsErr) { maxAbsErr = err; worstAbs = i; }
            double ratio = allowed > 0 ? err / allowed : (err > 0 ? double.PositiveInfinity : 0.0);
            if (ratio > maxRatio) { maxRatio = ratio; worstRatio = i; }
        }
        if (violations == 0) return null;

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{what}: {violations} of {e.Length} elements violate {rule} (shape {FormatShape(shape)}, atol used {F(atol)}, max|e| {F(maxAbsExpected)}). ");
        if (nonFinite > 0)
            sb.Append(CultureInfo.InvariantCulture, $"{nonFinite} non-finite difference(s), first at {FormatIndex(Unravel(firstNonFinite, shape))} (actual {V(a[firstNonFinite])}, expected {V(e[firstNonFinite])}). ");
        sb.Append(CultureInfo.InvariantCulture, $"Max abs error {F(maxAbsErr)} at {FormatIndex(Unravel(worstAbs, shape))} (actual {V(a[worstAbs])}, expected {V(e[worstAbs])}). ");
        sb.Append(CultureInfo.InvariantCulture, $"Worst error/allowance {F(maxRatio)} at {FormatIndex(Unravel(worstRatio, shape))} (actual {V(a[worstRatio])}, expected {V(e[worstRatio])}).");
        return sb.ToString();
    }

    /// <summary>Row-major multi-index of flat element <paramref name="flat"/>.</summary>
    public static long[] Unravel(long flat, IReadOnlyList<long> shape)
    {
        var index = new long[shape.Count];
        for (int d = shape.Count - 1; d >= 0; d--)
        {
            index[d] = shape[d] == 0 ? 0 : flat % shape[d];
            flat = shape[d] == 0 ? 0 : flat / shape[d];
        }
        return index;
    }

    /// <summary>Formats a shape as <c>[d0, d1, …]</c>.</summary>
    public static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    private static string FormatIndex(long[] index) => "[" + string.Join(", ", index) + "]";

    private static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    private static string V(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static double[] ToDoubles(Tensor t)
    {
        if (t.numel() == 0) return [];                   // data<T>() of an empty tensor throws in TorchSharp
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return t.detach().to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
    }
}
