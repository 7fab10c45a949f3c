using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The autograd plumbing shared by the two implementations of the gate walk (README §"Native kernel", §"CPU walk"):
/// <see cref="FusedGateKernel"/> (CUDA) and <see cref="FusedGateCpuKernel"/> (CPU). The function computes
/// <c>scale · (Σ_o 𝒢_o + diag(D0))</c>: the walks sum the orientations with the scale folded into the marks, and the
/// direct gate D0 goes on the diagonal (nothing of a source arrives at its own cell, so the walks leave it zero) — the
/// masked attention <c>(Q Kᵀ ⊙ gate) V</c> then holds the operator's whole output, direct term and scale included, without
/// the separate per-cell products (about fifteen kernels per layer forward and backward). Forward keeps only the stacked
/// gates <c>[N, O, 8, X, Y]</c> (the backward walks again from them), backward hands the gate's incoming gradient to the
/// adjoint walk and reads D0's off its diagonal; an unused output gives zero gradients.
/// </summary>
/// <typeparam name="TSelf">The implementing walk.</typeparam>
public abstract class GateWalkFunction<TSelf> : autograd.MultiTensorFunction<TSelf>
    where TSelf : GateWalkFunction<TSelf>, new()
{
    private const string ScaleKey = "scale";
    private const string DirectKey = "direct";

    /// <summary>scale · Σ_o 𝒢_o, <c>[N, cells, cells]</c>, from contiguous stacked gates.</summary>
    protected abstract Tensor Walk(Tensor gates, double scale);

    /// <summary>The gates' gradient (shaped as the gates) from contiguous gates and the incoming gradient of
    /// scale · Σ_o 𝒢_o (contiguous).</summary>
    protected abstract Tensor Adjoint(Tensor gates, Tensor dGate, double scale);

    /// <summary>scale · (Σ_o 𝒢_o + diag(direct)) without autograd: the walk, then the direct gate onto the diagonal.</summary>
    private Tensor Evaluate(Tensor gates, Tensor? direct, double scale)
    {
        var output = Walk(gates, scale);
        if (direct is not null)
            using (var diagonal = output.diagonal(0, 1, 2))
                diagonal.add_(direct, alpha: scale);
        return output;
    }

    /// <summary>scale · (Σ_o 𝒢_o + diag(direct)) from contiguous stacked gates, without autograd (for functions that
    /// hold the walk inside their own forward, <see cref="WalkedGateAttention"/>).</summary>
    internal static Tensor EvaluateGate(Tensor gates, Tensor? direct, double scale) => new TSelf().Evaluate(gates, direct, scale);

    /// <summary>The walk's backward for an incoming gradient <paramref name="dGate"/> of scale · (Σ_o 𝒢_o + diag(direct))
    /// (contiguous): the stacked gates' gradient and, when <paramref name="directGrad"/>, the direct gate's — the values
    /// this function's own backward returns.</summary>
    internal static (Tensor Gates, Tensor? Direct) BackwardGate(Tensor gates, Tensor dGate, double scale, bool directGrad)
    {
        var dGates = new TSelf().Adjoint(gates, dGate, scale);
        return (dGates, directGrad ? DirectGradient(dGate, scale) : null);
    }

    /// <summary>D0's gradient: the incoming gradient's diagonal times the scale, <c>[N, cells]</c>.</summary>
    private static Tensor DirectGradient(Tensor dGate, double scale)
    {
        using var diagonal = dGate.diagonal(0, 1, 2);
        return diagonal.mul(scale);
    }

    /// <summary>Whether the adjoint runs as kernels alone into caller-made buffers (<see cref="AdjointScratch"/>,
    /// <see cref="AdjointInto"/>), which <see cref="BackwardGateAlongside"/> needs to put it on a side stream.</summary>
    protected virtual bool LaunchesOnly => false;

    /// <summary>Scratch the adjoint's kernels need besides the gates' gradient (null: none), made by the caller so that it
    /// outlives kernels still running on a side stream.</summary>
    protected virtual Tensor? AdjointScratch(Tensor gates) => null;

    /// <summary>The adjoint's kernels alone: adds the gates' gradient into the zeroed <paramref name="dGates"/>, with the
    /// caller's <paramref name="scratch"/> (<see cref="AdjointScratch"/>); no allocation, no libtorch operation.</summary>
    protected virtual void AdjointInto(Tensor gates, Tensor dGate, double scale, Tensor dGates, Tensor? scratch) =>
        throw new NotSupportedException($"{typeof(TSelf).Name} has no launch-only adjoint");

    /// <summary><see cref="BackwardGate"/> with the adjoint's kernels on a side stream of the GPU
    /// (<see cref="Interop.Cuda.CudaDriver.Fork(int)"/>), running alongside what <paramref name="alongside"/> launches on the
    /// legacy stream — work that needs neither the gates' gradient nor anything the adjoint writes (the 2D layer's key
    /// kernel of the masked attention backward: the two fill what one alone leaves idle). The gradient buffer and the
    /// scratch are made before the fork and the scratch released after the join. Without a fork (nothing alongside,
    /// turned off, or a walk that allocates inside its adjoint) the two run one after the other.</summary>
    internal static (Tensor Gates, Tensor? Direct) BackwardGateAlongside(Tensor gates, Tensor dGate, double scale,
        bool directGrad, Action? alongside)
    {
        var self = new TSelf();
        if (alongside is null || !self.LaunchesOnly || !Interop.Cuda.CudaDriver.CanFork)
        {
            var result = BackwardGate(gates, dGate, scale, directGrad);
            alongside?.Invoke();
            return result;
        }
        var dGates = zeros_like(gates);                                                      // the kernels add into it
        using var scratch = self.AdjointScratch(gates);
        // Forked after the zero fill (and after the kernel that wrote dGate): the side stream waits for both.
        var fork = Interop.Cuda.CudaDriver.Fork(Interop.TensorData.DeviceIndex(gates));
        Tensor? dDirect = null;
        try
        {
            using (fork.Side()) self.AdjointInto(gates, dGate, scale, dGates, scratch);
            alongside();
            if (directGrad) dDirect = DirectGradient(dGate, scale);
        }
        finally
        {
            fork.Join();                                                   // before the scratch is released
        }
        return (dGates, dDirect);
    }

    /// <summary>Checks the optional direct gate against the stacked gates: <c>[N, X·Y]</c>, same dtype and device.</summary>
    protected static void CheckDirect(Tensor gates, Tensor? direct)
    {
        if (direct is null) return;
        var shape = gates.shape;
        var directShape = direct.shape;
        long cells = shape[3] * shape[4];
        if (directShape.Length != 2 || directShape[0] != shape[0] || directShape[1] != cells
            || direct.dtype != gates.dtype || direct.device_type != gates.device_type || direct.device_index != gates.device_index)
            throw new ArgumentException($"direct must be a [{shape[0]}, {cells}] {gates.dtype} tensor on {gates.device} "
                + $"(one D0 per batch entry and cell), got {direct.dtype} [{string.Join(", ", direct.shape)}] on {direct.device}",
                nameof(direct));
    }

    /// <summary>Runs the function: through autograd when a gradient is wanted, else directly.</summary>
    protected static Tensor Run(Tensor gates, Tensor? direct, double scale)
    {
        bool wantsGrad = is_grad_enabled() && (gates.requires_grad || direct?.requires_grad == true);
        if (wantsGrad) return apply(gates, direct!, scale)[0];
        using var input = gates.contiguous();
        return EvaluateGate(input, direct, scale);
    }

    /// <inheritdoc />
    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        using var noGrad = no_grad();
        var gates = ((Tensor)vars[0]).contiguous();
        var direct = vars[1] as Tensor;
        var scale = (double)vars[2];
        var output = Evaluate(gates, direct, scale);
        ctx.save_for_backward([gates]);
        ctx.save_data(ScaleKey, scale);
        ctx.save_data(DirectKey, direct?.requires_grad == true);
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
        var scale = (double)ctx.get_data(ScaleKey);
        bool directGrad = (bool)ctx.get_data(DirectKey);
        var dOutput = grad_outputs[0];
        Tensor dGates;
        Tensor? dDirect = null;
        if (dOutput is null || dOutput.IsInvalid)
        {
            dGates = zeros_like(gates);
            if (directGrad) dDirect = zeros(new[] { gates.shape[0], gates.shape[3] * gates.shape[4] }, gates.dtype, gates.device);
        }
        else
        {
            using (var incoming = dOutput.contiguous())
                (dGates, dDirect) = BackwardGate(gates, incoming, scale, directGrad);
            dOutput.Dispose();
        }
        // The saved tensor arrives as a fresh handle outside any dispose scope (see RecomputedGates).
        foreach (var t in saved) t.Dispose();
        BackwardResults.Hand([dGates, dDirect!]);
        // One entry per forward argument: the gates, the direct gate (null when absent or without gradient), the scale.
        return [dGates, dDirect!, null!];
    }
}
