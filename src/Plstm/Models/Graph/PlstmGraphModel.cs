using Plstm.Layers.Graph;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Models.Graph;

/// <summary>
/// The pLSTM graph classifier of the TU experiments (models §5.4, <c>docs/graphs.md</c>):
/// <list type="number">
/// <item>node encoder Linear(F → D), plus a sinusoidal encoding of each node's in-degree (sin on even, cos on odd
/// channels, frequencies <c>base^(−2i/D)</c>);</item>
/// <item>edge features = mean of the two endpoint embeddings, computed once from this embedding and shared by all
/// blocks;</item>
/// <item><see cref="PlstmGraphModelConfig.NumBlocks"/> <see cref="PlstmGraphBlock"/>s (P layer on the P-prepared, D layer
/// on the D-prepared graph); even blocks on the forward DAG (edges from lower to higher node id), odd blocks on the
/// reversed DAG;</item>
/// <item>mean pooling over each graph's nodes; decoder Linear(D, D)–ReLU–Linear(D, C) → logits <c>[B, C]</c>.</item>
/// </list>
/// No final norm. Parameters (reference names): <c>node_encoder.*</c>, <c>node_convs.{i}.block{0,1}.*</c>,
/// <c>decoder.0.*</c>, <c>decoder.2.*</c>; 469,602 for MUTAG (F = 7, C = 2).
/// </summary>
public sealed class PlstmGraphModel : nn.Module<GraphBatch, Tensor>
{
    private Linear node_encoder;
    private ModuleList<PlstmGraphBlock> node_convs;
    private Sequential decoder;

    /// <summary>Creates the model (float32, CPU; PyTorch default init for encoder and decoder).</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public PlstmGraphModel(string name, PlstmGraphModelConfig config) : base(name)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        int d = config.HiddenDim;
        node_encoder = nn.Linear(config.InputFeatures, d, hasBias: true);
        node_convs = nn.ModuleList(Enumerable.Range(0, config.NumBlocks).Select(i => new PlstmGraphBlock(
            i.ToString(System.Globalization.CultureInfo.InvariantCulture), d, config.NumHeads,
            c => c with
            {
                TransitionInput = config.TransitionInput, PNormalization = config.PNormalization, Form = config.Form,
                ComputeDtype = config.ComputeDtype,
            }))
            .ToArray());
        decoder = nn.Sequential(("0", nn.Linear(d, d)), ("1", nn.ReLU()), ("2", nn.Linear(d, config.NumClasses)));
        RegisterComponents();
    }

    /// <summary>The settings.</summary>
    public PlstmGraphModelConfig Config { get; }

    /// <summary>The graph blocks.</summary>
    public IReadOnlyList<PlstmGraphBlock> Blocks => node_convs.ToArray();

    /// <summary>Logits <c>[B, C]</c> for the graphs of <paramref name="batch"/>.</summary>
    /// <exception cref="ArgumentException">The batch's feature width differs from the model's.</exception>
    public override Tensor forward(GraphBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.NodeFeatures.shape[1] != Config.InputFeatures)
            throw new ArgumentException(
                $"The batch has {batch.NodeFeatures.shape[1]} node features, the model expects {Config.InputFeatures}.",
                nameof(batch));
        using var scope = NewDisposeScope();
        var embedding = NodeEmbedding(batch);                                            // [N, D]
        // Edge features come from the embedding once and are shared by all blocks (as in the reference).
        GraphEdgeInput Input(Data.Graphs.PreparedGraphBatch graphs) =>
            new(graphs.Union, PlstmGraphEdgeLayer.MeanEndpointFeatures(embedding, graphs.Union));
        GraphEdgeInput? forwardP = null, forwardD = null, reverseP = null, reverseD = null;
        var x = embedding;
        for (int i = 0; i < node_convs.Count; i++)
        {
            if (i % 2 == 0)
            {
                forwardP ??= Input(batch.ForwardP);
                forwardD ??= Input(batch.ForwardD);
                x = node_convs[i].forward(x, forwardP, forwardD);
            }
            else
            {
                reverseP ??= Input(batch.ReverseP);
                reverseD ??= Input(batch.ReverseD);
                x = node_convs[i].forward(x, reverseP, reverseD);
            }
        }
        var pooled = zeros(new[] { (long)batch.Count, x.shape[1] }, dtype: x.dtype, device: x.device)
            .index_add(0, batch.NodeGraphIndex, x, alpha: 1) / batch.NodeCounts.unsqueeze(1).clamp_min(1);  // [B, D]
        return decoder.forward(pooled).MoveToOuterDisposeScope();
    }

    /// <summary>The node embedding before the blocks: <c>node_encoder(features) + DegreeEncoding(in-degree)</c>,
    /// <c>[N, D]</c>.</summary>
    public Tensor NodeEmbedding(GraphBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        var features = batch.NodeFeatures.to_type(node_encoder.weight!.dtype);
        var x = node_encoder.forward(features) + DegreeEncoding(batch.InDegree.to_type(features.dtype), Config.HiddenDim,
            Config.DegreeEncodingBase);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The transformer-style sinusoidal encoding of a per-node count <paramref name="degree"/> <c>[N]</c>:
    /// channel 2i = sin(deg·ω_i), channel 2i + 1 = cos(deg·ω_i), ω_i = base^(−2i/width). <c>[N, width]</c>.
    /// </summary>
    public static Tensor DegreeEncoding(Tensor degree, int width, double encodingBase = 10000.0)
    {
        ArgumentNullException.ThrowIfNull(degree);
        if (width <= 0 || width % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(width), width, "width must be positive and even");
        using var scope = NewDisposeScope();
        var frequencies = exp(arange(0, width, 2, dtype: degree.dtype, device: degree.device)
            * (-Math.Log(encodingBase) / width));                                        // [width/2]
        var angles = degree.unsqueeze(1) * frequencies.unsqueeze(0);                     // [N, width/2]
        var encoding = stack([sin(angles), cos(angles)], 2).reshape(degree.shape[0], width); // interleaved sin, cos
        return encoding.MoveToOuterDisposeScope();
    }
}
