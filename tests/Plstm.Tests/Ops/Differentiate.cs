namespace Plstm.Tests.Ops;

/// <summary>
/// Runs a function of several tensors with every non-null input as a fresh leaf that requires grad, and returns its
/// outputs together with the gradients of loss = Σ_i Σ(U_i ⊙ out_i) for fixed random upstreams U_i (same seed for
/// every form, so two forms of one operator can be compared output by output and gradient by gradient).
/// </summary>
public static class Differentiate
{
    public sealed record Result(Tensor[] Outputs, Tensor?[] Gradients);

    public static Result Run(Tensor?[] inputs, Func<Tensor?[], Tensor[]> f, long upstreamSeed = 99)
    {
        var leaves = inputs.Select(t => t?.detach().clone().requires_grad_(true)).ToArray();
        var outputs = f(leaves);
        var g = new Generator((ulong)upstreamSeed);
        Tensor loss = zeros(1, dtype: outputs[0].dtype);
        foreach (var o in outputs)
            loss = loss + (o * randn(o.shape, dtype: float64, generator: g).to(o.dtype)).sum();
        loss.backward();
        var grads = leaves.Select(l => l?.grad?.detach().clone()).ToArray();
        return new Result(outputs.Select(o => o.detach()).ToArray(), grads);
    }
}
