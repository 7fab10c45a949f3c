using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// One optimiser update from a loss, as every trainer of this library does it: gradients set to none, backward,
/// global-norm clipping, the step's learning rate, AdamW step.
/// </summary>
internal static class OptimizerUpdate
{
    /// <summary>Applies the update without waiting for the device; returns the global gradient norm before clipping as
    /// a 0-dim float64 tensor (<see cref="AdamWOptimizer.StepDeferred"/>), to be read with the step's other numbers
    /// (<see cref="Read"/>).</summary>
    /// <param name="model">The model whose gradients are reset.</param>
    /// <param name="optimizer">The optimiser over the model's parameters.</param>
    /// <param name="loss">Scalar loss to differentiate.</param>
    /// <param name="learningRate">Learning rate of this step.</param>
    /// <param name="clip">Maximum global gradient norm (0 = no clipping; the norm is still computed).</param>
    public static Tensor Apply(nn.Module model, AdamWOptimizer optimizer, Tensor loss, double learningRate, double clip)
    {
        // Gradients set to none (not zeroed): a parameter without a gradient in this step is then skipped by AdamW
        // exactly as after a resume, where no gradient exists yet.
        model.zero_grad(true);
        loss.backward();
        optimizer.SetLearningRate(learningRate);
        return optimizer.StepDeferred(clip);
    }

    /// <summary>The values of one-element tensors (a loss, a count, the gradient norm) as doubles, in one transfer:
    /// each separate read waits for the device, and a wait in the middle of a step leaves the GPU idle while the host
    /// queues the rest (float32 and integer values convert to double exactly).</summary>
    public static double[] Read(params Tensor[] values)
    {
        using var scope = NewDisposeScope();
        return Gather(values).cpu().data<double>().ToArray();
    }

    /// <summary>One-element tensors gathered into one float64 vector on the first one's device, without waiting for
    /// it: what a trainer that reads every few steps keeps per step (<see cref="DeferredStepReads{TStep}"/>). The
    /// result belongs to the caller's dispose scope.</summary>
    public static Tensor Gather(params Tensor[] values)
    {
        using var noGrad = no_grad();
        var device = values[0].device;
        return cat(values.Select(v => v.detach().reshape(1).to_type(ScalarType.Float64).to(device)).ToArray());
    }
}
