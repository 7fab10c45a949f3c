using Plstm.Data.Graphs;
using Plstm.Layers.Graph;
using Plstm.Ops.Graph;
using Plstm.Tests.Graph;
using Plstm.Tests.Support;
using TorchSharp.Modules;
using static Plstm.Tests.GraphModels.GraphModelTestSupport;

namespace Plstm.Tests.GraphModels;

public sealed class GraphLayerTests
{
    private const int Dim = 8;
    private const int Heads = 2;

    public static IEnumerable<object[]> Graphs() =>
    [
        [1, 7, 0.45], [2, 9, 0.3], [3, 6, 0.8], [4, 5, 0.0], [5, 2, 1.0], [6, 12, 0.25],
    ];

    private static PreparedGraph Prepare(int seed, int nodes, double density, GraphMode mode) =>
        GraphPreparation.FromUndirected(nodes, GraphTestData.RandomUndirected(seed, nodes, density), mode);

    private static PlstmGraphEdgeLayer Layer(GraphMode mode, GraphTransitionInput input = GraphTransitionInput.SharedNode,
        GraphPNormalization normalization = GraphPNormalization.PerIncomingEdge, GraphOperatorForm form = GraphOperatorForm.PathGates,
        long seed = 5)
    {
        var layer = new PlstmGraphEdgeLayer("layer", new PlstmGraphEdgeLayerConfig(Dim, Heads, mode)
        {
            TransitionInput = input,
            PNormalization = normalization,
            Form = form,
        });
        // Random parameters from a private generator (tests run in parallel and share torch's global one), with the
        // gates' input weights switched on so that every input path is exercised.
        var g = new Generator((ulong)seed);
        using (no_grad())
        {
            foreach (var (name, p) in layer.named_parameters())
            {
                if (name == "mhnorm.scale") p.uniform_(0.5, 1.5, generator: g);
                else if (name == "transition.bias") p.normal_(0, 2, generator: g);
                else p.normal_(0, name.EndsWith(".bias", StringComparison.Ordinal) ? 1.0 : 0.4, generator: g);
            }
        }
        layer.to(ScalarType.Float64);
        return layer;
    }

    private static (Tensor X, Tensor EdgeFeatures) Inputs(PreparedGraph graph, ulong seed)
    {
        var g = new Generator(seed);
        return (randn(new long[] { graph.NodeCount, Dim }, dtype: ScalarType.Float64, generator: g),
                randn(new long[] { graph.EdgeCount, Dim }, dtype: ScalarType.Float64, generator: g));
    }

    [Theory]
    [MemberData(nameof(Graphs))]
    public void PModeTransitionsAreBoundedPerIncomingEdge(int seed, int nodes, double density)
    {
        var graph = Prepare(seed, nodes, density, GraphMode.P);
        foreach (var normalization in new[] { GraphPNormalization.PerIncomingEdge, GraphPNormalization.PerTargetEdge })
        {
            // Reference initialisation: transition bias ~ N(0, 10), so raw values are large.
            random.manual_seed(seed);
            using var layer = new PlstmGraphEdgeLayer("layer", new PlstmGraphEdgeLayerConfig(Dim, Heads, GraphMode.P)
            {
                PNormalization = normalization,
            });
            var (x, ef) = Inputs(graph, (ulong)seed);
            var t = layer.Gates(x.to_type(ScalarType.Float32), ef.to_type(ScalarType.Float32), graph).T
                .to_type(ScalarType.Float64).abs();                                        // [H, L]
            var groups = graph.LineEdges.Select((l, i) => (Key: normalization == GraphPNormalization.PerIncomingEdge ? l.Pred : l.Succ, i))
                .GroupBy(p => p.Key);
            foreach (var group in groups)
            {
                var sum = t.index_select(1, tensor(group.Select(p => (long)p.i).ToArray())).sum(1);   // [H]
                Assert.True(sum.max().item<double>() < 1.0, $"{normalization}: edge {group.Key} has Σ|T| = {sum.max().item<double>()}");
            }
            if (graph.LineEdgeCount > 0 && normalization == GraphPNormalization.PerIncomingEdge)
                Assert.True(t.max().item<double>() > 0.05, "the transitions should not all vanish");
        }
    }

    [Theory]
    [MemberData(nameof(Graphs))]
    public void DModeTransitionsAreTanhOfTheRawValues(int seed, int nodes, double density)
    {
        var graph = Prepare(seed, nodes, density, GraphMode.D);
        using var layer = Layer(GraphMode.D);
        var (x, ef) = Inputs(graph, (ulong)seed);
        var t = layer.Gates(x, ef, graph).T;
        // |tanh| < 1 mathematically; in floating point it saturates to exactly 1 for |raw| ≳ 19.
        Assert.True(graph.LineEdgeCount == 0 || t.abs().max().item<double>() <= 1.0);
        var raw = RawTransitions(layer, x, ef, graph, GraphTransitionInput.SharedNode);
        AssertClose(tanh(raw), t, 1e-12, 1e-12, "tanh");
    }

    [Theory]
    [InlineData(GraphMode.P)]
    [InlineData(GraphMode.D)]
    public void BFloat16ComputeFollowsTheFloat32LayerInFloat32Dtypes(GraphMode mode)
    {
        // The reference's autocast: the layer computes in bfloat16, takes and returns float32, and its float32
        // parameters get float32 gradients close to the float32 layer's (loss Σ y: the output's gradient is exact).
        var graph = Prepare(2, 9, 0.3, mode);
        var full = Layer(mode);
        full.to(ScalarType.Float32);
        var half = new PlstmGraphEdgeLayer("layer", full.Config with { ComputeDtype = ScalarType.BFloat16 });
        half.load_state_dict(full.state_dict());
        var (x64, e64) = Inputs(graph, 3);
        var outputs = new List<Tensor>();
        foreach (var layer in new[] { full, half })
        {
            var y = layer.forward(x64.to(ScalarType.Float32), e64.to(ScalarType.Float32), graph);
            Assert.Equal(ScalarType.Float32, y.dtype);
            y.sum().backward();
            outputs.Add(y.detach());
        }
        double difference = (outputs[1] - outputs[0]).abs().max().item<float>();
        Assert.True(difference > 0, "the bfloat16 layer returned the float32 layer's output: it did not compute in bfloat16");
        Assert.Null(TensorAssert.CompareScaled(outputs[1], outputs[0], "output", 0, Tolerances.BFloat16ComputeScale));
        var expectedGrads = full.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!);
        foreach (var (name, p) in half.named_parameters())
        {
            Assert.Equal(ScalarType.Float32, p.dtype);
            var grad = p.grad;
            Assert.True(grad is not null, $"{name} got no gradient");
            Assert.Equal(ScalarType.Float32, grad!.dtype);
            Assert.Null(TensorAssert.CompareScaled(grad, expectedGrads[name], $"d{name}", 0, Tolerances.BFloat16ComputeGradScale));
        }
    }

    [Fact]
    public void ComputeDtypeMustBeFloatingPoint()
    {
        var config = new PlstmGraphEdgeLayerConfig(Dim, Heads, GraphMode.P) { ComputeDtype = ScalarType.Int32 };
        Assert.Equal("ComputeDtype", Assert.Throws<ArgumentException>(config.Validate).ParamName);
        new PlstmGraphEdgeLayerConfig(Dim, Heads, GraphMode.P) { ComputeDtype = ScalarType.BFloat16 }.Validate();
    }

    [Fact]
    public void NormalizationGroupsDifferAndAreDocumented()
    {
        var graph = GraphPreparation.FromUndirected(7, GraphTestData.GoldenExample, GraphMode.P);
        var raw = randn(new long[] { 1, graph.LineEdgeCount }, dtype: ScalarType.Float64, generator: new Generator(3)) * 3;
        var perIncoming = PlstmGraphEdgeLayer.NormalizeTransitions(raw, graph, GraphMode.P, GraphPNormalization.PerIncomingEdge);
        var perTarget = PlstmGraphEdgeLayer.NormalizeTransitions(raw, graph, GraphMode.P, GraphPNormalization.PerTargetEdge);
        Assert.True(MaxAbs(perIncoming, perTarget) > 1e-3);
        // Hand check of one line edge per rule.
        int l0 = 0;
        var pred = graph.LineEdges[l0].Pred;
        var succ = graph.LineEdges[l0].Succ;
        double Sum(Func<LineEdge, bool> member) =>
            graph.LineEdges.Select((l, i) => (l, i)).Where(p => member(p.l)).Sum(p => Math.Abs(raw[0, p.i].item<double>()));
        double r = raw[0, l0].item<double>();
        Assert.Equal(r / (0.5 + Sum(l => l.Pred == pred)), perIncoming[0, l0].item<double>(), 12);
        Assert.Equal(r / (0.5 + Sum(l => l.Succ == succ)), perTarget[0, l0].item<double>(), 12);
    }

    public static IEnumerable<object[]> CompositionCases()
    {
        foreach (var graph in Graphs())
            foreach (var mode in new[] { GraphMode.P, GraphMode.D })
                foreach (var input in new[] { GraphTransitionInput.SharedNode, GraphTransitionInput.Reference })
                    yield return [.. graph, mode, input, mode == GraphMode.P && input == GraphTransitionInput.Reference
                        ? GraphPNormalization.PerTargetEdge : GraphPNormalization.PerIncomingEdge];
    }

    [Theory]
    [MemberData(nameof(CompositionCases))]
    public void LayerEqualsAnIndependentComposition(int seed, int nodes, double density, GraphMode mode,
        GraphTransitionInput input, GraphPNormalization normalization)
    {
        var graph = Prepare(seed, nodes, density, mode);
        using var layer = Layer(mode, input, normalization);
        var (x, ef) = Inputs(graph, (ulong)seed + 100);
        var (layerOut, layerGrads) = OutputAndGradients(layer, x, ef, (xl, el) => layer.forward(xl, el, graph));
        var (refOut, refGrads) = OutputAndGradients(layer, x, ef, (xl, el) => Composition(layer, xl, el, graph, mode, input, normalization));
        AssertClose(refOut, layerOut, 1e-9, 1e-9, "output");
        foreach (var name in refGrads.Keys)
            AssertClose(refGrads[name], layerGrads[name], 1e-9, 1e-9, $"gradient of {name}");
    }

    [Theory]
    [MemberData(nameof(Graphs))]
    public void AllOperatorFormsAgree(int seed, int nodes, double density)
    {
        foreach (var mode in new[] { GraphMode.P, GraphMode.D })
        {
            var graph = Prepare(seed, nodes, density, mode);
            var (x, ef) = Inputs(graph, (ulong)seed + 7);
            var results = new[] { GraphOperatorForm.Naive, GraphOperatorForm.Levels, GraphOperatorForm.Scan, GraphOperatorForm.PathGates }.Select(form =>
            {
                using var layer = Layer(mode, form: form);
                return OutputAndGradients(layer, x, ef, (xl, el) => layer.forward(xl, el, graph));
            }).ToArray();
            foreach (var other in results.Skip(1))
            {
                AssertClose(results[0].Output, other.Output, 1e-10, 1e-10, "output");
                foreach (var name in results[0].Gradients.Keys)
                    AssertClose(results[0].Gradients[name], other.Gradients[name], 1e-10, 1e-10, name);
            }
        }
    }

    [Fact]
    public void ScanAndPathGateOperatorsEqualTheNaiveOperatorOnABatch()
    {
        var graphs = Enumerable.Range(0, 5).Select(i => Prepare(20 + i, 4 + 2 * i, 0.4, i % 2 == 0 ? GraphMode.P : GraphMode.D)).ToArray();
        var union = new PreparedGraphBatch(graphs).Union;
        var inputs = GraphTestData.Inputs(11, union, 2, 3, 4);
        var naive = GraphTestData.Run(inputs, union, PlstmGraphForm.Naive);
        var scan = Ops.Differentiate.Run(GraphTestData.ToArray(inputs), a => [GraphLevelScan.Forward(GraphTestData.FromArray(a), union)]);
        var pathGates = GraphTestData.Run(inputs, union, PlstmGraphForm.PathGates);
        foreach (var (name, other) in new[] { ("scan", scan), ("path gates", pathGates) })
        {
            AssertClose(naive.Outputs[0], other.Outputs[0], 1e-10, 1e-10, $"{name}: output");
            for (int i = 0; i < 7; i++)
                AssertClose(naive.Gradients[i]!, other.Gradients[i]!, 1e-10, 1e-10, $"{name}: {GraphTestData.InputNames[i]}");
        }
    }

    [Fact]
    public void BatchOfGraphsEqualsOneByOne()
    {
        foreach (var mode in new[] { GraphMode.P, GraphMode.D })
        {
            var graphs = new[] { Prepare(1, 7, 0.45, mode), Prepare(4, 5, 0.0, mode), Prepare(6, 12, 0.25, mode), Prepare(5, 2, 1.0, mode) };
            using var layer = Layer(mode);
            var inputs = graphs.Select((g, i) => Inputs(g, (ulong)(40 + i))).ToArray();
            var batch = new PreparedGraphBatch(graphs);
            var x = cat(inputs.Select(p => p.X).ToArray(), 0);
            var ef = cat(inputs.Select(p => p.EdgeFeatures).ToArray(), 0);
            var together = layer.forward(x, ef, batch);
            for (int g = 0; g < graphs.Length; g++)
            {
                var alone = layer.forward(inputs[g].X, inputs[g].EdgeFeatures, graphs[g]);
                AssertClose(alone, together.narrow(0, batch.NodeOffsets[g], graphs[g].NodeCount), 1e-12, 1e-12, $"graph {g}");
            }
        }
    }

    [Fact]
    public void InitialisationFollowsTheReference()
    {
        random.manual_seed(3);
        using var layer = new PlstmGraphEdgeLayer("layer", new PlstmGraphEdgeLayerConfig(96, 4, GraphMode.P));
        var p = layer.named_parameters().ToDictionary(q => q.name, q => q.parameter);
        foreach (var gate in new[] { "source", "mark", "direct" })
        {
            Assert.Equal(0.0, p[gate + ".weight"].abs().max().item<float>());
            Assert.True(p[gate + ".bias"].eq(-5f).all().item<bool>());
        }
        Assert.Equal(0.0, p["transition.weight"].abs().max().item<float>());
        Assert.InRange(p["transition.bias"].std().item<float>(), 3.0, 30.0);          // 4 samples of N(0, 10)
        foreach (var w in new[] { "query", "key", "value_", "out" })
        {
            Assert.InRange(p[w + ".weight"].std().item<float>(), 0.058, 0.071);           // SmallInit: √(2/(5·96)) = 0.0645
            Assert.True(p[w + ".bias"].abs().max().item<float>() <= 1 / Math.Sqrt(96) + 1e-6);
        }
        Assert.True(p["mhnorm.scale"].eq(1f).all().item<bool>());
        Assert.Equal(new long[] { 4, 24 }, p["mhnorm.scale"].shape);
    }

    [Fact]
    public void ShapeErrorsNameTheTensor()
    {
        var graph = Prepare(1, 7, 0.45, GraphMode.P);
        using var layer = Layer(GraphMode.P);
        var (x, ef) = Inputs(graph, 1);
        var ex = Assert.Throws<ArgumentException>(() => layer.forward(x.narrow(0, 0, 3), ef, graph));
        Assert.Contains("x: expected shape", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => layer.forward(x, ef.narrow(1, 0, 3), graph));
        Assert.Contains("edgeFeatures", ex.Message);
        Assert.Throws<ArgumentException>(() => new PlstmGraphEdgeLayerConfig(10, 3, GraphMode.P).Validate());
    }

    // ---- the independent composition -------------------------------------------------------------------------

    private static (Tensor Output, Dictionary<string, Tensor> Gradients) OutputAndGradients(PlstmGraphEdgeLayer layer,
        Tensor x, Tensor ef, Func<Tensor, Tensor, Tensor> run)
    {
        layer.zero_grad();
        var xLeaf = x.detach().clone().requires_grad_(true);
        var efLeaf = ef.detach().clone().requires_grad_(true);
        var y = run(xLeaf, efLeaf);
        var upstream = randn(y.shape, dtype: ScalarType.Float64, generator: new Generator(99));
        (y * upstream).sum().backward();
        var grads = new Dictionary<string, Tensor>
        {
            ["x"] = xLeaf.grad?.clone() ?? zeros_like(xLeaf),
            ["edge_features"] = efLeaf.grad?.clone() ?? zeros_like(efLeaf),
        };
        foreach (var (name, p) in layer.named_parameters())
            grads[name] = p.grad?.clone() ?? zeros_like(p);
        layer.zero_grad();
        return (y.detach(), grads);
    }

    private static Tensor Linear(Tensor input, PlstmGraphEdgeLayer layer, string name)
    {
        var p = layer.named_parameters().ToDictionary(q => q.name, q => q.parameter);
        return einsum("ni,oi->no", input, p[name + ".weight"]) + p[name + ".bias"];
    }

    private static Tensor Rows(Tensor source, IEnumerable<int> rows) =>
        stack(rows.Select(r => source[r]).ToArray(), 0);

    private static Tensor RawTransitions(PlstmGraphEdgeLayer layer, Tensor x, Tensor ef, PreparedGraph graph,
        GraphTransitionInput input)
    {
        if (graph.LineEdgeCount == 0) return zeros(new long[] { Heads, 0 }, dtype: x.dtype);
        var rows = graph.LineEdges.Select((l, i) => cat([ef[l.Pred], ef[l.Succ],
            x[input == GraphTransitionInput.SharedNode ? graph.Edges[l.Succ].Tail : graph.Edges[l.Pred].Tail]], 0)).ToArray();
        return Linear(stack(rows, 0), layer, "transition").t();
    }

    private static Tensor Composition(PlstmGraphEdgeLayer layer, Tensor x, Tensor ef, PreparedGraph graph, GraphMode mode,
        GraphTransitionInput input, GraphPNormalization normalization)
    {
        long n = graph.NodeCount, dh = Dim / Heads;
        Tensor Split(Tensor t) => t.reshape(n, Heads, dh).permute(1, 0, 2);
        var q = Split(Linear(x, layer, "query"));
        var k = Split(Linear(x, layer, "key"));
        var v = Split(Linear(x, layer, "value_"));
        Tensor s, m;
        if (graph.EdgeCount == 0)
        {
            s = zeros(new long[] { Heads, 0 }, dtype: x.dtype);
            m = s;
        }
        else
        {
            s = sigmoid(Linear(stack(graph.Edges.Select((e, i) => cat([x[e.Tail], ef[i]], 0)).ToArray(), 0), layer, "source")).t();
            m = sigmoid(Linear(stack(graph.Edges.Select((e, i) => cat([x[e.Head], ef[i]], 0)).ToArray(), 0), layer, "mark")).t();
        }
        var d = sigmoid(Linear(x, layer, "direct")).t();
        var raw = RawTransitions(layer, x, ef, graph, input);
        Tensor t;
        if (mode == GraphMode.D || graph.LineEdgeCount == 0)
        {
            t = tanh(raw);
        }
        else
        {
            int Key(LineEdge l) => normalization == GraphPNormalization.PerIncomingEdge ? l.Pred : l.Succ;
            var columns = new List<Tensor>();
            for (int l = 0; l < graph.LineEdgeCount; l++)
            {
                Tensor denominator = full(new long[] { Heads }, 0.5, dtype: x.dtype);
                for (int o = 0; o < graph.LineEdgeCount; o++)
                    if (Key(graph.LineEdges[o]) == Key(graph.LineEdges[l])) denominator = denominator + raw[.., o].abs();
                columns.Add(raw[.., l] / denominator);
            }
            t = stack(columns, 1);
        }
        var y = PlstmGraphNaive.Forward(new PlstmGraphInputs(q, k, v, s, t, m, d), graph);     // [H, N, dh]
        var scale = layer.named_parameters().Single(p => p.name == "mhnorm.scale").parameter;  // [H, dh]
        var normed = y * rsqrt(y.square().mean([-1], keepdim: true) + 1e-5) * scale.unsqueeze(1);
        var concatenated = normed.permute(1, 0, 2).reshape(n, Dim);
        return Linear(concatenated, layer, "out");
    }
}
