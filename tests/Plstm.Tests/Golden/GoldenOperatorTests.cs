using System.Text.Json;
using Plstm.Data.Graphs;
using Plstm.Ops.Graph;
using Plstm.Ops.OneD;
using Plstm.Ops.TwoD;
using Plstm.Tests.Support;

namespace Plstm.Tests.Golden;

/// <summary>
/// Runs every golden file (see <see cref="GoldenCases"/>) through every exact form of its operator, in float64 (the
/// file's own tolerance) and in float32 (inputs cast to float32, compared with the float32 rule against the float64
/// expected values). Forward outputs and, where the file has an upstream gradient, every input gradient are checked.
/// </summary>
[Trait("Category", "Golden")]
public sealed class GoldenOperatorTests
{
    /// <summary>Kinds whose operators are not implemented yet: skipped with a reason. Any other unknown kind fails.</summary>
    private static readonly IReadOnlyDictionary<string, string> PendingKinds = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Minimum number of bundled files per implemented kind (31 1D/2D/fused files, 4 graph files).</summary>
    private static readonly IReadOnlyDictionary<string, int> BundledMinimum = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["plstm1d"] = 9,
        ["plstm2d"] = 20,
        ["plstm2d_fused"] = 2,
        ["graph_edgewise"] = 2,
        ["graph_nodewise"] = 1,
        ["graph_prepare"] = 1,
    };

    /// <summary>The 1D/2D/fused kinds (at least 31 bundled files together).</summary>
    private static readonly string[] GridKinds = ["plstm1d", "plstm2d", "plstm2d_fused"];

    /// <summary>Every golden case except the layer files, which <c>Layers/LayerGoldenTests</c> runs through the layer.</summary>
    public static TheoryData<string> Cases => GoldenCases.AllExcept("plstm2d_layer");

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Float64(string golden) => Run(golden, ScalarType.Float64);

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Float32(string golden) => Run(golden, ScalarType.Float32);

    [Fact]
    public void BundledFolderHoldsAllOperatorFiles()
    {
        var dir = GoldenCases.BundledDirectory;
        Assert.True(Directory.Exists(dir), $"Bundled golden folder {dir} is missing (the csproj should copy Golden/Data/*.json).");
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(dir, "*.json"))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
            var kind = doc.RootElement.TryGetProperty("kind", out var k) ? k.GetString() ?? "?" : "?";
            counts[kind] = counts.GetValueOrDefault(kind) + 1;
        }
        string summary = string.Join(", ", counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
        foreach (var (kind, minimum) in BundledMinimum)
            Assert.True(counts.GetValueOrDefault(kind) >= minimum,
                $"Bundled golden folder {dir} holds {counts.GetValueOrDefault(kind)} '{kind}' files, expected at least {minimum} (found: {summary}).");
        int total = GridKinds.Sum(k => counts.GetValueOrDefault(k));
        Assert.True(total >= 31, $"Expected at least 31 1D/2D/fused golden files in {dir}, found {total} ({summary}).");
    }

    private static void Run(string id, ScalarType dtype)
    {
        var golden = GoldenCases.Load(id);
        if (PendingKinds.TryGetValue(golden.Kind, out var reason))
            Skip.If(true, $"{golden.Name}: kind '{golden.Kind}' skipped: {reason}.");
        var spec = KindSpec.For(golden.Kind)
            ?? throw new Xunit.Sdk.XunitException(
                $"{id}: unknown golden kind '{golden.Kind}' — the harness has no runner for it (known: plstm1d, plstm2d, plstm2d_fused, graph_edgewise, graph_nodewise, graph_prepare; pending: {string.Join(", ", PendingKinds.Keys)}).");

        using var scope = NewDisposeScope();
        var failures = new List<string>();
        failures.AddRange(spec.CheckFile(golden));
        if (failures.Count == 0 && spec.Structural is { } structural)
            failures.AddRange(structural(golden));
        if (failures.Count == 0)
            foreach (var form in spec.Forms(golden))
                failures.AddRange(RunForm(golden, form, dtype));
        if (failures.Count > 0)
            Assert.Fail($"{id} ({golden.Kind}, {dtype}): {failures.Count} failure(s):\n" + string.Join("\n", failures));
    }

    /// <summary>Runs one form on fresh inputs; returns the failure messages (empty when everything matches).</summary>
    private static List<string> RunForm(GoldenCase golden, OperatorForm form, ScalarType dtype)
    {
        var failures = new List<string>();
        bool withGradients = golden.Upstream is not null && golden.Gradients.Count > 0;
        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in golden.Inputs)
        {
            var t = golden.GetTensor(name);
            if (t.is_floating_point())
            {
                t = t.to(dtype);
                if (withGradients) t = t.detach().requires_grad_(true);
            }
            inputs[name] = t;
        }

        string tag = $"[{form.Name}, {dtype}]";
        IReadOnlyDictionary<string, Tensor> outputs;
        try
        {
            outputs = form.Run(inputs);
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            failures.Add($"{tag} threw {ex}");
            return failures;
        }

        foreach (var name in golden.Outputs)
        {
            if (!outputs.TryGetValue(name, out var actual))
                failures.Add($"{tag} produces no output '{name}'.");
            else
                AddIfFailed(failures, Compare(actual, golden.GetTensor(name), $"{tag} {name}", golden.Tolerance, dtype));
        }
        if (!withGradients) return failures;

        var target = UpstreamTarget(golden);
        if (target is null)
        {
            failures.Add($"{tag} cannot tell which output upstream '{golden.Upstream}' applies to (outputs: {string.Join(", ", golden.Outputs)}).");
            return failures;
        }
        if (!outputs.TryGetValue(target, out var y))
        {
            failures.Add($"{tag} produces no output '{target}' for the gradient check.");
            return failures;
        }
        var upstream = golden.GetTensor(golden.Upstream!).to(dtype);
        var loss = (y * upstream).sum();
        try
        {
            loss.backward(retain_graph: false);
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            failures.Add($"{tag} backward threw {ex}");
            return failures;
        }
        foreach (var gradName in golden.Gradients)
        {
            var inputName = gradName.StartsWith('d') ? gradName[1..] : "";
            if (!inputs.TryGetValue(inputName, out var input))
            {
                failures.Add($"{tag} gradient '{gradName}' names no input (expected 'd' + one of {string.Join(", ", golden.Inputs)}).");
                continue;
            }
            var grad = input.grad ?? zeros_like(input);   // no gradient reached it: ∂loss/∂input = 0
            AddIfFailed(failures, Compare(grad, golden.GetTensor(gradName), $"{tag} {gradName}", golden.Tolerance, dtype));
        }
        return failures;
    }

    /// <summary>The output the upstream gradient belongs to: <c>dX</c> ↔ output <c>X</c>, else the only output.</summary>
    private static string? UpstreamTarget(GoldenCase golden)
    {
        var up = golden.Upstream!;
        if (up.StartsWith('d') && golden.Outputs.Contains(up[1..])) return up[1..];
        return golden.Outputs.Count == 1 ? golden.Outputs[0] : null;
    }

    private static string? Compare(Tensor actual, Tensor expected, string what, GoldenTolerance tolerance, ScalarType dtype) =>
        dtype == ScalarType.Float64
            ? TensorAssert.Compare(actual, expected, what, tolerance.Rtol, tolerance.Atol)
            : TensorAssert.CompareFloat32(actual, expected, what);

    private static void AddIfFailed(List<string> failures, string? failure)
    {
        if (failure is not null) failures.Add(failure);
    }

    /// <summary>One exact form of an operator: maps named input tensors to named output tensors (golden names).</summary>
    private sealed record OperatorForm(string Name, Func<IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor>> Run);

    /// <summary>How the harness maps one kind: the array names it understands and the forms it runs; kinds without
    /// numbers (graph_prepare) have a structural check instead, which returns failure messages.</summary>
    private sealed record KindSpec(
        string Kind, string[] KnownInputs, string[] KnownOutputs, Func<GoldenCase, IEnumerable<OperatorForm>> Forms,
        Func<GoldenCase, IEnumerable<string>>? Structural = null)
    {
        private static readonly string[] Gates2D =
            ["Q", "K", "V", "S0_r", "S0_d", "T0_rl", "T0_du", "T0_dl", "T0_ru", "M0_l", "M0_u", "D0"];

        public static KindSpec? For(string kind) => kind switch
        {
            "plstm1d" => new(kind, ["Q", "K", "V", "S0", "T0", "M0", "D0", "C_initial"], ["Y", "C_last"], Forms1D),
            "plstm2d" => new(kind, [.. Gates2D, "C_initial_left", "C_initial_top"], ["Y", "C_last_right", "C_last_bottom"], Forms2D),
            "plstm2d_fused" => new(kind, Gates2D, ["Y"], FormsFused),
            "graph_edgewise" => new(kind, [.. GatesGraph, "edges", "line_edges"], ["out"], FormsGraph),
            "graph_nodewise" => new(kind, [.. GatesGraph, "edges", "line_edges", "edge_out_pos", "edge_in_pos"], ["out"], FormsNodewise),
            "graph_prepare" => new(kind, ["undirected_edges"], [.. PrepareOutputs], _ => [], CheckPreparation),
            _ => null,
        };

        private static readonly string[] GatesGraph = ["q", "k", "v", "s", "t", "m", "d"];

        private static readonly string[] PrepareOutputs = ["dag_edges", "edges_topo_P", "line_edges_P", "edges_topo_D", "line_edges_D"];

        /// <summary>Format checks before running: every listed array is one the harness maps, has_T_* agree with the arrays.</summary>
        public IEnumerable<string> CheckFile(GoldenCase golden)
        {
            foreach (var name in golden.Inputs.Where(n => !KnownInputs.Contains(n)))
                yield return $"input '{name}' is not mapped by the {Kind} harness (known: {string.Join(", ", KnownInputs)}).";
            foreach (var name in golden.Outputs.Where(n => !KnownOutputs.Contains(n)))
                yield return $"output '{name}' is not mapped by the {Kind} harness (known: {string.Join(", ", KnownOutputs)}).";
            foreach (var (flag, array) in new[] { ("has_T_dl", "T0_dl"), ("has_T_ru", "T0_ru") })
            {
                var declared = golden.OptionalParamBool(flag);
                if (declared is bool d && d != golden.Inputs.Contains(array))
                    yield return $"params.{flag} = {d}, but input '{array}' is {(golden.Inputs.Contains(array) ? "present" : "absent")}.";
            }
            if (golden.Kind != "plstm1d" && golden.Inputs.Contains("C_initial_left") != golden.Inputs.Contains("C_initial_top"))
                yield return "C_initial_left and C_initial_top must be given together.";
            if (golden.Kind is "graph_edgewise" or "graph_nodewise" && golden.OptionalParamDouble("QK_scale") is double s && s != 1.0)
                yield return $"params.QK_scale = {s}, but the graph operators have no QK scale (1).";
        }

        private static IEnumerable<OperatorForm> Forms1D(GoldenCase golden)
        {
            int levels = golden.ParamInt("levels");
            double? scale = golden.OptionalParamDouble("QK_scale");
            static Plstm1DInputs In(IReadOnlyDictionary<string, Tensor> t) =>
                new(Req(t, "Q"), Req(t, "K"), Req(t, "V"), Req(t, "S0"), Req(t, "T0"), Req(t, "M0"), Req(t, "D0"), Opt(t, "C_initial"));
            static IReadOnlyDictionary<string, Tensor> Out(Plstm1DOutput o) =>
                new Dictionary<string, Tensor> { ["Y"] = o.Y, ["C_last"] = o.CLast };
            yield return new($"Plstm1DChunked levels={levels}", t => Out(Plstm1DChunked.Forward(In(t), levels, scale)));
            yield return new("Plstm1DNaive", t => Out(Plstm1DNaive.Forward(In(t), scale)));
        }

        private static IEnumerable<OperatorForm> Forms2D(GoldenCase golden)
        {
            int levels = golden.ParamInt("levels");
            double? scale = golden.OptionalParamDouble("QK_scale");
            static Plstm2DInputs In(IReadOnlyDictionary<string, Tensor> t) =>
                new(Req(t, "Q"), Req(t, "K"), Req(t, "V"), Req(t, "S0_r"), Req(t, "S0_d"),
                    Req(t, "T0_rl"), Req(t, "T0_du"), Opt(t, "T0_dl"), Opt(t, "T0_ru"),
                    Req(t, "M0_l"), Req(t, "M0_u"), Req(t, "D0"), Opt(t, "C_initial_left"), Opt(t, "C_initial_top"));
            static IReadOnlyDictionary<string, Tensor> Out(Plstm2DOutput o) =>
                new Dictionary<string, Tensor> { ["Y"] = o.Y, ["C_last_right"] = o.FinalRight, ["C_last_bottom"] = o.FinalBottom };
            yield return new($"Plstm2DHierarchical levels={levels}", t => Out(Plstm2DHierarchical.Forward(In(t), levels, scale)));
            // Chunkwise with the file's chunk side and with side 3 (ragged chunks and padding on every power-of-two grid).
            foreach (int side in new[] { 1 << levels, 3 })
                yield return new($"Plstm2DChunkwise chunk={side}", t => Out(Plstm2DChunkwise.Forward(In(t), side, scale)));
            yield return new("Plstm2DNaive", t => Out(Plstm2DNaive.Forward(In(t), scale)));
        }

        private static IEnumerable<OperatorForm> FormsFused(GoldenCase golden)
        {
            int levels = golden.ParamInt("levels");
            double? scale = golden.OptionalParamDouble("QK_scale");
            static Plstm2DFusedInputs In(IReadOnlyDictionary<string, Tensor> t) =>
                new(Req(t, "Q"), Req(t, "K"), Req(t, "V"), Req(t, "S0_r"), Req(t, "S0_d"),
                    Req(t, "T0_rl"), Req(t, "T0_du"), Opt(t, "T0_dl"), Opt(t, "T0_ru"),
                    Req(t, "M0_l"), Req(t, "M0_u"), Req(t, "D0"));
            foreach (var form in new[] { Plstm2DForm.Hierarchical, Plstm2DForm.Naive, Plstm2DForm.Auto })
                yield return new($"Plstm2DFused {form} levels={levels}",
                    t => new Dictionary<string, Tensor> { ["Y"] = Plstm2DFused.Forward(In(t), levels, scale: scale, form: form) });
            // Chunkwise: one chunk (one summed gate), exactly tiling chunks of 2, ragged chunks of 3 (per orientation).
            foreach (int side in new[] { 16, 2, 3 })
                yield return new($"Plstm2DFused Chunkwise chunk={side}", t => new Dictionary<string, Tensor>
                {
                    ["Y"] = Plstm2DFused.Forward(In(t), levels, scale: scale, form: Plstm2DForm.Chunkwise, chunkSide: side),
                });
        }

        private static IEnumerable<OperatorForm> FormsGraph(GoldenCase golden)
        {
            yield return new("PlstmGraphLevels", t => Out(PlstmGraphLevels.Forward(InGraph(t), GraphOf(t))));
            yield return new("PlstmGraphNaive", t => Out(PlstmGraphNaive.Forward(InGraph(t), GraphOf(t))));
            yield return new("PlstmGraphPathGates", t => Out(PlstmGraphPathGates.Forward(InGraph(t), GraphOf(t))));
        }

        private static IEnumerable<OperatorForm> FormsNodewise(GoldenCase golden)
        {
            // The files use the reference's gather maps (operators §5.2; golden README "graph_nodewise").
            static PlstmGraphNodewiseInputs In(IReadOnlyDictionary<string, Tensor> t) =>
                new(Req(t, "q"), Req(t, "k"), Req(t, "v"), Req(t, "s"), Req(t, "t"), Req(t, "m"), Req(t, "d"));
            foreach (var form in new[] { PlstmGraphForm.Levels, PlstmGraphForm.Naive, PlstmGraphForm.PathGates })
                yield return new($"PlstmGraphNodewise Reference {form}",
                    t => Out(PlstmGraphNodewise.Forward(In(t), GraphOf(t), GraphGatherConvention.Reference, form)));
        }

        private static PlstmGraphInputs InGraph(IReadOnlyDictionary<string, Tensor> t) =>
            new(Req(t, "q"), Req(t, "k"), Req(t, "v"), Req(t, "s"), Req(t, "t"), Req(t, "m"), Req(t, "d"));

        private static IReadOnlyDictionary<string, Tensor> Out(Tensor y) => new Dictionary<string, Tensor> { ["out"] = y };

        /// <summary>The file's structure: <c>edges</c> in processing order, <c>line_edges</c> (pred, succ), N from <c>q</c>,
        /// adjacency positions from <c>edge_out_pos</c>/<c>edge_in_pos</c> when present.</summary>
        private static PreparedGraph GraphOf(IReadOnlyDictionary<string, Tensor> t)
        {
            var edges = Pairs(Req(t, "edges")).Select(p => new GraphEdge(p.Item1, p.Item2)).ToArray();
            var lineEdges = Pairs(Req(t, "line_edges")).Select(p => new LineEdge(p.Item1, p.Item2)).ToArray();
            return PreparedGraph.FromProcessingOrder((int)Req(t, "q").shape[1], edges, lineEdges,
                Opt(t, "edge_out_pos") is { } o ? Ints(o) : null, Opt(t, "edge_in_pos") is { } i ? Ints(i) : null);
        }

        /// <summary>
        /// graph_prepare (golden README): dag_edges as a set of directed edges; the P and D topological orders exactly
        /// (networkx tie-breaking); line edges as sets of ((u,w), (u',w')) pairs; the D pruning run in the order
        /// <c>edges_topo_P</c>. Then the whole pipeline (<see cref="GraphPreparation.FromUndirected"/>) once more.
        /// </summary>
        private static IEnumerable<string> CheckPreparation(GoldenCase golden)
        {
            var failures = new List<string>();
            int n = golden.ParamInt("num_nodes");
            var undirected = Pairs(golden.GetTensor("undirected_edges"));
            GraphEdge[] EdgesOf(string name) => Pairs(golden.GetTensor(name)).Select(p => new GraphEdge(p.Item1, p.Item2)).ToArray();
            bool Has(string name) => golden.Outputs.Contains(name);

            var dag = GraphPreparation.Dagify(n, undirected);
            if (Has("dag_edges"))
                CompareSets(failures, "dag_edges", dag.Edges(), EdgesOf("dag_edges"));

            var line = GraphPreparation.BuildLineGraph(dag);
            var orderP = GraphPreparation.TopologicalOrder(line.Graph);
            GraphEdge[] Mapped(IEnumerable<int> vertices) => vertices.Select(v => line.Vertices[v]).ToArray();
            IEnumerable<(GraphEdge, GraphEdge)> LinePairs(OrderedDigraph g) =>
                g.Edges().Select(e => (line.Vertices[e.Tail], line.Vertices[e.Head]));
            IEnumerable<(GraphEdge, GraphEdge)> FilePairs(string lineName, GraphEdge[] topo) =>
                Pairs(golden.GetTensor(lineName)).Select(p => (topo[p.Item1], topo[p.Item2]));

            if (Has("edges_topo_P"))
            {
                var topoP = EdgesOf("edges_topo_P");
                CompareSequences(failures, "edges_topo_P", Mapped(orderP), topoP);
                if (Has("line_edges_P"))
                    CompareSets(failures, "line_edges_P", LinePairs(line.Graph), FilePairs("line_edges_P", topoP));
                if (Has("edges_topo_D"))
                {
                    var vertexOf = Enumerable.Range(0, line.Vertices.Count).ToDictionary(i => line.Vertices[i]);
                    var missing = topoP.Where(e => !vertexOf.ContainsKey(e)).ToArray();
                    if (missing.Length > 0)
                    {
                        failures.Add($"edges_topo_P names edges that are not DAG edges: {string.Join(", ", missing)}.");
                        return failures;
                    }
                    var pruned = GraphPreparation.PruneToMultitree(line.Graph, topoP.Select(e => vertexOf[e]).ToArray());
                    var topoD = EdgesOf("edges_topo_D");
                    CompareSequences(failures, "edges_topo_D", Mapped(GraphPreparation.TopologicalOrder(pruned)), topoD);
                    if (Has("line_edges_D"))
                        CompareSets(failures, "line_edges_D", LinePairs(pruned), FilePairs("line_edges_D", topoD));
                }
            }

            foreach (var mode in new[] { GraphMode.P, GraphMode.D })
            {
                string topo = $"edges_topo_{mode}", lines = $"line_edges_{mode}";
                if (!Has(topo)) continue;
                var prepared = GraphPreparation.FromUndirected(n, undirected, mode);
                var expected = EdgesOf(topo);
                CompareSequences(failures, $"FromUndirected({mode}).Edges vs {topo}", prepared.Edges, expected);
                if (Has(lines))
                    CompareSets(failures, $"FromUndirected({mode}).LineEdges vs {lines}",
                        prepared.LineEdges.Select(l => (prepared.Edges[l.Pred], prepared.Edges[l.Succ])),
                        FilePairs(lines, expected));
            }
            return failures;
        }

        private static void CompareSequences(List<string> failures, string what, IReadOnlyList<GraphEdge> actual, IReadOnlyList<GraphEdge> expected)
        {
            if (!actual.SequenceEqual(expected))
                failures.Add($"{what}: order differs: actual [{string.Join(", ", actual)}], expected [{string.Join(", ", expected)}].");
        }

        private static void CompareSets<T>(List<string> failures, string what, IEnumerable<T> actual, IEnumerable<T> expected)
        {
            var a = actual.ToList();
            var e = expected.ToList();
            var missing = e.Except(a).ToList();
            var extra = a.Except(e).ToList();
            if (a.Count != a.Distinct().Count() || e.Count != e.Distinct().Count() || missing.Count > 0 || extra.Count > 0)
                failures.Add($"{what}: sets differ ({a.Count} actual, {e.Count} expected): missing [{string.Join(", ", missing)}], " +
                             $"unexpected [{string.Join(", ", extra)}].");
        }

        private static (int, int)[] Pairs(Tensor t)
        {
            if (t.dim() != 2 || t.shape[1] != 2)
                throw new InvalidDataException($"expected an int64 array [n, 2], got shape [{string.Join(", ", t.shape)}].");
            var flat = Ints(t);
            return Enumerable.Range(0, flat.Length / 2).Select(i => (flat[2 * i], flat[2 * i + 1])).ToArray();
        }

        private static int[] Ints(Tensor t) => t.to(ScalarType.Int64).cpu().contiguous().data<long>().Select(v => checked((int)v)).ToArray();

        private static Tensor Req(IReadOnlyDictionary<string, Tensor> t, string name) =>
            t.TryGetValue(name, out var v) ? v : throw new InvalidDataException($"required input '{name}' is missing from the file.");

        private static Tensor? Opt(IReadOnlyDictionary<string, Tensor> t, string name) => t.GetValueOrDefault(name);
    }
}
