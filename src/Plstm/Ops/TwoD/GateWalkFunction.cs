using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The autograd plumbing shared by the two implementations of the gate walk (README §"Native kernel", §"CPU walk"):
/// <see cref="FusedGateKernel"/> (CUDA) and <see cref="FusedGateCpuKernel"/> (CPU). Forward keeps only the stacked gates
/// <c>[N, O, 8, X, Y]</c> (the backward walks again from them), backward hands the gate's incoming gradient to the adjoint
/// walk; an unused output gives zero gate gradients.
/// </summary>
/// <typeparam name="TSelf">The implementing walk.</typeparam>
public abstract class GateWalkFunction<TSelf> : autograd.MultiTensorFunction<TSelf>
    where TSelf : GateWalkFunction<TSelf>, new()
{
    /// <summary>Σ_o 𝒢_o, <c>[N, cells, cells]</c>, from contiguous stacked gates.</summary>
    protected abstract Tensor Walk(Tensor gates);

    /// <summary>The gates' gradient (shaped as the gates) from contiguous gates and the gate's contiguous incoming
    /// gradient.</summary>
    protected abstract Tensor Adjoint(Tensor gates, Tensor dGate);

    /// <inheritdoc />
    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        using var noGrad = no_grad();
        var gates = ((Tensor)vars[0]).contiguous();
        var output = Walk(gates);
        ctx.save_for_backward([gates]);
        // An unused output arrives in backward as an undefined gradient (handled there), see RecomputedGates.
        ctx.set_materialize_grads(false);
        return [output];
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grad_outputs)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var saved = ctx.get_saved_variables();
        var gates = saved[0];
        var dOutput = grad_outputs[0];
        Tensor dGates;
        if (dOutput is null || dOutput.IsInvalid)
            dGates = zeros_like(gates);
        else
        {
            using (var incoming = dOutput.contiguous())
                dGates = Adjoint(gates, incoming);
            dOutput.Dispose();
        }
        // The saved tensor arrives as a fresh handle outside any dispose scope (see RecomputedGates).
        foreach (var t in saved) t.Dispose();
        return [dGates];
    }
}
