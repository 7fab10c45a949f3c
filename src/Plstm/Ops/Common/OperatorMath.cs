namespace Plstm.Ops.Common;

/// <summary>Small shared helpers of the operators.</summary>
public static class OperatorMath
{
    /// <summary>The default QK scale DK^(-1/2) (operators §1.5).</summary>
    public static double DefaultScale(long dk) => 1.0 / Math.Sqrt(dk);

    /// <summary>⌈log2 n⌉ for n ≥ 1 (0 for n = 1).</summary>
    public static int CeilLog2(long n)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "must be at least 1");
        int l = 0;
        while ((1L << l) < n) l++;
        return l;
    }

    /// <summary>Smallest multiple of <paramref name="chunk"/> that is ≥ <paramref name="n"/>.</summary>
    public static long RoundUp(long n, long chunk) => (n + chunk - 1) / chunk * chunk;

    /// <summary>Validates a <c>levels</c> argument.</summary>
    public static void CheckLevels(int levels)
    {
        if (levels < 0 || levels > 16)
            throw new ArgumentOutOfRangeException(nameof(levels), levels, "levels must be in 0..16 (chunk side 2^levels).");
    }
}
