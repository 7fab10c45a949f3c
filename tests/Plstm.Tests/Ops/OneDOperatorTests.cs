using Plstm.Ops.OneD;

namespace Plstm.Tests.Ops;

public class OneDOperatorTests
{
    private static readonly string[] InputNames = { "Q", "K", "V", "S0", "T0", "M0", "D0", "CInitial" };
    private static readonly string[] OutputNames = { "Y", "CLast" };

    private static Tensor?[] ToArray(Plstm1DInputs i) => new[] { i.Q, i.K, i.V, i.S0, i.T0, i.M0, i.D0, i.CInitial };

    private static Plstm1DInputs FromArray(Tensor?[] a) => new(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]);

    private static Differentiate.Result RunChunked(Plstm1DInputs inputs, int levels) =>
        Differentiate.Run(ToArray(inputs), a =>
        {
            var o = Plstm1DChunked.Forward(FromArray(a), levels);
            return new[] { o.Y, o.CLast };
        });

    private static Differentiate.Result RunNaive(Plstm1DInputs inputs) =>
        Differentiate.Run(ToArray(inputs), a =>
        {
            var o = Plstm1DNaive.Forward(FromArray(a));
            return new[] { o.Y, o.CLast };
        });

    public static TheoryData<int, int, bool> LengthsAndLevels()
    {
        var data = new TheoryData<int, int, bool>();
        foreach (int length in new[] { 1, 2, 5, 8, 13, 33 })
            foreach (int levels in new[] { 0, 1, 2, 3, 5 })
                data.Add(length, levels, length % 2 == 1);
        return data;
    }

    [Theory]
    [MemberData(nameof(LengthsAndLevels))]
    public void Chunked_equals_naive_outputs_final_state_and_gradients(int length, int levels, bool withInitial)
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.OneD(seed: 10 + length, B: 2, L: length, DK: 3, DV: 2, JDims.Mixed, withInitial);
        FormComparison.AssertSame(RunChunked(inputs, levels), RunNaive(inputs), OutputNames, InputNames);
    }

    [Theory]
    [InlineData(16, 2)]
    [InlineData(21, 3)]
    public void Chunked_float32_matches_float64_naive(int length, int levels)
    {
        using var scope = NewDisposeScope();
        var inputs64 = RandomInputs.OneD(seed: 7, B: 2, L: length, DK: 4, DV: 3, JDims.Mixed, withInitial: true);
        var inputs32 = FromArray(ToArray(inputs64).Select(t => t?.to(float32)).ToArray());
        FormComparison.AssertSame(RunChunked(inputs32, levels), RunNaive(inputs64), OutputNames, InputNames, float32: true);
    }

    [Fact]
    public void Result_does_not_depend_on_levels()
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.OneD(seed: 3, B: 1, L: 40, DK: 2, DV: 2, new JDims(JT: 3), withInitial: true);
        var reference = Plstm1DChunked.Forward(inputs, 0);
        for (int levels = 1; levels <= 6; levels++)
        {
            var other = Plstm1DChunked.Forward(inputs, levels);
            Support.TensorAssert.AssertClose(other.Y, reference.Y, $"Y at levels {levels}", Support.Tolerances.Float64Rtol, Support.Tolerances.Float64Atol);
            Support.TensorAssert.AssertClose(other.CLast, reference.CLast, $"CLast at levels {levels}", Support.Tolerances.Float64Rtol, Support.Tolerances.Float64Atol);
        }
    }

    [Fact]
    public void Output_is_causal()
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.OneD(seed: 5, B: 1, L: 12, DK: 2, DV: 2, JDims.Mixed, withInitial: false);
        const int t0 = 6;
        var perturbed = inputs with
        {
            K = inputs.K.clone().index_put_(randn(new long[] { 1, 1, 2, 2 }, dtype: float64) * 3 + 1,
                TensorIndex.Colon, TensorIndex.Slice(t0, t0 + 1)),
            T0 = inputs.T0.clone().index_put_(tensor(0.3, dtype: float64), TensorIndex.Colon, TensorIndex.Slice(t0, t0 + 1)),
        };
        var y0 = Plstm1DChunked.Forward(inputs, 2).Y;
        var y1 = Plstm1DChunked.Forward(perturbed, 2).Y;
        var diff = (y1 - y0).abs().amax(new long[] { 0, 2, 3 });                             // [L]
        for (int t = 0; t < 12; t++)
        {
            double d = diff[t].item<double>();
            if (t < t0) Assert.True(d <= 1e-12, $"position {t} before the change moved by {d}");
        }
        Assert.True(diff[t0 + 1].item<double>() > 1e-6, "a later position must see the change");
    }

    [Fact]
    public void Exploding_transitions_grow_geometrically_as_the_spec_measures()
    {
        // operators §6: 1D with T = 1.05 reaches max|Y| ≈ 1.7e2 at L = 64 and ≈ 1.9e6 at L = 256; |T| < 1 stays bounded.
        using var scope = NewDisposeScope();
        double MaxAbs(long length, double t)
        {
            var ones5 = ones(new long[] { 1, length, 1, 1, 1 }, dtype: float64);
            var inputs = new Plstm1DInputs(ones(new long[] { 1, length, 1, 1 }, dtype: float64), ones(new long[] { 1, length, 1, 1 }, dtype: float64),
                ones(new long[] { 1, length, 1, 1 }, dtype: float64), ones5, full(new long[] { 1, length, 1, 1 }, t, dtype: float64),
                ones5, zeros(new long[] { 1, length, 1, 1, 1, 1 }, dtype: float64));
            return Plstm1DChunked.Forward(inputs, 4).Y.abs().max().item<double>();
        }
        Assert.True(MaxAbs(256, 1.05) > 1e5, "T = 1.05 must blow up over 256 steps");
        Assert.True(MaxAbs(256, 0.95) < 25, "T = 0.95 stays below Σ 0.95^k = 20");
    }
}
