using Plstm.Ops.OneD;
using Plstm.Ops.TwoD;

namespace Plstm.Tests.Ops;

public class ValidationTests
{
    [Fact]
    public void Wrong_rank_names_the_tensor_and_the_expected_shape()
    {
        using var scope = NewDisposeScope();
        var i = RandomInputs.OneD(1, B: 2, L: 5, DK: 3, DV: 2, JDims.Scalar, withInitial: false);
        var ex = Assert.ThrowsAny<ArgumentException>(() => Plstm1DChunked.Forward(i with { K = i.K.squeeze(-1) }, 1));
        Assert.Contains("K", ex.Message);
        Assert.Contains("[B=2, L=5, DK=3, JK]", ex.Message);
        Assert.Equal("K", ex.ParamName);
    }

    [Fact]
    public void Mismatched_size_names_the_axis()
    {
        using var scope = NewDisposeScope();
        var i = RandomInputs.TwoD(2, B: 1, X: 4, Y: 3, DK: 2, DV: 2, JDims.Scalar);
        var ex = Assert.ThrowsAny<ArgumentException>(() =>
            Plstm2DHierarchical.Forward(i with { V = zeros(new long[] { 1, 4, 2, 2, 1 }, dtype: float64) }, 1));
        Assert.Equal("V", ex.ParamName);
        Assert.Contains("Y=3", ex.Message);
        Assert.Contains("[1, 4, 2, 2, 1]", ex.Message);
    }

    [Fact]
    public void Mixed_dtypes_are_rejected()
    {
        using var scope = NewDisposeScope();
        var i = RandomInputs.TwoD(3, B: 1, X: 2, Y: 2, DK: 2, DV: 2, JDims.Scalar);
        var ex = Assert.ThrowsAny<ArgumentException>(() => Plstm2DNaive.Forward(i with { T0rl = i.T0rl.to(float32) }));
        Assert.Equal("T0rl", ex.ParamName);
        Assert.Contains("Float32", ex.Message);
    }

    [Fact]
    public void Integer_inputs_are_rejected()
    {
        using var scope = NewDisposeScope();
        var i = RandomInputs.OneD(4, B: 1, L: 3, DK: 2, DV: 2, JDims.Scalar, withInitial: false);
        var ex = Assert.ThrowsAny<ArgumentException>(() => Plstm1DNaive.Forward(i with { Q = i.Q.to(int64) }));
        Assert.Equal("Q", ex.ParamName);
    }

    [Fact]
    public void Wrong_initial_state_shape_is_rejected()
    {
        using var scope = NewDisposeScope();
        var i = RandomInputs.TwoD(5, B: 1, X: 3, Y: 4, DK: 2, DV: 2, JDims.Scalar);
        var ex = Assert.ThrowsAny<ArgumentException>(() =>
            Plstm2DHierarchical.Forward(i with { InitialLeft = zeros(new long[] { 1, 3, 2, 2, 1 }, dtype: float64) }, 1));
        Assert.Equal("InitialLeft", ex.ParamName);
    }

    [Fact]
    public void Fused_gates_need_four_orientations()
    {
        using var scope = NewDisposeScope();
        var i = RandomInputs.Fused(6, B: 1, X: 2, Y: 2, DK: 2, DV: 2, JDims.Scalar);
        var ex = Assert.ThrowsAny<ArgumentException>(() => Plstm2DFused.Forward(i with { S0r = i.S0r.narrow(1, 0, 3) }));
        Assert.Equal("S0r", ex.ParamName);
        Assert.Contains("4=4", ex.Message);
    }

    [Fact]
    public void Negative_levels_are_rejected()
    {
        using var scope = NewDisposeScope();
        var i = RandomInputs.OneD(7, B: 1, L: 3, DK: 2, DV: 2, JDims.Scalar, withInitial: false);
        var ex = Assert.ThrowsAny<ArgumentException>(() => Plstm1DChunked.Forward(i, -1));
        Assert.Equal("levels", ex.ParamName);
    }
}
