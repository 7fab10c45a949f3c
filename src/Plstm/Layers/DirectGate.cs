using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Layers;

/// <summary>
/// Direct gate d (reference <c>DirectLayer</c> with <c>weight: false</c>, as in every vision config; models §2.3): one
/// bias-only value per head, <c>d_h = σ(bias_h)</c>, the same at every cell. It weights a cell's own contribution
/// <c>(q·k)·v</c>. Input <c>[…, D]</c> (only its leading axes are used), output <c>[…, H, JO, JQ, JK, JV]</c>.
/// Parameter (reference name): <c>bias [H, JO, JQ, JK, JV]</c>, init constant (vision configs −6, σ = 0.0024726).
/// </summary>
public sealed class DirectGate : nn.Module<Tensor, Tensor>
{
    // Reference state_dict name; not readonly because Module.to(…) swaps parameters through the field.
    private Parameter bias;

    private readonly double _biasInit;

    /// <summary>Creates the gate with a constant-initialised bias (float32, CPU).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="numHeads">Heads H.</param>
    /// <param name="biasInit">Initial bias.</param>
    /// <param name="jo">JO (1 in every vision model).</param>
    /// <param name="jq">JQ.</param>
    /// <param name="jk">JK.</param>
    /// <param name="jv">JV.</param>
    /// <exception cref="ArgumentException">A non-positive size.</exception>
    public DirectGate(string name, int numHeads, double biasInit, int jo = 1, int jq = 1, int jk = 1, int jv = 1) : base(name)
    {
        if (numHeads <= 0) throw new ArgumentException($"must be positive, got {numHeads}", nameof(numHeads));
        if (jo <= 0 || jq <= 0 || jk <= 0 || jv <= 0) throw new ArgumentException("J sizes must be positive", nameof(jo));
        _biasInit = biasInit;
        bias = new Parameter(empty(new long[] { numHeads, jo, jq, jk, jv }));
        ResetParameters();
        RegisterComponents();
    }

    /// <summary>The bias <c>[H, JO, JQ, JK, JV]</c>.</summary>
    public Parameter Bias => bias;

    /// <summary>Re-initialises the bias to its constant.</summary>
    public void ResetParameters()
    {
        using var noGrad = no_grad();
        nn.init.constant_(bias, _biasInit);
    }

    /// <summary><c>σ(bias)</c> broadcast over the leading axes of <paramref name="x"/>: <c>[…, H, JO, JQ, JK, JV]</c>
    /// (a view; no weight reads x's channels).</summary>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() < 1)
            throw new ArgumentException($"{nameof(DirectGate)}: expected x of shape [..., D], got a scalar.", nameof(x));
        using var scope = NewDisposeScope();
        var d = sigmoid(bias.to_type(x.dtype));                                              // [H, JO, JQ, JK, JV]
        return d.expand([.. x.shape[..^1], .. d.shape]).MoveToOuterDisposeScope();
    }
}
