using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// Inputs of the 2D pLSTM operator on an X×Y grid (see <c>Ops/TwoD/README.md</c>). Axis 1 is x (r-edges go
/// x → x+1), axis 2 is y (d-edges go y → y+1). Gate names are out-edge then in-edge.
/// </summary>
/// <param name="Q">Queries <c>[B, X, Y, DK, JQ]</c>.</param>
/// <param name="K">Keys <c>[B, X, Y, DK, JK]</c>.</param>
/// <param name="V">Values <c>[B, X, Y, DV, JV]</c>.</param>
/// <param name="S0r">Source into the r-edge <c>[B, X, Y, JT, JK, JV]</c>.</param>
/// <param name="S0d">Source into the d-edge <c>[B, X, Y, JT, JK, JV]</c>.</param>
/// <param name="T0rl">Left-in → right-out <c>[B, X, Y, JT(out), JT(in)]</c>.</param>
/// <param name="T0du">Up-in → down-out <c>[B, X, Y, JT, JT]</c>.</param>
/// <param name="T0dl">Left-in → down-out, or null for none (≡ 0) <c>[B, X, Y, JT, JT]</c>.</param>
/// <param name="T0ru">Up-in → right-out, or null for none (≡ 0) <c>[B, X, Y, JT, JT]</c>.</param>
/// <param name="M0l">Mark of the left-in edge <c>[B, X, Y, JO, JQ, JT]</c>.</param>
/// <param name="M0u">Mark of the up-in edge <c>[B, X, Y, JO, JQ, JT]</c>.</param>
/// <param name="D0">Direct gate <c>[B, X, Y, JO, JQ, JK, JV]</c>.</param>
/// <param name="InitialLeft">Optional state on the r-edge entering (0, y) from the left, <c>[B, Y, DK, DV, JT]</c>.</param>
/// <param name="InitialTop">Optional state on the d-edge entering (x, 0) from above, <c>[B, X, DK, DV, JT]</c>.</param>
public sealed record Plstm2DInputs(
    Tensor Q, Tensor K, Tensor V,
    Tensor S0r, Tensor S0d,
    Tensor T0rl, Tensor T0du, Tensor? T0dl, Tensor? T0ru,
    Tensor M0l, Tensor M0u, Tensor D0,
    Tensor? InitialLeft = null, Tensor? InitialTop = null)
{
    /// <summary>Validates every tensor and returns the bound dimensions.</summary>
    /// <exception cref="ArgumentException">A tensor has the wrong rank, shape, dtype or device.</exception>
    public ShapeContract Validate() =>
        new ShapeContract()
            .Check(nameof(Q), Q, "B", "X", "Y", "DK", "JQ")
            .Check(nameof(K), K, "B", "X", "Y", "DK", "JK")
            .Check(nameof(V), V, "B", "X", "Y", "DV", "JV")
            .Check(nameof(S0r), S0r, "B", "X", "Y", "JT", "JK", "JV")
            .Check(nameof(S0d), S0d, "B", "X", "Y", "JT", "JK", "JV")
            .Check(nameof(T0rl), T0rl, "B", "X", "Y", "JT", "JT")
            .Check(nameof(T0du), T0du, "B", "X", "Y", "JT", "JT")
            .CheckOptional(nameof(T0dl), T0dl, "B", "X", "Y", "JT", "JT")
            .CheckOptional(nameof(T0ru), T0ru, "B", "X", "Y", "JT", "JT")
            .Check(nameof(M0l), M0l, "B", "X", "Y", "JO", "JQ", "JT")
            .Check(nameof(M0u), M0u, "B", "X", "Y", "JO", "JQ", "JT")
            .Check(nameof(D0), D0, "B", "X", "Y", "JO", "JQ", "JK", "JV")
            .CheckOptional(nameof(InitialLeft), InitialLeft, "B", "Y", "DK", "DV", "JT")
            .CheckOptional(nameof(InitialTop), InitialTop, "B", "X", "DK", "DV", "JT");
}

/// <summary>Output of the 2D operator.</summary>
/// <param name="Y">Output <c>[B, X, Y, DV, JO]</c>.</param>
/// <param name="FinalRight">States on the r-edges leaving the last column, C^r(X−1, y): <c>[B, Y, DK, DV, JT]</c>.</param>
/// <param name="FinalBottom">States on the d-edges leaving the last row, C^d(x, Y−1): <c>[B, X, DK, DV, JT]</c>.</param>
public sealed record Plstm2DOutput(Tensor Y, Tensor FinalRight, Tensor FinalBottom);

/// <summary>
/// Inputs of the fused four-orientation 2D operator: as <see cref="Plstm2DInputs"/>, but every S/T/M gate carries an
/// orientation axis after the batch, <c>[B, 4, X, Y, …]</c>, given in original cell coordinates. Orientation 0 scans
/// towards +x+y, 1 flips x, 2 flips y, 3 flips both. Q, K, V and D0 are shared; the direct term enters once.
/// </summary>
public sealed record Plstm2DFusedInputs(
    Tensor Q, Tensor K, Tensor V,
    Tensor S0r, Tensor S0d,
    Tensor T0rl, Tensor T0du, Tensor? T0dl, Tensor? T0ru,
    Tensor M0l, Tensor M0u, Tensor D0)
{
    /// <summary>Validates every tensor and returns the bound dimensions.</summary>
    /// <exception cref="ArgumentException">A tensor has the wrong rank, shape, dtype or device.</exception>
    public ShapeContract Validate() =>
        new ShapeContract().Bind("4", 4)
            .Check(nameof(Q), Q, "B", "X", "Y", "DK", "JQ")
            .Check(nameof(K), K, "B", "X", "Y", "DK", "JK")
            .Check(nameof(V), V, "B", "X", "Y", "DV", "JV")
            .Check(nameof(S0r), S0r, "B", "4", "X", "Y", "JT", "JK", "JV")
            .Check(nameof(S0d), S0d, "B", "4", "X", "Y", "JT", "JK", "JV")
            .Check(nameof(T0rl), T0rl, "B", "4", "X", "Y", "JT", "JT")
            .Check(nameof(T0du), T0du, "B", "4", "X", "Y", "JT", "JT")
            .CheckOptional(nameof(T0dl), T0dl, "B", "4", "X", "Y", "JT", "JT")
            .CheckOptional(nameof(T0ru), T0ru, "B", "4", "X", "Y", "JT", "JT")
            .Check(nameof(M0l), M0l, "B", "4", "X", "Y", "JO", "JQ", "JT")
            .Check(nameof(M0u), M0u, "B", "4", "X", "Y", "JO", "JQ", "JT")
            .Check(nameof(D0), D0, "B", "X", "Y", "JO", "JQ", "JK", "JV");
}

/// <summary>Which exact form computes a 2D scan.</summary>
public enum Plstm2DForm
{
    /// <summary>Cell-by-cell recurrence (<see cref="Plstm2DNaive"/>): the oracle.</summary>
    Naive,
    /// <summary>Log-depth meta-cell merge plus inter-chunk wavefront (<see cref="Plstm2DHierarchical"/>).</summary>
    Hierarchical,
    /// <summary>Anti-diagonal wavefront path sums per chunk, masked attention, inter-chunk wavefront
    /// (<see cref="Plstm2DChunkwise"/>); scalar gates only, J &gt; 1 falls back to <see cref="Hierarchical"/>.</summary>
    Chunkwise,
    /// <summary>Whichever exact form <see cref="Plstm2DAutoForm.Choose"/> picks for the grid, gates and device.</summary>
    Auto,
    /// <summary>Whole-grid gating matrix from a scan over rows with P×P matrix steps, then one masked attention
    /// (<see cref="Plstm2DRowScan"/>); scalar gates without entering states only (else <see cref="Chunkwise"/>), memory
    /// cells² per batch entry.</summary>
    RowScan,
    /// <summary>The row-scan picture with 𝒢 (all orientations summed) from one walk per cell and orientation instead of
    /// the row scan's hundreds of small operations: on CUDA a runtime-compiled kernel (<see cref="FusedGateKernel"/>;
    /// grids of <see cref="FusedGateKernel.TakesGrid"/>, up to 64 × 64; CUDA driver and NVRTC present), on the CPU the same walk in C#
    /// (<see cref="FusedGateCpuKernel"/>; at most <see cref="FusedGateCpuKernel.MaxCells"/> cells). Scalar gates
    /// (half-precision gates are walked in float32); anything else runs as <see cref="RowScan"/>.</summary>
    Kernel,
}
