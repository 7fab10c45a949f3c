using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Plstm.Blocks;

/// <summary>
/// Pre-norm residual block with the MLP after the interaction layer (models §6.1):
/// <c>x2 = x + DropPath(γ₁ ⊙ Layer(RMSNorm(x)))</c>, <c>y = x2 + DropPath(γ₂ ⊙ Down(GELU(Up(RMSNorm₂(x2)))))</c>,
/// where γ₁, γ₂ exist only with LayerScale on. Not gated. The layer may be any <c>[…, D] → […, D]</c> module
/// (a fused pLSTM 2D layer in every vision config).
/// </summary>
/// <remarks>
/// Reference names (<c>PostUpProjectionBlock</c>): <c>norm.scale</c>, <c>norm2.scale</c>, <c>upproj.{weight,bias}</c>,
/// <c>interaction_module.*</c>, <c>downproj.{weight,bias}</c>, and with LayerScale <c>scale1.scale</c>,
/// <c>scale2.scale</c>. The wrapper's own parameters number <c>8D² + 7D</c> for inner = 4D (296,256 for D = 192).
/// The two drop paths draw independent masks.
/// </remarks>
public sealed class PostUpProjectionBlock : nn.Module<Tensor, Tensor>
{
    // Each module field carries its registered (reference) name: TorchSharp's field scan would otherwise register
    // it a second time under the C# field name and the state_dict keys would change.
    [ComponentName(Name = "norm")]
    private readonly RmsNorm _norm;
    [ComponentName(Name = "norm2")]
    private readonly RmsNorm _norm2;
    [ComponentName(Name = "drop_path")]
    private readonly DropPath _dropPath;
    [ComponentName(Name = "upproj")]
    private readonly Linear _up;
    [ComponentName(Name = "interaction_module")]
    private readonly nn.Module<Tensor, Tensor> _layer;
    [ComponentName(Name = "downproj")]
    private readonly Linear _down;
    [ComponentName(Name = "scale1")]
    private readonly LayerScale? _scale1;
    [ComponentName(Name = "scale2")]
    private readonly LayerScale? _scale2;

    /// <summary>Wraps <paramref name="layer"/> (which the block then owns) into the PostUp residual block.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="dim">Model width D.</param>
    /// <param name="layer">The interaction layer, <c>[…, D] → […, D]</c>, registered as <c>interaction_module</c>.</param>
    /// <param name="dropPathRate">Drop-path probability of both branches.</param>
    /// <param name="layerScaleInit">Null: no LayerScale (the reference default). Otherwise γ₁, γ₂ are created with
    /// this init value (1e-4 in the "_scale" configs).</param>
    /// <param name="normEps">Epsilon of both RMS norms.</param>
    public PostUpProjectionBlock(string name, long dim, nn.Module<Tensor, Tensor> layer, double dropPathRate = 0.0,
        double? layerScaleInit = null, double normEps = 1e-5) : base(name)
    {
        ArgumentNullException.ThrowIfNull(layer);
        Dim = dim;
        _norm = new RmsNorm("norm", dim, normEps);
        _norm2 = new RmsNorm("norm2", dim, normEps);
        _dropPath = new DropPath("drop_path", dropPathRate);
        (_up, _down) = Mlp.CreateProjections(dim);
        _layer = layer;
        // Registration order = the reference's state_dict order.
        register_module("norm", _norm);
        register_module("norm2", _norm2);
        register_module("drop_path", _dropPath);
        register_module("upproj", _up);
        register_module("interaction_module", _layer);
        register_module("downproj", _down);
        if (layerScaleInit is double init)
        {
            _scale1 = new LayerScale("scale1", dim, init);
            _scale2 = new LayerScale("scale2", dim, init);
            register_module("scale1", _scale1);
            register_module("scale2", _scale2);
        }
    }

    /// <summary>Model width D.</summary>
    public long Dim { get; }

    /// <summary>The wrapped interaction layer.</summary>
    public nn.Module<Tensor, Tensor> Layer => _layer;

    /// <summary>True when the block carries LayerScale parameters.</summary>
    public bool HasLayerScale => _scale1 is not null;

    /// <summary><c>[B, …, D]</c> → <c>[B, …, D]</c> (for the vision layers <c>[B, X, Y, D]</c>).</summary>
    public override Tensor forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        using var scope = NewDisposeScope();
        var y1 = _layer.forward(_norm.forward(x));                                       // [B, X, Y, D]
        if (_scale1 is not null) y1 = _scale1.forward(y1);
        var x2 = x + _dropPath.forward(y1);                                              // [B, X, Y, D]
        var y2 = Mlp.Apply(_norm2.forward(x2), _up, _down);                              // [B, X, Y, D]
        if (_scale2 is not null) y2 = _scale2.forward(y2);
        return (x2 + _dropPath.forward(y2)).MoveToOuterDisposeScope();
    }
}
