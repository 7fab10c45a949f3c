using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Layers;

/// <summary>
/// The source and mark gate sub-layers S and M (reference <c>SourceLayer</c> / <c>MarkLayer</c>, models §2.2–2.3):
/// <c>σ(z_n)</c> with z the sub-head affine map of <see cref="SubHeadAffine"/>. The two reference classes differ only in
/// what their three J axes mean (source <c>[JT, JK, JV]</c>, mark <c>[JO, JQ, JT]</c>), so one class serves both; build
/// them with <see cref="Source"/> and <see cref="Mark"/>. Input <c>[…, D]</c>, output <c>[…, N, J0, J1, J2]</c>.
/// Parameters (reference names): <c>bias [N, J0, J1, J2]</c>, <c>weight [N/S, S, J0, J1, J2, D/S]</c> (absent when not
/// input-dependent). In the fused layer N = 4H and S = 4H, so the weight is <c>[1, 4H, 1, 1, 1, D/(4H)]</c>.
/// Init: bias constant (vision configs −4), weight 0.
/// </summary>
public sealed class SigmoidGate : nn.Module<Tensor, Tensor>
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
    /// <param name="j0">First J axis (source JT, mark JO; 1 in every vision model).</param>
    /// <param name="j1">Second J axis (source JK, mark JQ).</param>
    /// <param name="j2">Third J axis (source JV, mark JT).</param>
    /// <exception cref="ArgumentException">Inconsistent sizes.</exception>
    public SigmoidGate(string name, int numGates, int inputDim, int subHeads, double biasInit, bool inputDependent = true,
        int j0 = 1, int j1 = 1, int j2 = 1) : base(name)
    {
        if (SubHeadAffine.Check(numGates, subHeads, inputDim) is { } problem)
            throw new ArgumentException(problem, nameof(subHeads));
        if (j0 <= 0 || j1 <= 0 || j2 <= 0) throw new ArgumentException("J sizes must be positive", nameof(j0));
        _subHeads = subHeads;
        _inputDim = inputDim;
        _biasInit = biasInit;
        bias = new Parameter(empty(new long[] { numGates, j0, j1, j2 }));
        weight = inputDependent ? new Parameter(empty(new long[] { numGates / subHeads, subHeads, j0, j1, j2, inputDim / subHeads })) : null;
        ResetParameters();
        RegisterComponents();
    }

    /// <summary>Source gate S: output <c>[…, N, JT, JK, JV]</c>.</summary>
    public static SigmoidGate Source(string name, int numGates, int inputDim, int subHeads, double biasInit,
        bool inputDependent = true, int jt = 1, int jk = 1, int jv = 1) =>
        new(name, numGates, inputDim, subHeads, biasInit, inputDependent, jt, jk, jv);

    /// <summary>Mark gate M: output <c>[…, N, JO, JQ, JT]</c>.</summary>
    public static SigmoidGate Mark(string name, int numGates, int inputDim, int subHeads, double biasInit,
        bool inputDependent = true, int jo = 1, int jq = 1, int jt = 1) =>
        new(name, numGates, inputDim, subHeads, biasInit, inputDependent, jo, jq, jt);

    /// <summary>The bias <c>[N, J0, J1, J2]</c>.</summary>
    public Parameter Bias => bias;

    /// <summary>The weight <c>[N/S, S, J0, J1, J2, D/S]</c>, or null when bias-only.</summary>
    public Parameter? Weight => weight;

    /// <summary>Re-initialises: bias constant, weight 0.</summary>
    public void ResetParameters()
    {
        using var noGrad = no_grad();
        nn.init.constant_(bias, _biasInit);
        if (weight is not null) nn.init.zeros_(weight);
    }

    /// <summary><c>[…, D]</c> → <c>σ(z)</c> of shape <c>[…, N, J0, J1, J2]</c>.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return sigmoid(SubHeadAffine.Apply(x, bias, weight, _subHeads, _inputDim, nameof(SigmoidGate))).MoveToOuterDisposeScope();
    }
}
