using Plstm.Ops.TwoD;
using Plstm.Tests.Support;

namespace Plstm.Tests.Ops;

public class FusedOperatorTests
{
    internal static readonly string[] InputNames = { "Q", "K", "V", "S0r", "S0d", "T0rl", "T0du", "T0dl", "T0ru", "M0l", "M0u", "D0" };

    internal static Tensor?[] ToArray(Plstm2DFusedInputs i) =>
        new[] { i.Q, i.K, i.V, i.S0r, i.S0d, i.T0rl, i.T0du, i.T0dl, i.T0ru, i.M0l, i.M0u, i.D0 };

    internal static Plstm2DFusedInputs FromArray(Tensor?[] a) =>
        new(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7], a[8], a[9]!, a[10]!, a[11]!);

    private static Differentiate.Result Run(Plstm2DFusedInputs inputs, Plstm2DForm form, int levels) =>
        Differentiate.Run(ToArray(inputs), a => new[] { Plstm2DFused.Forward(FromArray(a), levels, form: form) });

    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(3, 5, 1)]
    [InlineData(6, 4, 2)]
    [InlineData(9, 7, 3)]
    public void Hierarchical_equals_naive_outputs_and_gradients(int x, int y, int levels)
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.Fused(seed: 40 + x, B: 2, X: x, Y: y, DK: 2, DV: 3, x % 2 == 0 ? JDims.Mixed : JDims.Scalar,
            withDl: x != 6);
        FormComparison.AssertSame(Run(inputs, Plstm2DForm.Hierarchical, levels), Run(inputs, Plstm2DForm.Naive, 0),
            new[] { "Y" }, InputNames);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void One_orientation_equals_the_scan_of_the_flipped_grid(int orientation)
    {
        // Only orientation o's sources and marks are non-zero and D0 = 0: the fused output must be
        // flip_o(scan(flip_o(inputs))), i.e. the flipped grid scanned towards +x+y and flipped back.
        using var scope = NewDisposeScope();
        var i = RandomInputs.Fused(seed: 50, B: 1, X: 5, Y: 6, DK: 2, DV: 2, JDims.Scalar);
        var keep = zeros(new long[] { 1, 4, 1, 1, 1, 1 }, dtype: float64);
        keep[0, orientation] = tensor(1.0, dtype: float64);
        var only = i with
        {
            S0r = i.S0r * keep.unsqueeze(-1), S0d = i.S0d * keep.unsqueeze(-1),
            M0l = i.M0l * keep.unsqueeze(-1), M0u = i.M0u * keep.unsqueeze(-1), D0 = zeros_like(i.D0),
        };
        var fused = Plstm2DFused.Forward(only, 2);

        Tensor F(Tensor t) => Plstm2DFused.Flip(t, orientation);
        Tensor G(Tensor t) => F(t.select(1, orientation));
        var scan = Plstm2DNaive.Forward(new Plstm2DInputs(F(i.Q), F(i.K), F(i.V), G(i.S0r), G(i.S0d), G(i.T0rl), G(i.T0du),
            G(i.T0dl!), G(i.T0ru!), G(i.M0l), G(i.M0u), zeros_like(i.D0)));
        TensorAssert.AssertClose(fused, F(scan.Y), "Y", Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    [Fact]
    public void Hand_example_of_models_1_2()
    {
        // models §1.2 / clarification 5: DK = DV = 1, q = k = v = 1, s = m = 1, all four t = 0.5, d = 0, 2×2 grid:
        // orientation 0 gives [[0,1],[1,3]]; the sum over the four orientations is 5 in every cell. The QK scale is 1.
        using var scope = NewDisposeScope();
        var one = ones(new long[] { 1, 2, 2, 1, 1 }, dtype: float64);
        var s = ones(new long[] { 1, 4, 2, 2, 1, 1, 1 }, dtype: float64);
        var t = full(new long[] { 1, 4, 2, 2, 1, 1 }, 0.5, dtype: float64);
        var inputs = new Plstm2DFusedInputs(one, one, one, s, s, t, t, t, t, s, s, zeros(new long[] { 1, 2, 2, 1, 1, 1, 1 }, dtype: float64));
        var y = Plstm2DFused.Forward(inputs, 1, scale: 1.0);
        TensorAssert.AssertClose(y, full(new long[] { 1, 2, 2, 1, 1 }, 5.0, dtype: float64), "Y", 0, 1e-12);

        var single = new Plstm2DInputs(one, one, one, s.select(1, 0), s.select(1, 0), t.select(1, 0), t.select(1, 0),
            t.select(1, 0), t.select(1, 0), s.select(1, 0), s.select(1, 0), zeros(new long[] { 1, 2, 2, 1, 1, 1, 1 }, dtype: float64));
        var y0 = Plstm2DHierarchical.Forward(single, 1, scale: 1.0).Y.reshape(2, 2);
        TensorAssert.AssertClose(y0, tensor(new double[] { 0, 1, 1, 3 }, new long[] { 2, 2 }, dtype: float64), "Y orientation 0", 0, 1e-12);
        var dl = Plstm2DHierarchical.Forward(single with { T0dl = null }, 1, scale: 1.0).Y.reshape(2, 2);
        TensorAssert.AssertClose(dl, tensor(new double[] { 0, 1, 1, 2.5 }, new long[] { 2, 2 }, dtype: float64), "Y D-mode L", 0, 1e-12);
    }
}
