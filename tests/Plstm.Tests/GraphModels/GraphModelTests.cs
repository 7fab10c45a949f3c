using Plstm.Data.Graphs;
using Plstm.Layers.Graph;
using Plstm.Models.Graph;
using Plstm.Tests.Graph;

namespace Plstm.Tests.GraphModels;

public sealed class GraphModelTests
{
    private static long Count(nn.Module module) => module.parameters().Sum(p => p.numel());

    [Fact]
    public void ParameterCountsMatchTheReference()
    {
        using var layer = new PlstmGraphEdgeLayer("layer", new PlstmGraphEdgeLayerConfig(96, 4, GraphMode.P));
        Assert.Equal(40_432, Count(layer));
        using var dLayer = new PlstmGraphEdgeLayer("layer", new PlstmGraphEdgeLayerConfig(96, 4, GraphMode.D));
        Assert.Equal(40_432, Count(dLayer));
        using var block = new PlstmGraphBlock("block", 96, 4);
        Assert.Equal(229_664, Count(block));
        foreach (var (f, expected) in new[] { (7, 469_602L), (37, 472_482L), (4, 469_314L), (18, 470_658L) })
        {
            using var model = new PlstmGraphModel("model", new PlstmGraphModelConfig(f, 2));
            Assert.Equal(expected, Count(model));
        }
    }

    [Fact]
    public void ParameterNamesFollowTheReference()
    {
        using var model = new PlstmGraphModel("model", new PlstmGraphModelConfig(7, 2));
        var names = model.named_parameters().Select(p => p.name).ToArray();
        Assert.Equal("node_encoder.weight", names[0]);
        Assert.Contains("node_convs.0.block0.interaction_module.value_.weight", names);
        Assert.Contains("node_convs.1.block1.interaction_module.mhnorm.scale", names);
        Assert.Contains("node_convs.0.block0.interaction_module.out.bias", names);
        Assert.Contains("node_convs.0.block1.norm2.scale", names);
        Assert.Contains("node_convs.1.block0.upproj.weight", names);
        Assert.Equal("decoder.2.bias", names[^1]);
        Assert.Equal(names.Length, names.Distinct().Count());
        var layerNames = model.Blocks[0].PBlock.Layer.named_parameters().Select(p => p.name).ToArray();
        Assert.Equal(new[]
        {
            "query.weight", "query.bias", "key.weight", "key.bias", "value_.weight", "value_.bias",
            "source.weight", "source.bias", "transition.weight", "transition.bias", "mark.weight", "mark.bias",
            "direct.weight", "direct.bias", "mhnorm.scale", "out.weight", "out.bias",
        }, layerNames);
    }
}

public sealed class GraphModelBehaviourTests
{
    [SkippableFact]
    public void ForwardAndBackwardOnMutag()
    {
        var graphs = GraphModelTestSupport.MutagGraphs;
        Skip.If(graphs is null, "MUTAG not found under ../shared/data/tu");
        random.manual_seed(1);
        using var model = new PlstmGraphModel("model", new PlstmGraphModelConfig(7, 2));
        using var batch = GraphBatch.Create(graphs!.Take(16).ToArray());
        Assert.Equal(new long[] { 16, 2 }, model.forward(batch).shape);
        var loss = nn.functional.cross_entropy(model.forward(batch), batch.Labels);
        Assert.True(double.IsFinite(loss.item<float>()));
        loss.backward();
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.True(p.grad is not null, $"{name} has no gradient");
            Assert.True(p.grad!.isfinite().all().item<bool>(), $"{name} has a non-finite gradient");
        }
        // Every block's layers are reached: the D layer of the reversed block gets a transition gradient.
        var transition = model.named_parameters().Single(p => p.name == "node_convs.1.block1.interaction_module.transition.weight");
        Assert.True(transition.parameter.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void BatchOfGraphsEqualsOneByOne()
    {
        var samples = Enumerable.Range(0, 5).Select(i => GraphModelTestSupport.RandomSample(30 + i, 3 + 2 * i, 0.4)).ToArray();
        random.manual_seed(2);
        using var model = new PlstmGraphModel("model", new PlstmGraphModelConfig(3, 3) { HiddenDim = 16, NumHeads = 2, NumBlocks = 3 });
        model.to(ScalarType.Float64);
        model.eval();
        using var batch = GraphBatch.Create(samples, dtype: ScalarType.Float64);
        var together = model.forward(batch);
        for (int g = 0; g < samples.Length; g++)
        {
            using var alone = GraphBatch.Create([samples[g]], dtype: ScalarType.Float64);
            GraphModelTestSupport.AssertClose(model.forward(alone)[0], together[g], 1e-12, 1e-12, $"graph {g}");
        }
    }

    [Fact]
    public void EveryOperatorFormGivesTheSameModelOutputsAndGradients()
    {
        // The default (path gates) against the state forms, end to end: logits and every parameter gradient, float64.
        var samples = Enumerable.Range(0, 6).Select(i => GraphModelTestSupport.RandomSample(50 + i, 4 + 3 * i, 0.35)).ToArray();
        (Tensor Logits, Dictionary<string, Tensor> Gradients) Run(GraphOperatorForm form)
        {
            using var model = new PlstmGraphModel("model", new PlstmGraphModelConfig(3, 2) { HiddenDim = 16, NumHeads = 2, Form = form });
            model.to(ScalarType.Float64);
            // The same parameters for every form from a private generator (tests run in parallel and share torch's
            // global one), with the gates' input weights switched on.
            var generator = new Generator(7);
            using (no_grad())
                foreach (var (name, p) in model.named_parameters())
                    if (name.EndsWith("scale", StringComparison.Ordinal)) p.uniform_(0.5, 1.5, generator: generator);
                    else p.normal_(0, 0.3, generator: generator);
            using var batch = GraphBatch.Create(samples, dtype: ScalarType.Float64);
            var logits = model.forward(batch);
            nn.functional.cross_entropy(logits, batch.Labels).backward();
            return (logits.detach(), model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone()));
        }
        Assert.Equal(GraphOperatorForm.PathGates, new PlstmGraphModelConfig(3, 2).Form);
        var pathGates = Run(GraphOperatorForm.PathGates);
        foreach (var form in new[] { GraphOperatorForm.Scan, GraphOperatorForm.Levels })
        {
            var other = Run(form);
            GraphModelTestSupport.AssertClose(other.Logits, pathGates.Logits, 1e-12, 1e-12, $"{form}: logits");
            foreach (var (name, grad) in other.Gradients)
                GraphModelTestSupport.AssertClose(grad, pathGates.Gradients[name], 1e-12, 1e-10, $"{form}: gradient of {name}");
        }
    }

    [Fact]
    public void SamplesCarryDegreesAndAllFourPreparations()
    {
        // Triangle 0-1-2 plus a pendant 3 on node 2, edges listed both ways with a repeat and a self-loop.
        var sample = new GraphSample(4, [(0, 1), (1, 0), (1, 2), (2, 1), (0, 2), (2, 0), (2, 3), (3, 2), (2, 3), (3, 3)],
            new float[4], 1, label: 1);
        Assert.Equal(new[] { 2, 2, 3, 1 }, sample.InDegree);
        Assert.Equal(GraphMode.P, sample.ForwardP.Mode);
        Assert.Equal(GraphMode.D, sample.ReverseD.Mode);
        Assert.All(sample.ForwardP.Edges, e => Assert.True(e.Tail < e.Head));
        Assert.All(sample.ReverseP.Edges, e => Assert.True(e.Tail > e.Head));
        Assert.Equal(4, sample.ForwardP.EdgeCount);
        // Line edges (0→1, 1→2), (0→2, 2→3), (1→2, 2→3).
        Assert.Equal(3, sample.ForwardP.LineEdgeCount);
        // A diamond 1 → {2, 3} → 4 between 0→1 and 4→5 gives two line-graph paths; D-mode prunes one line edge.
        var diamond = new GraphSample(6, [(0, 1), (1, 2), (1, 3), (2, 4), (3, 4), (4, 5)], new float[6], 1);
        Assert.Equal(6, diamond.ForwardP.LineEdgeCount);
        Assert.Equal(5, diamond.ForwardD.LineEdgeCount);
        Assert.Equal(6, diamond.ReverseP.LineEdgeCount);
        Assert.Equal(5, diamond.ReverseD.LineEdgeCount);
    }

    [Fact]
    public void DegreeEncodingIsTheTransformerSinusoid()
    {
        var enc = PlstmGraphModel.DegreeEncoding(tensor(new[] { 0.0, 3.0 }), 6);
        Assert.Equal(new long[] { 2, 6 }, enc.shape);
        for (int i = 0; i < 3; i++)
        {
            double w = Math.Pow(10000, -2.0 * i / 6);
            Assert.Equal(0.0, enc[0, 2 * i].item<double>(), 12);
            Assert.Equal(1.0, enc[0, 2 * i + 1].item<double>(), 12);
            Assert.Equal(Math.Sin(3 * w), enc[1, 2 * i].item<double>(), 12);
            Assert.Equal(Math.Cos(3 * w), enc[1, 2 * i + 1].item<double>(), 12);
        }
    }
}
