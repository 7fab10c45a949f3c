namespace Plstm.Data.Graphs;

/// <summary>
/// The line graph of a DAG: vertex <c>i</c> is the DAG edge <c>Vertices[i]</c> (its index in the DAG's
/// <see cref="OrderedDigraph.Edges"/> enumeration); <see cref="Graph"/> has the edge <c>i → j</c> whenever the head of
/// <c>Vertices[i]</c> is the tail of <c>Vertices[j]</c>.
/// </summary>
/// <param name="Graph">The line graph over vertex ids <c>0 … Vertices.Count − 1</c> (networkx insertion orders).</param>
/// <param name="Vertices">The DAG edge of each vertex.</param>
public sealed record LineGraph(OrderedDigraph Graph, IReadOnlyList<GraphEdge> Vertices);
