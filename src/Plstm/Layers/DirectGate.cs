using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Layers;

/// <summary>
/// Direct gate d (reference <c>DirectLayer</c>; models §2.3). It weights a cell's own contribution <c>(q·k)·v</c>.
/// Bias-only (<c>weight: false</c>, every vision config and the 1D layer's default): one value per head,
/// <c>d_h = σ(bias_h)</c>, the same at every cell. Input-dependent (optional): <c>d = σ(bias + weight·x)</c> with the
/// sub-head affine map of <see cref="SubHeadAffine"/>. Input <c>[…, D]</c>, output <c>[…, H, JO, JQ, JK, JV]</c>.
/// Parameters (reference names): <c>bias [H, JO, JQ, JK, JV]</c>, init constant (vision configs −6, σ = 0.0024726;
/// 1D layer −5); <c>weight [H/S, S, JO, JQ, JK, JV, D/S]</c> only when input-dependent, init 0.
/// </summary>
public sealed class DirectGate : nn.Module<Tensor, Tensor>
{
    // Reference state_dict names (bias, then weight); not readonly because Module.to(…) swaps parameters through them.
    private Parameter bias;
    private Parameter? weight;

    private readonly double _biasInit;
    private readonly int _inputDim;
    private readonly int _subHeads;

    /// <summary>Creates the gate with a constant-initialised bias (float32, CPU).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="numHeads">Heads H.</param>
    /// <param name="biasInit">Initial bias.</param>
    /// <param name="jo">JO (1 in every vision model).</param>
    /// <param name="jq">JQ.</param>
    /// <param name="jk">JK.</param>
    /// <param name="jv">JV.</param>
    /// <param name="inputDim">Input channels D (only used when <paramref name="inputDependent"/>).</param>
    /// <param name="subHeads">Input groups S of the weight (only used when <paramref name="inputDependent"/>).</param>
    /// <param name="inputDependent">True: a <c>weight</c> parameter makes the gate depend on x (reference
    /// <c>weight: true</c>). Default false (bias only).</param>
    /// <exception cref="ArgumentException">A non-positive size or inconsistent sub-heads.</exception>
    public DirectGate(string name, int numHeads, double biasInit, int jo = 1, int jq = 1, int jk = 1, int jv = 1,
        int inputDim = 0, int subHeads = 1, bool inputDependent = false) : base(name)
    {
        if (numHeads <= 0) throw new ArgumentException($"must be positive, got {numHeads}", nameof(numHeads));
        if (jo <= 0 || jq <= 0 || jk <= 0 || jv <= 0) throw new ArgumentException("J sizes must be positive", nameof(jo));
        if (inputDependent && SubHeadAffine.Check(numHeads, subHeads, inputDim) is { } problem)
            throw new ArgumentException(problem, nameof(subHeads));
        _biasInit = biasInit;
        _inputDim = inputDim;
        _subHeads = subHeads;
        bias = new Parameter(empty(new long[] { numHeads, jo, jq, jk, jv }));
        weight = inputDependent
            ? new Parameter(empty(new long[] { numHeads / subHeads, subHeads, jo, jq, jk, jv, inputDim / subHeads }))
            : null;
        ResetParameters();
        RegisterComponents();
    }

    /// <summary>The bias <c>[H, JO, JQ, JK, JV]</c>.</summary>
    public Parameter Bias => bias;

    /// <summary>The weight <c>[H/S, S, JO, JQ, JK, JV, D/S]</c>, or null when bias-only.</summary>
    public Parameter? Weight => weight;

    /// <summary>Re-initialises the bias to its constant (and the weight, if any, to 0).</summary>
    public void ResetParameters()
    {
        using var noGrad = no_grad();
        nn.init.constant_(bias, _biasInit);
        if (weight is not null) nn.init.zeros_(weight);
    }

    /// <summary>Bias-only: <c>σ(bias)</c> broadcast over the leading axes of <paramref name="x"/> (a view; no channel of
    /// x is read). Input-dependent: <c>σ(bias + weight·x)</c>. Output <c>[…, H, JO, JQ, JK, JV]</c>.</summary>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() < 1)
            throw new ArgumentException($"{nameof(DirectGate)}: expected x of shape [..., D], got a scalar.", nameof(x));
        using var scope = NewDisposeScope();
        if (weight is not null)
            return sigmoid(SubHeadAffine.Apply(x, bias, weight, _subHeads, _inputDim, nameof(DirectGate))).MoveToOuterDisposeScope();
        var d = sigmoid(bias.to_type(x.dtype));                                              // [H, JO, JQ, JK, JV]
        return d.expand([.. x.shape[..^1], .. d.shape]).MoveToOuterDisposeScope();
    }
}
