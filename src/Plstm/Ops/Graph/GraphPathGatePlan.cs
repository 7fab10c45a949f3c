using System.Runtime.CompilerServices;
using Plstm.Data.Graphs;

namespace Plstm.Ops.Graph;

/// <summary>
/// The index structure <see cref="PlstmGraphPathGates"/> runs on (README "Path-gate form"): one <b>entry</b> per pair
/// (edge e, node m ∈ A(e)), where A(e) is the set of nodes whose sources reach e (tail(e) and the sets of e's
/// predecessors); one <b>line entry</b> per pair (line edge e′ → e, node m ∈ A(e′)); one <b>pair</b> per
/// (target w, source m) that the read combines (m ∈ A(e) for an edge e entering w; never m = w in a DAG, so the direct
/// term is not a pair).
/// </summary>
/// <remarks>
/// <para>Entries are level-major: level ℓ's entries are <c>[LevelEntryOffsets[ℓ], LevelEntryOffsets[ℓ + 1])</c>; within a
/// level, its edges in ascending processing index, each edge's nodes in ascending id. Line entries are grouped by the
/// level of their successor edge (<c>LineEntryOffsets</c>), line edges ascending, nodes ascending. Pairs are sorted by
/// (target, source).</para>
/// <para>A plan depends only on the graph, so it is cached per <see cref="PreparedGraph"/> object (immutable). For the
/// union of a <see cref="PreparedGraphBatch"/> it is the concatenation of the cached plans of its graphs, which equals
/// the plan built from the union directly (tested) but costs a few array copies instead of the set merges.</para>
/// </remarks>
internal sealed class GraphPathGatePlan
{
    private static readonly ConditionalWeakTable<PreparedGraph, GraphPathGatePlan> Cache = new();

    private GraphPathGatePlan(int[] levelEntryOffsets, int[] entryEdge, int[] entryPair, int[] sourceEntry,
        int[] lineEntryOffsets, int[] linePredEntry, int[] lineSuccEntry, int[] lineEdge, int[] pairTarget,
        int[] pairSource)
    {
        LevelEntryOffsets = levelEntryOffsets;
        EntryEdge = entryEdge;
        EntryPair = entryPair;
        SourceEntry = sourceEntry;
        LineEntryOffsets = lineEntryOffsets;
        LinePredEntry = linePredEntry;
        LineSuccEntry = lineSuccEntry;
        LineEdge = lineEdge;
        PairTarget = pairTarget;
        PairSource = pairSource;
    }

    /// <summary>Start of each level's entries (LevelCount + 1 values; the last is the entry count).</summary>
    public int[] LevelEntryOffsets { get; }

    /// <summary>For each entry: its edge e.</summary>
    public int[] EntryEdge { get; }

    /// <summary>For each entry (e, m): the pair (head(e), m).</summary>
    public int[] EntryPair { get; }

    /// <summary>For each edge e: the entry (e, tail(e)), where its source gate enters.</summary>
    public int[] SourceEntry { get; }

    /// <summary>Start of the line entries of each level (by the successor's level; LevelCount + 1 values).</summary>
    public int[] LineEntryOffsets { get; }

    /// <summary>For each line entry (e′ → e, m): the entry (e′, m) it reads.</summary>
    public int[] LinePredEntry { get; }

    /// <summary>For each line entry (e′ → e, m): the entry (e, m) it adds to.</summary>
    public int[] LineSuccEntry { get; }

    /// <summary>For each line entry: its line edge (the transition gate it carries).</summary>
    public int[] LineEdge { get; }

    /// <summary>For each pair: the node that reads (w).</summary>
    public int[] PairTarget { get; }

    /// <summary>For each pair: the node whose key and value are read (m).</summary>
    public int[] PairSource { get; }

    /// <summary>Number of levels.</summary>
    public int LevelCount => LevelEntryOffsets.Length - 1;

    /// <summary>Number of entries.</summary>
    public int EntryCount => LevelEntryOffsets[^1];

    /// <summary>Number of line entries.</summary>
    public int LineEntryCount => LineEntryOffsets[^1];

    /// <summary>Number of pairs.</summary>
    public int PairCount => PairTarget.Length;

    /// <summary>The plan of <paramref name="graph"/>: cached; for a batch union, concatenated from its graphs' plans.</summary>
    public static GraphPathGatePlan For(PreparedGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return Cache.GetValue(graph, g => g.Parts is { } parts ? Concatenate(parts.Select(For).ToArray(), parts) : Build(g));
    }

    /// <summary>Derives the plan of <paramref name="graph"/> from its structure alone (no cache, no parts).</summary>
    public static GraphPathGatePlan Build(PreparedGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        int edgeCount = graph.EdgeCount, levels = graph.LevelCount;
        // A(e) = {tail(e)} ∪ A(e′) over the predecessors e′; predecessors come first in processing order.
        var nodes = new int[edgeCount][];
        var merged = new SortedSet<int>();
        for (int e = 0; e < edgeCount; e++)
        {
            merged.Clear();
            merged.Add(graph.Edges[e].Tail);
            foreach (var l in graph.IncomingLineEdges[e]) merged.UnionWith(nodes[graph.LineEdges[l].Pred]);
            nodes[e] = merged.ToArray();
        }

        var levelEntryOffsets = new int[levels + 1];
        var edgeStart = new int[edgeCount];
        for (int level = 0, cursor = 0; level < levels; level++)
        {
            foreach (var e in graph.LevelEdges[level])
            {
                edgeStart[e] = cursor;
                cursor += nodes[e].Length;
            }
            levelEntryOffsets[level + 1] = cursor;
        }
        int Entry(int e, int node) => edgeStart[e] + Array.BinarySearch(nodes[e], node);

        // Pairs: per target w, the sources of all edges entering w.
        var sources = new SortedSet<int>[graph.NodeCount];
        for (int w = 0; w < sources.Length; w++) sources[w] = [];
        for (int e = 0; e < edgeCount; e++) sources[graph.Edges[e].Head].UnionWith(nodes[e]);
        var pairStart = new int[graph.NodeCount + 1];
        for (int w = 0; w < sources.Length; w++) pairStart[w + 1] = pairStart[w] + sources[w].Count;
        var pairTarget = new int[pairStart[^1]];
        var pairSource = new int[pairStart[^1]];
        var sourceLists = new int[graph.NodeCount][];
        for (int w = 0; w < sources.Length; w++)
        {
            sourceLists[w] = sources[w].ToArray();
            Array.Fill(pairTarget, w, pairStart[w], sourceLists[w].Length);
            sourceLists[w].CopyTo(pairSource, pairStart[w]);
        }
        int Pair(int target, int source) => pairStart[target] + Array.BinarySearch(sourceLists[target], source);

        var entryEdge = new int[levelEntryOffsets[^1]];
        var entryPair = new int[entryEdge.Length];
        var sourceEntry = new int[edgeCount];
        for (int e = 0; e < edgeCount; e++)
        {
            var (tail, head) = (graph.Edges[e].Tail, graph.Edges[e].Head);
            sourceEntry[e] = Entry(e, tail);
            for (int i = 0; i < nodes[e].Length; i++)
            {
                entryEdge[edgeStart[e] + i] = e;
                entryPair[edgeStart[e] + i] = Pair(head, nodes[e][i]);
            }
        }

        var lineEntryOffsets = new int[levels + 1];
        var linePred = new List<int>();
        var lineSucc = new List<int>();
        var lineEdge = new List<int>();
        for (int level = 0; level < levels; level++)
        {
            foreach (var l in graph.LevelLineEdges[level])
            {
                var (pred, succ) = (graph.LineEdges[l].Pred, graph.LineEdges[l].Succ);
                foreach (var node in nodes[pred])
                {
                    linePred.Add(Entry(pred, node));
                    lineSucc.Add(Entry(succ, node));
                    lineEdge.Add(l);
                }
            }
            lineEntryOffsets[level + 1] = linePred.Count;
        }
        return new GraphPathGatePlan(levelEntryOffsets, entryEdge, entryPair, sourceEntry, lineEntryOffsets,
            linePred.ToArray(), lineSucc.ToArray(), lineEdge.ToArray(), pairTarget, pairSource);
    }

    /// <summary>
    /// The plan of the disjoint union of <paramref name="graphs"/> (as <see cref="PreparedGraphBatch"/> joins them) from
    /// their plans: the union's level ℓ holds level ℓ of every graph, graph after graph, so every index is shifted by its
    /// graph's offset within the level (entries) or within the union (edges, line edges, nodes, pairs).
    /// </summary>
    public static GraphPathGatePlan Concatenate(IReadOnlyList<GraphPathGatePlan> plans, IReadOnlyList<PreparedGraph> graphs)
    {
        ArgumentNullException.ThrowIfNull(plans);
        ArgumentNullException.ThrowIfNull(graphs);
        if (plans.Count != graphs.Count) throw new ArgumentException("One plan per graph is needed.", nameof(plans));
        int count = plans.Count;
        int levels = plans.Count == 0 ? 0 : plans.Max(p => p.LevelCount);
        int LevelSize(GraphPathGatePlan p, int[] offsets, int level) =>
            level < p.LevelCount ? offsets[level + 1] - offsets[level] : 0;

        // start[g][ℓ]: where graph g's level-ℓ entries begin in the union; lineStart likewise for line entries.
        var levelEntryOffsets = new int[levels + 1];
        var lineEntryOffsets = new int[levels + 1];
        var start = new int[count][];
        var lineStart = new int[count][];
        for (int g = 0; g < count; g++)
        {
            start[g] = new int[levels];
            lineStart[g] = new int[levels];
        }
        for (int level = 0, entries = 0, lines = 0; level < levels; level++)
        {
            for (int g = 0; g < count; g++)
            {
                start[g][level] = entries;
                lineStart[g][level] = lines;
                entries += LevelSize(plans[g], plans[g].LevelEntryOffsets, level);
                lines += LevelSize(plans[g], plans[g].LineEntryOffsets, level);
            }
            levelEntryOffsets[level + 1] = entries;
            lineEntryOffsets[level + 1] = lines;
        }

        int edges = 0, pairs = 0;
        var edgeOffset = new int[count];
        var lineEdgeOffset = new int[count];
        var nodeOffset = new int[count];
        var pairOffset = new int[count];
        for (int g = 0, lineEdges = 0, nodes = 0; g < count; g++)
        {
            (edgeOffset[g], lineEdgeOffset[g], nodeOffset[g], pairOffset[g]) = (edges, lineEdges, nodes, pairs);
            edges += graphs[g].EdgeCount;
            lineEdges += graphs[g].LineEdgeCount;
            nodes += graphs[g].NodeCount;
            pairs += plans[g].PairCount;
        }

        var entryEdge = new int[levelEntryOffsets[^1]];
        var entryPair = new int[entryEdge.Length];
        var linePred = new int[lineEntryOffsets[^1]];
        var lineSucc = new int[linePred.Length];
        var lineEdge = new int[linePred.Length];
        var sourceEntry = new int[edges];
        var pairTarget = new int[pairs];
        var pairSource = new int[pairs];
        for (int g = 0; g < count; g++)
        {
            var p = plans[g];
            var edgeLevel = graphs[g].EdgeLevel;
            // An entry of graph g at level ℓ moves from p.LevelEntryOffsets[ℓ] + i to start[g][ℓ] + i.
            int Shift(int entry, int level) => entry - p.LevelEntryOffsets[level] + start[g][level];
            for (int level = 0; level < p.LevelCount; level++)
            {
                int from = p.LevelEntryOffsets[level], to = start[g][level];
                for (int i = from; i < p.LevelEntryOffsets[level + 1]; i++)
                {
                    entryEdge[to + i - from] = p.EntryEdge[i] + edgeOffset[g];
                    entryPair[to + i - from] = p.EntryPair[i] + pairOffset[g];
                }
                int lineFrom = p.LineEntryOffsets[level], lineTo = lineStart[g][level];
                for (int i = lineFrom; i < p.LineEntryOffsets[level + 1]; i++)
                {
                    int pred = p.LinePredEntry[i];
                    linePred[lineTo + i - lineFrom] = Shift(pred, edgeLevel[p.EntryEdge[pred]]);
                    lineSucc[lineTo + i - lineFrom] = Shift(p.LineSuccEntry[i], level);
                    lineEdge[lineTo + i - lineFrom] = p.LineEdge[i] + lineEdgeOffset[g];
                }
            }
            for (int e = 0; e < p.SourceEntry.Length; e++)
                sourceEntry[edgeOffset[g] + e] = Shift(p.SourceEntry[e], edgeLevel[e]);
            for (int i = 0; i < p.PairCount; i++)
            {
                pairTarget[pairOffset[g] + i] = p.PairTarget[i] + nodeOffset[g];
                pairSource[pairOffset[g] + i] = p.PairSource[i] + nodeOffset[g];
            }
        }
        return new GraphPathGatePlan(levelEntryOffsets, entryEdge, entryPair, sourceEntry, lineEntryOffsets, linePred,
            lineSucc, lineEdge, pairTarget, pairSource);
    }

    /// <summary>Whether <paramref name="other"/> has the same arrays, element by element (for tests).</summary>
    public bool SameAs(GraphPathGatePlan other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return LevelEntryOffsets.AsSpan().SequenceEqual(other.LevelEntryOffsets)
            && EntryEdge.AsSpan().SequenceEqual(other.EntryEdge)
            && EntryPair.AsSpan().SequenceEqual(other.EntryPair)
            && SourceEntry.AsSpan().SequenceEqual(other.SourceEntry)
            && LineEntryOffsets.AsSpan().SequenceEqual(other.LineEntryOffsets)
            && LinePredEntry.AsSpan().SequenceEqual(other.LinePredEntry)
            && LineSuccEntry.AsSpan().SequenceEqual(other.LineSuccEntry)
            && LineEdge.AsSpan().SequenceEqual(other.LineEdge)
            && PairTarget.AsSpan().SequenceEqual(other.PairTarget)
            && PairSource.AsSpan().SequenceEqual(other.PairSource);
    }
}
