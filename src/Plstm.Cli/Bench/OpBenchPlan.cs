namespace Plstm.Cli.Bench;

/// <summary>The checked settings of <c>plstm bench op</c> besides the common ones.</summary>
/// <param name="Targets">Operator forms and/or sdpa, in row order within a grid.</param>
/// <param name="Grids">Token grids X×Y.</param>
/// <param name="BatchHeads">B·H: batch times heads, the operator's batch axis.</param>
/// <param name="Heads">H of the attention layout <c>[B·H / H, H, X·Y, DK]</c> (divides <paramref name="BatchHeads"/>).</param>
/// <param name="Dk">Query/key head dimension.</param>
/// <param name="Dv">Value head dimension.</param>
/// <param name="Levels">Hierarchy depth passed to the operator (chunk side 2^levels, capped by the grid).</param>
/// <param name="Recompute">Recompute the path sums in backward (chunkwise, row-scan and kernel rows).</param>
/// <param name="DMode">The operator rows' gates have a D-mode layer's wiring (no T0ru) instead of every transition.</param>
public sealed record OpBenchPlan(
    IReadOnlyList<OpTarget> Targets, IReadOnlyList<(int X, int Y)> Grids, int BatchHeads, int Heads, int Dk, int Dv,
    int Levels, bool Recompute = false, bool DMode = false);
