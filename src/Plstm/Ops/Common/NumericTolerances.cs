namespace Plstm.Ops.Common;

/// <summary>
/// The agreement rules between two exact forms of an operator (the test suite's, <c>tests/…/Support/Tolerances.cs</c>,
/// and <c>plstm selfcheck</c>'s): float64 <c>|a − e| ≤ 1e-10 + 1e-9·|e|</c>; float32
/// <c>|a − e| ≤ 2e-5·max(1, max|e|) + 1e-4·|e|</c> (max over the whole array: sums reordered over hundreds of terms).
/// Held here once; loosening one is a design decision.
/// </summary>
public static class NumericTolerances
{
    /// <summary>Relative tolerance of float64 comparisons.</summary>
    public const double Float64Rtol = 1e-9;

    /// <summary>Absolute tolerance of float64 comparisons.</summary>
    public const double Float64Atol = 1e-10;

    /// <summary>float32 rule, absolute part: <c>2e-5 · max(1, max|expected|)</c>.</summary>
    public const double Float32AbsScale = 2e-5;

    /// <summary>float32 rule, relative part: <c>1e-4 · |expected|</c>.</summary>
    public const double Float32Rtol = 1e-4;

    /// <summary>The absolute part of the float32 rule for an array whose largest magnitude is <paramref name="maxAbsExpected"/>.</summary>
    public static double Float32Atol(double maxAbsExpected) => Float32AbsScale * Math.Max(1.0, maxAbsExpected);
}
