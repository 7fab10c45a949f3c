using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// One optimiser update from a loss, as every trainer of this library does it: gradients set to none, backward,
/// global-norm clipping, the step's learning rate, AdamW step.
/// </summary>
internal static class OptimizerUpdate
{
    /// <summary>Applies the update; returns the global gradient norm before clipping.</summary>
    /// <param name="model">The model whose gradients are reset.</param>
    /// <param name="optimizer">The optimiser over the model's parameters.</param>
    /// <param name="loss">Scalar loss to differentiate.</param>
    /// <param name="learningRate">Learning rate of this step.</param>
    /// <param name="clip">Maximum global gradient norm (0 = no clipping; the norm is still computed).</param>
    public static double Apply(nn.Module model, AdamWOptimizer optimizer, Tensor loss, double learningRate, double clip)
    {
        // Gradients set to none (not zeroed): a parameter without a gradient in this step is then skipped by AdamW
        // exactly as after a resume, where no gradient exists yet.
        model.zero_grad(true);
        loss.backward();
        optimizer.SetLearningRate(learningRate);
        return optimizer.Step(clip);
    }
}
