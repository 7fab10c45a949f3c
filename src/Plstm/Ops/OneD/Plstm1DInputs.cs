using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.OneD;

/// <summary>
/// Inputs of the 1D pLSTM operator (see <c>Ops/OneD/README.md</c>). Axis 0 is the batch (heads folded in),
/// axis 1 the sequence position.
/// </summary>
/// <param name="Q">Queries <c>[B, L, DK, JQ]</c>.</param>
/// <param name="K">Keys <c>[B, L, DK, JK]</c>.</param>
/// <param name="V">Values <c>[B, L, DV, JV]</c>.</param>
/// <param name="S0">Source gates <c>[B, L, JT, JK, JV]</c>.</param>
/// <param name="T0">Transition gates <c>[B, L, JT(out), JT(in)]</c>.</param>
/// <param name="M0">Mark gates <c>[B, L, JO, JQ, JT]</c>.</param>
/// <param name="D0">Direct gates <c>[B, L, JO, JQ, JK, JV]</c>.</param>
/// <param name="CInitial">Optional state on the virtual edge entering position 0, <c>[B, DK, DV, JT]</c>.</param>
public sealed record Plstm1DInputs(
    Tensor Q, Tensor K, Tensor V, Tensor S0, Tensor T0, Tensor M0, Tensor D0, Tensor? CInitial = null)
{
    /// <summary>Validates every tensor and returns the bound dimensions.</summary>
    /// <exception cref="ArgumentException">A tensor has the wrong rank, shape, dtype or device.</exception>
    public ShapeContract Validate() =>
        new ShapeContract()
            .Check(nameof(Q), Q, "B", "L", "DK", "JQ")
            .Check(nameof(K), K, "B", "L", "DK", "JK")
            .Check(nameof(V), V, "B", "L", "DV", "JV")
            .Check(nameof(S0), S0, "B", "L", "JT", "JK", "JV")
            .Check(nameof(T0), T0, "B", "L", "JT", "JT")
            .Check(nameof(M0), M0, "B", "L", "JO", "JQ", "JT")
            .Check(nameof(D0), D0, "B", "L", "JO", "JQ", "JK", "JV")
            .CheckOptional(nameof(CInitial), CInitial, "B", "DK", "DV", "JT");
}

/// <summary>Output of the 1D operator.</summary>
/// <param name="Y">Output <c>[B, L, DV, JO]</c>.</param>
/// <param name="CLast">State after the last position <c>[B, DK, DV, JT]</c>.</param>
public sealed record Plstm1DOutput(Tensor Y, Tensor CLast);
