using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// Global-L2-norm gradient clipping (models.md §7: max norm 1.0), as <c>torch.nn.utils.clip_grad_norm_</c>: the norm of
/// all gradients taken together; when it exceeds the maximum, every gradient is scaled by
/// <c>max / (norm + 1e-6)</c>.
/// </summary>
public static class GradientClipping
{
    /// <summary>Clips the gradients of <paramref name="parameters"/> in place and returns the norm before clipping.</summary>
    /// <param name="parameters">Parameters; those without a gradient are ignored.</param>
    /// <param name="maxNorm">The maximum global norm; 0 or +∞ only measures the norm.</param>
    /// <returns>The global L2 norm before clipping (0 when no parameter has a gradient; may be NaN/∞ when a gradient
    /// is not finite, in which case nothing is scaled).</returns>
    public static double ClipByGlobalNorm(IEnumerable<Parameter> parameters, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        CheckMaxNorm(maxNorm, nameof(maxNorm));
        using var scope = NewDisposeScope();
        var grads = new List<Tensor>();
        foreach (var parameter in parameters)
        {
            var grad = parameter.grad;
            if (grad is not null) grads.Add(grad);
        }
        if (grads.Count == 0) return 0.0;
        // Per-tensor norms first, then the norm of those: the same reduction order as PyTorch, in float32 on the
        // gradients' device; one host transfer for the result.
        using var norms = stack(grads.Select(g => linalg.vector_norm(g, 2)).ToArray());
        using var total = linalg.vector_norm(norms, 2);
        double totalNorm = total.to_type(ScalarType.Float64).item<double>();
        if (Coefficient(totalNorm, maxNorm) is double coefficient)
        {
            using var noGrad = no_grad();
            foreach (var g in grads) g.mul_(coefficient);
        }
        return totalNorm;
    }

    /// <summary>Throws unless <paramref name="maxNorm"/> is ≥ 0 (0 or +∞: no clipping).</summary>
    internal static void CheckMaxNorm(double maxNorm, string paramName)
    {
        if (double.IsNaN(maxNorm) || maxNorm < 0)
            throw new ArgumentOutOfRangeException(paramName, maxNorm, "The maximum norm must be ≥ 0 (0: no clipping).");
    }

    /// <summary>True when <paramref name="maxNorm"/> asks for clipping (finite and &gt; 0).</summary>
    internal static bool Clips(double maxNorm) => maxNorm > 0 && !double.IsPositiveInfinity(maxNorm);

    /// <summary><see cref="Coefficient"/> on the device, for a clipping that must not wait for the norm: the factor as a
    /// tensor like <paramref name="norm"/> (a 0-dim float64 tensor), computed in float64 with the same operations, and
    /// exactly 1 where <see cref="Coefficient"/> gives null (the norm not finite or already within the maximum; the
    /// caller applies it only when <see cref="Clips"/>). Gradients scaled by it come out as scaled by the host's factor,
    /// to the bit.</summary>
    internal static Tensor DeviceFactor(Tensor norm, double maxNorm)
    {
        var coefficient = full_like(norm, maxNorm).div_(norm + 1e-6);
        return where(isfinite(norm).logical_and_(coefficient.lt(1.0)), coefficient, ones_like(coefficient));
    }

    /// <summary>The factor <c>max / (norm + 1e-6)</c> by which gradients of global norm <paramref name="norm"/> are
    /// scaled, or null when nothing is scaled (no clipping asked, the norm not finite, or already within the maximum).</summary>
    internal static double? Coefficient(double norm, double maxNorm)
    {
        if (!Clips(maxNorm) || !double.IsFinite(norm)) return null;
        double coefficient = maxNorm / (norm + 1e-6);
        return coefficient < 1.0 ? coefficient : null;
    }
}
