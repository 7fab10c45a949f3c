using Plstm.Ops.OneD;
using Plstm.Ops.TwoD;

namespace Plstm.Tests.Ops;

/// <summary>State-tracking sizes of a random operator case.</summary>
public sealed record JDims(long JT = 1, long JK = 1, long JV = 1, long JQ = 1, long JO = 1)
{
    public static readonly JDims Scalar = new();
    public static readonly JDims Mixed = new(JT: 2, JK: 2, JV: 1, JQ: 2, JO: 3);
    public override string ToString() => $"J(T{JT},K{JK},V{JV},Q{JQ},O{JO})";
}

/// <summary>
/// Seeded random operator inputs. Gates are uniform in (−0.5, 0.5) so that the path sums of any grid in the tests stay
/// O(1) (an all-turns 2D grid doubles its path count per step; |T| ≤ 0.5 keeps that below 1 per step).
/// </summary>
public static class RandomInputs
{
    public static Tensor Uniform(Generator g, ScalarType dtype, params long[] shape) =>
        (rand(shape, dtype: float64, generator: g) - 0.5).to(dtype);

    public static Tensor Normal(Generator g, ScalarType dtype, params long[] shape) =>
        randn(shape, dtype: float64, generator: g).to(dtype);

    public static Plstm1DInputs OneD(long seed, long B, long L, long DK, long DV, JDims j, bool withInitial,
        ScalarType dtype = ScalarType.Float64)
    {
        var g = new Generator((ulong)seed);
        return new Plstm1DInputs(
            Normal(g, dtype, B, L, DK, j.JQ), Normal(g, dtype, B, L, DK, j.JK), Normal(g, dtype, B, L, DV, j.JV),
            Uniform(g, dtype, B, L, j.JT, j.JK, j.JV), Uniform(g, dtype, B, L, j.JT, j.JT) * 1.6,
            Uniform(g, dtype, B, L, j.JO, j.JQ, j.JT), Uniform(g, dtype, B, L, j.JO, j.JQ, j.JK, j.JV),
            withInitial ? Normal(g, dtype, B, DK, DV, j.JT) : null);
    }

    public static Plstm2DInputs TwoD(long seed, long B, long X, long Y, long DK, long DV, JDims j,
        bool withDl = true, bool withRu = true, bool withInitial = false, ScalarType dtype = ScalarType.Float64)
    {
        var g = new Generator((ulong)seed);
        Tensor T() => Uniform(g, dtype, B, X, Y, j.JT, j.JT);
        return new Plstm2DInputs(
            Normal(g, dtype, B, X, Y, DK, j.JQ), Normal(g, dtype, B, X, Y, DK, j.JK), Normal(g, dtype, B, X, Y, DV, j.JV),
            Uniform(g, dtype, B, X, Y, j.JT, j.JK, j.JV), Uniform(g, dtype, B, X, Y, j.JT, j.JK, j.JV),
            T(), T(), withDl ? T() : null, withRu ? T() : null,
            Uniform(g, dtype, B, X, Y, j.JO, j.JQ, j.JT), Uniform(g, dtype, B, X, Y, j.JO, j.JQ, j.JT),
            Uniform(g, dtype, B, X, Y, j.JO, j.JQ, j.JK, j.JV),
            withInitial ? Normal(g, dtype, B, Y, DK, DV, j.JT) : null,
            withInitial ? Normal(g, dtype, B, X, DK, DV, j.JT) : null);
    }

    public static Plstm2DFusedInputs Fused(long seed, long B, long X, long Y, long DK, long DV, JDims j,
        bool withDl = true, bool withRu = true, ScalarType dtype = ScalarType.Float64)
    {
        var g = new Generator((ulong)seed);
        Tensor T() => Uniform(g, dtype, B, 4, X, Y, j.JT, j.JT);
        return new Plstm2DFusedInputs(
            Normal(g, dtype, B, X, Y, DK, j.JQ), Normal(g, dtype, B, X, Y, DK, j.JK), Normal(g, dtype, B, X, Y, DV, j.JV),
            Uniform(g, dtype, B, 4, X, Y, j.JT, j.JK, j.JV), Uniform(g, dtype, B, 4, X, Y, j.JT, j.JK, j.JV),
            T(), T(), withDl ? T() : null, withRu ? T() : null,
            Uniform(g, dtype, B, 4, X, Y, j.JO, j.JQ, j.JT), Uniform(g, dtype, B, 4, X, Y, j.JO, j.JQ, j.JT),
            Uniform(g, dtype, B, X, Y, j.JO, j.JQ, j.JK, j.JV));
    }
}
