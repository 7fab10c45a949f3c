using Plstm.Ops.TwoD;
using Plstm.Tests.Support;

namespace Plstm.Tests.Ops;

/// <summary>
/// The CPU gate walk (<see cref="FusedGateCpuKernel"/>) against the row-scan form's summed four-orientation gate
/// (<c>Plstm2DFused.SummedRowScanGate</c>, itself tested against the naive oracle): the gate and the gradient of every
/// gate input (the walk's hand-written adjoint against autograd through the row scan), on awkward grids with every
/// transition wiring, in float64 tight and float32 with the suite's float32 rule; the worker count does not change a bit;
/// what it cannot take is refused naming the argument. The whole operator with the kernel form on the CPU is compared with
/// the naive form in <see cref="FusedGateKernelTests"/>.
/// </summary>
public class FusedGateCpuKernelTests
{
    [Theory]
    [MemberData(nameof(GateWalkCases.Grids), MemberType = typeof(GateWalkCases))]
    public void Walk_equals_the_row_scan_gate_and_its_gradients_in_float64(int x, int y, string wiring)
    {
        using var scope = NewDisposeScope();
        const int N = 3;
        var gates = GateWalkCases.RandomGates(9300 + 31 * x + y, N, 4, x, y, wiring);
        var (reference, weights) = GateWalkCases.RowScanReference(gates, N, x, y, 9301);

        var stacked = GateWalkCases.Stacked(gates, N, 4, x, y);
        var gate = FusedGateCpuKernel.Gate(stacked);
        TensorAssert.AssertClose(gate, reference, "gate", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        (gate * weights).sum().backward();
        for (int i = 0; i < 8; i++)
        {
            if (gates[i] is null) continue;                       // an absent turn's slot is a zero input: not compared
            TensorAssert.AssertClose(stacked.grad!.select(2, i), gates[i]!.grad!, "d" + GateWalkCases.GateNames[i],
                Tolerances.Float64Rtol, Tolerances.Float64Atol);
        }
    }

    [Theory]
    [InlineData(8, 8)]
    [InlineData(3, 7)]
    [InlineData(14, 14)]
    public void Walk_in_float32_follows_the_float64_row_scan(int x, int y)
    {
        using var scope = NewDisposeScope();
        const int N = 2;
        var gates = GateWalkCases.RandomGates(9400 + x, N, 4, x, y, "all");
        var (reference, weights) = GateWalkCases.RowScanReference(gates, N, x, y, 9401);

        var stacked = GateWalkCases.Stacked(gates, N, 4, x, y, float32);
        var gate = FusedGateCpuKernel.Gate(stacked);
        TensorAssert.AssertCloseFloat32(gate.to(float64), reference, "gate");
        (gate * weights.to(float32)).sum().backward();
        for (int i = 0; i < 8; i++)
            TensorAssert.AssertCloseFloat32(stacked.grad!.select(2, i).to(float64), gates[i]!.grad!, "d" + GateWalkCases.GateNames[i]);
    }

    /// <summary>With the direct gate and the scale (the form the operator uses): scale · (walk + diag(D0)), and the
    /// gradients of the gates and of D0 as autograd gives them through that expression; the same without autograd.</summary>
    [Theory]
    [InlineData(1, 1, 0.5)]
    [InlineData(4, 7, 0.125)]
    [InlineData(9, 2, 1.0)]
    public void Direct_gate_goes_on_the_diagonal_and_the_scale_multiplies_everything(int x, int y, double scale)
    {
        using var scope = NewDisposeScope();
        const int N = 3;
        var gates = GateWalkCases.RandomGates(9350 + x, N, 4, x, y, "all");
        using var generator = new Generator(9351);
        var direct = rand(new long[] { N, x * y }, generator: generator, dtype: float64);
        var weights = randn(new long[] { N, x * y, x * y }, generator: generator, dtype: float64);

        var stacked = GateWalkCases.Stacked(gates, N, 4, x, y);
        var directLeaf = direct.clone().requires_grad_(true);
        var gate = FusedGateCpuKernel.Gate(stacked, directLeaf, scale);
        var stackedRef = GateWalkCases.Stacked(gates, N, 4, x, y);
        var directRef = direct.clone().requires_grad_(true);
        var expected = (FusedGateCpuKernel.Gate(stackedRef) + diag_embed(directRef)) * scale;
        TensorAssert.AssertClose(gate, expected, "gate", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        using (no_grad())
            TensorAssert.AssertClose(FusedGateCpuKernel.Gate(stacked, direct, scale), expected, "gate without autograd",
                Tolerances.Float64Rtol, Tolerances.Float64Atol);

        (gate * weights).sum().backward();
        (expected * weights).sum().backward();
        TensorAssert.AssertClose(stacked.grad!, stackedRef.grad!, "dgates", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(directLeaf.grad!, directRef.grad!, "dD0", Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    [Fact]
    public void Refuses_a_direct_gate_of_the_wrong_shape_naming_it()
    {
        using var scope = NewDisposeScope();
        var gates = zeros(new long[] { 2, 4, 8, 3, 3 });
        var error = Assert.Throws<ArgumentException>(() => FusedGateCpuKernel.Gate(gates, zeros(new long[] { 2, 8 }), 1.0));
        Assert.Equal("direct", error.ParamName);
        Assert.Contains("[2, 9]", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => FusedGateCpuKernel.Gate(gates, zeros(new long[] { 2, 9 }, dtype: float64), 1.0));
    }

    /// <summary>One orientation (O = 1): the plain row-scan gate of orientation 0.</summary>
    [Fact]
    public void One_orientation_is_the_plain_row_scan_gate()
    {
        using var scope = NewDisposeScope();
        const int N = 2, x = 4, y = 6;
        using var generator = new Generator(9500);
        var gates = Enumerable.Range(0, 8)
            .Select(_ => rand(new long[] { N, x, y }, generator: generator, dtype: float64) * 1.6 - 0.8).ToArray();
        var reference = RowScanGate.Compute(gates[0], gates[1], gates[2], gates[3], gates[4], gates[5], gates[6], gates[7]);
        var gate = FusedGateCpuKernel.Gate(stack(gates, 1).unsqueeze(1));                  // [N, 1, 8, X, Y]
        TensorAssert.AssertClose(gate, reference, "gate", Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    /// <summary>Batch entries (forward) and (entry, orientation) pairs (backward) are independent walks with their own
    /// sums, so spreading them over threads changes no bit.</summary>
    [Fact]
    public void Worker_count_does_not_change_a_bit()
    {
        using var scope = NewDisposeScope();
        const int N = 5, x = 6, y = 7;
        var gates = GateWalkCases.RandomGates(9600, N, 4, x, y, "all", float32);
        using var generator = new Generator(9601);
        var weights = randn(new long[] { N, x * y, x * y }, generator: generator);
        (Tensor Gate, Tensor Grad) Run(int threads)
        {
            int before = get_num_threads();
            set_num_threads(threads);
            try
            {
                var stacked = GateWalkCases.Stacked(gates, N, 4, x, y, float32);
                var gate = FusedGateCpuKernel.Gate(stacked);
                (gate * weights).sum().backward();
                return (gate.detach(), stacked.grad!);
            }
            finally { set_num_threads(before); }
        }
        var one = Run(1);
        var three = Run(3);
        Assert.True(one.Gate.allclose(three.Gate, rtol: 0, atol: 0), "the gate differs between 1 and 3 workers");
        Assert.True(one.Grad.allclose(three.Grad, rtol: 0, atol: 0), "the gate gradients differ between 1 and 3 workers");
    }

    [Fact]
    public void Refuses_what_it_cannot_take_naming_the_argument()
    {
        using var scope = NewDisposeScope();
        Assert.True(FusedGateCpuKernel.CanRun(zeros(new long[] { 1, 4, 8, 3, 3 })));
        Assert.False(FusedGateCpuKernel.CanRun(zeros(new long[] { 1, 4, 8, 3, 3 }, dtype: bfloat16)));
        Assert.False(FusedGateCpuKernel.CanRun(zeros(new long[] { 1, 4, 7, 3, 3 })));
        Assert.False(FusedGateCpuKernel.CanRun(zeros(new long[] { 1, 4, 8, 65, 64 })));
        var error = Assert.Throws<ArgumentException>(() => FusedGateCpuKernel.Gate(zeros(new long[] { 4, 8, 3, 3 })));
        Assert.Equal("gates", error.ParamName);
        Assert.Contains("[4, 8, 3, 3]", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The layout's O counts scan directions, of which there are four: O = 0 or 5 is refused naming gates and
    /// the range, 1 … 4 run.</summary>
    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(3, true)]
    [InlineData(4, true)]
    [InlineData(5, false)]
    public void Takes_one_to_four_orientations(int orientations, bool takes)
    {
        using var scope = NewDisposeScope();
        var gates = zeros(new long[] { 1, orientations, 8, 3, 3 });
        Assert.Equal(takes, FusedGateKernel.TakesOrientations(orientations));
        Assert.Equal(takes, FusedGateCpuKernel.CanRun(gates));
        if (takes)
        {
            Assert.Equal(new long[] { 1, 9, 9 }, FusedGateCpuKernel.Gate(gates).shape);
            return;
        }
        var error = Assert.Throws<ArgumentException>(() => FusedGateCpuKernel.Gate(gates));
        Assert.Equal("gates", error.ParamName);
        Assert.Contains("1 ≤ O ≤ 4", error.Message, StringComparison.Ordinal);
    }
}
