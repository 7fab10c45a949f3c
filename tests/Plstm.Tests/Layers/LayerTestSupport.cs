using Plstm.Layers;

namespace Plstm.Tests.Layers;

/// <summary>Shared helpers of the layer tests: random (non-saturated) parameters and autograd through a layer.</summary>
internal static class LayerTestSupport
{
    /// <summary>A D = 16, H = 2 layer config in the given mode/chirality (the golden files' sizes).</summary>
    public static Plstm2DLayerConfig SmallConfig(Plstm2DMode mode, string chirality = "L", int levels = 6) =>
        new(16, 2, mode) { DModeChirality = chirality, Levels = levels };

    /// <summary>
    /// Overwrites every parameter with seeded random values in the gates' sensitive range (the recipe of the golden
    /// layer files): the init values −4/+1/−6 would saturate the gates and hide wiring errors.
    /// </summary>
    public static void Randomize(Plstm2DLayer layer, long seed)
    {
        var g = new Generator((ulong)seed);
        int heads = layer.Config.NumHeads;
        using var noGrad = no_grad();
        foreach (var (name, p) in layer.named_parameters())
        {
            var (mean, std) = Recipe(name);
            var values = randn(p.shape, dtype: float64, generator: g) * std + mean;
            if (name == "orientation_bias")
                values = values + linspace(-2, 2, heads, dtype: float64).unsqueeze(0);
            p.copy_(values);
        }
    }

    private static (double Mean, double Std) Recipe(string name) => name switch
    {
        "orientation_bias" => (0.0, 0.5),
        "orientation_weight" => (0.0, 4.0),
        "direct.bias" => (-1.0, 0.5),
        "mhnorm.scale" => (1.0, 0.3),
        "outprojection.weight" => (0.0, 0.3),
        _ when name.EndsWith("eigenvalues_bias", StringComparison.Ordinal) => (0.2, 0.1),
        _ when name.EndsWith("eigenvalues_weight", StringComparison.Ordinal) => (0.0, 0.15),
        _ when name.StartsWith("source", StringComparison.Ordinal) || name.StartsWith("mark", StringComparison.Ordinal)
            => name.EndsWith(".bias", StringComparison.Ordinal) ? (-1.0, 0.5) : (0.0, 0.5),
        _ when name.StartsWith("query", StringComparison.Ordinal) || name.StartsWith("key", StringComparison.Ordinal)
            || name.StartsWith("value_", StringComparison.Ordinal) => (0.0, 0.3),
        _ => throw new InvalidOperationException($"no random recipe for parameter '{name}'"),
    };

    /// <summary>Output and gradients of Σ U⊙f(x) w.r.t. x and the given parameters (autograd.grad, nothing accumulates).</summary>
    public static (Tensor Y, Tensor Dx, Dictionary<string, Tensor> DParams) Differentiate(
        Func<Tensor, Tensor> f, Tensor x, Tensor upstream, IReadOnlyList<(string Name, Tensor Param)> parameters)
    {
        var leaf = x.detach().clone().requires_grad_(true);
        var y = f(leaf);
        var loss = (y * upstream).sum();
        var inputs = new List<Tensor> { leaf };
        inputs.AddRange(parameters.Select(p => p.Param));
        // allow_unused: a parameter may legitimately not reach the output (e.g. D-mode source_r on a grid one cell
        // wide: there is no r-edge to carry its state). Its gradient is zero. (Without it libtorch aborts the process.)
        var grads = torch.autograd.grad(new[] { loss }, inputs, allow_unused: true);
        var dParams = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < parameters.Count; i++)
            dParams[parameters[i].Name] = grads[i + 1].IsInvalid ? zeros_like(parameters[i].Param) : grads[i + 1].detach();
        return (y.detach(), grads[0].IsInvalid ? zeros_like(leaf) : grads[0].detach(), dParams);
    }
}
