using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Layers.OneD;

/// <summary>
/// Per-channel skip (reference <c>PassthroughLayer</c>): <c>y = scale ⊙ x</c> over the last axis. Input and output
/// <c>[…, D]</c>. Parameter (reference name): <c>scale [D]</c>, init ones (reference <c>scale_init</c> default).
/// </summary>
public sealed class Passthrough : nn.Module<Tensor, Tensor>
{
    // Reference state_dict name; not readonly because Module.to(…) swaps parameters through the field.
    private Parameter scale;

    private readonly int _channels;
    private readonly double _init;

    /// <summary>Creates the passthrough with a constant scale (float32, CPU).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="channels">Channels D.</param>
    /// <param name="init">Initial scale (reference 1).</param>
    /// <exception cref="ArgumentException">A non-positive size.</exception>
    public Passthrough(string name, int channels, double init = 1.0) : base(name)
    {
        if (channels <= 0) throw new ArgumentException($"must be positive, got {channels}", nameof(channels));
        _channels = channels;
        _init = init;
        scale = new Parameter(empty(channels));
        ResetParameters();
        RegisterComponents();
    }

    /// <summary>The scale <c>[D]</c>.</summary>
    public Parameter Scale => scale;

    /// <summary>Re-initialises the scale to its constant.</summary>
    public void ResetParameters()
    {
        using var noGrad = no_grad();
        nn.init.constant_(scale, _init);
    }

    /// <summary><c>scale ⊙ x</c> for <c>[…, D]</c>.</summary>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() < 1 || x.shape[^1] != _channels)
            throw new ArgumentException(
                $"{nameof(Passthrough)}: expected x of shape [..., {_channels}], got [{string.Join(", ", x.shape)}].", nameof(x));
        return x * scale.to_type(x.dtype);
    }
}
