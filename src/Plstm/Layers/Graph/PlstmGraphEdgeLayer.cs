using Plstm.Blocks;
using Plstm.Data.Graphs;
using Plstm.Ops.Graph;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static Plstm.Layers.Dtypes;

namespace Plstm.Layers.Graph;

/// <summary>
/// The edge-wise graph pLSTM layer (reference <c>pLSTMGraphEdgeLayer</c>, models §5.3, <c>docs/graphs.md</c>). Input:
/// node features <c>x [N, D]</c>, edge features <c>[E, De]</c> (one row per DAG edge, in the prepared graph's processing
/// order) and the prepared graph (or a batch's union). Output <c>[N, D]</c>.
/// </summary>
/// <remarks>
/// <para>With e = (u → w) a DAG edge and e′ = (p → u) → e a line edge, per head:
/// q, k, v = Linear D→D (bias) of x, split into H heads of D/H;
/// <c>S_e = σ(source[x_u ‖ f_e])</c>, <c>M_e = σ(mark[x_w ‖ f_e])</c>, <c>D_n = σ(direct x_n)</c>;
/// <c>raw_{e′→e} = transition[f_e′ ‖ f_e ‖ x_c]</c> with c = u (<see cref="GraphTransitionInput.SharedNode"/>, default) or
/// c = p (<see cref="GraphTransitionInput.Reference"/>). D-mode: <c>T = tanh(raw)</c>. P-mode: <c>T = raw / (0.5 + Σ|raw|)</c>
/// over the line edges leaving the same incoming edge e′ (<see cref="GraphPNormalization.PerIncomingEdge"/>, default, the
/// paper's) or entering the same target edge e (<see cref="GraphPNormalization.PerTargetEdge"/>, the reference's). Then
/// the edge-wise operator (no QK scale), a per-head RMS norm (scale <c>[H, D/H]</c>), heads concatenated, Linear D→D
/// (bias).</para>
/// <para>Parameters (reference names, registration order): <c>query</c>, <c>key</c>, <c>value_</c> (D→D),
/// <c>source</c>, <c>transition</c>, <c>mark</c>, <c>direct</c> (→H), <c>mhnorm.scale</c>, <c>out</c> (D→D); all Linear
/// layers with bias. Count: <c>4(D² + D) + 2((D+De)H + H) + (2De + D)H + H + DH + H + D</c> (40,432 for D = De = 96,
/// H = 4). Init: q/k/v/out weights SmallInit (fan D), their biases PyTorch's default; source/mark/direct weights 0 and
/// biases −5; transition weight 0 and bias Normal(0, 10).</para>
/// </remarks>
public sealed class PlstmGraphEdgeLayer : nn.Module<Tensor, Tensor, PreparedGraph, Tensor>
{
    // Field names are the reference state_dict names (TorchSharp registers fields under their names), in the reference's
    // registration order. Not readonly: Module.to(dtype/device) replaces parameters through the fields.
    private Linear query;
    private Linear key;
    private Linear value_;
    private Linear source;
    private Linear transition;
    private Linear mark;
    private Linear direct;
    private MultiHeadRmsNorm mhnorm;
    private Linear @out;

    /// <summary>Creates the layer with reference-initialised parameters (float32, CPU).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="config">Settings; validated here.</param>
    /// <exception cref="ArgumentException">A setting is invalid (the parameter name says which).</exception>
    public PlstmGraphEdgeLayer(string name, PlstmGraphEdgeLayerConfig config) : base(name)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        int d = config.InputDim, de = config.EffectiveEdgeInputDim, h = config.NumHeads;
        query = nn.Linear(d, d, hasBias: true);
        key = nn.Linear(d, d, hasBias: true);
        value_ = nn.Linear(d, d, hasBias: true);
        source = nn.Linear(d + de, h, hasBias: true);
        transition = nn.Linear(d + 2 * de, h, hasBias: true);
        mark = nn.Linear(d + de, h, hasBias: true);
        direct = nn.Linear(d, h, hasBias: true);
        mhnorm = new MultiHeadRmsNorm("mhnorm", h, config.HeadDim, config.NormEps);
        @out = nn.Linear(d, d, hasBias: true);
        RegisterComponents();
        ResetParameters();
    }

    /// <summary>The settings.</summary>
    public PlstmGraphEdgeLayerConfig Config { get; }

    /// <summary>Re-draws every parameter with the reference's initialisation (q/k/v/out biases: PyTorch's default
    /// uniform(±1/√D)).</summary>
    public void ResetParameters()
    {
        using var noGrad = no_grad();
        long d = Config.InputDim;
        double bound = 1.0 / Math.Sqrt(d);
        foreach (var linear in new[] { query, key, value_, @out })
        {
            Initializers.SmallInit(linear.weight!, fan: d);
            linear.bias!.uniform_(-bound, bound);
        }
        foreach (var gate in new[] { source, mark, direct })
        {
            Initializers.Zeros(gate.weight!);
            Initializers.Constant(gate.bias!, Config.GateBiasInit);
        }
        Initializers.Zeros(transition.weight!);
        transition.bias!.normal_(0.0, Config.TransitionBiasStd);
        mhnorm.ResetParameters();
    }

    /// <summary><c>x [N, D]</c>, <c>edgeFeatures [E, De]</c> (processing order of <paramref name="graph"/>) →
    /// <c>[N, D]</c>.</summary>
    /// <exception cref="ArgumentException">A shape does not fit the graph or the layer (the message names it).</exception>
    public override Tensor forward(Tensor x, Tensor edgeFeatures, PreparedGraph graph)
    {
        using var scope = NewDisposeScope();
        // A compute dtype other than the input's (the reference's autocast, ComputeDtype): the layer's input cast here,
        // its weights where they are used, its output back.
        var compute = Config.ComputeDtype ?? x.dtype;
        var xc = Cast(x, compute);
        var inputs = Gates(xc, Cast(edgeFeatures, compute), graph);
        var y = Config.Form switch                                                       // [H, N, DH]
        {
            GraphOperatorForm.Naive => PlstmGraphNaive.Forward(inputs, graph),
            GraphOperatorForm.Levels => PlstmGraphLevels.Forward(inputs, graph),
            GraphOperatorForm.Scan => GraphLevelScan.Forward(inputs, graph),
            _ => PlstmGraphPathGates.Forward(inputs, graph),
        };
        var normed = mhnorm.forward(y.permute(1, 0, 2));                                 // [N, H, DH]
        var projected = nn.functional.linear(normed.reshape(x.shape[0], Config.InputDim), Cast(@out.weight!, compute),
            Cast(@out.bias!, compute));                                                  // [N, D]
        return Cast(projected, x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Runs the layer on the union of a batch of graphs (x and edge features over the union's nodes and
    /// edges, see <see cref="PreparedGraphBatch"/>).</summary>
    public Tensor forward(Tensor x, Tensor edgeFeatures, PreparedGraphBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return forward(x, edgeFeatures, batch.Union);
    }

    /// <summary>
    /// The operator inputs the layer computes from its input (q, k, v <c>[H, N, D/H]</c>, s, m <c>[H, E]</c>, normalised
    /// t <c>[H, L]</c>, d <c>[H, N]</c>), before the operator runs. Differentiable.
    /// </summary>
    /// <exception cref="ArgumentException">A shape does not fit the graph or the layer.</exception>
    public PlstmGraphInputs Gates(Tensor x, Tensor edgeFeatures, PreparedGraph graph)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(edgeFeatures);
        ArgumentNullException.ThrowIfNull(graph);
        CheckShapes(x, edgeFeatures, graph);
        using var scope = NewDisposeScope();
        long n = x.shape[0];
        int h = Config.NumHeads, dh = Config.HeadDim, dx = Config.InputDim, de = Config.EffectiveEdgeInputDim;
        var device = x.device;
        var tails = Index(graph.Edges.Select(e => e.Tail), device);
        var heads = Index(graph.Edges.Select(e => e.Head), device);
        var preds = Index(graph.LineEdges.Select(l => l.Pred), device);
        var succs = Index(graph.LineEdges.Select(l => l.Succ), device);
        var nodes = Index(graph.LineEdges.Select(l => Config.TransitionInput == GraphTransitionInput.SharedNode
            ? graph.Edges[l.Succ].Tail
            : graph.Edges[l.Pred].Tail), device);

        // Each gate is a Linear of concatenated rows, e.g. source[x_u ‖ f_e] = W_x x_u + W_f f_e + b, and W_x x_u is row
        // u of x W_xᵀ. So every projection of x (q, k, v and the node parts of the gates) is one GEMM over the nodes,
        // every projection of the edge features one GEMM over the edges, and the gates gather H-wide rows of them. The
        // same sums as projecting gathered D-wide rows, but the gathers and their backward (a scatter-add per row) move H
        // instead of D values per edge or line edge (those had been most of the layer's cost), and two wide GEMMs run a
        // few per cent faster than eleven narrow ones. Parameters stay the reference's separate Linear layers; each gate's
        // bias is added once, on one of its parts (zeros on the other).
        // The stacked weights in x's dtype (the layer's compute dtype, see forward).
        var noBias = zeros(new long[] { 2 * h }, dtype: query.bias!.dtype, device: device);
        var nodeProjection = nn.functional.linear(x,
            Cast(cat([query.weight!, key.weight!, value_.weight!, source.weight!.narrow(1, 0, dx), mark.weight!.narrow(1, 0, dx),
                transition.weight!.narrow(1, 2 * de, dx), direct.weight!], 0), x.dtype),
            Cast(cat([query.bias!, key.bias!, value_.bias!, noBias, transition.bias!, direct.bias!], 0), x.dtype)); // [N, 3D + 4H]
        var edgeProjection = nn.functional.linear(edgeFeatures,
            Cast(cat([source.weight!.narrow(1, dx, de), mark.weight!.narrow(1, dx, de), transition.weight!.narrow(1, 0, de),
                transition.weight!.narrow(1, de, de)], 0), x.dtype),
            Cast(cat([source.bias!, mark.bias!, noBias], 0), x.dtype));                                  // [E, 4H]
        // One split each (not a narrow per part): its backward assembles the gradient in one tensor.
        var nodeParts = nodeProjection.split([dx, dx, dx, h, h, h, h], 1);  // q, k, v; source, mark, transition, direct
        var edgeParts = edgeProjection.split([h, h, h, h], 1);              // source, mark; transition pred, succ part
        Tensor Heads(Tensor t) => t.reshape(n, h, dh).permute(1, 0, 2);                  // [N, D] → [H, N, DH]
        var q = Heads(nodeParts[0]);
        var k = Heads(nodeParts[1]);
        var v = Heads(nodeParts[2]);
        var s = sigmoid(nodeParts[3].index_select(0, tails) + edgeParts[0]).t();                 // [H, E]
        var m = sigmoid(nodeParts[4].index_select(0, heads) + edgeParts[1]).t();                 // [H, E]
        var d = sigmoid(nodeParts[6]).t();                                                        // [H, N]
        var raw = (edgeParts[2].index_select(0, preds) + edgeParts[3].index_select(0, succs)
                 + nodeParts[5].index_select(0, nodes)).t();                                      // [H, L]
        var t = NormalizeTransitions(raw, graph, Config.Mode, Config.PNormalization);
        var result = new PlstmGraphInputs(q, k, v, s, t, m, d);
        foreach (var tensor in new[] { q, k, v, s, t, m, d }) tensor.MoveToOuterDisposeScope();
        return result;
    }

    /// <summary>
    /// The transition activation of a graph layer: D-mode <c>tanh(raw)</c>; P-mode
    /// <c>raw / (0.5 + Σ_group |raw|)</c> with the group chosen by <paramref name="normalization"/> (line edges with the
    /// same predecessor edge, or with the same successor edge). <paramref name="raw"/> is <c>[H, L]</c>.
    /// </summary>
    public static Tensor NormalizeTransitions(Tensor raw, PreparedGraph graph, GraphMode mode,
        GraphPNormalization normalization = GraphPNormalization.PerIncomingEdge)
    {
        ArgumentNullException.ThrowIfNull(raw);
        ArgumentNullException.ThrowIfNull(graph);
        if (raw.ndim != 2 || raw.shape[1] != graph.LineEdgeCount)
            throw new ArgumentException(
                $"raw transitions: expected shape [H, L={graph.LineEdgeCount}], got [{string.Join(", ", raw.shape)}].",
                nameof(raw));
        if (mode == GraphMode.D) return tanh(raw);
        using var scope = NewDisposeScope();
        var group = Index(graph.LineEdges.Select(l => normalization == GraphPNormalization.PerIncomingEdge ? l.Pred : l.Succ),
            raw.device);
        var sums = zeros(new[] { raw.shape[0], (long)graph.EdgeCount }, dtype: raw.dtype, device: raw.device)
            .index_add(1, group, raw.abs(), alpha: 1);                                           // [H, E]
        return (raw / (sums.index_select(1, group) + 0.5)).MoveToOuterDisposeScope();
    }

    /// <summary>The TU model's edge features: the mean of the two endpoint features, <c>(x_tail + x_head) / 2</c>, one
    /// row per edge of <paramref name="graph"/> in processing order.</summary>
    public static Tensor MeanEndpointFeatures(Tensor x, PreparedGraph graph)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(graph);
        if (x.ndim != 2 || x.shape[0] != graph.NodeCount)
            throw new ArgumentException(
                $"x: expected shape [N={graph.NodeCount}, D], got [{string.Join(", ", x.shape)}].", nameof(x));
        using var scope = NewDisposeScope();
        var tails = Index(graph.Edges.Select(e => e.Tail), x.device);
        var heads = Index(graph.Edges.Select(e => e.Head), x.device);
        return ((x.index_select(0, tails) + x.index_select(0, heads)) * 0.5).MoveToOuterDisposeScope();
    }

    private void CheckShapes(Tensor x, Tensor edgeFeatures, PreparedGraph graph)
    {
        if (x.ndim != 2 || x.shape[0] != graph.NodeCount || x.shape[1] != Config.InputDim)
            throw new ArgumentException(
                $"x: expected shape [N={graph.NodeCount}, D={Config.InputDim}], got [{string.Join(", ", x.shape)}].", nameof(x));
        if (edgeFeatures.ndim != 2 || edgeFeatures.shape[0] != graph.EdgeCount
            || edgeFeatures.shape[1] != Config.EffectiveEdgeInputDim)
            throw new ArgumentException(
                $"edgeFeatures: expected shape [E={graph.EdgeCount}, De={Config.EffectiveEdgeInputDim}], got [{string.Join(", ", edgeFeatures.shape)}].",
                nameof(edgeFeatures));
        if (edgeFeatures.dtype != x.dtype || edgeFeatures.device_type != x.device_type
            || edgeFeatures.device_index != x.device_index)
            throw new ArgumentException(
                $"edgeFeatures must have x's dtype and device ({x.dtype}, {x.device}), got {edgeFeatures.dtype}, {edgeFeatures.device}.",
                nameof(edgeFeatures));
    }

    // TorchSharp's index ops take int64; widening in libtorch is several times faster than a managed long[] copy.
    private static Tensor Index(IEnumerable<int> values, Device device) =>
        tensor(values.ToArray(), device: device).to_type(ScalarType.Int64);
}
