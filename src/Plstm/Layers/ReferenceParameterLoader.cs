using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Layers;

/// <summary>
/// Copies tensors into a module's parameters by their reference <c>state_dict</c> names (e.g. <c>source.bias</c>,
/// <c>value_.weight</c>, <c>outprojection.weight</c>): the import path for weights exported from the reference
/// implementation and for golden test vectors. Values are converted to each parameter's dtype and device.
/// </summary>
public static class ReferenceParameterLoader
{
    /// <summary>
    /// Loads <paramref name="values"/> into <paramref name="module"/>'s parameters (and buffers) by name.
    /// </summary>
    /// <param name="module">The target module.</param>
    /// <param name="values">Reference name → tensor of the parameter's exact shape.</param>
    /// <param name="strict">When true (default), every parameter of the module must be given.</param>
    /// <exception cref="ArgumentException">A name the module does not have, a shape mismatch, or (strict) a missing
    /// parameter; the message names the key.</exception>
    public static void Load(nn.Module module, IReadOnlyDictionary<string, Tensor> values, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(values);
        var targets = module.state_dict();
        // Check everything before touching any parameter, so a bad file leaves the module unchanged.
        foreach (var (key, value) in values)
        {
            if (!targets.TryGetValue(key, out var target))
                throw new ArgumentException(
                    $"Parameter '{key}' does not exist in the module (it has: {string.Join(", ", targets.Keys)}).", nameof(values));
            if (!target.shape.SequenceEqual(value.shape))
                throw new ArgumentException(
                    $"Parameter '{key}': shape mismatch, the module has [{string.Join(", ", target.shape)}], the value is [{string.Join(", ", value.shape)}].",
                    nameof(values));
        }
        if (strict)
        {
            var missing = targets.Keys.Where(k => !values.ContainsKey(k)).ToList();
            if (missing.Count > 0)
                throw new ArgumentException($"No value given for parameter(s) {string.Join(", ", missing.Select(m => $"'{m}'"))}.",
                    nameof(values));
        }
        using var noGrad = no_grad();
        foreach (var (key, value) in values)
            targets[key].copy_(value);
    }
}
