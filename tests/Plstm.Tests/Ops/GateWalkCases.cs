using Plstm.Ops.TwoD;

namespace Plstm.Tests.Ops;

/// <summary>
/// Inputs shared by the tests of the two gate walks (the CUDA kernel's C# mirror, <see cref="FusedGateKernelTests"/>, and
/// the CPU walk, <see cref="FusedGateCpuKernelTests"/>): the awkward grids with their transition wirings, random gates in
/// the stacked layout's order, and that layout.
/// </summary>
public static class GateWalkCases
{
    /// <summary>Names of the eight stacked gates, in the layout's order.</summary>
    public static readonly string[] GateNames = { "S0r", "S0d", "T0rl", "T0du", "T0dl", "T0ru", "M0l", "M0u" };

    /// <summary>Grids (X, Y) and wirings ("all" turns, "DL" / "DR" one turn, "straight" none): single cells, single lines,
    /// non-square, odd and long thin grids.</summary>
    public static TheoryData<int, int, string> Grids() => new()
    {
        { 1, 1, "all" }, { 1, 6, "all" }, { 5, 1, "DL" }, { 3, 5, "all" }, { 5, 3, "DR" }, { 2, 9, "straight" },
        { 6, 6, "all" }, { 7, 4, "DL" }, { 13, 3, "all" }, { 4, 11, "DR" },
    };

    /// <summary>Random gates in (−0.8, 0.8), <c>[N, O, X, Y]</c> each, requiring gradients; T0dl / T0ru null where the
    /// wiring has no such turn.</summary>
    public static Tensor?[] RandomGates(int seed, int n, int orientations, int x, int y, string wiring,
        ScalarType dtype = ScalarType.Float64)
    {
        // A generator of its own: torch's global one is shared with tests running in parallel.
        using var generator = new Generator((ulong)seed);
        bool dl = wiring is "all" or "DR", ru = wiring is "all" or "DL";
        return Enumerable.Range(0, 8)
            .Select(i => (i == 4 && !dl) || (i == 5 && !ru) ? null
                : (rand(new long[] { n, orientations, x, y }, generator: generator, dtype: float64) * 1.6 - 0.8).to(dtype)
                    .requires_grad_(true))
            .ToArray();
    }

    /// <summary>The walks' layout <c>[N, O, 8, X, Y]</c> of <paramref name="gates"/> (absent turns as zeros), as a new
    /// leaf requiring gradients.</summary>
    public static Tensor Stacked(Tensor?[] gates, int n, int orientations, int x, int y, ScalarType dtype = ScalarType.Float64) =>
        stack(gates.Select(g => g is null ? zeros(n, orientations, x, y, dtype: dtype) : g.detach()).ToArray(), 2)
            .requires_grad_(true);

    /// <summary>The row-scan form's summed gate of <paramref name="gates"/> (the oracle both walks are checked against) and
    /// random weights for a scalar loss; backward through the row scan has run (the gates hold their gradients).</summary>
    public static (Tensor Gate, Tensor Weights) RowScanReference(Tensor?[] gates, int n, int x, int y, int seed)
    {
        var reference = Plstm2DFused.SummedRowScanGate(gates, n, x, y, recompute: false);    // [N, cells, cells]
        using var generator = new Generator((ulong)seed);
        var weights = randn(reference.shape, generator: generator, dtype: float64);
        (reference * weights).sum().backward();
        return (reference.detach(), weights);
    }
}
