using Plstm.Ops.TwoD;
using Plstm.Tests.Support;

namespace Plstm.Tests.Ops;

/// <summary>
/// The D-mode closed-form kernels' algorithm (<see cref="SinglePathGateKernelMirror"/>, their loops in C#) against the
/// row-scan form's summed four-orientation gate and autograd through it, in float64: the gate and the gradient of every
/// gate a D-mode layer has, both chiralities, on single cells, single lines and columns, thin, odd and square grids, with
/// one or four orientations and a scale. Plus what the CUDA entry point refuses on this CPU-only machine.
/// </summary>
public class SinglePathGateKernelTests
{
    public static TheoryData<int, int, string> Grids() => new()
    {
        { 1, 1, "DL" }, { 1, 1, "DR" }, { 1, 6, "DL" }, { 1, 6, "DR" }, { 6, 1, "DL" }, { 5, 1, "DR" }, { 2, 2, "DR" },
        { 3, 5, "DL" }, { 3, 5, "DR" }, { 5, 3, "DL" }, { 7, 4, "DR" }, { 4, 11, "DL" }, { 13, 3, "DR" }, { 6, 6, "DL" },
        { 6, 6, "DR" }, { 2, 9, "DL" },
        // More than 256 cells: the forward's threads take several sources each, advanced by the block's width (256) —
        // 15 does not divide it (every step wraps a line), 16 does.
        { 19, 15, "DR" }, { 17, 16, "DL" },
    };

    [Theory]
    [MemberData(nameof(Grids))]
    public void Kernel_loops_equal_the_row_scan_gate_and_its_gradients(int x, int y, string wiring)
    {
        using var scope = NewDisposeScope();
        const int N = 2;
        bool left = wiring == "DL";
        var gates = GateWalkCases.RandomGates(9500 + 31 * x + y + (left ? 7 : 0), N, 4, x, y, wiring);
        var (reference, weights) = GateWalkCases.RowScanReference(gates, N, x, y, 9501);
        var flat = GateWalkCases.Stacked(gates, N, 4, x, y).detach().contiguous().data<double>().ToArray();
        const double scale = 0.61;

        var gate = SinglePathGateKernelMirror.Forward(flat, N, 4, x, y, left, scale);
        TensorAssert.AssertClose(tensor(gate, reference.shape, dtype: float64), reference * scale, "gate",
            Tolerances.Float64Rtol, Tolerances.Float64Atol);
        // Several targets per forward block (the kernel's TARGETS; 3 divides few grids, so the last block is partial):
        // every entry written, the same values to the bit.
        Assert.Equal(gate, SinglePathGateKernelMirror.Forward(flat, N, 4, x, y, left, scale, targets: 3));
        Assert.Equal(gate, SinglePathGateKernelMirror.Forward(flat, N, 4, x, y, left, scale,
            targets: SinglePathGateKernel.DefaultForwardTargets));

        var dGates = tensor(SinglePathGateKernelMirror.Backward(flat, weights.contiguous().data<double>().ToArray(), N, 4, x, y,
            left, scale), new long[] { N, 4, 8, x, y }, dtype: float64);
        for (int i = 0; i < 8; i++)
        {
            if (gates[i] is null)
            {
                // The absent turn is no input of a D-mode layer: its slot stays zero.
                Assert.Equal(0.0, dGates.select(2, i).abs().max().item<double>());
                continue;
            }
            TensorAssert.AssertClose(dGates.select(2, i), gates[i]!.grad! * scale, "d" + GateWalkCases.GateNames[i],
                Tolerances.Float64Rtol, Tolerances.Float64Atol);
        }
    }

    /// <summary>One orientation (O = 1) and zeros among the transitions (a closed chain): the products carry no
    /// division, so a zero gate is exact, and the gradient still reaches the gates behind it.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Zero_transitions_and_one_orientation(bool left)
    {
        using var scope = NewDisposeScope();
        const int N = 1, x = 5, y = 4;
        var gates = GateWalkCases.RandomGates(9600 + (left ? 1 : 0), N, 1, x, y, left ? "DL" : "DR");
        using (no_grad())
        {
            gates[2]![0, 0, 2, 1].fill_(0.0);                                                // T0rl
            gates[3]![0, 0, 3, 2].fill_(0.0);                                                // T0du
        }
        var stacked = GateWalkCases.Stacked(gates, N, 1, x, y);
        var planes = stacked.unbind(2);                                                      // 8 × [N, 1, X, Y]
        Tensor Plane(int i) => planes[i].select(1, 0);                                       // [N, X, Y]
        var reference = RowScanGate.Compute(Plane(0), Plane(1), Plane(2), Plane(3), left ? null : Plane(4),
            left ? Plane(5) : null, Plane(6), Plane(7));
        using var generator = new Generator(9601);
        var weights = randn(reference.shape, generator: generator, dtype: float64);
        (reference * weights).sum().backward();
        var flat = stacked.detach().contiguous().data<double>().ToArray();
        var gate = SinglePathGateKernelMirror.Forward(flat, N, 1, x, y, left);
        TensorAssert.AssertClose(tensor(gate, reference.shape, dtype: float64), reference.detach(), "gate",
            Tolerances.Float64Rtol, Tolerances.Float64Atol);
        var dGates = tensor(SinglePathGateKernelMirror.Backward(flat, weights.contiguous().data<double>().ToArray(), N, 1, x, y,
            left), stacked.shape, dtype: float64);
        int absent = left ? 4 : 5;
        for (int i = 0; i < 8; i++)
            if (i != absent)
                TensorAssert.AssertClose(dGates.select(2, i), stacked.grad!.select(2, i), "d" + GateWalkCases.GateNames[i],
                    Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    [Fact]
    public void The_cuda_kernels_refuse_cpu_gates_and_grids_they_do_not_take()
    {
        using var scope = NewDisposeScope();
        var gates = zeros(new long[] { 2, 4, 8, 3, 3 }, dtype: float64);
        var error = Assert.Throws<ArgumentException>(() => SinglePathGateKernel.Gate(gates, left: true, null, 1.0));
        Assert.Equal("gates", error.ParamName);
        Assert.False(SinglePathGateKernel.TakesGrid(65, 1));
        Assert.False(SinglePathGateKernel.TakesGrid(33, 32));
        Assert.True(SinglePathGateKernel.TakesGrid(32, 32));
        Assert.True(SinglePathGateKernel.TakesGrid(16, 64));
        Assert.False(SinglePathGateKernel.CanRun(ScalarType.Float16, 4, 4));
    }
}
