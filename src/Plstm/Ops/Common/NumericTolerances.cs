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

    /// <summary>TF32 products (<c>MaskedAttentionPrecision.Tf32</c>: each operand rounded to 11 significant bits, ≈ 2⁻¹¹
    /// relative, float32 sums of up to thousands of such products, two products deep) against float64, absolute part:
    /// <c>2e-3 · max(1, max|expected|)</c> (the kernels' worst cases on an H200, T up to 4,095, reached 0.02–0.05 of a
    /// 1e-2 rule, i.e. 0.1–0.3 of this one); an indexing error is of the order of the values themselves.</summary>
    public const double Tf32AbsScale = 2e-3;

    /// <summary>The TF32 rule's relative part: <c>2e-3 · |expected|</c>.</summary>
    public const double Tf32Rtol = 2e-3;

    /// <summary>A layer computing in bfloat16 (8 significant bits: ≈ 4e-3 relative per rounding, several roundings from
    /// input to output) against the same layer in float64, its output: <c>|a−e| ≤ 5e-2 · max(1, max|e|)</c> (max over the
    /// whole array).</summary>
    public const double BFloat16Scale = 5e-2;

    /// <summary>The same for the gradients of its input and parameters, which pass through the bfloat16 backward as well
    /// (measured up to 4e-2 with gradient 1 at the output): <c>|a−e| ≤ 1e-1 · max(1, max|e|)</c>.</summary>
    public const double BFloat16GradScale = 1e-1;
}
