using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Plstm.Blocks;

/// <summary>
/// Pre-norm transformer block of the ViT baseline (models §6.5, the reference's <c>TransformerBlock</c>):
/// <c>x2 = x + DropPath(γ₁ ⊙ Out(MHSA(RMSNorm(x))))</c>, <c>y = x2 + DropPath(γ₂ ⊙ Down(GELU(Up(RMSNorm₂(x2)))))</c>.
/// MHSA: one Linear D→3D (with bias) split into q, k, v; H heads of D/H; softmax(q·kᵀ/√(D/H)) without dropout,
/// computed by the fused <c>scaled_dot_product_attention</c>; out Linear D→D with bias. No mask for the ViT; with
/// <c>causal</c> (the language-model baseline) token t attends to tokens 0…t only.
/// </summary>
/// <remarks>
/// Reference names: <c>norm.scale</c>, <c>norm2.scale</c>, <c>scale.scale</c>, <c>scale2.scale</c>,
/// <c>qkv.{weight,bias}</c>, <c>outproj.{weight,bias}</c>, <c>upproj.{weight,bias}</c>, <c>downproj.{weight,bias}</c>;
/// <c>12D² + 13D</c> parameters for inner = 4D. LayerScale γ₁, γ₂ are always present (init 1 in <c>vit.yaml</c>).
/// Init: qkv, out, up, down weights SmallInit with fan = in_features; all biases 0.
/// </remarks>
public sealed class TransformerBlock : nn.Module<Tensor, Tensor>
{
    // Each module field carries its registered (reference) name: TorchSharp's field scan would otherwise register
    // it a second time under the C# field name and the state_dict keys would change.
    [ComponentName(Name = "norm")]
    private readonly RmsNorm _norm;
    [ComponentName(Name = "norm2")]
    private readonly RmsNorm _norm2;
    [ComponentName(Name = "scale")]
    private readonly LayerScale _scale;
    [ComponentName(Name = "scale2")]
    private readonly LayerScale _scale2;
    [ComponentName(Name = "drop_path")]
    private readonly DropPath _dropPath;
    [ComponentName(Name = "qkv")]
    private readonly Linear _qkv;
    [ComponentName(Name = "outproj")]
    private readonly Linear _out;
    [ComponentName(Name = "upproj")]
    private readonly Linear _up;
    [ComponentName(Name = "downproj")]
    private readonly Linear _down;

    /// <summary>Creates a block of width <paramref name="dim"/> with <paramref name="numHeads"/> heads.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="dim">Model width D (a multiple of <paramref name="numHeads"/>).</param>
    /// <param name="numHeads">Attention heads H.</param>
    /// <param name="dropPathRate">Drop-path probability of both branches.</param>
    /// <param name="layerScaleInit">Init value of γ₁, γ₂.</param>
    /// <param name="normEps">Epsilon of both RMS norms.</param>
    /// <param name="causal">Causal self-attention along the token axis (language models); false for the ViT.</param>
    public TransformerBlock(string name, long dim, int numHeads, double dropPathRate = 0.0, double layerScaleInit = 1.0,
        double normEps = 1e-5, bool causal = false) : base(name)
    {
        if (dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, "dim must be positive");
        if (numHeads <= 0 || dim % numHeads != 0)
            throw new ArgumentException($"dim {dim} must be a positive multiple of the head count {numHeads}.", nameof(numHeads));
        Dim = dim;
        NumHeads = numHeads;
        Causal = causal;
        _norm = new RmsNorm("norm", dim, normEps);
        _norm2 = new RmsNorm("norm2", dim, normEps);
        _scale = new LayerScale("scale", dim, layerScaleInit);
        _scale2 = new LayerScale("scale2", dim, layerScaleInit);
        _dropPath = new DropPath("drop_path", dropPathRate);
        _qkv = nn.Linear(dim, 3 * dim, hasBias: true);
        _out = nn.Linear(dim, dim, hasBias: true);
        Initializers.SmallInit(_qkv.weight!, fan: dim);
        Initializers.Zeros(_qkv.bias!);
        Initializers.SmallInit(_out.weight!, fan: dim);
        Initializers.Zeros(_out.bias!);
        (_up, _down) = Mlp.CreateProjections(dim);
        // Registration order = the reference's state_dict order.
        register_module("norm", _norm);
        register_module("norm2", _norm2);
        register_module("scale", _scale);
        register_module("scale2", _scale2);
        register_module("drop_path", _dropPath);
        register_module("qkv", _qkv);
        register_module("outproj", _out);
        register_module("upproj", _up);
        register_module("downproj", _down);
    }

    /// <summary>Model width D.</summary>
    public long Dim { get; }

    /// <summary>True when token t attends to tokens 0…t only.</summary>
    public bool Causal { get; }

    /// <summary>Number of attention heads H.</summary>
    public int NumHeads { get; }

    /// <summary>
    /// <c>[B, …, D]</c> → same shape. All axes between the batch and the channel axis are flattened into one token
    /// axis for attention (every token attends to every token).
    /// </summary>
    public override Tensor forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.ndim < 3 || x.shape[^1] != Dim)
            throw new ArgumentException(
                $"TransformerBlock expects [B, N, {Dim}] (or [B, …, {Dim}]), got [{string.Join(", ", x.shape)}].", nameof(x));
        using var scope = NewDisposeScope();
        long batch = x.shape[0];
        long headDim = Dim / NumHeads;
        var h = _norm.forward(x).reshape(batch, -1, Dim);                                // [B, N, D]
        var qkv = Layers.Dtypes.LinearIn(h, _qkv);                                       // [B, N, 3D]
        Tensor Heads(Tensor t) => t.reshape(batch, -1, NumHeads, headDim).transpose(1, 2); // [B, H, N, D/H]
        var q = Heads(qkv.narrow(-1, 0, Dim));
        var k = Heads(qkv.narrow(-1, Dim, Dim));
        var v = Heads(qkv.narrow(-1, 2 * Dim, Dim));
        // TorchSharp 0.107 spells PyTorch's is_causal "is_casual".
        var attended = nn.functional.scaled_dot_product_attention(q, k, v, is_casual: Causal); // [B, H, N, D/H]
        var merged = attended.transpose(1, 2).reshape(x.shape);                         // [B, …, D]
        var x2 = x + _dropPath.forward(_scale.forward(Layers.Dtypes.LinearIn(merged, _out)));
        var y = _scale2.forward(Mlp.Apply(_norm2.forward(x2), _up, _down));
        return (x2 + _dropPath.forward(y)).MoveToOuterDisposeScope();
    }
}
