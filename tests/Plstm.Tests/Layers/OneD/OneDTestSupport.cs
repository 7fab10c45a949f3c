using Plstm.Layers.OneD;

namespace Plstm.Tests.Layers.OneD;

/// <summary>Shared helpers of the 1D layer tests: small configs, random (non-saturated) parameters, autograd.</summary>
internal static class OneDTestSupport
{
    /// <summary>D = 16, H = 2 with the reference's J defaults (JT = JV = JO = 4 → DK = 8, DV = 2), or JT = 1.</summary>
    public static Plstm1DLayerConfig Small(int jt = 4, int levels = 8) => new(16, 2) { JT = jt, Levels = levels };

    /// <summary>
    /// Overwrites every parameter with seeded random values in the gates' sensitive range: the init values (−5, +1,
    /// identity, zero weights) would saturate the gates and make most of the wiring invisible. The in/out projection
    /// biases stay near the identity so the skew parts have a Frobenius norm of a few units (both branches of
    /// max(‖A‖, 1) occur) and the truncated exponential stays accurate.
    /// </summary>
    public static void Randomize(Plstm1DLayer layer, long seed)
    {
        var g = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var (name, p) in layer.named_parameters())
        {
            var (mean, std) = Recipe(name);
            var values = randn(p.shape, dtype: float64, generator: g) * std + mean;
            if (name.EndsWith("proj_bias", StringComparison.Ordinal))
                values = values + eye(p.shape[^1], dtype: float64);
            p.copy_(values);
        }
    }

    private static (double Mean, double Std) Recipe(string name) => name switch
    {
        "conv._conv.weight" => (0.0, 0.5),
        "conv._conv.bias" => (0.0, 0.3),
        "mhnorm.scale" => (1.0, 0.3),
        "outprojection.weight" => (0.0, 0.3),
        "passthrough.scale" => (1.0, 0.3),
        "transition.eigenvalues_bias" => (0.1, 0.1),
        "transition.eigenvalues_weight" => (0.0, 0.03),
        "transition.inproj_bias" or "transition.outproj_bias" => (0.0, 0.3),
        "transition.inproj_weight" or "transition.outproj_weight" => (0.0, 0.05),
        "source.bias" or "mark.bias" or "direct.bias" => (-1.0, 0.5),
        "source.weight" or "mark.weight" or "direct.weight" => (0.0, 0.2),
        _ when name.StartsWith("query", StringComparison.Ordinal) || name.StartsWith("key", StringComparison.Ordinal)
            || name.StartsWith("value_", StringComparison.Ordinal) => (0.0, 0.3),
        _ => throw new InvalidOperationException($"no random recipe for parameter '{name}'"),
    };

    /// <summary>
    /// Output y, final state C and the gradients of <c>Σ U⊙y + Σ W⊙C</c> w.r.t. x and the given tensors (parameters and,
    /// optionally, the initial state), by autograd.grad (nothing accumulates).
    /// </summary>
    public static (Tensor Y, Tensor C, Tensor Dx, Dictionary<string, Tensor> DParams) Differentiate(
        Func<Tensor, (Tensor Y, Tensor C)> f, Tensor x, Tensor upstreamY, Tensor upstreamC,
        IReadOnlyList<(string Name, Tensor Param)> parameters)
    {
        var leaf = x.detach().clone().requires_grad_(true);
        var (y, c) = f(leaf);
        var loss = (y * upstreamY).sum() + (c * upstreamC).sum();
        var inputs = new List<Tensor> { leaf };
        inputs.AddRange(parameters.Select(p => p.Param));
        var grads = torch.autograd.grad(new[] { loss }, inputs, allow_unused: true);
        var dParams = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < parameters.Count; i++)
            dParams[parameters[i].Name] = grads[i + 1].IsInvalid ? zeros_like(parameters[i].Param) : grads[i + 1].detach();
        return (y.detach(), c.detach(), grads[0].IsInvalid ? zeros_like(leaf) : grads[0].detach(), dParams);
    }
}
