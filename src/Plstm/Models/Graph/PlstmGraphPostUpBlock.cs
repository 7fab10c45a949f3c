using Plstm.Blocks;
using Plstm.Data.Graphs;
using Plstm.Layers.Graph;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Models.Graph;

/// <summary>
/// The PostUp residual block (models §6.1) around a <see cref="PlstmGraphEdgeLayer"/>:
/// <c>x2 = x + Layer(RMSNorm(x), f, graph)</c>, <c>y = x2 + Down(GELU(Up(RMSNorm₂(x2))))</c>. The edge features f are
/// passed to the layer as given (not normalised), as in the reference. Drop path is left out: the graph configs use
/// rate 0 (the reference's would drop per node, its first axis).
/// </summary>
/// <remarks>Reference names: <c>norm.scale</c>, <c>norm2.scale</c>, <c>upproj.*</c>, <c>interaction_module.*</c>,
/// <c>downproj.*</c>; wrapper parameters <c>8D² + 7D</c> for inner 4D (74,400 for D = 96).</remarks>
public sealed class PlstmGraphPostUpBlock : nn.Module<Tensor, Tensor, PreparedGraph, Tensor>
{
    // Field names are the reference state_dict names, in its registration order (TorchSharp registers fields).
    private RmsNorm norm;
    private RmsNorm norm2;
    private Linear upproj;
    private PlstmGraphEdgeLayer interaction_module;
    private Linear downproj;

    /// <summary>Creates the block with a new layer built from <paramref name="layerConfig"/>.</summary>
    public PlstmGraphPostUpBlock(string name, PlstmGraphEdgeLayerConfig layerConfig, double normEps = 1e-5) : base(name)
    {
        ArgumentNullException.ThrowIfNull(layerConfig);
        norm = new RmsNorm("norm", layerConfig.InputDim, normEps);
        norm2 = new RmsNorm("norm2", layerConfig.InputDim, normEps);
        (upproj, downproj) = Mlp.CreateProjections(layerConfig.InputDim);
        interaction_module = new PlstmGraphEdgeLayer("interaction_module", layerConfig);
        RegisterComponents();
    }

    /// <summary>The wrapped graph layer.</summary>
    public PlstmGraphEdgeLayer Layer => interaction_module;

    /// <summary><c>x [N, D]</c>, edge features <c>[E, De]</c> of <paramref name="graph"/> → <c>[N, D]</c>.</summary>
    public override Tensor forward(Tensor x, Tensor edgeFeatures, PreparedGraph graph)
    {
        ArgumentNullException.ThrowIfNull(x);
        using var scope = NewDisposeScope();
        var x2 = x + interaction_module.forward(norm.forward(x), edgeFeatures, graph);
        var y = x2 + Mlp.Apply(norm2.forward(x2), upproj, downproj);
        return y.MoveToOuterDisposeScope();
    }
}

/// <summary>A prepared graph (or a batch's union) with the edge features of its edges, in its processing order.</summary>
/// <param name="Graph">The prepared graph.</param>
/// <param name="EdgeFeatures">Edge features <c>[E, De]</c>, row i for <c>Graph.Edges[i]</c>.</param>
public sealed record GraphEdgeInput(PreparedGraph Graph, Tensor EdgeFeatures);

/// <summary>
/// One graph block (reference <c>pLSTMGraphEdgeBlock</c>, models §5.4): a PostUp block with a P-mode edge layer
/// (<c>block0</c>) followed by one with a D-mode edge layer (<c>block1</c>). The P layer runs on the P-prepared graph (full
/// line graph), the D layer on the D-prepared one (multitree): the evident intent of the reference, whose model passes
/// <c>graph_P</c>/<c>graph_D</c> arguments its block does not accept. Parameters 229,664 for D = 96, H = 4.
/// </summary>
public sealed class PlstmGraphBlock : nn.Module<Tensor, GraphEdgeInput, GraphEdgeInput, Tensor>
{
    private PlstmGraphPostUpBlock block0;
    private PlstmGraphPostUpBlock block1;

    /// <summary>Creates the P/D block pair.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="dim">Width D.</param>
    /// <param name="numHeads">Heads H.</param>
    /// <param name="configure">Optional change applied to both layer configs (their mode is set afterwards).</param>
    public PlstmGraphBlock(string name, int dim, int numHeads,
        Func<PlstmGraphEdgeLayerConfig, PlstmGraphEdgeLayerConfig>? configure = null) : base(name)
    {
        PlstmGraphEdgeLayerConfig Make(GraphMode mode)
        {
            var config = new PlstmGraphEdgeLayerConfig(dim, numHeads, mode);
            return (configure?.Invoke(config) ?? config) with { Mode = mode };
        }
        block0 = new PlstmGraphPostUpBlock("block0", Make(GraphMode.P));
        block1 = new PlstmGraphPostUpBlock("block1", Make(GraphMode.D));
        RegisterComponents();
    }

    /// <summary>The P-mode PostUp block.</summary>
    public PlstmGraphPostUpBlock PBlock => block0;

    /// <summary>The D-mode PostUp block.</summary>
    public PlstmGraphPostUpBlock DBlock => block1;

    /// <summary><c>x [N, D]</c> → <c>[N, D]</c>: the P block on <paramref name="p"/>, then the D block on
    /// <paramref name="d"/> (both over the same nodes).</summary>
    public override Tensor forward(Tensor x, GraphEdgeInput p, GraphEdgeInput d)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(d);
        using var scope = NewDisposeScope();
        var y = block0.forward(x, p.EdgeFeatures, p.Graph);
        return block1.forward(y, d.EdgeFeatures, d.Graph).MoveToOuterDisposeScope();
    }
}
