namespace Plstm.Cli.Bench;

/// <summary>One column of a benchmark's markdown table: its header and how a row fills it.</summary>
/// <param name="Header">Column header.</param>
/// <param name="Cell">The cell text of a row (empty when not applicable).</param>
/// <param name="RightAligned">Numbers are right-aligned.</param>
public sealed record BenchColumn(string Header, Func<BenchRow, string> Cell, bool RightAligned = false);
