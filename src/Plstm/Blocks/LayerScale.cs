using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Blocks;

/// <summary>
/// Per-channel scale γ ⊙ x on a residual branch (the reference's <c>ScaleLayer</c>): one parameter <c>scale</c>,
/// <c>[D]</c>. The ViT blocks always carry two of them (init 1 in <c>vit.yaml</c>, 1e-4 in the "_scale" configs);
/// pLSTM blocks only when LayerScale is switched on.
/// </summary>
public sealed class LayerScale : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates γ of size <paramref name="dim"/>, filled with <paramref name="initValue"/>.</summary>
    public LayerScale(string name, long dim, double initValue = 1.0) : base(name)
    {
        if (dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, "dim must be positive");
        Dim = dim;
        InitValue = initValue;
        register_parameter("scale", new Parameter(full(dim, initValue, dtype: ScalarType.Float32)));
    }

    /// <summary>Number of channels.</summary>
    public long Dim { get; }

    /// <summary>The value γ was initialised with.</summary>
    public double InitValue { get; }

    /// <summary>γ, <c>[D]</c>.</summary>
    public Parameter Scale => get_parameter("scale")!;

    /// <summary><c>[…, D]</c> → <c>[…, D]</c>, channel-wise γ ⊙ x.</summary>
    public override Tensor forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        return x * Layers.Dtypes.Cast(Scale, x.dtype);                                  // γ in x's dtype (a no-op unless mixed)
    }
}
