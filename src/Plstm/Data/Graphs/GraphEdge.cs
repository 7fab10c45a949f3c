namespace Plstm.Data.Graphs;

/// <summary>A directed edge <c>Tail → Head</c> of a graph (node ids).</summary>
/// <param name="Tail">The node the edge leaves.</param>
/// <param name="Head">The node the edge enters.</param>
public readonly record struct GraphEdge(int Tail, int Head)
{
    /// <summary>The same edge with its direction flipped.</summary>
    public GraphEdge Reversed => new(Head, Tail);

    /// <inheritdoc/>
    public override string ToString() => $"({Tail}→{Head})";
}

/// <summary>
/// An edge of the line graph: DAG edge <c>Pred = (p → u)</c> is followed by DAG edge <c>Succ = (u → w)</c> (the head of
/// <c>Pred</c> is the tail of <c>Succ</c>). Both are edge indices (in a <see cref="PreparedGraph"/>: processing indices).
/// </summary>
/// <param name="Pred">Index of the predecessor edge.</param>
/// <param name="Succ">Index of the successor edge.</param>
public readonly record struct LineEdge(int Pred, int Succ)
{
    /// <inheritdoc/>
    public override string ToString() => $"[{Pred}⇒{Succ}]";
}

/// <summary>How a graph's line graph is prepared (operators §5.3, models §5.1).</summary>
public enum GraphMode
{
    /// <summary>P-mode: the full line graph (every consecutive pair of DAG edges is a line edge).</summary>
    P,

    /// <summary>D-mode: the line graph pruned to a multitree (at most one path between any two line-graph vertices).</summary>
    D,
}
