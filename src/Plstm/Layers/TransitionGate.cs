using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Layers;

/// <summary>
/// Transition gate sub-layer T for JT = 1 (reference <c>LongRangeTransitionLayer</c> with <c>transition_dim</c> 1,
/// eigenvalue representation "tanh"; models §2.3): <c>T_n = tanh(f·z_n)</c>, f = 5 in the vision configs, range (−1, 1)
/// (transitions may be negative). Input <c>[…, D]</c>, output <c>[…, N, 1, 1]</c> (a JT×JT matrix per gate).
/// Parameters (reference names): <c>eigenvalues_bias [N, 1]</c>, <c>eigenvalues_weight [N/S, S, 1, D/S]</c>.
/// Init: bias constant (vision configs +1, tanh 5 = 0.9999092), weight 0.
/// </summary>
/// <remarks>
/// JT &gt; 1 (orthogonalised transition matrices, models §3.2) is not implemented: no vision model uses it. When the
/// gate is not input-dependent (the "conststm" ablation) <c>eigenvalues_weight</c> still exists but is unused, exactly
/// as in the reference (which creates it unconditionally), so state dicts and parameter counts match it.
/// </remarks>
public sealed class TransitionGate : nn.Module<Tensor, Tensor>
{
    // Reference state_dict names; not readonly because Module.to(…) swaps parameters through the fields.
    private Parameter eigenvalues_bias;
    private Parameter eigenvalues_weight;

    private readonly int _subHeads;
    private readonly int _inputDim;
    private readonly double _biasInit;
    private readonly double _factor;
    private readonly bool _inputDependent;

    /// <summary>Creates the gate with reference-initialised parameters (float32, CPU).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="numGates">Gate count N (4H in the fused layer).</param>
    /// <param name="inputDim">Input channels D.</param>
    /// <param name="subHeads">Input groups S (N in the fused layer).</param>
    /// <param name="biasInit">Initial eigenvalue bias.</param>
    /// <param name="factor">Activation factor f of tanh(f·z).</param>
    /// <param name="inputDependent">False: bias only (the weight is kept but not used, as in the reference).</param>
    /// <exception cref="ArgumentException">Inconsistent sizes or a non-finite factor.</exception>
    public TransitionGate(string name, int numGates, int inputDim, int subHeads, double biasInit, double factor = 5.0,
        bool inputDependent = true) : base(name)
    {
        if (SubHeadAffine.Check(numGates, subHeads, inputDim) is { } problem)
            throw new ArgumentException(problem, nameof(subHeads));
        if (!double.IsFinite(factor)) throw new ArgumentException($"must be finite, got {factor}", nameof(factor));
        _subHeads = subHeads;
        _inputDim = inputDim;
        _biasInit = biasInit;
        _factor = factor;
        _inputDependent = inputDependent;
        eigenvalues_bias = new Parameter(empty(numGates, 1));
        eigenvalues_weight = new Parameter(empty(new long[] { numGates / subHeads, subHeads, 1, inputDim / subHeads }));
        ResetParameters();
        RegisterComponents();
    }

    /// <summary>The eigenvalue bias <c>[N, 1]</c>.</summary>
    public Parameter EigenvaluesBias => eigenvalues_bias;

    /// <summary>The eigenvalue weight <c>[N/S, S, 1, D/S]</c> (unused when not input-dependent).</summary>
    public Parameter EigenvaluesWeight => eigenvalues_weight;

    /// <summary>Re-initialises: bias constant, weight 0.</summary>
    public void ResetParameters()
    {
        using var noGrad = no_grad();
        nn.init.constant_(eigenvalues_bias, _biasInit);
        nn.init.zeros_(eigenvalues_weight);
    }

    /// <summary><c>[…, D]</c> → <c>tanh(f·z)</c> of shape <c>[…, N, 1, 1]</c>.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var z = SubHeadAffine.Apply(x, eigenvalues_bias, _inputDependent ? eigenvalues_weight : null, _subHeads, _inputDim,
            nameof(TransitionGate));                                                         // [..., N, 1]
        return tanh(z * _factor).unsqueeze(-1).MoveToOuterDisposeScope();                   // [..., N, 1, 1]
    }
}
