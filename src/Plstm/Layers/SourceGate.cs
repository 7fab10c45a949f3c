using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Layers;

/// <summary>
/// Source gate sub-layer S (reference <c>SourceLayer</c>, models §2.2–2.3): <c>S_n = σ(z_n)</c> with z the sub-head affine
/// map of <see cref="SubHeadAffine"/>. Input <c>[…, D]</c>, output <c>[…, N, JT, JK, JV]</c>.
/// Parameters (reference names): <c>bias [N, JT, JK, JV]</c>, <c>weight [N/S, S, JT, JK, JV, D/S]</c> (absent when not
/// input-dependent). In the fused layer N = 4H and S = 4H, so the weight is <c>[1, 4H, 1, 1, 1, D/(4H)]</c>.
/// Init: bias constant (vision configs −4), weight 0.
/// </summary>
public sealed class SourceGate : nn.Module<Tensor, Tensor>
{
    // Reference state_dict names; not readonly because Module.to(…) swaps parameters through the fields.
    private Parameter bias;
    private Parameter? weight;

    private readonly int _subHeads;
    private readonly int _inputDim;
    private readonly double _biasInit;

    /// <summary>Creates the gate with reference-initialised parameters (float32, CPU).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="numGates">Gate count N (4H in the fused layer).</param>
    /// <param name="inputDim">Input channels D.</param>
    /// <param name="subHeads">Input groups S (N in the fused layer).</param>
    /// <param name="biasInit">Initial bias value.</param>
    /// <param name="inputDependent">False: bias only (no weight parameter).</param>
    /// <param name="jt">JT (1 in every vision model).</param>
    /// <param name="jk">JK.</param>
    /// <param name="jv">JV.</param>
    /// <exception cref="ArgumentException">Inconsistent sizes.</exception>
    public SourceGate(string name, int numGates, int inputDim, int subHeads, double biasInit, bool inputDependent = true,
        int jt = 1, int jk = 1, int jv = 1) : base(name)
    {
        if (SubHeadAffine.Check(numGates, subHeads, inputDim) is { } problem)
            throw new ArgumentException(problem, nameof(subHeads));
        if (jt <= 0 || jk <= 0 || jv <= 0) throw new ArgumentException("J sizes must be positive", nameof(jt));
        _subHeads = subHeads;
        _inputDim = inputDim;
        _biasInit = biasInit;
        bias = new Parameter(empty(new long[] { numGates, jt, jk, jv }));
        weight = inputDependent ? new Parameter(empty(new long[] { numGates / subHeads, subHeads, jt, jk, jv, inputDim / subHeads })) : null;
        ResetParameters();
        RegisterComponents();
    }

    /// <summary>The bias <c>[N, JT, JK, JV]</c>.</summary>
    public Parameter Bias => bias;

    /// <summary>The weight <c>[N/S, S, JT, JK, JV, D/S]</c>, or null when bias-only.</summary>
    public Parameter? Weight => weight;

    /// <summary>Re-initialises: bias constant, weight 0.</summary>
    public void ResetParameters()
    {
        using var noGrad = no_grad();
        nn.init.constant_(bias, _biasInit);
        if (weight is not null) nn.init.zeros_(weight);
    }

    /// <summary><c>[…, D]</c> → <c>σ(z)</c> of shape <c>[…, N, JT, JK, JV]</c>.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return sigmoid(SubHeadAffine.Apply(x, bias, weight, _subHeads, _inputDim, nameof(SourceGate))).MoveToOuterDisposeScope();
    }
}
